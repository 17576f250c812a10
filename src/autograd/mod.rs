//! The autograd tape.
//!
//! An op records a [`Node`] only when grad mode is on and one of its inputs requires grad. The
//! node holds the [`Op`] (with what its backward rule needs), the input tensors and any saved
//! tensors; the output tensor points at its node. `backward` walks the nodes reachable from the
//! root in reverse topological order entirely in Rust, summing gradients where a tensor feeds
//! several consumers (shared weights, RNN steps), and frees each node's saved state afterwards
//! unless asked to keep the graph. The rules live in one exhaustive `match` (`backward.rs`), so a
//! new `Op` variant does not compile without its gradient.
//!
//! In-place writes and the tape: a node keeps its inputs and saved tensors by reference, not by
//! copy, so a later in-place write (`assign`, `__setitem__`, an optimizer step) would silently
//! change what its backward rule reads. As in PyTorch, each storage carries a version counter
//! bumped by every in-place write (`storage.rs`); `record` notes the version of every input and
//! saved tensor, and `backward` first checks, for every node it will run, the tensors its rule
//! reads (`backward::reads_input`, plus all saved tensors) and fails with the node's name and
//! the expected and found versions before any gradient is touched. Writes to a tensor that no
//! live node reads stay allowed, and the usual loop (forward, backward, which frees the nodes,
//! then the optimizer's in-place step) never trips the check. Cost: one atomic load per recorded
//! tensor and one compare per checked tensor; nothing per element.

mod backward;
mod op;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use op::{CustomBackward, Op, ViewMap};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record on the tape (per thread).
#[inline]
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Sets grad mode for this thread and returns the previous value.
pub fn set_grad_enabled(on: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(on))
}

/// Disables recording until dropped (restores the previous mode).
pub struct NoGradGuard {
    prev: bool,
}

impl NoGradGuard {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NoGradGuard {
            prev: set_grad_enabled(false),
        }
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev);
    }
}

/// What a node keeps until backward has used it.
pub struct NodeState {
    pub op: Op,
    pub inputs: Vec<Tensor>,
    pub saved: Vec<Tensor>,
    /// Storage versions of `inputs` then `saved` when the node was recorded.
    pub versions: Vec<u64>,
}

impl NodeState {
    /// Fails when a tensor this node's rule reads was written in place after recording.
    fn check_versions(&self, name: &str, need: &[bool]) -> Result<()> {
        if !need.iter().any(|&b| b) {
            return Ok(()); // the rule returns early without reading anything
        }
        let tensors = self.inputs.iter().chain(&self.saved);
        for (k, (t, &recorded)) in tensors.zip(&self.versions).enumerate() {
            let is_input = k < self.inputs.len();
            if is_input && !backward::reads_input(&self.op, k, need) {
                continue;
            }
            let now = t.version();
            if now != recorded {
                let what = if is_input {
                    format!("input {k}")
                } else {
                    format!("saved tensor {}", k - self.inputs.len())
                };
                return Err(Error::autograd(
                    "backward",
                    format!(
                        "a tensor needed to compute gradients was modified by an in-place operation: {what} of '{name}' (shape {:?}, {}) is at version {now}, but '{name}' recorded it at version {recorded}; do the in-place write (assign, item assignment, optimizer step) after backward(), or write into a copy",
                        t.shape(),
                        t.dtype()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// One recorded op.
pub struct Node {
    name: &'static str,
    state: Mutex<Option<NodeState>>,
}

impl Node {
    /// The op's name (for error messages and `grad_fn` reprs).
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Records `op` if needed: returns the node to attach to the output, or None.
/// `saved` tensors must be detached (no node) so the graph holds no cycles.
pub fn record(op: Op, inputs: &[&Tensor], saved: Vec<Tensor>) -> Option<Arc<Node>> {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return None;
    }
    let versions = inputs
        .iter()
        .map(|t| t.version())
        .chain(saved.iter().map(|t| t.version()))
        .collect();
    Some(Arc::new(Node {
        name: op.name(),
        state: Mutex::new(Some(NodeState {
            op,
            inputs: inputs.iter().map(|t| (*t).clone()).collect(),
            saved,
            versions,
        })),
    }))
}

/// Whether an op with these inputs would be recorded (lets ops skip saving work).
#[inline]
pub fn needs_record(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())
}

fn node_key(n: &Arc<Node>) -> usize {
    Arc::as_ptr(n) as usize
}

/// Backpropagates from `root`, accumulating into the `.grad` of every leaf that requires grad.
pub fn backward(root: &Tensor, grad: Option<Tensor>, retain_graph: bool) -> Result<()> {
    if !root.requires_grad() {
        return Err(Error::autograd(
            "backward",
            "the tensor does not require grad and has no grad_fn (did you forget requires_grad=True, or compute it under no_grad?)",
        ));
    }
    let _guard = NoGradGuard::new();
    let seed = match grad {
        Some(g) => {
            if g.shape() != root.shape() {
                return Err(Error::shape(
                    "backward",
                    format!(
                        "gradient has shape {:?} but the tensor has shape {:?}",
                        g.shape(),
                        root.shape()
                    ),
                ));
            }
            crate::ops::cast_nograd(&g, root.dtype())?
        }
        None => {
            if root.numel() != 1 {
                return Err(Error::autograd(
                    "backward",
                    format!(
                        "grad can be implicitly created only for scalar outputs, but the tensor has shape {:?}; pass a gradient of that shape",
                        root.shape()
                    ),
                ));
            }
            crate::ops::full(root.shape(), 1.0, root.dtype())?
        }
    };
    let Some(root_node) = root.grad_fn().cloned() else {
        return root.accumulate_grad(seed);
    };

    // Reverse topological order by iterative post-order DFS; checks every node's saved versions
    // on the way, so a stale node fails the call before any gradient is accumulated.
    let mut order: Vec<Arc<Node>> = Vec::new();
    let mut visited: HashMap<usize, ()> = HashMap::new();
    let mut stack: Vec<(Arc<Node>, bool)> = vec![(root_node.clone(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            order.push(node);
            continue;
        }
        if visited.insert(node_key(&node), ()).is_some() {
            continue;
        }
        stack.push((node.clone(), true));
        let st = node
            .state
            .lock()
            .map_err(|_| Error::autograd("backward", "tape lock poisoned"))?;
        let Some(st) = st.as_ref() else {
            return Err(Error::autograd(
                "backward",
                format!(
                    "trying to backward through the graph a second time (the saved state of '{}' was freed); call backward(retain_graph=True) the first time",
                    node.name
                ),
            ));
        };
        let need: Vec<bool> = st.inputs.iter().map(|t| t.requires_grad()).collect();
        st.check_versions(node.name, &need)?;
        for inp in &st.inputs {
            if let Some(n) = inp.grad_fn() {
                if !visited.contains_key(&node_key(n)) {
                    stack.push((n.clone(), false));
                }
            }
        }
    }

    let mut grads: HashMap<usize, Tensor> = HashMap::new();
    grads.insert(node_key(&root_node), seed);
    for node in order.iter().rev() {
        let Some(g) = grads.remove(&node_key(node)) else {
            continue;
        };
        let mut slot = node
            .state
            .lock()
            .map_err(|_| Error::autograd("backward", "tape lock poisoned"))?;
        let (input_grads, inputs) = {
            let Some(st) = slot.as_ref() else {
                return Err(Error::autograd(
                    "backward",
                    format!("saved state of '{}' was freed", node.name),
                ));
            };
            let need: Vec<bool> = st.inputs.iter().map(|t| t.requires_grad()).collect();
            let gs = backward::rule(&st.op, &st.inputs, &st.saved, &g, &need)?;
            (gs, st.inputs.clone())
        };
        if !retain_graph {
            *slot = None;
        }
        drop(slot);
        for (inp, gi) in inputs.iter().zip(input_grads) {
            let Some(gi) = gi else { continue };
            if !inp.requires_grad() {
                continue;
            }
            if gi.shape() != inp.shape() {
                return Err(Error::autograd(
                    "backward",
                    format!(
                        "internal error: '{}' produced a gradient of shape {:?} for an input of shape {:?}",
                        node.name,
                        gi.shape(),
                        inp.shape()
                    ),
                ));
            }
            match inp.grad_fn() {
                Some(n) => {
                    let k = node_key(n);
                    let acc = match grads.remove(&k) {
                        Some(prev) => crate::ops::add_nograd(&prev, &gi)?,
                        None => gi,
                    };
                    grads.insert(k, acc);
                }
                None => inp.accumulate_grad(gi)?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Tensor-level ops: validate arguments, pick the kernel, record the tape.
//!
//! Every public function here is one differentiable (or explicitly non-differentiable) op with
//! keras.ops semantics. Kernels never see user input unchecked: shapes, axes, dtypes and indices
//! are validated here and errors name the op and what it received.

mod attention;
mod bitwise;
mod conv;
mod conv_transpose;
mod creation;
mod decode;
mod dense;
mod elementwise;
mod fft;
mod index;
mod layer_norm;
mod linalg;
mod loss;
mod matmul;
mod norm;
mod optim;
mod pool;
mod random;
mod reduce;
mod resize;
mod rnn;
mod scan;
mod segment;
mod shape_ops;

pub use attention::*;
pub use bitwise::*;
pub use conv::*;
pub use conv_transpose::*;
pub use creation::*;
pub use decode::*;
pub use dense::*;
pub use elementwise::*;
pub use fft::*;
pub use index::*;
pub use layer_norm::*;
pub use linalg::*;
pub use loss::*;
pub use matmul::*;
pub use norm::*;
pub use optim::*;
pub use pool::*;
pub use random::*;
pub use reduce::*;
pub use resize::*;
pub use rnn::*;
pub use scan::*;
pub use segment::*;
pub use shape_ops::*;

use crate::autograd::{record, Op};
use crate::tensor::Tensor;

/// Wraps a freshly computed buffer as an op result, recording `op` when the tape needs it.
pub(crate) fn finish(buf: Tensor, op: Op, inputs: &[&Tensor], saved: Vec<Tensor>) -> Tensor {
    match record(op, inputs, saved) {
        None => buf,
        Some(node) => Tensor::with_grad_fn(&buf, node),
    }
}

/// `y` (computed without recording) as the output of a node whose backward rule is `rule` and
/// whose inputs are `inputs` (`ops.custom_gradient`). Not recorded when no input requires grad.
pub fn custom_op(
    y: &Tensor,
    inputs: &[&Tensor],
    rule: std::sync::Arc<dyn crate::autograd::CustomBackward>,
) -> Tensor {
    finish(y.detach(), Op::Custom(rule), inputs, vec![])
}

//! Version-counter checks: in-place writes to tensors the tape will read make backward fail;
//! writes to tensors no live node reads, and the usual forward/backward/step loop, do not.

use super::*;
use crate::kernels::optim::Rule;
use crate::ops;

fn leaf(v: Vec<f32>, shape: &[usize], grad: bool) -> Tensor {
    let t = Tensor::from_vec(v, shape).unwrap();
    t.set_requires_grad(grad).unwrap();
    t
}

fn loss(y: &Tensor) -> Tensor {
    ops::sum(y, None, false).unwrap()
}

fn modified_error(e: Error) -> String {
    assert!(matches!(e, Error::Autograd { .. }), "{e}");
    let s = e.to_string();
    assert!(s.contains("modified by an in-place operation"), "{s}");
    s
}

#[test]
fn writing_a_saved_input_fails_backward_with_versions() {
    let x = leaf(vec![1.0, 2.0, 3.0], &[3], true);
    let w = leaf(vec![4.0, 5.0, 6.0], &[3], false);
    let l = loss(&ops::mul(&x, &w).unwrap());
    ops::assign(&w, &Tensor::scalar(0.0f32).unwrap()).unwrap();
    assert_eq!(w.version(), 1);
    let s = modified_error(backward(&l, None, false).unwrap_err());
    assert!(s.contains("input 1 of 'multiply'"), "{s}");
    assert!(s.contains("version 1") && s.contains("version 0"), "{s}");
    // Checked before any rule ran: nothing was accumulated.
    assert!(x.grad().is_none());
}

#[test]
fn writing_an_input_the_rule_does_not_read_is_fine() {
    let x = leaf(vec![1.0, 2.0], &[2], true);
    let w = leaf(vec![3.0, 4.0], &[2], false);
    // add reads neither operand; mul with only x needing grad reads w, not x.
    let l = loss(&ops::add(&ops::mul(&x, &w).unwrap(), &w).unwrap());
    let _ng = NoGradGuard::new();
    ops::assign(&x, &Tensor::scalar(9.0f32).unwrap()).unwrap();
    drop(_ng);
    backward(&l, None, false).unwrap();
    assert_eq!(x.grad().unwrap().to_vec::<f32>().unwrap(), vec![3.0, 4.0]);
}

#[test]
fn writing_a_saved_output_fails() {
    let x = leaf(vec![0.5, 1.0, 2.0], &[3], true);
    let y = ops::softmax(&x, -1).unwrap();
    let l = loss(&ops::mul(&y, &Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap()).unwrap());
    {
        let _ng = NoGradGuard::new();
        ops::assign(&y.detach(), &Tensor::scalar(0.0f32).unwrap()).unwrap();
    }
    let s = modified_error(backward(&l, None, false).unwrap_err());
    assert!(s.contains("saved tensor 0 of 'softmax'"), "{s}");
}

#[test]
fn views_share_the_counter() {
    let x = leaf(vec![1.0, 2.0], &[2], true);
    let base = leaf(vec![1.0, 2.0, 3.0, 4.0], &[4], false);
    let v = ops::slice_axis(&base, 0, Some(0), Some(2), 1).unwrap();
    let l = loss(&ops::mul(&x, &v).unwrap());
    // Writing another part of the same storage still counts (as in PyTorch).
    let tail = ops::slice_axis(&base, 0, Some(2), None, 1).unwrap();
    ops::assign(&tail, &Tensor::scalar(0.0f32).unwrap()).unwrap();
    modified_error(backward(&l, None, false).unwrap_err());
}

fn sgd(params: &[Tensor]) {
    let grads: Vec<Tensor> = params.iter().map(|p| p.grad().unwrap()).collect();
    let slots: Vec<Vec<Tensor>> = params.iter().map(|_| vec![]).collect();
    let cfg = ops::StepConfig {
        lr: 0.1,
        weight_decay: 0.0,
        t: 1,
        clip: ops::Clip::default(),
    };
    let rule = Rule::Sgd {
        momentum: 0.0,
        nesterov: false,
    };
    ops::optimizer_step(rule, cfg, params, &grads, &slots).unwrap();
}

#[test]
fn training_loop_keeps_working() {
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let w = leaf(vec![0.5, -0.5, 0.25, 1.0], &[2, 2], true);
    for step in 0..3u64 {
        let l = loss(&ops::matmul(&x, &w).unwrap());
        w.set_grad(None).unwrap();
        backward(&l, None, false).unwrap();
        sgd(std::slice::from_ref(&w));
        assert_eq!(w.version(), step + 1);
    }
}

#[test]
fn optimizer_step_before_backward_fails() {
    let x = leaf(vec![1.0, 2.0, 3.0, 4.0], &[2, 2], true);
    let w = leaf(vec![0.5, -0.5, 0.25, 1.0], &[2, 2], true);
    let l = loss(&ops::matmul(&x, &w).unwrap());
    // A second loss through w, backpropagated and stepped while `l` is still pending.
    let l2 = loss(&ops::mul(&w, &w).unwrap());
    backward(&l2, None, false).unwrap();
    sgd(std::slice::from_ref(&w));
    let s = modified_error(backward(&l, None, false).unwrap_err());
    assert!(s.contains("input 1 of 'matmul'"), "{s}");
}

#[test]
fn retained_graph_sees_later_writes() {
    let x = leaf(vec![1.0, 2.0], &[2], true);
    let l = loss(&ops::unary(&x, crate::kernels::unary::UnaryOp::Square).unwrap());
    backward(&l, None, true).unwrap();
    {
        let _ng = NoGradGuard::new();
        ops::assign(&x, &Tensor::scalar(0.0f32).unwrap()).unwrap();
    }
    let s = modified_error(backward(&l, None, true).unwrap_err());
    assert!(s.contains("input 0 of 'square'"), "{s}");
}

#[test]
fn assign_refuses_overlapping_targets() {
    let t = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]).unwrap();
    let b = ops::broadcast_to(&t, &[3, 2]).unwrap();
    let e = ops::assign(&b, &Tensor::scalar(0.0f32).unwrap()).unwrap_err();
    assert!(e.to_string().contains("share memory"), "{e}");
    assert_eq!(t.version(), 0);
}

#[test]
fn optimizer_refuses_shared_variables_and_copies_aliased_grads() {
    let w = leaf(vec![1.0, 2.0], &[2], true);
    let cfg = ops::StepConfig {
        lr: 0.5,
        weight_decay: 0.0,
        t: 1,
        clip: ops::Clip::default(),
    };
    let rule = Rule::Sgd {
        momentum: 0.0,
        nesterov: false,
    };
    let e = ops::optimizer_step(
        rule,
        cfg,
        &[w.clone(), w.detach()],
        &[w.clone(), w.clone()],
        &[vec![], vec![]],
    )
    .unwrap_err();
    assert!(e.to_string().contains("variables 0 and 1"), "{e}");
    // The gradient is the variable itself: read from a copy, so w <- w - 0.5 w.
    ops::optimizer_step(
        rule,
        cfg,
        std::slice::from_ref(&w),
        std::slice::from_ref(&w),
        &[vec![]],
    )
    .unwrap();
    assert_eq!(w.to_vec::<f32>().unwrap(), vec![0.5, 1.0]);
}

//! The fused recurrence against a plain per-step reference (f64), its backward against central
//! differences of that reference, and 1 vs 2 threads bit for bit (f32, several unit chunks).

use crate::autograd;
use crate::kernels::matmul::tests::with_threads;
use crate::ops::{self, RnnConfig, RnnInputs};
use crate::tensor::Tensor;

/// Deterministic pseudo-random values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

struct Case {
    cell: &'static str,
    reset_after: bool,
    b: usize,
    t: usize,
    u: usize,
    mask: bool,
    rec_masks: bool,
    back: bool,
    zero_output: bool,
}

impl Case {
    fn g(&self) -> usize {
        match self.cell {
            "simple" => 1,
            "lstm" => 4,
            _ => 3,
        }
    }
}

struct Data {
    xw: Vec<f64>,
    rk: Vec<f64>,
    h0: Vec<f64>,
    c0: Vec<f64>,
    bias: Vec<f64>,
    rb: Vec<f64>,
    mask: Vec<bool>,
    rm: Vec<f64>,
}

fn data(c: &Case) -> Data {
    let (b, t, u, g) = (c.b, c.t, c.u, c.g());
    Data {
        xw: values(b * t * g * u, 1),
        rk: values(u * g * u, 2).iter().map(|v| v * 0.6).collect(),
        h0: values(b * u, 3),
        c0: values(b * u, 4),
        bias: values(g * u, 5),
        rb: values(g * u, 6),
        mask: values(b * t, 7).iter().map(|v| *v > -0.3).collect(),
        rm: values(g * b * u, 8)
            .iter()
            .map(|v| if *v > -0.4 { 1.4 } else { 0.0 })
            .collect(),
    }
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The per-step formulas of Keras' cells, written out plainly: Y (B, T + S, u).
fn reference(c: &Case, d: &Data) -> Vec<f64> {
    let (b, t, u, g) = (c.b, c.t, c.u, c.g());
    let gu = g * u;
    let lstm = c.cell == "lstm";
    let ys = t + if lstm { 2 } else { 1 };
    let mut y = vec![0.0; b * ys * u];
    for r in 0..b {
        let mut h = d.h0[r * u..(r + 1) * u].to_vec();
        let mut cc = d.c0[r * u..(r + 1) * u].to_vec();
        let mut prev = vec![0.0; u];
        for s in 0..t {
            let tt = if c.back { t - 1 - s } else { s };
            let m = |k: usize, j: usize| {
                if c.rec_masks {
                    d.rm[(k * b + r) * u + j]
                } else {
                    1.0
                }
            };
            // pre[k*u + j] = x + bias + sum_i (h_i * m_k) U[i, k*u + j] (+ rb for GRU reset-after)
            let rec = |k: usize, j: usize, a: &dyn Fn(usize) -> f64| -> f64 {
                (0..u).map(|i| a(i) * d.rk[i * gu + k * u + j]).sum()
            };
            let x = |k: usize, j: usize| d.xw[(r * t + tt) * gu + k * u + j] + d.bias[k * u + j];
            let mut hn = vec![0.0; u];
            let mut cn = cc.clone();
            for j in 0..u {
                let hr = |k: usize| rec(k, j, &|i| h[i] * m(k, i));
                match c.cell {
                    "simple" => hn[j] = (x(0, j) + hr(0)).tanh(),
                    "lstm" => {
                        let i_ = sig(x(0, j) + hr(0));
                        let f_ = sig(x(1, j) + hr(1));
                        let g_ = (x(2, j) + hr(2)).tanh();
                        let o_ = sig(x(3, j) + hr(3));
                        cn[j] = f_ * cc[j] + i_ * g_;
                        hn[j] = o_ * cn[j].tanh();
                    }
                    _ => {
                        let rb = |k: usize| if c.reset_after { d.rb[k * u + j] } else { 0.0 };
                        let z = sig(x(0, j) + hr(0) + rb(0));
                        let rg = sig(x(1, j) + hr(1) + rb(1));
                        let hh = if c.reset_after {
                            (x(2, j) + rg * (hr(2) + rb(2))).tanh()
                        } else {
                            // (r * h * m_h) @ U_h: r of every unit i is needed.
                            let ri = |i: usize| sig(x(1, i) + rec(1, i, &|q| h[q] * m(1, q)));
                            (x(2, j) + rec(2, j, &|i| ri(i) * h[i] * m(2, i))).tanh()
                        };
                        hn[j] = z * h[j] + (1.0 - z) * hh;
                    }
                }
            }
            let valid = !c.mask || d.mask[r * t + tt];
            let out = if valid {
                h = hn;
                cc = cn;
                h.clone()
            } else if c.zero_output {
                vec![0.0; u]
            } else {
                prev.clone()
            };
            y[(r * ys + s) * u..(r * ys + s + 1) * u].copy_from_slice(&out);
            prev = out;
        }
        y[(r * ys + t) * u..(r * ys + t + 1) * u].copy_from_slice(&h);
        if lstm {
            y[(r * ys + t + 1) * u..(r * ys + t + 2) * u].copy_from_slice(&cc);
        }
    }
    y
}

struct Tensors {
    xw: Tensor,
    rk: Tensor,
    h0: Tensor,
    c0: Option<Tensor>,
    bias: Tensor,
    rb: Option<Tensor>,
    mask: Option<Tensor>,
    rm: Option<Tensor>,
}

fn tensors<T: crate::dtype::Element>(c: &Case, d: &Data, conv: fn(f64) -> T) -> Tensors {
    let (b, t, u, g) = (c.b, c.t, c.u, c.g());
    let mk = |v: &[f64], shape: &[usize]| {
        let x = Tensor::from_vec(v.iter().map(|&a| conv(a)).collect(), shape).unwrap();
        x.set_requires_grad(true).unwrap();
        x
    };
    Tensors {
        xw: mk(&d.xw, &[b, t, g * u]),
        rk: mk(&d.rk, &[u, g * u]),
        h0: mk(&d.h0, &[b, u]),
        c0: (c.cell == "lstm").then(|| mk(&d.c0, &[b, u])),
        bias: mk(&d.bias, &[g * u]),
        rb: (c.cell == "gru" && c.reset_after).then(|| mk(&d.rb, &[g * u])),
        mask: c
            .mask
            .then(|| Tensor::from_vec(d.mask.clone(), &[b, t]).unwrap()),
        rm: c.rec_masks.then(|| {
            Tensor::from_vec(d.rm.iter().map(|&a| conv(a)).collect(), &[g, b, u]).unwrap()
        }),
    }
}

fn run(c: &Case, ts: &Tensors) -> Tensor {
    let opt = RnnInputs {
        c0: ts.c0.as_ref(),
        bias: Some(&ts.bias),
        rec_bias: ts.rb.as_ref(),
        mask: ts.mask.as_ref(),
        rec_masks: ts.rm.as_ref(),
    };
    let cfg = RnnConfig {
        cell: c.cell,
        reset_after: c.reset_after,
        activation: "tanh",
        recurrent_activation: "sigmoid",
        go_backwards: c.back,
        zero_output_for_mask: c.zero_output,
    };
    ops::rnn_sequence(&ts.xw, &ts.rk, &ts.h0, &opt, &cfg).unwrap()
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (cell, ra) in [
        ("simple", true),
        ("lstm", true),
        ("gru", true),
        ("gru", false),
    ] {
        for (b, t, u, mask, rm, back, zo) in [
            (1, 1, 1, false, false, false, false),
            (3, 5, 3, true, false, false, false),
            (2, 4, 17, true, true, true, false),
            (5, 3, 6, true, false, true, true),
        ] {
            out.push(Case {
                cell,
                reset_after: ra,
                b,
                t,
                u,
                mask,
                rec_masks: rm,
                back,
                zero_output: zo,
            });
        }
    }
    out
}

#[test]
fn forward_matches_the_per_step_reference() {
    for c in cases() {
        let d = data(&c);
        let want = reference(&c, &d);
        let got = run(&c, &tensors(&c, &d, |v| v)).to_vec::<f64>().unwrap();
        let err = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            err < 1e-12,
            "{} ra={} b={} t={} u={}: max error {err}",
            c.cell,
            c.reset_after,
            c.b,
            c.t,
            c.u
        );
    }
}

#[test]
fn backward_matches_central_differences() {
    for c in cases().into_iter().filter(|c| c.u > 1) {
        let d = data(&c);
        let proj = values(reference(&c, &d).len(), 9);
        let loss =
            |d: &Data| -> f64 { reference(&c, d).iter().zip(&proj).map(|(a, b)| a * b).sum() };
        let ts = tensors(&c, &d, |v| v);
        let y = run(&c, &ts);
        let l = ops::sum(
            &ops::mul(&y, &Tensor::from_vec(proj.clone(), y.shape()).unwrap()).unwrap(),
            None,
            false,
        )
        .unwrap();
        autograd::backward(&l, None, false).unwrap();
        type Field = fn(&mut Data) -> &mut Vec<f64>;
        let mut fields: Vec<(&str, &Tensor, Field)> = vec![
            ("xw", &ts.xw, |d| &mut d.xw),
            ("rk", &ts.rk, |d| &mut d.rk),
            ("h0", &ts.h0, |d| &mut d.h0),
            ("bias", &ts.bias, |d| &mut d.bias),
        ];
        if let Some(c0) = &ts.c0 {
            fields.push(("c0", c0, |d| &mut d.c0));
        }
        if let Some(rb) = &ts.rb {
            fields.push(("rb", rb, |d| &mut d.rb));
        }
        for (name, t, field) in fields {
            let grad = t.grad().unwrap().to_vec::<f64>().unwrap();
            let n = grad.len();
            for i in (0..n).step_by((n / 7).max(1)) {
                let mut dp = data(&c);
                field(&mut dp)[i] += 1e-6;
                let mut dm = data(&c);
                field(&mut dm)[i] -= 1e-6;
                let num = (loss(&dp) - loss(&dm)) / 2e-6;
                assert!(
                    (num - grad[i]).abs() < 1e-6 * (1.0 + num.abs()),
                    "{} ra={} u={}: d{name}[{i}] = {} analytic vs {num} numeric",
                    c.cell,
                    c.reset_after,
                    c.u,
                    grad[i]
                );
            }
        }
    }
}

#[test]
fn one_and_two_threads_are_bit_identical() {
    // u = 160 with batch 16: several unit chunks (and a narrower last one) in every cell.
    for (cell, ra) in [
        ("simple", true),
        ("lstm", true),
        ("gru", true),
        ("gru", false),
    ] {
        let c = Case {
            cell,
            reset_after: ra,
            b: 16,
            t: 6,
            u: 160,
            mask: true,
            rec_masks: cell != "lstm",
            back: false,
            zero_output: false,
        };
        let d = data(&c);
        let (one, two) = with_threads(|| {
            let ts = tensors(&c, &d, |v| v as f32);
            let y = run(&c, &ts);
            let l = ops::sum(&ops::mul(&y, &y).unwrap(), None, false).unwrap();
            autograd::backward(&l, None, false).unwrap();
            let bits = |t: &Tensor| -> Vec<u32> {
                t.to_vec::<f32>()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect()
            };
            (
                bits(&y),
                bits(&ts.xw.grad().unwrap()),
                bits(&ts.rk.grad().unwrap()),
                bits(&ts.h0.grad().unwrap()),
            )
        });
        assert!(
            one == two,
            "{cell} ra={ra}: results differ between 1 and 2 threads"
        );
    }
}

#[test]
fn bad_arguments_are_errors() {
    let x = Tensor::from_vec(vec![0.0f32; 2 * 3 * 8], &[2, 3, 8]).unwrap();
    let rk = Tensor::from_vec(vec![0.0f32; 2 * 8], &[2, 8]).unwrap();
    let h0 = Tensor::from_vec(vec![0.0f32; 4], &[2, 2]).unwrap();
    let cfg = |cell| RnnConfig {
        cell,
        reset_after: true,
        activation: "tanh",
        recurrent_activation: "sigmoid",
        go_backwards: false,
        zero_output_for_mask: false,
    };
    let none = RnnInputs::default();
    let msg = |r: crate::error::Result<Tensor>| r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg(ops::rnn_sequence(&x, &rk, &h0, &none, &cfg("lstm"))).contains("c0"));
    assert!(msg(ops::rnn_sequence(&x, &rk, &h0, &none, &cfg("gru"))).contains("recurrent_kernel"));
    assert!(msg(ops::rnn_sequence(&x, &rk, &h0, &none, &cfg("conv"))).contains("unknown cell"));
    let bad_h0 = Tensor::from_vec(vec![0.0f32; 6], &[2, 3]).unwrap();
    let c0 = Tensor::from_vec(vec![0.0f32; 4], &[2, 2]).unwrap();
    let with_c0 = RnnInputs {
        c0: Some(&c0),
        ..Default::default()
    };
    assert!(msg(ops::rnn_sequence(&x, &rk, &bad_h0, &with_c0, &cfg("lstm"))).contains("h0"));
    let mask = Tensor::from_vec(vec![true; 4], &[2, 2]).unwrap();
    let m = RnnInputs {
        c0: Some(&c0),
        mask: Some(&mask),
        ..Default::default()
    };
    assert!(msg(ops::rnn_sequence(&x, &rk, &h0, &m, &cfg("lstm"))).contains("mask"));
    let mut bad = cfg("lstm");
    bad.activation = "gelu";
    assert!(msg(ops::rnn_sequence(&x, &rk, &h0, &with_c0, &bad)).contains("gelu"));
}

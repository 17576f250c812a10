//! Tests of the fused epilogue (`gemm_epilogue`): bit-identical to the plain product followed by
//! the bias add and the element-wise kernel, on every path (packed in both loop orders, the
//! shared-packing split, vector, tiny and `k == 0` products), ISA and thread count. Helpers
//! from `mod.rs`.

use super::*;
use crate::kernels::unary::{unary_slice, UnaryOp};

/// One case: returns (C, out) from `gemm_epilogue` and from the reference composition.
#[allow(clippy::type_complexity)]
fn epilogue_pair(
    (m, n, k): (usize, usize, usize),
    lays: [Lay; 3],
    bias: bool,
    act: Option<UnaryOp>,
    separate_out: bool,
) -> ((Vec<f32>, Vec<f32>), (Vec<f32>, Vec<f32>)) {
    let mut rng = Rng((m * 7919 + n * 31 + k) as u64 | 1);
    let a = Mat::<f32>::new(m, k, lays[0], &mut || rng.real() * 2.0);
    let b = Mat::<f32>::new(k, n, lays[1], &mut || rng.real());
    let bias_v: Vec<f32> = (0..n).map(|_| rng.real() as f32).collect();
    let c0 = Mat::<f32>::new(m, n, lays[2], &mut || f64::NAN);
    let (mut c, mut c_ref) = (c0.clone(), c0);
    let mut out = vec![f32::NAN; m * n];
    let mut out_ref = out.clone();
    let params = |c: MatMut<f32>| GemmParams {
        m,
        n,
        k,
        alpha: 1.0,
        beta: 0.0,
        a: a.as_ref(),
        b: b.as_ref(),
        c,
        a_offsets: &[0],
        b_offsets: &[0],
        c_offsets: &[0],
    };
    let out_arg = separate_out.then_some((out.as_mut_ptr(), n as isize));
    let epi = Epilogue::new(bias.then_some(bias_v.as_ptr()), act, out_arg);
    unsafe {
        gemm_epilogue(&params(c.as_mut()), &epi);
        gemm(&params(c_ref.as_mut()));
    }
    for i in 0..m {
        let mut row: Vec<f32> = (0..n).map(|j| c_ref.get(i, j)).collect();
        if bias {
            for (x, b) in row.iter_mut().zip(&bias_v) {
                *x += *b;
            }
        }
        let mut done = row.clone();
        if let Some(op) = act {
            unary_slice(op, &row, &mut done);
        }
        if separate_out && act.is_some() {
            out_ref[i * n..(i + 1) * n].copy_from_slice(&done);
        } else {
            row = done;
        }
        for (j, v) in row.into_iter().enumerate() {
            let p = (c_ref.off + i as isize * c_ref.rs + j as isize * c_ref.cs) as usize;
            c_ref.buf[p] = v;
        }
    }
    let pick = |mat: &Mat<f32>| -> Vec<f32> {
        (0..m)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| mat.get(i, j))
            .collect()
    };
    ((pick(&c), out), (pick(&c_ref), out_ref))
}

fn bits32(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn epilogue_equals_product_then_bias_and_activation() {
    use super::blocking::{parse_override, set_blocking_override};
    let shapes = [
        (1, 1, 1),
        (1, 50, 40),
        (40, 1, 30),
        (3, 17, 5),
        (4, 0, 3),
        (5, 7, 0),
        (17, 33, 300),
        (65, 64, 257),
        (230, 288, 64),
        (300, 150, 600),
        (1030, 70, 9),
    ];
    let acts = [
        None,
        Some(UnaryOp::Gelu),
        Some(UnaryOp::GeluTanh),
        Some(UnaryOp::Relu),
        Some(UnaryOp::Tanh),
        Some(UnaryOp::Silu),
    ];
    let lay_sets = [
        [Lay::Row, Lay::Row, Lay::Row],
        [Lay::Col, Lay::Strided, Lay::Padded],
        [Lay::Strided, Lay::Col, Lay::Reversed],
    ];
    for spec in [None, Some("16,8,64,b"), Some("24,16,96,a")] {
        let blocking = spec.map(|s| parse_override(s).unwrap());
        for_each_isa(|| {
            let run = || {
                set_blocking_override(blocking);
                // Products of any size take the shared-packing split on two threads.
                super::loops::SHARED_LIMITS.with(|c| c.set(Some((1, 64 << 20))));
                let mut results = Vec::new();
                for (si, &shape) in shapes.iter().enumerate() {
                    let lays = lay_sets[si % lay_sets.len()];
                    for (ai, &act) in acts.iter().enumerate() {
                        let bias = (si + ai) % 3 != 0;
                        let separate = ai % 2 == 1;
                        results.push((shape, act, epilogue_pair(shape, lays, bias, act, separate)));
                    }
                }
                super::loops::SHARED_LIMITS.with(|c| c.set(None));
                set_blocking_override(None);
                results
            };
            let (one, two) = with_threads(run);
            for (r1, r2) in one.iter().zip(&two) {
                let (shape, act, (ours, reference)) = r1;
                let what = format!("{shape:?} {act:?} {spec:?} isa {:?}", isa::active());
                assert_eq!(bits32(&ours.0), bits32(&reference.0), "C, {what}");
                assert_eq!(bits32(&ours.1), bits32(&reference.1), "out, {what}");
                assert_eq!(bits32(&ours.0), bits32(&r2.2 .0 .0), "C, 2 threads, {what}");
                assert_eq!(
                    bits32(&ours.1),
                    bits32(&r2.2 .0 .1),
                    "out, 2 threads, {what}"
                );
            }
        });
    }
}

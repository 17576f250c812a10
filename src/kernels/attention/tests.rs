//! Unit tests of the attention kernel's internals (its behaviour is tested from Python against
//! float64 PyTorch).

use super::*;

/// Random (B, T, N, H) q, (B, S, K, H) k/v and dout; returns the outputs and gradients of
/// one forward and backward, with or without the head-major copies.
fn run(relayout: bool, isa: AttnIsa, causal: bool) -> Vec<Vec<f32>> {
    let (b, t, s, n, kh, h) = (1, 70, 131, 16, 8, 32);
    // strides that crowd L1 sets, so `relayout` really copies q, dout, dq, K and V
    assert!(l1_crowded(kh * h, h, 4) && l1_crowded(n * h, h, 4));
    let mut seed = 7u32;
    let mut rnd = |len: usize| -> Vec<f32> {
        (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    };
    let (mut q, mut k, mut v, mut dout) = (
        rnd(b * t * n * h),
        rnd(b * s * kh * h),
        rnd(b * s * kh * h),
        rnd(b * t * n * h),
    );
    let pb = Problem {
        b,
        t,
        s,
        n,
        kh,
        h,
        scale: 0.3,
        causal,
        q: SendPtr(q.as_mut_ptr()),
        k: SendPtr(k.as_mut_ptr()),
        v: SendPtr(v.as_mut_ptr()),
        kv_head_major: false,
        q_head_major: false,
        bias: None,
        mask: None,
        dropout: None,
    };
    let mut out = vec![0.0f32; b * t * n * h];
    let mut lse = vec![0.0f32; b * n * t];
    let (mut dq, mut dk, mut dv) = (
        vec![0.0f32; q.len()],
        vec![0.0f32; k.len()],
        vec![0.0f32; v.len()],
    );
    // SAFETY: every buffer has its shape's length; outputs are distinct from inputs.
    unsafe {
        run_forward(&pb, out.as_mut_ptr(), lse.as_mut_ptr(), isa, relayout);
        let bw = Bwd {
            out: SendPtr(out.as_mut_ptr()),
            lse: SendPtr(lse.as_mut_ptr()),
            dout: SendPtr(dout.as_mut_ptr()),
            dq: SendPtr(dq.as_mut_ptr()),
            dk: SendPtr(dk.as_mut_ptr()),
            dv: SendPtr(dv.as_mut_ptr()),
            dbias: None,
            dvec: SendPtr(std::ptr::null_mut()),
        };
        run_backward(&pb, &bw, isa, relayout);
    }
    vec![out, lse, dq, dk, dv]
}

#[test]
fn head_major_copies_give_the_in_place_bits() {
    for isa in [attn_isa(), AttnIsa::Scalar] {
        for causal in [false, true] {
            let (a, b) = (run(true, isa, causal), run(false, isa, causal));
            for (x, y) in a.iter().zip(&b) {
                assert!(x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()));
            }
            assert!(a[2].iter().any(|&g| g != 0.0) && a[3].iter().any(|&g| g != 0.0));
        }
    }
}

fn max_ulp<const F: bool>() -> f64 {
    let mut worst = 0.0f64;
    let mut x = -87.3f32;
    while x <= 0.5 {
        let got = exp_softmax_f32::<F>(x) as f64;
        let want = (x as f64).exp();
        let ulp = (want as f32).next_up() as f64 - want as f32 as f64;
        worst = worst.max((got - want).abs() / ulp);
        x += 0.000_731;
    }
    worst
}

#[test]
fn softmax_exp_is_within_two_ulp() {
    assert!(max_ulp::<true>() < 2.0, "fma build: {}", max_ulp::<true>());
    assert!(
        max_ulp::<false>() < 2.0,
        "plain build: {}",
        max_ulp::<false>()
    );
    for x in [0.0f32, -1e-30, -1.0, -10.5, -87.0] {
        let rel = (exp_softmax_f32::<true>(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp();
        assert!(rel < 2.5e-7, "x = {x}: relative error {rel}");
    }
    assert_eq!(exp_softmax_f32::<true>(0.0), 1.0);
    assert!(exp_softmax_f32::<true>(f32::NAN).is_nan());
    assert!(exp_softmax_f32::<false>(f32::NAN).is_nan());
    // far below the range: the clamp's tiny positive value, never NaN or negative
    let tiny = exp_softmax_f32::<true>(-1e30);
    assert!(tiny > 0.0 && tiny < 2e-38);
    assert!(exp_softmax_f32::<true>(f32::NEG_INFINITY) < 2e-38);
}

#[test]
fn l1_crowding_rule() {
    // 8 heads of 64 f32: 2 KiB apart -> copy; GPT-small 4 x 32: 512 B apart -> read in place
    assert!(l1_crowded(8 * 64, 64, 4));
    assert!(!l1_crowded(4 * 32, 32, 4));
    // one head (rows contiguous) never; 12 and 16 heads of 64 do
    assert!(!l1_crowded(64, 64, 4));
    assert!(l1_crowded(12 * 64, 64, 4));
    assert!(l1_crowded(16 * 64, 64, 4));
    // an odd stride spreads over every set
    assert!(!l1_crowded(3 * 67, 67, 4));
}

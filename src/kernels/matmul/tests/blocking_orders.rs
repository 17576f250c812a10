//! Tests of the two loop orders of `blocking.rs` (forced through the per-thread override, so
//! every host runs the order its own caches would not choose). Helpers from `mod.rs`.

use super::*;

/// Both loop orders of `blocking.rs`, with tiny blocks (many ragged blocks in every direction)
/// and with the sizes the rule derives on machines this host may not be, on every ISA: equal
/// to the reference, and bit-identical on one and two threads (including the shared-packing
/// split and a prepacked B, as conv tiles use it).
#[test]
fn every_blocking_order_matches_reference_and_is_thread_invariant() {
    use super::blocking::{parse_override, set_blocking_override};
    let specs = [
        "16,8,64,b",
        "24,16,96,a",
        "2048,512,512,b",
        "144,256,4064,a",
        "40,96,160,b",
    ];
    let shapes = [
        (1, 1, 1),
        (7, 65, 17),
        (63, 3, 130),
        (130, 97, 301),
        (301, 40, 70),
        (33, 301, 129),
    ];
    for spec in specs {
        let b = parse_override(spec).unwrap();
        for_each_isa(|| {
            for &(m, n, k) in &shapes {
                let run = || {
                    set_blocking_override(Some(b));
                    super::loops::SHARED_LIMITS.with(|c| c.set(Some((1, 64 << 20))));
                    let r = run_pair::<f32>(m, n, k, [Lay::Row; 3], 1.0, 0.5, false, 21);
                    let d = run_pair::<f64>(
                        m,
                        n,
                        k,
                        [Lay::Col, Lay::Row, Lay::Row],
                        1.0,
                        0.0,
                        false,
                        22,
                    );
                    super::loops::SHARED_LIMITS.with(|c| c.set(None));
                    set_blocking_override(None);
                    (r, d)
                };
                let (one, two) = with_threads(run);
                let what = format!("{spec} {m}x{n}x{k} isa {:?}", isa::active());
                assert_close(&one.0 .0, &one.0 .1, k, false, &what);
                assert_close(&one.1 .0, &one.1 .1, k, false, &what);
                assert_eq!(bits(&one.0 .0), bits(&two.0 .0), "{what}");
                assert_eq!(bits(&one.1 .0), bits(&two.1 .0), "{what}");
            }
            // A prepacked B used from another thread with no override: same products.
            set_blocking_override(Some(b));
            let (m, n, k) = (37, 70, 300);
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
            let bm: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
            let rm = |p: *const f32, cols: usize| MatRef {
                ptr: p,
                rs: cols as isize,
                cs: 1,
            };
            let packed = unsafe { super::PackedB::new(rm(bm.as_ptr(), n), k, n) };
            set_blocking_override(None);
            let mut c = vec![0f32; m * n];
            std::thread::scope(|sc| {
                sc.spawn(|| unsafe {
                    let cm = MatMut {
                        ptr: c.as_mut_ptr(),
                        rs: n as isize,
                        cs: 1,
                    };
                    packed.gemm_serial(m, 1.0, rm(a.as_ptr(), k), 0.0, cm);
                });
            });
            for i in 0..m {
                for j in 0..n {
                    let want: f32 = (0..k).map(|p| a[i * k + p] * bm[p * n + j]).sum();
                    // Small integers: every partial sum is exact in f32.
                    assert_eq!(c[i * n + j], want, "{spec} prepacked ({i}, {j})");
                }
            }
        });
    }
}

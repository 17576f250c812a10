//! Tests of every path against the naive reference (`reference::gemm_naive`).
//!
//! Most inputs are multiples of 1/4 in [-2, 2]: every product and partial sum is then exact in
//! f32 and f64 for these sizes, so any correct summation order gives the reference's result
//! exactly and the comparisons are exact. Random reals (with a rounding tolerance) cover the
//! rounding behaviour, and the thread-count tests compare bits.

use std::sync::Mutex;

mod blocking_orders;
mod epilogue;
mod operand_reuse;

use super::isa::{set_isa_override, supported_isas, Isa};
use super::reference::gemm_naive;
use super::*;

/// Serialises the tests that change the process-global thread count.
static THREADS: Mutex<()> = Mutex::new(());

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A multiple of 1/4 in [-2, 2].
    fn quarter(&mut self) -> f64 {
        (self.next() % 17) as f64 / 4.0 - 2.0
    }
    fn real(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// How a test matrix is laid out in its buffer.
#[derive(Clone, Copy, Debug)]
enum Lay {
    Row,
    Col,
    /// Row-major with 3 elements of padding per row (a slice of a wider matrix).
    Padded,
    /// Every other column (column stride 2).
    Strided,
    /// Row-major with the rows stored bottom to top (negative row stride).
    Reversed,
}

const LAYS: [Lay; 5] = [Lay::Row, Lay::Col, Lay::Padded, Lay::Strided, Lay::Reversed];

trait Num: GemmScalar + std::fmt::Debug {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    const EPS: f64;
}
impl Num for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    const EPS: f64 = f32::EPSILON as f64;
}
impl Num for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    const EPS: f64 = f64::EPSILON;
}

/// A matrix in a buffer: element (i, j) at `off + i*rs + j*cs`.
#[derive(Clone)]
struct Mat<T> {
    buf: Vec<T>,
    off: isize,
    rs: isize,
    cs: isize,
}

impl<T: Num> Mat<T> {
    fn new(rows: usize, cols: usize, lay: Lay, fill: &mut dyn FnMut() -> f64) -> Self {
        let (r, c) = (rows as isize, cols as isize);
        let (len, off, rs, cs) = match lay {
            Lay::Row => (rows * cols, 0, c, 1),
            Lay::Col => (rows * cols, 0, 1, r),
            Lay::Padded => (rows * (cols + 3), 0, c + 3, 1),
            Lay::Strided => (rows * cols * 2, 0, 2 * c, 2),
            Lay::Reversed => (rows * cols, (r - 1).max(0) * c, -c, 1),
        };
        let buf = (0..len.max(1)).map(|_| T::from_f64(fill())).collect();
        Mat { buf, off, rs, cs }
    }
    fn get(&self, i: usize, j: usize) -> T {
        self.buf[(self.off + i as isize * self.rs + j as isize * self.cs) as usize]
    }
    fn as_ref(&self) -> MatRef<T> {
        MatRef {
            ptr: self.buf.as_ptr().wrapping_offset(self.off),
            rs: self.rs,
            cs: self.cs,
        }
    }
    fn as_mut(&mut self) -> MatMut<T> {
        MatMut {
            ptr: self.buf.as_mut_ptr().wrapping_offset(self.off),
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// Runs `gemm` (and the reference) on one problem; returns (ours, reference) C buffers.
#[allow(clippy::too_many_arguments)]
fn run_pair<T: Num>(
    m: usize,
    n: usize,
    k: usize,
    lays: [Lay; 3],
    alpha: f64,
    beta: f64,
    exact: bool,
    seed: u64,
) -> (Vec<T>, Vec<T>, usize) {
    let mut rng = Rng(seed | 1);
    let gen = |r: &mut Rng| if exact { r.quarter() } else { r.real() };
    let a = Mat::<T>::new(m, k, lays[0], &mut || gen(&mut rng));
    let mut rng2 = Rng(seed.wrapping_mul(31) | 1);
    let b = Mat::<T>::new(k, n, lays[1], &mut || gen(&mut rng2));
    let mut rng3 = Rng(seed.wrapping_mul(77) | 1);
    // With beta == 0, C starts as NaN: reading it would poison the result.
    let mut c = Mat::<T>::new(m, n, lays[2], &mut || {
        if beta == 0.0 {
            f64::NAN
        } else {
            rng3.quarter()
        }
    });
    let mut c_ref = c.clone();
    let params = |c: MatMut<T>| GemmParams {
        m,
        n,
        k,
        alpha: T::from_f64(alpha),
        beta: T::from_f64(beta),
        a: a.as_ref(),
        b: b.as_ref(),
        c,
        a_offsets: &[0],
        b_offsets: &[0],
        c_offsets: &[0],
    };
    unsafe {
        gemm(&params(c.as_mut()));
        gemm_naive(&params(c_ref.as_mut()));
    }
    // Compare only the addressed elements (padding keeps its NaN in both).
    let pick = |mat: &Mat<T>| {
        (0..m)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| mat.get(i, j))
            .collect()
    };
    (pick(&c), pick(&c_ref), k)
}

fn assert_close<T: Num>(ours: &[T], reference: &[T], k: usize, exact: bool, what: &str) {
    let tol = if exact {
        0.0
    } else {
        8.0 * T::EPS * (k.max(1) as f64)
    };
    for (idx, (x, r)) in ours.iter().zip(reference).enumerate() {
        let (x, r) = (x.to_f64(), r.to_f64());
        assert!(
            (x - r).abs() <= tol * (1.0 + r.abs()),
            "{what}: element {idx}: got {x}, expected {r} (tol {tol})"
        );
    }
}

fn check<T: Num>(m: usize, n: usize, k: usize, lays: [Lay; 3], alpha: f64, beta: f64, exact: bool) {
    let (ours, reference, k) = run_pair::<T>(
        m,
        n,
        k,
        lays,
        alpha,
        beta,
        exact,
        (m * 1_000_003 + n * 1009 + k) as u64,
    );
    let what = format!(
        "{} m={m} n={n} k={k} {lays:?} alpha={alpha} beta={beta} isa={:?}",
        std::any::type_name::<T>(),
        isa::active()
    );
    assert_close(&ours, &reference, k, exact, &what);
}

/// Runs `f` once per ISA the host supports, with that ISA forced on this thread.
fn for_each_isa(f: impl Fn()) {
    for isa in supported_isas() {
        set_isa_override(Some(isa)).unwrap();
        f();
    }
    set_isa_override(None).unwrap();
}

const DIMS: [usize; 8] = [1, 2, 3, 7, 17, 63, 64, 65];

#[test]
fn awkward_shapes_every_isa_f32() {
    for_each_isa(|| {
        for &m in &DIMS {
            for &n in &DIMS {
                for &k in &DIMS {
                    check::<f32>(m, n, k, [Lay::Row; 3], 1.0, 0.0, true);
                }
            }
        }
    });
}

#[test]
fn awkward_shapes_every_isa_f64() {
    for_each_isa(|| {
        for &m in &DIMS {
            for &n in &DIMS {
                for &k in &[1, 7, 64, 65] {
                    check::<f64>(m, n, k, [Lay::Row; 3], 1.0, 0.0, true);
                }
            }
        }
    });
}

#[test]
fn large_dimensions_cross_every_block_boundary() {
    // 255 and 1000+ in each dimension; k > KC (several depth blocks), m > MC, n > NC.
    let shapes = [
        (1031, 17, 65),
        (3, 1029, 255),
        (255, 63, 1001),
        (150, 4100, 3),
        (1, 1030, 300),
        // GEMV with the depth split (over 2^20 matrix elements), odd depth, and a beta.
        (1, 2001, 601),
        (1025, 1, 257),
        (300, 2, 520),
        // Few rows, wide and deep: B read in place across several depth and column blocks.
        (5, 4100, 1100),
        (31, 1030, 600),
    ];
    for_each_isa(|| {
        for &(m, n, k) in &shapes {
            check::<f32>(m, n, k, [Lay::Row; 3], 1.0, 0.0, true);
            check::<f64>(m, n, k, [Lay::Row; 3], 1.0, 0.0, true);
        }
        check::<f32>(1, 2001, 601, [Lay::Row; 3], 0.5, 2.0, true);
    });
}

#[test]
fn transposed_and_strided_operands() {
    for_each_isa(|| {
        for &la in &LAYS {
            for &lb in &LAYS {
                for &lc in &LAYS {
                    for &(m, n, k) in &[
                        (17, 33, 65),
                        (1, 40, 37),
                        (40, 1, 37),
                        (5, 6, 7),
                        (70, 19, 300),
                    ] {
                        check::<f32>(m, n, k, [la, lb, lc], 1.0, 0.0, true);
                    }
                }
            }
            check::<f64>(33, 20, 70, [la, Lay::Col, Lay::Row], 1.0, 0.0, true);
        }
    });
}

#[test]
fn alpha_beta_variants() {
    for_each_isa(|| {
        for &(alpha, beta) in &[
            (1.0, 1.0),
            (0.5, -0.5),
            (-2.0, 0.0),
            (0.0, 0.25),
            (0.0, 0.0),
            (1.0, 2.0),
        ] {
            for &(m, n, k) in &[
                (65, 33, 300),
                (1, 70, 20),
                (70, 1, 20),
                (3, 3, 3),
                (9, 9, 0),
            ] {
                check::<f32>(
                    m,
                    n,
                    k,
                    [Lay::Row, Lay::Row, Lay::Padded],
                    alpha,
                    beta,
                    true,
                );
                check::<f64>(m, n, k, [Lay::Row, Lay::Col, Lay::Col], alpha, beta, true);
            }
        }
    });
}

#[test]
fn random_reals_within_rounding() {
    for_each_isa(|| {
        for &(m, n, k) in &[(100, 80, 600), (1, 300, 1000), (300, 1, 1000), (31, 47, 5)] {
            check::<f32>(m, n, k, [Lay::Row, Lay::Col, Lay::Row], 1.0, 0.0, false);
            check::<f64>(m, n, k, [Lay::Col, Lay::Row, Lay::Row], 0.5, 1.0, false);
        }
    });
}

#[test]
fn zero_sized_problems_touch_nothing() {
    let a = [1.0f32; 4];
    let mut c = [7.0f32; 4];
    for &(m, n) in &[(0, 2), (2, 0)] {
        let p = GemmParams {
            m,
            n,
            k: 2,
            alpha: 1.0,
            beta: 0.0,
            a: MatRef {
                ptr: a.as_ptr(),
                rs: 2,
                cs: 1,
            },
            b: MatRef {
                ptr: a.as_ptr(),
                rs: 2,
                cs: 1,
            },
            c: MatMut {
                ptr: c.as_mut_ptr(),
                rs: 2,
                cs: 1,
            },
            a_offsets: &[0],
            b_offsets: &[0],
            c_offsets: &[0],
        };
        unsafe { gemm(&p) };
    }
    assert_eq!(c, [7.0; 4]);
}

#[test]
fn small_gemm_matches_hand_result() {
    let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3
    let b = [7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0]; // 3x2
    let mut c = [f32::NAN; 4];
    let p = GemmParams {
        m: 2,
        n: 2,
        k: 3,
        alpha: 1.0,
        beta: 0.0,
        a: MatRef {
            ptr: a.as_ptr(),
            rs: 3,
            cs: 1,
        },
        b: MatRef {
            ptr: b.as_ptr(),
            rs: 2,
            cs: 1,
        },
        c: MatMut {
            ptr: c.as_mut_ptr(),
            rs: 2,
            cs: 1,
        },
        a_offsets: &[0],
        b_offsets: &[0],
        c_offsets: &[0],
    };
    unsafe { gemm(&p) };
    assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
}

/// A batched problem over contiguous row-major entries; `bcast` = (A shared, B shared).
fn batch_case<T: Num>(
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    bcast: (bool, bool),
    c_gap: isize,
    exact: bool,
) -> (Vec<T>, Vec<T>) {
    let mut rng = Rng(batch as u64 * 7919 + (m * n * k) as u64);
    let mut gen = || if exact { rng.quarter() } else { rng.real() };
    let (na, nb) = (
        if bcast.0 { 1 } else { batch },
        if bcast.1 { 1 } else { batch },
    );
    let a: Vec<T> = (0..na * m * k).map(|_| T::from_f64(gen())).collect();
    let b: Vec<T> = (0..nb * k * n).map(|_| T::from_f64(gen())).collect();
    let c_step = (m * n) as isize + c_gap;
    let c_len = (batch as isize * c_step) as usize;
    let a_off: Vec<isize> = (0..batch)
        .map(|e| if bcast.0 { 0 } else { (e * m * k) as isize })
        .collect();
    let b_off: Vec<isize> = (0..batch)
        .map(|e| if bcast.1 { 0 } else { (e * k * n) as isize })
        .collect();
    let c_off: Vec<isize> = (0..batch as isize).map(|e| e * c_step).collect();
    let mut c = vec![T::from_f64(0.0); c_len];
    let mut c_ref = c.clone();
    let params = |c: *mut T| GemmParams {
        m,
        n,
        k,
        alpha: T::ONE,
        beta: T::ZERO,
        a: MatRef {
            ptr: a.as_ptr(),
            rs: k as isize,
            cs: 1,
        },
        b: MatRef {
            ptr: b.as_ptr(),
            rs: n as isize,
            cs: 1,
        },
        c: MatMut {
            ptr: c,
            rs: n as isize,
            cs: 1,
        },
        a_offsets: &a_off,
        b_offsets: &b_off,
        c_offsets: &c_off,
    };
    unsafe {
        gemm(&params(c.as_mut_ptr()));
        gemm_naive(&params(c_ref.as_mut_ptr()));
    }
    (c, c_ref)
}

#[test]
fn batches_with_broadcasting() {
    for_each_isa(|| {
        // B shared and entries adjacent (folded into M), B shared with a gap between C entries
        // (not foldable), A shared, nothing shared; few big and many small entries.
        for &(batch, m, n, k) in &[
            (3, 17, 33, 65),
            (32, 12, 16, 8),
            (2, 70, 70, 70),
            (40, 1, 50, 30),
        ] {
            for &bcast in &[(false, true), (true, false), (false, false)] {
                for &gap in &[0, 5] {
                    let (ours, reference) = batch_case::<f32>(batch, m, n, k, bcast, gap, true);
                    assert_close(
                        &ours,
                        &reference,
                        k,
                        true,
                        &format!("batch {batch} {m}x{n}x{k} {bcast:?} gap {gap}"),
                    );
                }
            }
        }
    });
}

/// Runs `f` with 1 and with 2 threads (serialised against other thread-count tests).
pub(crate) fn with_threads<R>(f: impl Fn() -> R) -> (R, R) {
    let _g = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let before = crate::threading::num_threads();
    crate::threading::set_num_threads(1).unwrap();
    let one = f();
    crate::threading::set_num_threads(2).unwrap();
    let two = f();
    crate::threading::set_num_threads(before).unwrap();
    (one, two)
}

fn bits<T: Num>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.to_f64().to_bits()).collect()
}

#[test]
fn one_and_two_threads_bit_identical() {
    for_each_isa(|| {
        for &(m, n, k) in &[
            (301, 97, 700),
            (40, 500, 300),
            (1, 3000, 200),
            (3000, 1, 200),
            // GEMV with the depth split (matrix over 2^20 elements).
            (1, 2000, 600),
            (130, 130, 130),
            // Splits into four tasks on two threads.
            (2100, 40, 40),
            // Few rows: B read in place (ragged last panel packed), split along N.
            (8, 3000, 200),
            (17, 700, 301),
            (32, 1001, 129),
        ] {
            let (one, two) = with_threads(|| {
                run_pair::<f32>(m, n, k, [Lay::Row, Lay::Row, Lay::Row], 1.0, 0.0, false, 5).0
            });
            assert_eq!(
                bits(&one),
                bits(&two),
                "f32 {m}x{n}x{k} isa {:?}",
                isa::active()
            );
            let (one, two) = with_threads(|| {
                run_pair::<f64>(m, n, k, [Lay::Col, Lay::Row, Lay::Row], 0.5, 1.0, false, 9).0
            });
            assert_eq!(
                bits(&one),
                bits(&two),
                "f64 {m}x{n}x{k} isa {:?}",
                isa::active()
            );
        }
        for &(batch, m, n, k) in &[(8, 60, 60, 60), (3, 100, 90, 80)] {
            for &bcast in &[(false, true), (false, false)] {
                let (one, two) =
                    with_threads(|| batch_case::<f32>(batch, m, n, k, bcast, 1, false).0);
                assert_eq!(
                    bits(&one),
                    bits(&two),
                    "batch {batch} {m}x{n}x{k} {bcast:?}"
                );
            }
        }
    });
}

#[test]
fn shared_packing_split_matches_reference_and_one_thread() {
    // Products sent through the split that packs the shared operand once (forced onto small
    // shapes, with stripe caps that cut B or A into several stripes; the 16 KiB cap is below
    // one full-depth panel for the deeper cases, which then keep the per-task packing), on
    // every ISA: equal to the reference, and bit-identical to one thread (which never takes
    // that path).
    let cases: [(usize, usize, usize, [Lay; 3], f64, f64); 5] = [
        // Along M, B shared: ragged panels, several depth blocks, beta accumulation.
        (300, 150, 600, [Lay::Row, Lay::Row, Lay::Row], 1.0, 0.0),
        (257, 70, 300, [Lay::Col, Lay::Col, Lay::Row], 0.5, 1.5),
        // Along N, A shared.
        (90, 400, 520, [Lay::Row, Lay::Row, Lay::Row], 1.0, 0.0),
        (33, 301, 129, [Lay::Col, Lay::Row, Lay::Strided], -2.0, 0.25),
        // A C stored column-major (computed as its transpose).
        (70, 260, 140, [Lay::Row, Lay::Strided, Lay::Col], 1.0, 1.0),
    ];
    for_each_isa(|| {
        for &cap in &[16usize << 10, 96 << 10, 64 << 20] {
            for &(m, n, k, lays, alpha, beta) in &cases {
                let run = || {
                    super::loops::SHARED_LIMITS.with(|c| c.set(Some((1, cap))));
                    let r = run_pair::<f32>(m, n, k, lays, alpha, beta, false, 11);
                    super::loops::SHARED_LIMITS.with(|c| c.set(None));
                    r
                };
                let (one, two) = with_threads(run);
                let what = format!("{m}x{n}x{k} {lays:?} cap {cap} isa {:?}", isa::active());
                assert_close(&two.0, &two.1, k, false, &what);
                assert_eq!(bits(&one.0), bits(&two.0), "{what}");
            }
        }
        // f64 along both directions.
        for &(m, n, k) in &[(200, 90, 300), (50, 333, 280)] {
            let run = || {
                super::loops::SHARED_LIMITS.with(|c| c.set(Some((1, 48 << 10))));
                let r =
                    run_pair::<f64>(m, n, k, [Lay::Row, Lay::Col, Lay::Row], 1.0, 0.0, false, 3);
                super::loops::SHARED_LIMITS.with(|c| c.set(None));
                r
            };
            let (one, two) = with_threads(run);
            assert_close(&two.0, &two.1, k, false, &format!("f64 {m}x{n}x{k}"));
            assert_eq!(bits(&one.0), bits(&two.0), "f64 {m}x{n}x{k}");
        }
    });
}

#[test]
fn scalar_override_is_honoured_and_unsupported_rejected() {
    set_isa_override(Some(Isa::Scalar)).unwrap();
    assert_eq!(isa::active(), Isa::Scalar);
    set_isa_override(None).unwrap();
    assert_eq!(isa::active(), isa::detect());
    for i in Isa::ALL {
        assert_eq!(set_isa_override(Some(i)).is_ok(), i.is_supported());
    }
    set_isa_override(None).unwrap();
}

/// The matmul gradients the backward pass uses, dA = dC Bᵀ and dB = Aᵀ dC, computed with
/// `gemm` on transposed views (no copies), against central finite differences of
/// L = sum(dC ∘ (A @ B)) in f64.
#[test]
fn gradients_match_finite_differences() {
    let (m, n, k) = (7, 9, 11);
    let mut rng = Rng(42);
    let a: Vec<f64> = (0..m * k).map(|_| rng.real()).collect();
    let b: Vec<f64> = (0..k * n).map(|_| rng.real()).collect();
    let g: Vec<f64> = (0..m * n).map(|_| rng.real()).collect();
    let mm = |a: &[f64], b: &[f64]| {
        let mut c = vec![0.0; m * n];
        let p = GemmParams {
            m,
            n,
            k,
            alpha: 1.0,
            beta: 0.0,
            a: MatRef {
                ptr: a.as_ptr(),
                rs: k as isize,
                cs: 1,
            },
            b: MatRef {
                ptr: b.as_ptr(),
                rs: n as isize,
                cs: 1,
            },
            c: MatMut {
                ptr: c.as_mut_ptr(),
                rs: n as isize,
                cs: 1,
            },
            a_offsets: &[0],
            b_offsets: &[0],
            c_offsets: &[0],
        };
        unsafe { gemm(&p) };
        c
    };
    let loss = |a: &[f64], b: &[f64]| mm(a, b).iter().zip(&g).map(|(c, g)| c * g).sum::<f64>();
    // dA (m x k) = dC (m x n) @ Bᵀ (n x k): B read with swapped strides.
    let mut da = vec![0.0; m * k];
    let mut db = vec![0.0; k * n];
    unsafe {
        gemm(&GemmParams {
            m,
            n: k,
            k: n,
            alpha: 1.0,
            beta: 0.0,
            a: MatRef {
                ptr: g.as_ptr(),
                rs: n as isize,
                cs: 1,
            },
            b: MatRef {
                ptr: b.as_ptr(),
                rs: 1,
                cs: n as isize,
            },
            c: MatMut {
                ptr: da.as_mut_ptr(),
                rs: k as isize,
                cs: 1,
            },
            a_offsets: &[0],
            b_offsets: &[0],
            c_offsets: &[0],
        });
        // dB (k x n) = Aᵀ (k x m) @ dC (m x n).
        gemm(&GemmParams {
            m: k,
            n,
            k: m,
            alpha: 1.0,
            beta: 0.0,
            a: MatRef {
                ptr: a.as_ptr(),
                rs: 1,
                cs: k as isize,
            },
            b: MatRef {
                ptr: g.as_ptr(),
                rs: n as isize,
                cs: 1,
            },
            c: MatMut {
                ptr: db.as_mut_ptr(),
                rs: n as isize,
                cs: 1,
            },
            a_offsets: &[0],
            b_offsets: &[0],
            c_offsets: &[0],
        });
    }
    let h = 1e-6;
    for idx in 0..m * k {
        let (mut ap, mut am) = (a.clone(), a.clone());
        ap[idx] += h;
        am[idx] -= h;
        let fd = (loss(&ap, &b) - loss(&am, &b)) / (2.0 * h);
        assert!(
            (fd - da[idx]).abs() < 1e-6,
            "dA[{idx}]: finite difference {fd}, gemm {}",
            da[idx]
        );
    }
    for idx in 0..k * n {
        let (mut bp, mut bm) = (b.clone(), b.clone());
        bp[idx] += h;
        bm[idx] -= h;
        let fd = (loss(&a, &bp) - loss(&a, &bm)) / (2.0 * h);
        assert!(
            (fd - db[idx]).abs() < 1e-6,
            "dB[{idx}]: finite difference {fd}, gemm {}",
            db[idx]
        );
    }
}

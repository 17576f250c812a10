//! Fused scaled dot-product attention (flash style): forward, backward and a decode split.
//!
//! Math, per batch b, query head n (key/value head `n / G`, `G = N / K`), query row i:
//! `s_ij = scale * q_i . k_j + bias_ij` (`-inf` where the mask is false or, causal, `j > i`),
//! `p_ij = exp(s_ij - lse_i)`, `lse_i = log sum_j exp(s_ij)`, `o_i = sum_j p_ij v_j`.
//! Backward, with `D_i = do_i . o_i`: `dv_j = sum_i p_ij do_i`, `dp_ij = do_i . v_j`,
//! `ds_ij = p_ij (dp_ij - D_i)` (= dbias_ij), `dq_i = scale sum_j ds_ij k_j`,
//! `dk_j = scale sum_i ds_ij q_i`. A row with every key masked has `lse = -inf`, output 0 and
//! zero gradients (not NaN).
//!
//! Layout: q, out, dq (B, T, N, H); k, v, dk, dv (B, S, K, H), all contiguous; lse (B, N, T);
//! bias and mask are read through strides of their broadcast to (B, N, T, S) (stride 0 on
//! broadcast axes), so a (T, S) bias is never expanded. Outputs never alias inputs.
//!
//! Tiling: query blocks of `BR` rows against key blocks of `BC` keys; the forward keeps a
//! running max, sum and unnormalised output per row (online softmax) and stores only the
//! output and `lse`, so the extra memory is O(BR * (BC + H)) per task, never T x S. The
//! backward recomputes `p` block by block from `lse`.
//!
//! Threads and determinism: the forward runs one task per (b, n, query block); with few query
//! rows and a long cache (decode: `T <= DECODE_T`, `S >= 2 * DECODE_CHUNK`) it also splits the
//! keys into fixed chunks of `DECODE_CHUNK`, whose partial (max, sum, output) are merged in chunk
//! order. The backward computes dk/dv per (b, kv head, key block), looping over the group's query
//! heads and query blocks in order; dq is either accumulated by the same task (one task per
//! (b, kv head), when there are enough of them to feed the threads) or by a second pass with one
//! task per (b, n, query block) that loops over key blocks in order. Both forms run the same
//! block functions on the same block grid, so every element sees the same operations in the same
//! order whichever form or thread count runs: results are bit-identical for any thread count.
//!
//! Precision: f32 (or f64) throughout, products accumulated with fused multiply-adds in a fixed
//! order over at most H (q.k, do.v) or BC/BR (p v, ds q) terms per block, the softmax sum in
//! `LANES` partial sums; the online rescaling adds one rounding per key block. f32 results match
//! a float64 reference to ~1e-6 relative for unit-scale inputs.
//!
//! SIMD: the block products are register-tiled loops (`R` rows x `W` columns of accumulators,
//! columns contiguous) compiled three times: AVX-512 (6 x 32), AVX2+FMA (6 x 16) and a plain
//! scalar build (4 x 8, `a * b + c` instead of FMA) chosen at run time; tests compare the SIMD
//! builds against the scalar one. Performance note: the composed version (matmul, softmax,
//! matmul) writes and re-reads the T x S scores and probabilities (B=4 N=8 S=2048: 1 GiB each)
//! and runs bandwidth-bound; the fused form stays in L1/L2. Measured (benches/bench_attention.py,
//! 2 threads, AMD EPYC Zen 4, best of 3 interleaved rounds, B=4 N=8 H=64, fwd+bwd vs torch 2.13
//! sdpa): S=512 50.7 ms (1.07x), causal 32.5 ms (2.1x); S=2048 769 ms (1.12x, 156 GFLOP/s,
//! ~79% of our 1024^3 GEMM), causal 413 ms (1.23x). The generic tiles left to the compiler ran
//! scalar (10x slower); transposing K per (query block, key block) cost 15% of the forward, hence
//! the transposed scores against Q^T packed once. Decode B1 N32 H128 S4096: 5.9 ms (2.2x torch,
//! ~23 GB/s), from 19.7 ms when each task streamed one head's rows (16 KiB apart).

use std::cell::RefCell;

use super::iter::SendPtr;
use super::math::exp_f32;
use crate::dtype::Element;
use crate::storage::Storage;

/// Query rows per block.
pub const BR: usize = 64;
/// Keys per block.
pub const BC: usize = 64;
/// Query blocks of at most this many rows compute their scores one dot product at a time.
const DIRECT_ROWS: usize = 4;
/// The decode split (one pass over the cache in address order, split into key chunks): at most
/// this many query rows ...
pub const DECODE_T: usize = 16;
/// ... and keys cut into chunks of this many (fixed, so the merge order never depends on threads).
pub const DECODE_CHUNK: usize = 256;
/// Partial sums of the softmax denominator (a fixed reduction tree the vector builds can use).
const LANES: usize = 16;

/// Float types of the attention kernel.
pub trait AttnScalar:
    Element
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    const NEG_INF: Self;
    fn exp_(self) -> Self;
    /// e^x for softmax arguments (differences from a row maximum or log-sum-exp, so x <= 0 up
    /// to rounding); see [`exp_softmax_f32`]. `F` as in [`madd`].
    fn exp_sm<const F: bool>(self) -> Self;
    fn ln_(self) -> Self;
    fn fma_(self, b: Self, c: Self) -> Self;
    fn max_(self, b: Self) -> Self;
    /// This thread's spare task buffers (see [`take_scratch`]).
    fn scratch_pool() -> &'static std::thread::LocalKey<RefCell<Option<Scratch<Self>>>>;
}

thread_local! {
    static SCRATCH_F32: RefCell<Option<Scratch<f32>>> = const { RefCell::new(None) };
    static SCRATCH_F64: RefCell<Option<Scratch<f64>>> = const { RefCell::new(None) };
}

impl AttnScalar for f32 {
    fn scratch_pool() -> &'static std::thread::LocalKey<RefCell<Option<Scratch<Self>>>> {
        &SCRATCH_F32
    }
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INF: Self = f32::NEG_INFINITY;
    #[inline(always)]
    fn exp_(self) -> Self {
        exp_f32(self)
    }
    #[inline(always)]
    fn exp_sm<const F: bool>(self) -> Self {
        exp_softmax_f32::<F>(self)
    }
    #[inline(always)]
    fn ln_(self) -> Self {
        self.ln()
    }
    #[inline(always)]
    fn fma_(self, b: Self, c: Self) -> Self {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn max_(self, b: Self) -> Self {
        if b > self {
            b
        } else {
            self
        }
    }
}

impl AttnScalar for f64 {
    fn scratch_pool() -> &'static std::thread::LocalKey<RefCell<Option<Scratch<Self>>>> {
        &SCRATCH_F64
    }
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INF: Self = f64::NEG_INFINITY;
    #[inline(always)]
    fn exp_(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn exp_sm<const F: bool>(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn ln_(self) -> Self {
        self.ln()
    }
    #[inline(always)]
    fn fma_(self, b: Self, c: Self) -> Self {
        self.mul_add(b, c)
    }
    #[inline(always)]
    fn max_(self, b: Self) -> Self {
        if b > self {
            b
        } else {
            self
        }
    }
}

/// Which build of the block loops runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttnIsa {
    Scalar,
    Avx2,
    Avx512,
}

/// The build for this CPU (scalar when tests force the scalar reference kernels).
pub fn attn_isa() -> AttnIsa {
    use super::matmul::isa::Isa;
    if super::simd::isa() == super::simd::Isa::Scalar {
        return AttnIsa::Scalar;
    }
    match super::matmul::isa::detect() {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => AttnIsa::Avx512,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => AttnIsa::Avx2,
        _ => AttnIsa::Scalar,
    }
}

/// A strided (B, N, T, S) view: element (b, n, i, j) at `ptr + b*st[0] + n*st[1] + i*st[2] + j*st[3]`.
#[derive(Clone, Copy)]
pub struct Strided<P> {
    pub ptr: P,
    pub st: [isize; 4],
}

/// One attention problem (all pointers valid for the shapes below for the call's duration).
#[derive(Clone, Copy)]
pub struct Problem<T> {
    pub b: usize,
    pub t: usize,
    pub s: usize,
    pub n: usize,
    pub kh: usize,
    pub h: usize,
    pub scale: T,
    pub causal: bool,
    pub q: SendPtr<T>,
    pub k: SendPtr<T>,
    pub v: SendPtr<T>,
    /// Whether `k` and `v` point at head-major copies, (B, K, S, H), instead of the (B, S, K, H)
    /// inputs (see [`forward`]); dk and dv always have the input layout.
    pub kv_head_major: bool,
    /// Whether `q` (and in the backward `dout` and `dq`) point at head-major copies,
    /// (B, N, T, H) (see [`backward`]); `out` always has the input layout.
    pub q_head_major: bool,
    pub bias: Option<Strided<SendPtr<T>>>,
    pub mask: Option<Strided<SendPtr<u8>>>,
    /// Dropout on the attention weights (training), `None` when the rate is 0.
    pub dropout: Option<Dropout<T>>,
}

/// Inverted dropout on the probabilities: `p_ij` is kept (and multiplied by `scale = 1 / (1 -
/// rate)`) when a hash of (seed, b, n, i, j) is at least `threshold = rate * 2^32`. The hash is a
/// pure function of the element's indices, so the backward regenerates exactly the forward's
/// mask block by block (nothing T x S is stored) and the mask does not depend on the tiling or
/// the thread count.
#[derive(Clone, Copy, Debug)]
pub struct Dropout<T> {
    pub threshold: u32,
    pub scale: T,
    pub seed: u64,
}

impl<T: AttnScalar> Dropout<T> {
    /// A per-row key for (b, n, i): a 64-bit finalizer of the row's linear index and the seed.
    #[inline(always)]
    fn row_key(&self, row: usize) -> u32 {
        let mut z = self.seed ^ (row as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u32
    }

    /// The multiplier of element j of the row with key `key`: 0 (dropped) or `scale`.
    #[inline(always)]
    fn mult(&self, key: u32, j: usize) -> T {
        let mut x = key ^ (j as u32).wrapping_mul(0x9E37_79B9);
        x ^= x >> 16;
        x = x.wrapping_mul(0x85EB_CA6B);
        x ^= x >> 13;
        x = x.wrapping_mul(0xC2B2_AE35);
        x ^= x >> 16;
        if x >= self.threshold {
            self.scale
        } else {
            T::ZERO
        }
    }
}

// SAFETY: the pointers are only read (or written in disjoint parts) inside the kernels, whose
// callers guarantee validity for the duration of the call.
unsafe impl<T: Send> Send for Problem<T> {}
unsafe impl<T: Sync> Sync for Problem<T> {}

impl<T: AttnScalar> Problem<T> {
    fn group(&self) -> usize {
        self.n / self.kh
    }
    /// Offset of query row (b, i, n) in q/out/dq.
    fn qoff(&self, b: usize, i: usize, n: usize) -> usize {
        ((b * self.t + i) * self.n + n) * self.h
    }
    /// Offset of key row (b, j, kv head) in k/v/dk/dv.
    fn koff(&self, b: usize, j: usize, kvh: usize) -> usize {
        ((b * self.s + j) * self.kh + kvh) * self.h
    }
    /// Offset of query row (b, i, n) in the q / dout / dq the kernel reads and accumulates.
    fn qin(&self, b: usize, i: usize, n: usize) -> usize {
        if self.q_head_major {
            ((b * self.n + n) * self.t + i) * self.h
        } else {
            self.qoff(b, i, n)
        }
    }
    /// Row stride of the q / dout / dq the kernel reads and accumulates.
    fn ldqin(&self) -> isize {
        if self.q_head_major {
            self.h as isize
        } else {
            self.ldq()
        }
    }
    /// Offset of key row (b, j, kv head) in the k/v the kernel reads.
    fn kin(&self, b: usize, j: usize, kvh: usize) -> usize {
        if self.kv_head_major {
            ((b * self.kh + kvh) * self.s + j) * self.h
        } else {
            self.koff(b, j, kvh)
        }
    }
    /// Row stride of the k/v the kernel reads.
    fn ldkin(&self) -> isize {
        if self.kv_head_major {
            self.h as isize
        } else {
            self.ldk()
        }
    }
    fn ldq(&self) -> isize {
        (self.n * self.h) as isize
    }
    fn ldk(&self) -> isize {
        (self.kh * self.h) as isize
    }
    /// Whether the forward splits the keys into decode chunks.
    pub fn decode_split(&self) -> usize {
        if self.t <= DECODE_T && self.s >= 2 * DECODE_CHUNK && self.dropout.is_none() {
            self.s.div_ceil(DECODE_CHUNK)
        } else {
            1
        }
    }
}

#[inline(always)]
fn madd<T: AttnScalar, const F: bool>(a: T, b: T, c: T) -> T {
    if F {
        a.fma_(b, c)
    } else {
        a * b + c
    }
}

/// e^x for the softmax of the attention kernel: exact to about 1 ulp (measured 1.02 ulp,
/// 8.6e-8 relative, on [-87.3, 0]) for -87.33 <= x <= 88, with x clamped to that range (NaN
/// stays NaN). Below it the result is e^-87.33 (1.2e-38) instead of a smaller or subnormal value,
/// which no softmax sum (>= 1, the row maximum's term) can see; callers zero masked (-inf)
/// entries themselves.
///
/// Cheaper than [`exp_f32`] (17 vector operations instead of 38): x log2(e) is rounded to the
/// nearest integer n by adding 1.5 * 2^23, whose low mantissa bits then hold n, so one float
/// add gives n and one integer add and shift give 2^n (normal for n in [-126, 127], no
/// two-factor scaling); the reduced r = x - n ln2 (two-part ln2) goes through a degree-6
/// polynomial with minimax coefficients for relative error on |r| <= ln2/2 (fitted for this
/// kernel; 2e-9 in exact arithmetic), evaluated with `madd` so the FMA builds use FMAs.
#[inline(always)]
pub fn exp_softmax_f32<const F: bool>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const SHIFT: f32 = 12_582_912.0; // 1.5 * 2^23
    const C: [f32; 6] = [
        1.0,
        0.499_999_94,
        0.166_664_32,
        0.041_668,
        0.008_374_164,
        0.001_384_364_4,
    ];
    // (clamp keeps NaN as NaN)
    let x = x.clamp(-87.33, 88.0);
    let t = madd::<f32, F>(x, LOG2E, SHIFT);
    let n = t - SHIFT;
    let r = madd::<f32, F>(n, -LN2_HI, x);
    let r = madd::<f32, F>(n, -LN2_LO, r);
    let mut p = C[5];
    for &c in C[..5].iter().rev() {
        p = madd::<f32, F>(p, r, c);
    }
    let p = madd::<f32, F>(p, r, 1.0);
    // bits(t) = 0x4B40_0000 + n; 2^n has exponent field n + 127.
    let scale = f32::from_bits(((t.to_bits() as i32).wrapping_add(127 - 0x4B40_0000) as u32) << 23);
    p * scale
}

/// `c[r*ldc + x] += sum_p a[r*rsa + p*csa] * b[p*ldb + x]` for r < m, x < n, p < k ascending
/// (each element starts from its value in c, or from 0 without reading c when `zero`, and adds
/// the k products in order, whatever tile computes it).
///
/// # Safety
/// Every addressed element must be valid; c must not overlap a or b.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn mm<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    ldb: isize,
    c: *mut T,
    ldc: isize,
    zero: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if F && std::mem::size_of::<T>() == 4 && (W == 32 || W == 16) {
        // The f32 builds run explicit register tiles (the compiler left the generic tile
        // scalar); T is f32 here, so the casts only restate the type.
        let (a, b, c) = (a as *const f32, b as *const f32, c as *mut f32);
        if W == 32 {
            x86::mm512(m, n, k, a, rsa, csa, b, ldb, c, ldc, zero);
        } else {
            x86::mm256(m, n, k, a, rsa, csa, b, ldb, c, ldc, zero);
        }
        return;
    }
    let mut r0 = 0;
    while r0 + R <= m {
        mm_rows::<T, F, R, W>(
            n,
            k,
            a.offset(r0 as isize * rsa),
            rsa,
            csa,
            b,
            ldb,
            c.offset(r0 as isize * ldc),
            ldc,
            zero,
        );
        r0 += R;
    }
    while r0 < m {
        mm_rows::<T, F, 1, W>(
            n,
            k,
            a.offset(r0 as isize * rsa),
            rsa,
            csa,
            b,
            ldb,
            c.offset(r0 as isize * ldc),
            ldc,
            zero,
        );
        r0 += 1;
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn mm_rows<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    n: usize,
    k: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    ldb: isize,
    c: *mut T,
    ldc: isize,
    zero: bool,
) {
    let mut c0 = 0usize;
    while c0 + W <= n {
        let mut acc = [[T::ZERO; W]; R];
        for (r, row) in acc.iter_mut().enumerate() {
            let cr = c.offset(r as isize * ldc).add(c0);
            if !zero {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = *cr.add(x);
                }
            }
        }
        for p in 0..k {
            let bp = b.offset(p as isize * ldb).add(c0);
            for (r, row) in acc.iter_mut().enumerate() {
                let av = *a.offset(r as isize * rsa + p as isize * csa);
                for (x, v) in row.iter_mut().enumerate() {
                    *v = madd::<T, F>(av, *bp.add(x), *v);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            let cr = c.offset(r as isize * ldc).add(c0);
            for (x, v) in row.iter().enumerate() {
                *cr.add(x) = *v;
            }
        }
        c0 += W;
    }
    for x in c0..n {
        for r in 0..R {
            let cr = c.offset(r as isize * ldc).add(x);
            let mut acc = if zero { T::ZERO } else { *cr };
            for p in 0..k {
                acc = madd::<T, F>(
                    *a.offset(r as isize * rsa + p as isize * csa),
                    *b.offset(p as isize * ldb).add(x),
                    acc,
                );
            }
            *cr = acc;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! f32 register tiles of `mm` (same contract, same per-element order: each element starts
    //! from c and adds its k products with FMA in order).
    use std::arch::x86_64::*;

    macro_rules! rows_dispatch {
        ($tile:ident, $rows:expr, $m:expr, $n:expr, $k:expr, $a:expr, $rsa:expr, $csa:expr, $b:expr, $ldb:expr, $c:expr, $ldc:expr, $zero:expr) => {{
            let mut r0 = 0usize;
            while r0 < $m {
                let ar = $a.offset(r0 as isize * $rsa);
                let cr = $c.offset(r0 as isize * $ldc);
                let rows = ($m - r0).min($rows);
                match rows {
                    8 => $tile::<8>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    7 => $tile::<7>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    6 => $tile::<6>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    5 => $tile::<5>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    4 => $tile::<4>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    3 => $tile::<3>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    2 => $tile::<2>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    _ => $tile::<1>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                }
                r0 += rows;
            }
        }};
    }

    /// # Safety
    /// As `mm`; the CPU supports AVX-512F (the caller is compiled for it).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub unsafe fn mm512(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        rows_dispatch!(tile512, 8, m, n, k, a, rsa, csa, b, ldb, c, ldc, zero)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn tile512<const R: usize>(
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        let mut c0 = 0usize;
        while c0 + 32 <= n {
            let mut acc = [[_mm512_setzero_ps(); 2]; R];
            for (r, row) in acc.iter_mut().enumerate() {
                let cr = c.offset(r as isize * ldc).add(c0);
                if !zero {
                    row[0] = _mm512_loadu_ps(cr);
                    row[1] = _mm512_loadu_ps(cr.add(16));
                }
            }
            for p in 0..k {
                let bp = b.offset(p as isize * ldb).add(c0);
                let b0 = _mm512_loadu_ps(bp);
                let b1 = _mm512_loadu_ps(bp.add(16));
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*a.offset(r as isize * rsa + p as isize * csa));
                    row[0] = _mm512_fmadd_ps(av, b0, row[0]);
                    row[1] = _mm512_fmadd_ps(av, b1, row[1]);
                }
            }
            for (r, row) in acc.iter().enumerate() {
                let cr = c.offset(r as isize * ldc).add(c0);
                _mm512_storeu_ps(cr, row[0]);
                _mm512_storeu_ps(cr.add(16), row[1]);
            }
            c0 += 32;
        }
        while c0 < n {
            let rem = n - c0;
            let mk: __mmask16 = if rem >= 16 {
                0xffff
            } else {
                ((1u32 << rem) - 1) as u16
            };
            let mut acc = [_mm512_setzero_ps(); R];
            for (r, v) in acc.iter_mut().enumerate() {
                if !zero {
                    *v = _mm512_maskz_loadu_ps(mk, c.offset(r as isize * ldc).add(c0));
                }
            }
            for p in 0..k {
                let b0 = _mm512_maskz_loadu_ps(mk, b.offset(p as isize * ldb).add(c0));
                for (r, v) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*a.offset(r as isize * rsa + p as isize * csa));
                    *v = _mm512_fmadd_ps(av, b0, *v);
                }
            }
            for (r, v) in acc.iter().enumerate() {
                _mm512_mask_storeu_ps(c.offset(r as isize * ldc).add(c0), mk, *v);
            }
            c0 += 16;
        }
    }

    /// # Safety
    /// As `mm`; the CPU supports AVX2 and FMA (the caller is compiled for them).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub unsafe fn mm256(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        rows_dispatch!(tile256, 6, m, n, k, a, rsa, csa, b, ldb, c, ldc, zero)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn tile256<const R: usize>(
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        let mut c0 = 0usize;
        while c0 + 16 <= n {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            for (r, row) in acc.iter_mut().enumerate() {
                let cr = c.offset(r as isize * ldc).add(c0);
                if !zero {
                    row[0] = _mm256_loadu_ps(cr);
                    row[1] = _mm256_loadu_ps(cr.add(8));
                }
            }
            for p in 0..k {
                let bp = b.offset(p as isize * ldb).add(c0);
                let b0 = _mm256_loadu_ps(bp);
                let b1 = _mm256_loadu_ps(bp.add(8));
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = _mm256_set1_ps(*a.offset(r as isize * rsa + p as isize * csa));
                    row[0] = _mm256_fmadd_ps(av, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(av, b1, row[1]);
                }
            }
            for (r, row) in acc.iter().enumerate() {
                let cr = c.offset(r as isize * ldc).add(c0);
                _mm256_storeu_ps(cr, row[0]);
                _mm256_storeu_ps(cr.add(8), row[1]);
            }
            c0 += 16;
        }
        // Remaining columns one at a time with scalar FMA (the same rounding as the vector FMA).
        for x in c0..n {
            for r in 0..R {
                let cr = c.offset(r as isize * ldc).add(x);
                let mut acc = if zero { 0.0 } else { *cr };
                for p in 0..k {
                    acc = (*a.offset(r as isize * rsa + p as isize * csa))
                        .mul_add(*b.offset(p as isize * ldb).add(x), acc);
                }
                *cr = acc;
            }
        }
    }
}

/// `x . y` over `h` terms in `LANES` partial sums added in a fixed tree (same in every build).
#[inline(always)]
unsafe fn dot<T: AttnScalar, const F: bool>(x: *const T, y: *const T, h: usize) -> T {
    let mut acc = [T::ZERO; LANES];
    let mut p = 0;
    while p + LANES <= h {
        for (l, a) in acc.iter_mut().enumerate() {
            *a = madd::<T, F>(*x.add(p + l), *y.add(p + l), *a);
        }
        p += LANES;
    }
    for (l, a) in acc.iter_mut().enumerate().take(h - p) {
        *a = madd::<T, F>(*x.add(p + l), *y.add(p + l), *a);
    }
    lane_sum(&acc)
}

#[inline(always)]
fn lane_sum<T: AttnScalar>(acc: &[T; LANES]) -> T {
    let mut w = *acc;
    let mut half = LANES / 2;
    while half > 0 {
        for l in 0..half {
            w[l] = w[l] + w[l + half];
        }
        half /= 2;
    }
    w[0]
}

/// Per-task buffers (kept per thread between tasks and calls: see [`take_scratch`]).
pub struct Scratch<T> {
    /// the head size the buffers were sized for
    h: usize,
    /// scores / probabilities, BR x BC
    s: Vec<T>,
    /// dp / ds, BR x BC
    dp: Vec<T>,
    /// K block transposed, H x BC
    kt: Vec<T>,
    /// V block transposed, H x BC
    vt: Vec<T>,
    /// output accumulator BR x H (forward); dk accumulator BC x H (backward)
    acc: Vec<T>,
    /// dv accumulator BC x H
    acc2: Vec<T>,
    m: Vec<T>,
    l: Vec<T>,
    d: Vec<T>,
    part: Vec<T>,
}

impl<T: AttnScalar> Scratch<T> {
    fn new(h: usize) -> Self {
        Scratch {
            h,
            s: vec![T::ZERO; BR * BC],

            dp: vec![T::ZERO; BR * BC],
            kt: vec![T::ZERO; h * BC.max(BR)],
            vt: vec![T::ZERO; h * BC],
            acc: vec![T::ZERO; BR.max(BC) * h],
            acc2: vec![T::ZERO; BC * h],
            m: vec![T::ZERO; BR],
            l: vec![T::ZERO; BR],
            d: vec![T::ZERO; BR],
            part: vec![T::ZERO; BR],
        }
    }
}

/// This thread's task buffers for head size `h`, made on first use; hand them back with
/// [`put_scratch`] for the next task. A decode step runs a few tiny tasks per call, and
/// allocating and zeroing the ~60 KiB of buffers each time cost more than the attention itself.
/// Every task initialises what it reads (accumulators, running max and sum are filled at the
/// start of each block). (Take and put rather than a closure: a closure body would be compiled
/// without the caller's target features, and the block loops inlined into it would run scalar.)
#[inline(always)]
fn take_scratch<T: AttnScalar>(h: usize) -> Scratch<T> {
    let spare = T::scratch_pool().with(|slot| slot.borrow_mut().take());
    spare
        .filter(|sc| sc.h == h)
        .unwrap_or_else(|| Scratch::new(h))
}

#[inline(always)]
fn put_scratch<T: AttnScalar>(sc: Scratch<T>) {
    T::scratch_pool().with(|slot| *slot.borrow_mut() = Some(sc));
}

/// Transposes `c` rows of `h` values (row stride `ld`) into `dst[x * BC + j]` (`dst` holds at
/// least h * BC values, `c <= BC`).
#[inline(always)]
unsafe fn pack_t<T: AttnScalar>(src: *const T, ld: isize, c: usize, h: usize, dst: &mut [T]) {
    for j in 0..c {
        let row = src.offset(j as isize * ld);
        for x in 0..h {
            *dst.get_unchecked_mut(x * BC + j) = *row.add(x);
        }
    }
}

/// Fills `s` (r x c, row stride BC) with the masked scores of rows i0.. against keys j0..
/// (`s` enters holding the raw products q.k).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn finish_scores<T: AttnScalar>(
    pb: &Problem<T>,
    b: usize,
    n: usize,
    i0: usize,
    j0: usize,
    r: usize,
    c: usize,
    s: &mut [T],
) {
    for ii in 0..r {
        let i = i0 + ii;
        let row = &mut s[ii * BC..ii * BC + c];
        for v in row.iter_mut() {
            *v = *v * pb.scale;
        }
        if let Some(bias) = pb.bias {
            let base = bias.ptr.get().offset(
                b as isize * bias.st[0] + n as isize * bias.st[1] + i as isize * bias.st[2],
            );
            for (jj, v) in row.iter_mut().enumerate() {
                *v = *v + *base.offset((j0 + jj) as isize * bias.st[3]);
            }
        }
        if let Some(mask) = pb.mask {
            let base = mask.ptr.get().offset(
                b as isize * mask.st[0] + n as isize * mask.st[1] + i as isize * mask.st[2],
            );
            for (jj, v) in row.iter_mut().enumerate() {
                if *base.offset((j0 + jj) as isize * mask.st[3]) == 0 {
                    *v = T::NEG_INF;
                }
            }
        }
        if pb.causal && j0 + c > i + 1 {
            let from = (i + 1).saturating_sub(j0);
            for v in row[from..].iter_mut() {
                *v = T::NEG_INF;
            }
        }
    }
}

/// Like [`finish_scores`] on the transposed block `st` (c x r, row stride BR: `st[jj*BR + ii]`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn finish_scores_t<T: AttnScalar>(
    pb: &Problem<T>,
    b: usize,
    n: usize,
    i0: usize,
    j0: usize,
    r: usize,
    c: usize,
    st: &mut [T],
) {
    for jj in 0..c {
        let j = j0 + jj;
        let row = &mut st[jj * BR..jj * BR + r];
        for v in row.iter_mut() {
            *v = *v * pb.scale;
        }
        if let Some(bias) = pb.bias {
            let base = bias.ptr.get().offset(
                b as isize * bias.st[0] + n as isize * bias.st[1] + j as isize * bias.st[3],
            );
            for (ii, v) in row.iter_mut().enumerate() {
                *v = *v + *base.offset((i0 + ii) as isize * bias.st[2]);
            }
        }
        if let Some(mask) = pb.mask {
            let base = mask.ptr.get().offset(
                b as isize * mask.st[0] + n as isize * mask.st[1] + j as isize * mask.st[3],
            );
            for (ii, v) in row.iter_mut().enumerate() {
                if *base.offset((i0 + ii) as isize * mask.st[2]) == 0 {
                    *v = T::NEG_INF;
                }
            }
        }
        // causal: key j is hidden from rows i < j
        if pb.causal && j > i0 {
            let upto = (j - i0).min(r);
            row[..upto].fill(T::NEG_INF);
        }
    }
}

/// Rows of the transposed score block the softmax passes keep in registers at a time.
const SM_ROWS: usize = 16;

/// Running maxima of rows `x0..x0+W` over the c keys of the transposed block `st` (row stride
/// BR), first multiplying the scores by `scale` when given.
#[inline(always)]
fn block_max<T: AttnScalar, const W: usize>(
    st: &mut [T],
    x0: usize,
    c: usize,
    m: &mut [T],
    scale: Option<T>,
) {
    let mut mx = [T::ZERO; W];
    mx.copy_from_slice(&m[x0..x0 + W]);
    for jj in 0..c {
        let row = &mut st[jj * BR + x0..jj * BR + x0 + W];
        if let Some(sc) = scale {
            for (mv, v) in mx.iter_mut().zip(row.iter_mut()) {
                *v = *v * sc;
                *mv = mv.max_(*v);
            }
        } else {
            for (mv, &v) in mx.iter_mut().zip(row.iter()) {
                *mv = mv.max_(v);
            }
        }
    }
    m[x0..x0 + W].copy_from_slice(&mx);
}

/// `p = exp(s - max)` (0 for masked scores) over rows `x0..x0+W` of the transposed block,
/// written back, and the rows' sums of p (added in key order) into `part`.
#[inline(always)]
fn block_exp<T: AttnScalar, const F: bool, const W: usize>(
    st: &mut [T],
    x0: usize,
    c: usize,
    m: &[T],
    part: &mut [T],
) {
    let mut mx = [T::ZERO; W];
    mx.copy_from_slice(&m[x0..x0 + W]);
    let mut sum = [T::ZERO; W];
    for jj in 0..c {
        let row = &mut st[jj * BR + x0..jj * BR + x0 + W];
        for ((v, &mv), sv) in row.iter_mut().zip(mx.iter()).zip(sum.iter_mut()) {
            let e = (*v - mv).exp_sm::<F>();
            let p = if *v == T::NEG_INF { T::ZERO } else { e };
            *v = p;
            *sv = *sv + p;
        }
    }
    part[x0..x0 + W].copy_from_slice(&sum);
}

/// Forward over query rows `i0..i0+r` of (b, n) against keys `j_lo..j_hi`: leaves the
/// unnormalised output in `sc.acc` (r x H), the running max in `sc.m` and sum in `sc.l`.
/// Works on the transposed scores (keys x rows) so that the softmax statistics run along
/// contiguous rows of r values, and on Q^T packed once per call (K is read in place).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn fwd_rows<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    b: usize,
    n: usize,
    i0: usize,
    r: usize,
    j_lo: usize,
    j_hi: usize,
    direct: bool,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let kvh = n / pb.group();
    sc.acc[..r * h].fill(T::ZERO);
    sc.m[..r].fill(T::NEG_INF);
    sc.l[..r].fill(T::ZERO);
    let q0 = pb.q.get().add(pb.qin(b, i0, n)) as *const T;
    if !direct {
        // Q^T: kt[x * BR + ii] = q[i0 + ii][x] (kt holds H x max(BR, BC))
        for ii in 0..r {
            let row = q0.offset(ii as isize * pb.ldqin());
            for x in 0..h {
                *sc.kt.get_unchecked_mut(x * BR + ii) = *row.add(x);
            }
        }
    }
    let mut j0 = j_lo;
    while j0 < j_hi {
        if pb.causal && j0 > i0 + r - 1 {
            break;
        }
        let c = BC.min(j_hi - j0);
        let k0 = pb.k.get().add(pb.kin(b, j0, kvh)) as *const T;
        let v0 = pb.v.get().add(pb.kin(b, j0, kvh)) as *const T;
        let st = &mut sc.s;
        if direct {
            for jj in 0..c {
                let kj = k0.offset(jj as isize * pb.ldkin());
                for ii in 0..r {
                    st[jj * BR + ii] = dot_w::<T, F, W>(q0.offset(ii as isize * pb.ldqin()), kj, h);
                }
            }
        } else {
            mm::<T, F, R, W>(
                c,
                r,
                h,
                k0,
                pb.ldkin(),
                1,
                sc.kt.as_ptr(),
                BR as isize,
                st.as_mut_ptr(),
                BR as isize,
                true,
            );
        }
        // Blocks with no bias, mask or causal cut take the scale in the max pass below.
        let plain = pb.bias.is_none() && pb.mask.is_none() && !(pb.causal && j0 + c > i0 + 1);
        if !plain {
            finish_scores_t(pb, b, n, i0, j0, r, c, st);
        }
        // Online softmax, vectorised along the r rows.
        let (m, l, alpha, part) = (
            &mut sc.m[..r],
            &mut sc.l[..r],
            &mut sc.d[..r],
            &mut sc.part[..r],
        );
        alpha.copy_from_slice(m);
        let scale = plain.then_some(pb.scale);
        let mut x0 = 0;
        while x0 + SM_ROWS <= r {
            block_max::<T, SM_ROWS>(st, x0, c, m, scale);
            block_exp::<T, F, SM_ROWS>(st, x0, c, m, part);
            x0 += SM_ROWS;
        }
        for x in x0..r {
            block_max::<T, 1>(st, x, c, m, scale);
            block_exp::<T, F, 1>(st, x, c, m, part);
        }
        for ((a, &mx), (lv, &pv)) in alpha
            .iter_mut()
            .zip(m.iter())
            .zip(l.iter_mut().zip(part.iter()))
        {
            let e = (*a - mx).exp_sm::<F>();
            *a = if *a == T::NEG_INF { T::ZERO } else { e };
            *lv = *lv * *a + pv;
        }
        for (ii, &a) in alpha.iter().enumerate() {
            if a != T::ONE {
                for v in sc.acc[ii * h..(ii + 1) * h].iter_mut() {
                    *v = *v * a;
                }
            }
        }
        if let Some(dr) = &pb.dropout {
            // The sum l above keeps the undropped p: dropout acts on the normalised weights.
            for ii in 0..r {
                let key = dr.row_key((b * pb.n + n) * pb.t + i0 + ii);
                for jj in 0..c {
                    let v = &mut sc.s[jj * BR + ii];
                    *v = *v * dr.mult(key, j0 + jj);
                }
            }
        }
        mm::<T, F, R, W>(
            r,
            h,
            c,
            sc.s.as_ptr(),
            1,
            BR as isize,
            v0,
            pb.ldkin(),
            sc.acc.as_mut_ptr(),
            h as isize,
            false,
        );
        j0 += c;
    }
}

/// Forward task outputs.
#[derive(Clone, Copy)]
pub struct FwdOut<T> {
    pub out: SendPtr<T>,
    pub lse: SendPtr<T>,
    /// decode partials: per (b, n, chunk, row) H outputs then max and sum
    pub part: SendPtr<T>,
}
// SAFETY: as for Problem: tasks write disjoint parts.
unsafe impl<T: Send> Send for FwdOut<T> {}
unsafe impl<T: Sync> Sync for FwdOut<T> {}

#[inline(always)]
unsafe fn fwd_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    o: &FwdOut<T>,
    task: usize,
) {
    let h = pb.h;
    if pb.decode_split() > 1 {
        decode_task_impl::<T, F, W>(pb, o, task);
        return;
    }
    let nqb = pb.t.div_ceil(BR);
    let mut sc = take_scratch::<T>(h);
    fwd_task_rows::<T, F, R, W>(pb, o, task, nqb, &mut sc);
    put_scratch(sc);
}

#[inline(always)]
unsafe fn fwd_task_rows<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    o: &FwdOut<T>,
    task: usize,
    nqb: usize,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let qb = task % nqb;
    let bn = task / nqb;
    let (b, n) = (bn / pb.n, bn % pb.n);
    let i0 = qb * BR;
    let r = BR.min(pb.t - i0);
    // A few rows (decode steps) take one dot product per (row, key): the register tiles are W
    // rows wide and would compute mostly padding.
    fwd_rows::<T, F, R, W>(pb, b, n, i0, r, 0, pb.s, r <= DIRECT_ROWS, sc);
    for ii in 0..r {
        let dst = o.out.get().add(pb.qoff(b, i0 + ii, n));
        let l = sc.l[ii];
        let inv = if l == T::ZERO { T::ZERO } else { T::ONE / l };
        for x in 0..h {
            *dst.add(x) = sc.acc[ii * h + x] * inv;
        }
        *o.lse.get().add((b * pb.n + n) * pb.t + i0 + ii) = if l == T::ZERO {
            T::NEG_INF
        } else {
            sc.m[ii] + l.ln_()
        };
    }
}

/// `x . y` for the decode scores: 16-lane AVX-512 accumulators in the AVX-512 f32 build (a
/// fixed order too), [`dot`] otherwise.
#[inline(always)]
unsafe fn dot_w<T: AttnScalar, const F: bool, const W: usize>(
    x: *const T,
    y: *const T,
    h: usize,
) -> T {
    #[cfg(target_arch = "x86_64")]
    if F && W == 32 && std::mem::size_of::<T>() == 4 {
        use std::arch::x86_64::*;
        let (x, y) = (x as *const f32, y as *const f32);
        let mut acc = _mm512_setzero_ps();
        let mut p = 0;
        while p < h {
            let rem = h - p;
            let mk: __mmask16 = if rem >= 16 {
                0xffff
            } else {
                ((1u32 << rem) - 1) as u16
            };
            acc = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(mk, x.add(p)),
                _mm512_maskz_loadu_ps(mk, y.add(p)),
                acc,
            );
            p += 16;
        }
        let v = _mm512_reduce_add_ps(acc);
        // T is f32 here
        return T::from_f64(v as f64);
    }
    dot::<T, F>(x, y, h)
}

/// Decode: task (b, key chunk) runs every head and query row against the chunk's keys, key
/// by key across heads, so K and V are read in address order (one pass over the cache);
/// leaves per (b, n, chunk, row) the unnormalised output, max and sum for [`merge_task`].
#[inline(always)]
unsafe fn decode_task_impl<T: AttnScalar, const F: bool, const W: usize>(
    pb: &Problem<T>,
    o: &FwdOut<T>,
    task: usize,
) {
    let (h, t, nh) = (pb.h, pb.t, pb.n);
    let split = pb.decode_split();
    let (b, chunk) = (task / split, task % split);
    let rows = nh * t;
    let g = pb.group();
    let j_lo = chunk * DECODE_CHUNK;
    let j_hi = (j_lo + DECODE_CHUNK).min(pb.s);
    let slot = |n: usize, i: usize| {
        o.part
            .get()
            .add((((b * nh + n) * split + chunk) * t + i) * (h + 2))
    };
    for n in 0..nh {
        for i in 0..t {
            let d = slot(n, i);
            for x in 0..h {
                *d.add(x) = T::ZERO;
            }
            *d.add(h) = T::NEG_INF;
            *d.add(h + 1) = T::ZERO;
        }
    }
    let mut st = vec![T::ZERO; rows * BC];
    let mut j0 = j_lo;
    while j0 < j_hi {
        let c = BC.min(j_hi - j0);
        for jj in 0..c {
            for n in 0..nh {
                let kj = pb.k.get().add(pb.kin(b, j0 + jj, n / g)) as *const T;
                for i in 0..t {
                    let qi = pb.q.get().add(pb.qin(b, i, n)) as *const T;
                    st[(n * t + i) * BC + jj] = dot_w::<T, F, W>(qi, kj, h);
                }
            }
        }
        for n in 0..nh {
            for i in 0..t {
                let row = &mut st[(n * t + i) * BC..(n * t + i) * BC + BC];
                finish_scores(pb, b, n, i, j0, 1, c, row);
                let d = slot(n, i);
                let old = *d.add(h);
                let mut mx = old;
                for &v in row[..c].iter() {
                    mx = mx.max_(v);
                }
                if mx == T::NEG_INF {
                    row[..c].fill(T::ZERO);
                    continue;
                }
                let mut part = [T::ZERO; LANES];
                for chunk in row[..c].chunks_mut(LANES) {
                    for (v, acc) in chunk.iter_mut().zip(part.iter_mut()) {
                        let e = (*v - mx).exp_sm::<F>();
                        let p = if *v == T::NEG_INF { T::ZERO } else { e };
                        *v = p;
                        *acc = *acc + p;
                    }
                }
                let a = if old == T::NEG_INF {
                    T::ZERO
                } else {
                    (old - mx).exp_sm::<F>()
                };
                *d.add(h + 1) = *d.add(h + 1) * a + lane_sum(&part);
                *d.add(h) = mx;
                if a != T::ONE {
                    for x in 0..h {
                        *d.add(x) = *d.add(x) * a;
                    }
                }
            }
        }
        for jj in 0..c {
            for n in 0..nh {
                let vj = pb.v.get().add(pb.kin(b, j0 + jj, n / g)) as *const T;
                for i in 0..t {
                    let p = st[(n * t + i) * BC + jj];
                    if p == T::ZERO {
                        continue;
                    }
                    let d = std::slice::from_raw_parts_mut(slot(n, i), h);
                    let vs = std::slice::from_raw_parts(vj, h);
                    for (a, &vv) in d.iter_mut().zip(vs) {
                        *a = madd::<T, F>(p, vv, *a);
                    }
                }
            }
        }
        j0 += c;
    }
}

/// Merges the decode partials of (b, n) = `task` in chunk order.
unsafe fn merge_task<T: AttnScalar>(pb: &Problem<T>, o: &FwdOut<T>, task: usize) {
    let h = pb.h;
    let split = pb.decode_split();
    let (b, n) = (task / pb.n, task % pb.n);
    let mut acc = vec![T::ZERO; h];
    for i in 0..pb.t {
        let part = |c: usize| {
            o.part
                .get()
                .add((((b * pb.n + n) * split + c) * pb.t + i) * (h + 2)) as *const T
        };
        let mut mx = T::NEG_INF;
        for c in 0..split {
            mx = mx.max_(*part(c).add(h));
        }
        acc.fill(T::ZERO);
        let mut l = T::ZERO;
        if mx != T::NEG_INF {
            for c in 0..split {
                let p = part(c);
                let mc = *p.add(h);
                if mc == T::NEG_INF {
                    continue;
                }
                let a = (mc - mx).exp_();
                l = l + *p.add(h + 1) * a;
                for (x, v) in acc.iter_mut().enumerate() {
                    *v = *v + *p.add(x) * a;
                }
            }
        }
        let inv = if l == T::ZERO { T::ZERO } else { T::ONE / l };
        let dst = o.out.get().add(pb.qoff(b, i, n));
        for (x, v) in acc.iter().enumerate() {
            *dst.add(x) = *v * inv;
        }
        *o.lse.get().add((b * pb.n + n) * pb.t + i) = if l == T::ZERO {
            T::NEG_INF
        } else {
            mx + l.ln_()
        };
    }
}

/// Backward buffers and the forward's saved values.
#[derive(Clone, Copy)]
pub struct Bwd<T> {
    pub out: SendPtr<T>,
    pub lse: SendPtr<T>,
    pub dout: SendPtr<T>,
    pub dq: SendPtr<T>,
    pub dk: SendPtr<T>,
    pub dv: SendPtr<T>,
    /// full (B, N, T, S) contiguous, zero-filled, when the bias needs a gradient
    pub dbias: Option<SendPtr<T>>,
    /// `D_i = do_i . o_i` per (b, n, row), (B, N, T); filled by [`backward`]
    pub dvec: SendPtr<T>,
}
// SAFETY: as for Problem: tasks write disjoint parts.
unsafe impl<T: Send> Send for Bwd<T> {}
unsafe impl<T: Sync> Sync for Bwd<T> {}

/// The shared middle of both backward passes for one (query block, key block) pair: leaves p
/// in `sc.s` and `scale * ds` in `sc.dp` (r x c), and writes ds to dbias when asked.
/// Expects `sc.kt` / `sc.vt` to hold the transposed K and V blocks.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn block_ds<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    b: usize,
    n: usize,
    i0: usize,
    r: usize,
    j0: usize,
    c: usize,
    write_dbias: bool,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let q0 = pb.q.get().add(pb.qin(b, i0, n)) as *const T;
    let do0 = bw.dout.get().add(pb.qin(b, i0, n)) as *const T;
    mm::<T, F, R, W>(
        r,
        c,
        h,
        q0,
        pb.ldqin(),
        1,
        sc.kt.as_ptr(),
        BC as isize,
        sc.s.as_mut_ptr(),
        BC as isize,
        true,
    );
    // Blocks with no bias, mask or causal cut take the scale in the exp pass.
    let plain = pb.bias.is_none() && pb.mask.is_none() && !(pb.causal && j0 + c > i0 + 1);
    if !plain {
        finish_scores(pb, b, n, i0, j0, r, c, &mut sc.s);
    }
    let lse0 = bw.lse.get().add((b * pb.n + n) * pb.t + i0);
    for ii in 0..r {
        let lse = *lse0.add(ii);
        let row = &mut sc.s[ii * BC..ii * BC + c];
        if lse == T::NEG_INF {
            row.fill(T::ZERO);
        } else if plain {
            for v in row.iter_mut() {
                let sv = *v * pb.scale;
                let e = (sv - lse).exp_sm::<F>();
                *v = if sv == T::NEG_INF { T::ZERO } else { e };
            }
        } else {
            for v in row.iter_mut() {
                let e = (*v - lse).exp_sm::<F>();
                *v = if *v == T::NEG_INF { T::ZERO } else { e };
            }
        }
    }
    let dvec = bw.dvec.get().add((b * pb.n + n) * pb.t + i0) as *const T;
    mm::<T, F, R, W>(
        r,
        c,
        h,
        do0,
        pb.ldqin(),
        1,
        sc.vt.as_ptr(),
        BC as isize,
        sc.dp.as_mut_ptr(),
        BC as isize,
        true,
    );
    for ii in 0..r {
        let d = *dvec.add(ii);
        if let Some(dr) = &pb.dropout {
            // With O = (M * P) V: dP = M * (dO V^T), and p becomes M * p for dv.
            let key = dr.row_key((b * pb.n + n) * pb.t + i0 + ii);
            let prow = &mut sc.s[ii * BC..ii * BC + c];
            let drow = &mut sc.dp[ii * BC..ii * BC + c];
            for (jj, (g, p)) in drow.iter_mut().zip(prow.iter_mut()).enumerate() {
                let mlt = dr.mult(key, j0 + jj);
                *g = *p * (mlt * *g - d);
                *p = *p * mlt;
            }
        } else if !(write_dbias && bw.dbias.is_some()) {
            // (the scale folded in: the same two roundings as the separate pass below)
            let prow = &sc.s[ii * BC..ii * BC + c];
            let drow = &mut sc.dp[ii * BC..ii * BC + c];
            for (g, &p) in drow.iter_mut().zip(prow) {
                *g = (p * (*g - d)) * pb.scale;
            }
            continue;
        } else {
            let prow = &sc.s[ii * BC..ii * BC + c];
            let drow = &mut sc.dp[ii * BC..ii * BC + c];
            for (g, &p) in drow.iter_mut().zip(prow) {
                *g = p * (*g - d);
            }
        }
        let drow = &mut sc.dp[ii * BC..ii * BC + c];
        if write_dbias {
            if let Some(db) = bw.dbias {
                let dst = db.get().add(((b * pb.n + n) * pb.t + i0 + ii) * pb.s + j0);
                for (jj, &g) in drow.iter().enumerate() {
                    *dst.add(jj) = g;
                }
            }
        }
        for g in drow.iter_mut() {
            *g = *g * pb.scale;
        }
    }
}

/// dk and dv of key block `kb` of (b, kv head); with `with_dq`, also adds this block's share
/// to dq of every query head of the group (the caller owns all of them).
#[inline(always)]
unsafe fn kv_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    b: usize,
    kvh: usize,
    kb: usize,
    with_dq: bool,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let j0 = kb * BC;
    let c = BC.min(pb.s - j0);
    let k0 = pb.k.get().add(pb.kin(b, j0, kvh)) as *const T;
    let v0 = pb.v.get().add(pb.kin(b, j0, kvh)) as *const T;
    pack_t(k0, pb.ldkin(), c, h, &mut sc.kt);
    pack_t(v0, pb.ldkin(), c, h, &mut sc.vt);
    sc.acc[..c * h].fill(T::ZERO);
    sc.acc2[..c * h].fill(T::ZERO);
    let g = pb.group();
    for n in kvh * g..(kvh + 1) * g {
        let mut i0 = 0;
        while i0 < pb.t {
            let r = BR.min(pb.t - i0);
            if pb.causal && j0 > i0 + r - 1 {
                i0 += r;
                continue;
            }
            block_ds::<T, F, R, W>(pb, bw, b, n, i0, r, j0, c, true, sc);
            let do0 = bw.dout.get().add(pb.qin(b, i0, n)) as *const T;
            let q0 = pb.q.get().add(pb.qin(b, i0, n)) as *const T;
            // dv += p^T do, dk += (scale ds)^T q
            mm::<T, F, R, W>(
                c,
                h,
                r,
                sc.s.as_ptr(),
                1,
                BC as isize,
                do0,
                pb.ldqin(),
                sc.acc2.as_mut_ptr(),
                h as isize,
                false,
            );
            mm::<T, F, R, W>(
                c,
                h,
                r,
                sc.dp.as_ptr(),
                1,
                BC as isize,
                q0,
                pb.ldqin(),
                sc.acc.as_mut_ptr(),
                h as isize,
                false,
            );
            if with_dq {
                let dq0 = bw.dq.get().add(pb.qin(b, i0, n));
                mm::<T, F, R, W>(
                    r,
                    h,
                    c,
                    sc.dp.as_ptr(),
                    BC as isize,
                    1,
                    k0,
                    pb.ldkin(),
                    dq0,
                    pb.ldqin(),
                    false,
                );
            }
            i0 += r;
        }
    }
    for jj in 0..c {
        let dk = bw.dk.get().add(pb.koff(b, j0 + jj, kvh));
        let dv = bw.dv.get().add(pb.koff(b, j0 + jj, kvh));
        for x in 0..h {
            *dk.add(x) = sc.acc[jj * h + x];
            *dv.add(x) = sc.acc2[jj * h + x];
        }
    }
}

/// dq of query block `qb` of (b, n), over the key blocks in order (the second pass).
#[inline(always)]
unsafe fn q_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    b: usize,
    n: usize,
    qb: usize,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let kvh = n / pb.group();
    let i0 = qb * BR;
    let r = BR.min(pb.t - i0);
    let mut j0 = 0;
    while j0 < pb.s {
        if pb.causal && j0 > i0 + r - 1 {
            break;
        }
        let c = BC.min(pb.s - j0);
        let k0 = pb.k.get().add(pb.kin(b, j0, kvh)) as *const T;
        let v0 = pb.v.get().add(pb.kin(b, j0, kvh)) as *const T;
        pack_t(k0, pb.ldkin(), c, h, &mut sc.kt);
        pack_t(v0, pb.ldkin(), c, h, &mut sc.vt);
        block_ds::<T, F, R, W>(pb, bw, b, n, i0, r, j0, c, false, sc);
        let dq0 = bw.dq.get().add(pb.qin(b, i0, n));
        mm::<T, F, R, W>(
            r,
            h,
            c,
            sc.dp.as_ptr(),
            BC as isize,
            1,
            k0,
            pb.ldkin(),
            dq0,
            pb.ldqin(),
            false,
        );
        j0 += c;
    }
}

/// The backward task kinds.
#[derive(Clone, Copy)]
pub(crate) enum BwdTask {
    /// (b, kv head) with dq accumulated in the same task
    Head(usize),
    /// key block task index over (b, kv head, key block), dk/dv only
    KeyBlock(usize),
    /// query block task index over (b, n, query block), dq only
    QueryBlock(usize),
}

#[inline(always)]
unsafe fn bwd_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    task: BwdTask,
) {
    let mut sc = Scratch::<T>::new(pb.h);
    let nkb = pb.s.div_ceil(BC);
    let nqb = pb.t.div_ceil(BR);
    match task {
        BwdTask::Head(t) => {
            let (b, kvh) = (t / pb.kh, t % pb.kh);
            for kb in 0..nkb {
                kv_task_impl::<T, F, R, W>(pb, bw, b, kvh, kb, true, &mut sc);
            }
        }
        BwdTask::KeyBlock(t) => {
            let kb = t % nkb;
            let bk = t / nkb;
            kv_task_impl::<T, F, R, W>(pb, bw, bk / pb.kh, bk % pb.kh, kb, false, &mut sc);
        }
        BwdTask::QueryBlock(t) => {
            let qb = t % nqb;
            let bn = t / nqb;
            q_task_impl::<T, F, R, W>(pb, bw, bn / pb.n, bn % pb.n, qb, &mut sc);
        }
    }
}

macro_rules! dispatch {
    ($isa:expr, $imp:ident, ($($a:expr),*)) => {{
        match $isa {
            #[cfg(target_arch = "x86_64")]
            AttnIsa::Avx512 => $imp::avx512($($a),*),
            #[cfg(target_arch = "x86_64")]
            AttnIsa::Avx2 => $imp::avx2($($a),*),
            _ => $imp::scalar($($a),*),
        }
    }};
}

mod fwd_builds {
    use super::*;
    /// # Safety
    /// As `forward`; the CPU must support AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn avx512<T: AttnScalar>(pb: &Problem<T>, o: &FwdOut<T>, t: usize) {
        fwd_task_impl::<T, true, 6, 32>(pb, o, t)
    }
    /// # Safety
    /// As `forward`; the CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2<T: AttnScalar>(pb: &Problem<T>, o: &FwdOut<T>, t: usize) {
        fwd_task_impl::<T, true, 6, 16>(pb, o, t)
    }
    /// # Safety
    /// As `forward`.
    pub unsafe fn scalar<T: AttnScalar>(pb: &Problem<T>, o: &FwdOut<T>, t: usize) {
        fwd_task_impl::<T, false, 4, 8>(pb, o, t)
    }
}

mod bwd_builds {
    use super::*;
    /// # Safety
    /// As `backward`; the CPU must support AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn avx512<T: AttnScalar>(pb: &Problem<T>, bw: &Bwd<T>, t: BwdTask) {
        bwd_task_impl::<T, true, 6, 32>(pb, bw, t)
    }
    /// # Safety
    /// As `backward`; the CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2<T: AttnScalar>(pb: &Problem<T>, bw: &Bwd<T>, t: BwdTask) {
        bwd_task_impl::<T, true, 6, 16>(pb, bw, t)
    }
    /// # Safety
    /// As `backward`.
    pub unsafe fn scalar<T: AttnScalar>(pb: &Problem<T>, bw: &Bwd<T>, t: BwdTask) {
        bwd_task_impl::<T, false, 4, 8>(pb, bw, t)
    }
}

/// Runs the forward pass: writes `out` (B, T, N, H) and `lse` (B, N, T).
///
/// # Safety
/// All pointers of `pb` valid for reads of their shapes, `out`/`lse` for writes, no overlap
/// between outputs and inputs; `n % kh == 0`, `h > 0`.
pub unsafe fn forward<T: AttnScalar>(pb: &Problem<T>, out: *mut T, lse: *mut T, isa: AttnIsa) {
    if pb.b == 0 || pb.n == 0 || pb.t == 0 {
        return;
    }
    let split = pb.decode_split();
    // A key block's rows sit K*H values apart in the (B, S, K, H) inputs: at K*H*4 bytes = 2 KiB
    // (8 heads of 64) the 64 rows of a block fall into 8 of the L1's 64 sets and stream from L2
    // on every row group of the register tiles. Head-major copies, (B, K, S, H), cost one pass
    // over K and V and made the forward 12% faster (B4 N8 H64 S2048, Emerald Rapids; the same
    // as running with K = 1). Without the memory for them the kernel reads the inputs in place.
    let kv_copy = if split == 1 && !pb.kv_head_major && pb.kh > 1 && pb.t > DIRECT_ROWS {
        head_major_kv(pb)
    } else {
        None
    };
    let pb = kv_copy.as_ref().map_or(pb, |(_, relaid)| relaid);
    let mut part = if split > 1 {
        vec![T::ZERO; pb.b * pb.n * split * pb.t * (pb.h + 2)]
    } else {
        Vec::new()
    };
    let o = FwdOut {
        out: SendPtr(out),
        lse: SendPtr(lse),
        part: SendPtr(part.as_mut_ptr()),
    };
    let tasks = if split > 1 {
        pb.b * split
    } else {
        pb.b * pb.n * pb.t.div_ceil(BR)
    };
    crate::threading::for_each_task(tasks, |t| {
        // SAFETY: task t writes only the rows of its own (b, n, query block), or the decode
        // partials of its own (b, chunk); the caller guarantees the pointers; the ISA was
        // detected at run time.
        unsafe { dispatch!(isa, fwd_builds, (pb, &o, t)) }
    });
    if split > 1 {
        crate::threading::for_each_task(pb.b * pb.n, |t| {
            // SAFETY: task t writes only the rows of its own (b, n).
            unsafe { merge_task(pb, &o, t) }
        });
    }
    drop(kv_copy);
}

/// Copies `count` tensors laid out (B, R, Hn, H) from `srcs` into `dst` as (B, Hn, R, H) each,
/// one after the other (`dst` holds `count * B*R*Hn*H` values). Threads split (b, head).
///
/// # Safety
/// Every source valid for (B, R, Hn, H); `dst` valid for the copies and disjoint from them.
unsafe fn to_head_major<T: AttnScalar>(
    srcs: &[SendPtr<T>],
    dst: SendPtr<T>,
    (b, rows, heads, h): (usize, usize, usize, usize),
) {
    let len = b * rows * heads * h;
    crate::threading::for_each_task(b * heads, |t| {
        let (bi, hd) = (t / heads, t % heads);
        for (c, src) in srcs.iter().enumerate() {
            for j in 0..rows {
                // SAFETY: task t writes only the rows of its own (b, head) of each copy.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        src.get().add(((bi * rows + j) * heads + hd) * h) as *const T,
                        dst.get().add(c * len + (t * rows + j) * h),
                        h,
                    );
                }
            }
        }
    });
}

/// Head-major copies of K and V, (B, K, S, H) each, in one pooled buffer (K first; recycled
/// between calls, so no fresh pages to fault in), and `pb` pointed at them; `None` when the
/// memory is not available (the caller then reads the inputs in place).
///
/// # Safety
/// `pb.k` and `pb.v` valid for (B, S, K, H).
unsafe fn head_major_kv<T: AttnScalar>(pb: &Problem<T>) -> Option<(Storage, Problem<T>)> {
    let half = pb.b * pb.kh * pb.s * pb.h;
    let buf = Storage::new_uninit(T::DTYPE, 2 * half).ok()?;
    let base = buf.ptr::<T>();
    to_head_major(&[pb.k, pb.v], SendPtr(base), (pb.b, pb.s, pb.kh, pb.h));
    let relaid = Problem {
        k: SendPtr(base),
        v: SendPtr(base.add(half)),
        kv_head_major: true,
        ..*pb
    };
    Some((buf, relaid))
}

/// Head-major copies of q and dout and a zeroed head-major dq, (B, N, T, H) each, in one
/// pooled buffer, with `pb` and `bw` pointed at them; `None` when the memory is not available.
///
/// # Safety
/// `pb.q` and `bw.dout` valid for (B, T, N, H).
unsafe fn head_major_q<T: AttnScalar>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
) -> Option<(Storage, Problem<T>, Bwd<T>)> {
    let len = pb.b * pb.n * pb.t * pb.h;
    let buf = Storage::new_uninit(T::DTYPE, 3 * len).ok()?;
    let base = buf.ptr::<T>();
    to_head_major(&[pb.q, bw.dout], SendPtr(base), (pb.b, pb.t, pb.n, pb.h));
    base.add(2 * len).write_bytes(0, len);
    let relaid = Problem {
        q: SendPtr(base),
        q_head_major: true,
        ..*pb
    };
    let rebw = Bwd {
        dout: SendPtr(base.add(len)),
        dq: SendPtr(base.add(2 * len)),
        ..*bw
    };
    Some((buf, relaid, rebw))
}

/// Runs the backward pass: writes dq, dk, dv (and dbias when given). `dq` must be zero-filled;
/// `dbias` zero-filled (B, N, T, S).
///
/// # Safety
/// As [`forward`], plus `bw`'s pointers valid for their shapes and not overlapping each other
/// or the inputs.
pub unsafe fn backward<T: AttnScalar>(pb: &Problem<T>, bw: &Bwd<T>, isa: AttnIsa) {
    if pb.b == 0 || pb.kh == 0 || pb.s == 0 {
        return;
    }
    // D_i once per row (one task per (b, n)), read by every block of the row.
    let mut dvec = vec![T::ZERO; pb.b * pb.n * pb.t];
    let bw = &Bwd {
        dvec: SendPtr(dvec.as_mut_ptr()),
        ..*bw
    };
    crate::threading::for_each_task(pb.b * pb.n, |t| {
        let (b, n) = (t / pb.n, t % pb.n);
        for i in 0..pb.t {
            // SAFETY: rows of (b, n) only; dout/out have the query layout.
            unsafe {
                let off = pb.qoff(b, i, n);
                *bw.dvec.get().add(t * pb.t + i) =
                    dot::<T, false>(bw.dout.get().add(off), bw.out.get().add(off), pb.h);
            }
        }
    });
    // Head-major copies (see `forward`): the block products read K/V, q and dout rows and
    // accumulate dq rows that otherwise sit K*H or N*H values apart. Measured 18% on the
    // backward of B4 N8 H64 S2048 (Emerald Rapids). Without the memory they are read in place.
    let kv_copy = if !pb.kv_head_major && pb.kh > 1 {
        head_major_kv(pb)
    } else {
        None
    };
    let pb = kv_copy.as_ref().map_or(pb, |(_, relaid)| relaid);
    let dq_out = bw.dq;
    let q_copy = if !pb.q_head_major && pb.n > 1 && pb.t > 0 {
        head_major_q(pb, bw)
    } else {
        None
    };
    let (pb, bw) = q_copy
        .as_ref()
        .map_or((pb, bw), |(_, relaid, rebw)| (relaid, rebw));
    let heads = pb.b * pb.kh;
    let threads = crate::threading::num_threads();
    // Either form gives the same bits (see the module note); the split only feeds the threads.
    if heads >= 2 * threads || pb.t == 0 {
        crate::threading::for_each_task(heads, |t| {
            // SAFETY: task t writes dk/dv/dbias of its (b, kv head) and dq of that head's group.
            unsafe { dispatch!(isa, bwd_builds, (pb, bw, BwdTask::Head(t))) }
        });
    } else {
        let kt = heads * pb.s.div_ceil(BC);
        crate::threading::for_each_task(kt, |t| {
            // SAFETY: task t writes dk/dv/dbias of its own key block only.
            unsafe { dispatch!(isa, bwd_builds, (pb, bw, BwdTask::KeyBlock(t))) }
        });
        let qt = pb.b * pb.n * pb.t.div_ceil(BR);
        crate::threading::for_each_task(qt, |t| {
            // SAFETY: task t writes dq of its own query block only.
            unsafe { dispatch!(isa, bwd_builds, (pb, bw, BwdTask::QueryBlock(t))) }
        });
    }
    if q_copy.is_some() {
        // dq back to the (B, T, N, H) layout; dq was zero-filled, so plain copies.
        let src = bw.dq;
        crate::threading::for_each_task(pb.b * pb.n, |t| {
            let (b, n) = (t / pb.n, t % pb.n);
            for i in 0..pb.t {
                // SAFETY: task t writes only the rows of its own (b, n); both buffers hold
                // B*T*N*H values.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        src.get().add((t * pb.t + i) * pb.h) as *const T,
                        dq_out.get().add(pb.qoff(b, i, n)),
                        pb.h,
                    );
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::exp_softmax_f32;

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
            let rel =
                (exp_softmax_f32::<true>(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp();
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
}

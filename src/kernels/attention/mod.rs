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
//! columns contiguous) compiled three times: AVX-512 (8 x 32), AVX2+FMA (6 x 16) and a plain
//! scalar build (4 x 8, `a * b + c` instead of FMA) chosen at run time; tests compare the SIMD
//! builds against the scalar one. The softmax uses its own exp ([`exp_softmax_f32`]: arguments
//! are never above 0, so one 2^n scale and FMA Horner steps suffice), and its max and sum passes
//! keep 16 rows in registers while they walk the keys.
//!
//! Memory layout: the inputs' rows of one head sit N*H (or K*H) values apart; at 2 KiB (8 heads
//! of 64) a 64-row block falls into 8 of the L1's 64 sets and streams from L2 on every row group
//! of the tiles. The forward therefore works on head-major copies of K and V, the backward on
//! copies of K, V, q and dout and a head-major dq (pooled buffers, one pass each; without the
//! memory the kernels read the inputs in place, with the same arithmetic).
//!
//! Performance note: the composed version (matmul, softmax, matmul) writes and re-reads the T x S
//! scores and probabilities (B=4 N=8 S=2048: 1 GiB each) and runs bandwidth-bound; the fused form
//! stays in L1/L2. Measured (benches/bench_attention.py, 2 threads, best of 5 interleaved rounds,
//! B=4 N=8 H=64, vs torch 2.13 sdpa). Intel Emerald Rapids (AVX-512, 2 FMA pipes), after the
//! softmax exp, the register-kept softmax passes and the head-major copies: forward S=512 1.13x,
//! S=2048 1.18x (231 GFLOP/s); forward+backward S=512 1.11x, S=2048 1.09x, causal 1.39-1.93x
//! (before them: forward 0.75x/0.77x, forward+backward 1.00x/0.86x). AMD EPYC Zen 4 (before
//! these changes): forward+backward S=512 1.07x, S=2048 1.12x, causal 1.23-2.1x. The generic
//! tiles left to the compiler ran scalar (10x slower); transposing K per (query block, key block)
//! cost 15% of the forward, hence the transposed scores against Q^T packed once. Decode B1 N32
//! H128 S4096: 5.9 ms on Zen 4 (2.2x torch, ~23 GB/s), from 19.7 ms when each task streamed one
//! head's rows (16 KiB apart); on Emerald Rapids 1.2x torch at 17 GB/s, the machine's bandwidth.
//!
//! Files: this module (types, the softmax exp, scratch, entry points and head-major copies),
//! `tiles` (block products), `fwd` (forward and decode tasks), `bwd` (backward tasks).

use std::cell::RefCell;

use super::iter::SendPtr;
use super::math::exp_f32;
use crate::dtype::Element;
use crate::storage::Storage;

mod bwd;
mod fwd;
mod tiles;

pub use bwd::Bwd;
use bwd::{bwd_task_impl, BwdTask};
use fwd::{fwd_task_impl, merge_task, FwdOut};
use tiles::dot;

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
    run_forward(pb, out, lse, isa, true)
}

/// [`forward`], with the head-major copies only when `relayout` (tests compare both forms).
unsafe fn run_forward<T: AttnScalar>(
    pb: &Problem<T>,
    out: *mut T,
    lse: *mut T,
    isa: AttnIsa,
    relayout: bool,
) {
    if pb.b == 0 || pb.n == 0 || pb.t == 0 {
        return;
    }
    let split = pb.decode_split();
    // A key block's rows sit K*H values apart in the (B, S, K, H) inputs: at K*H*4 bytes = 2 KiB
    // (8 heads of 64) the 64 rows of a block fall into 8 of the L1's 64 sets and stream from L2
    // on every row group of the register tiles. Head-major copies, (B, K, S, H), cost one pass
    // over K and V and made the forward 12% faster (B4 N8 H64 S2048, Emerald Rapids; the same
    // as running with K = 1). Without the memory for them the kernel reads the inputs in place.
    let kv_copy = if relayout
        && split == 1
        && !pb.kv_head_major
        && pb.t > DIRECT_ROWS
        && l1_crowded(pb.kh * pb.h, pb.h, std::mem::size_of::<T>())
    {
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
    // (kv_copy, which pb may point into, is dropped here, after every task)
}

/// Whether a block of `BR.max(BC)` rows of `h` values, `ld` values apart, crowds into too few
/// L1 sets to stay cached. An x86 L1 way is 4 KiB (VIPT: 64 sets of 64-byte lines on every
/// Intel and AMD core so far), so rows whose byte stride shares a large power-of-two factor with
/// 4 KiB revisit the same few sets. Counted with 8 ways (the smallest L1 associativity among
/// them): 8 heads of 64 f32 (2 KiB stride) put a 64-row block into 8 sets (64 lines for 256);
/// 4 heads of 32 (GPT-small, 512 B) into 16 sets (128 lines for 128), which fits, and copying
/// there made the attention 10-20% slower.
fn l1_crowded(ld: usize, h: usize, size: usize) -> bool {
    const WAY: usize = 4096;
    const LINE: usize = 64;
    let (stride, row) = (ld * size, h * size);
    if stride == row || stride == 0 {
        return false;
    }
    let mut g = (stride, WAY);
    while g.1 != 0 {
        g = (g.1, g.0 % g.1);
    }
    let lines = row.div_ceil(LINE);
    let sets = ((WAY / g.0) * lines).min(WAY / LINE);
    BR.max(BC) * lines > sets * 8
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
    run_backward(pb, bw, isa, true)
}

/// [`backward`], with the head-major copies only when `relayout`.
unsafe fn run_backward<T: AttnScalar>(pb: &Problem<T>, bw: &Bwd<T>, isa: AttnIsa, relayout: bool) {
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
    let kv_copy = if relayout
        && !pb.kv_head_major
        && l1_crowded(pb.kh * pb.h, pb.h, std::mem::size_of::<T>())
    {
        head_major_kv(pb)
    } else {
        None
    };
    let pb = kv_copy.as_ref().map_or(pb, |(_, relaid)| relaid);
    let dq_out = bw.dq;
    let q_copy = if relayout
        && !pb.q_head_major
        && pb.t > 0
        && l1_crowded(pb.n * pb.h, pb.h, std::mem::size_of::<T>())
    {
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
mod tests;

//! Criterion benches of `kernels::matmul::gemm` on named shapes, with the `gemm` crate (a
//! dev-dependency only) timed on the same operands as the Rust-side peer.
//!
//! Throughput is reported in elements/s where one element is one floating-point operation
//! (2*m*n*k per product), so criterion's "Gelem/s" reads directly as GFLOP/s.
//!
//! Run: `flock /tmp/ferrograd-build.lock cargo bench --bench matmul` (all), or add a filter such
//! as `-- square_1024` / `-- gemv` / `-- transformer`. `FERROGRAD_BENCH_QUICK=1` shortens the
//! measurement (for a smoke run). Each shape is timed as `ferrograd/1t`, `ferrograd/2t`,
//! `gemm_crate/1t`, `gemm_crate/2t` in one group, so the figures compare side by side.
//!
//! Measured on the project machine (2 vCPUs AMD EPYC Zen 4, shared with other work, so medians
//! move by up to 20% between runs; criterion median, GFLOP/s, f32 row-major; ferrograd with its
//! AVX-512 kernel and the shared packing of big products, the gemm crate 0.19 with its own
//! run-time ISA choice). Two runs on 2026-11-22, the second only for the rows it names:
//!
//! | shape                         | fg 1t | fg 2t         | gemm 1t | gemm 2t       |
//! |-------------------------------|-------|---------------|---------|---------------|
//! | square 64                     |  88.7 |  86.6         |    94.5 |    21.4       |
//! | square 128                    |  96.4 | 145.8         |    84.8 |    85.3       |
//! | square 256                    | 101.5 | 156.7         |    86.4 |   126.1       |
//! | square 512                    |  96.3 | 182.5         |    90.0 |   136.6       |
//! | square 1024                   |  93.5 | 170.0         |    88.9 |   151.3       |
//! | square 2048                   |  92.0 | 178.7 / 176.9 |    79.2 |   105.9 / 140.1 |
//! | gemv 1x4096x4096              |  10.0 |  14.2         |     7.5 |     7.4       |
//! | dense 4096x512 -> 2048        |  99.2 | 198.4         |    96.0 |   161.2       |
//! | attn qkv 4096x512 -> 1536     |  99.2 | 174.4         |    85.1 |   142.5       |
//! | attn out 4096x512 -> 512      |  91.0 | 175.0 / 186.3 |    87.0 |   175.9 / 156.1 |
//! | bmm 32 x (128x64 @ 64x128)    |  92.3 | 122.7 / 175.6 |    91.5 |   128.6 / 140.8 |
//!
//! 64^3 stays on one thread by design (`PAR_WORK`). GEMV 14.2 GFLOP/s = 28 GB/s of matrix read.
//! The scalar kernel runs 20.7 GFLOP/s at 256^3 on one thread.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrograd::kernels::matmul::isa::Isa;
use ferrograd::kernels::matmul::{gemm, set_isa_override, GemmParams, MatMut, MatRef};

/// Row-major operands for a batch of `batch` products `(m x k) @ (k x n)`.
struct Problem {
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl Problem {
    fn new(batch: usize, m: usize, n: usize, k: usize) -> Self {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut gen = |len: usize| -> Vec<f32> {
            (0..len)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect()
        };
        let a = gen(batch * m * k);
        let b = gen(batch * k * n);
        Problem {
            batch,
            m,
            n,
            k,
            a,
            b,
            c: vec![0.0; batch * m * n],
        }
    }

    fn flops(&self) -> u64 {
        2 * (self.batch * self.m * self.n * self.k) as u64
    }

    fn ferrograd(&mut self) {
        let offs = |stride: usize| {
            (0..self.batch)
                .map(|e| (e * stride) as isize)
                .collect::<Vec<_>>()
        };
        let (ao, bo, co) = (
            offs(self.m * self.k),
            offs(self.k * self.n),
            offs(self.m * self.n),
        );
        let p = GemmParams {
            m: self.m,
            n: self.n,
            k: self.k,
            alpha: 1.0f32,
            beta: 0.0,
            a: MatRef {
                ptr: self.a.as_ptr(),
                rs: self.k as isize,
                cs: 1,
            },
            b: MatRef {
                ptr: self.b.as_ptr(),
                rs: self.n as isize,
                cs: 1,
            },
            c: MatMut {
                ptr: self.c.as_mut_ptr(),
                rs: self.n as isize,
                cs: 1,
            },
            a_offsets: &ao,
            b_offsets: &bo,
            c_offsets: &co,
        };
        // SAFETY: the buffers hold every addressed element and C does not overlap A or B.
        unsafe { gemm(black_box(&p)) };
    }

    fn gemm_crate(&mut self, threads: usize) {
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        let (m, n, k) = (self.m, self.n, self.k);
        for e in 0..self.batch {
            // SAFETY: as above; the gemm crate computes dst = alpha*dst + beta*lhs*rhs.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    self.c.as_mut_ptr().add(e * m * n),
                    1,
                    n as isize,
                    false,
                    self.a.as_ptr().add(e * m * k),
                    1,
                    k as isize,
                    self.b.as_ptr().add(e * k * n),
                    1,
                    n as isize,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    par,
                )
            };
        }
        black_box(&self.c);
    }
}

fn configure(c: &mut Criterion) -> Criterion {
    let quick = std::env::var_os("FERROGRAD_BENCH_QUICK").is_some();
    let _ = c;
    Criterion::default()
        .sample_size(if quick { 10 } else { 20 })
        .warm_up_time(Duration::from_millis(if quick { 200 } else { 500 }))
        .measurement_time(Duration::from_millis(if quick { 600 } else { 2000 }))
}

/// Times one named shape: ferrograd and the gemm crate, 1 and 2 threads.
fn bench_shape(c: &mut Criterion, name: &str, batch: usize, m: usize, n: usize, k: usize) {
    let mut p = Problem::new(batch, m, n, k);
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(p.flops()));
    // The gemm crate's Rayon parallelism runs on the current Rayon pool: give it one of exactly
    // the thread count under test.
    let pool2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("rayon pool");
    for threads in [1usize, 2] {
        ferrograd::threading::set_num_threads(threads).expect("thread count");
        g.bench_function(
            BenchmarkId::new("ferrograd", format!("{threads}t")),
            |bch| bch.iter(|| p.ferrograd()),
        );
        g.bench_function(
            BenchmarkId::new("gemm_crate", format!("{threads}t")),
            |bch| {
                bch.iter(|| {
                    if threads > 1 {
                        pool2.install(|| p.gemm_crate(threads))
                    } else {
                        p.gemm_crate(1)
                    }
                })
            },
        );
    }
    g.finish();
}

fn square(c: &mut Criterion) {
    for n in [64, 128, 256, 512, 1024, 2048] {
        bench_shape(c, &format!("square_{n}"), 1, n, n, n);
    }
}

fn gemv(c: &mut Criterion) {
    // The decode step of a language model: one token's activations times a 4096x4096 weight.
    bench_shape(c, "gemv_1x4096x4096", 1, 1, 4096, 4096);
}

fn transformer(c: &mut Criterion) {
    // A small transformer at B*T = 4096 tokens, width 512: the Dense/MLP up-projection, the
    // fused QKV projection, the attention output projection, and per-head score products.
    bench_shape(c, "transformer_dense_4096x512x2048", 1, 4096, 2048, 512);
    bench_shape(c, "transformer_qkv_4096x512x1536", 1, 4096, 1536, 512);
    bench_shape(c, "transformer_attn_out_4096x512x512", 1, 4096, 512, 512);
    bench_shape(c, "bmm_32x128x64x128", 32, 128, 128, 64);
}

fn scalar_kernel(c: &mut Criterion) {
    // The portable fallback, for scale (one thread).
    let mut p = Problem::new(1, 256, 256, 256);
    let mut g = c.benchmark_group("scalar_kernel_256");
    g.throughput(Throughput::Elements(p.flops()));
    ferrograd::threading::set_num_threads(1).expect("thread count");
    set_isa_override(Some(Isa::Scalar)).expect("scalar is always supported");
    g.bench_function("ferrograd/1t", |bch| bch.iter(|| p.ferrograd()));
    set_isa_override(None).expect("detection");
    g.finish();
}

criterion_group! {
    name = benches;
    config = configure(&mut Criterion::default());
    targets = square, gemv, transformer, scalar_kernel
}
criterion_main!(benches);

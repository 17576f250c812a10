//! Linear-algebra ops on batches of matrices (the trailing two axes): inv, det, slogdet, solve,
//! cholesky, solve_triangular, eigh, svd, qr and lu_factor, with backward rules.
//!
//! Each op widens its input to f64, runs the kernels of `kernels/linalg.rs` and `kernels/eigh.rs`
//! per matrix (matrices in parallel; each result depends on its matrix only, so any thread count
//! gives the same bits) and returns the input's float dtype (integers become float32). Ops with
//! several results return them packed in one tensor that the bindings split with views, so one
//! tape node carries all of them:
//! - slogdet: `(..., 2)` = [sign, ln|det|];
//! - eigh: `(..., n + 1, n)`: row 0 the eigenvalues (ascending, as LAPACK), rows 1.. the
//!   eigenvectors as columns;
//! - svd: `(..., m*ku + k + kv*n)` = U, s, Vt flattened; qr: `(..., m*c + c*n)` = Q, R.
//!
//! Backward rules (the standard matrix-calculus results; symmetric inputs get symmetrised
//! gradients, as PyTorch gives): `inv`: `-Y^T G Y^T`; `det`: `G det A^{-T}`; `slogdet`:
//! `G_log A^{-T}`; `solve`: `gB = A^{-T} G`, `gA = -gB X^T`; `solve_triangular`: the same on the
//! triangle; `cholesky`: `L^{-T} Phi(L^T G) L^{-1}` symmetrised; `eigh`:
//! `V (diag(gw) + F o V^T gV) V^T`, `F_ij = 1 / (w_j - w_i)`; thin `svd` (Townsend 2016) and
//! reduced `qr` with `m >= n` (Walter & Lehmann); full SVD/complete QR have no gradient (an error
//! says so).

use crate::autograd::{needs_record, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::kernels::{eigh as keigh, linalg as k};
use crate::tensor::Tensor;
use crate::threading;

use super::{cast_nograd, contiguous_nograd, finish};

/// What a linear-algebra tape node computed.
#[derive(Clone, Debug)]
pub enum LinalgOp {
    Inv,
    Det,
    Slogdet,
    /// `vector`: `b` was `(..., n)`
    Solve {
        vector: bool,
    },
    Cholesky {
        upper: bool,
    },
    SolveTriangular {
        lower: bool,
        vector: bool,
    },
    Eigh {
        n: usize,
    },
    Svd {
        m: usize,
        n: usize,
        full: bool,
    },
    Qr {
        m: usize,
        n: usize,
        complete: bool,
    },
}

impl LinalgOp {
    pub fn name(&self) -> &'static str {
        match self {
            LinalgOp::Inv => "inv",
            LinalgOp::Det => "det",
            LinalgOp::Slogdet => "slogdet",
            LinalgOp::Solve { .. } => "solve",
            LinalgOp::Cholesky { .. } => "cholesky",
            LinalgOp::SolveTriangular { .. } => "solve_triangular",
            LinalgOp::Eigh { .. } => "eigh",
            LinalgOp::Svd { .. } => "svd",
            LinalgOp::Qr { .. } => "qr",
        }
    }
}

/// A batch of matrices widened to f64.
struct Mats {
    data: Vec<f64>,
    batch: Vec<usize>,
    m: usize,
    n: usize,
    dtype: DType,
}

impl Mats {
    fn count(&self) -> usize {
        self.batch.iter().product()
    }
}

fn out_dtype(x: &Tensor) -> DType {
    if x.dtype().is_float() {
        x.dtype()
    } else {
        DType::F32
    }
}

fn mats(op: &str, x: &Tensor, square: bool) -> Result<Mats> {
    if x.ndim() < 2 {
        return Err(Error::shape(
            op,
            format!(
                "expected a matrix or a batch of matrices (..., M, N); got shape {:?}",
                x.shape()
            ),
        ));
    }
    let (m, n) = (x.shape()[x.ndim() - 2], x.shape()[x.ndim() - 1]);
    if square && m != n {
        return Err(Error::shape(
            op,
            format!(
                "expected square matrices (..., N, N); got shape {:?}",
                x.shape()
            ),
        ));
    }
    let data = contiguous_nograd(&cast_nograd(x, DType::F64)?)?.to_vec::<f64>()?;
    if data.iter().any(|v| !v.is_finite()) {
        return Err(Error::value(
            op,
            "the matrix has non-finite values (inf or NaN)",
        ));
    }
    Ok(Mats {
        data,
        batch: x.shape()[..x.ndim() - 2].to_vec(),
        m,
        n,
        dtype: out_dtype(x),
    })
}

/// Runs `f(index, matrix, out)` for every matrix in parallel; `out` has `per` values each. The
/// first failing matrix (lowest index) gives the error.
fn per_matrix(
    a: &Mats,
    per: usize,
    f: impl Fn(usize, &[f64], &mut [f64]) -> Result<()> + Sync,
) -> Result<Vec<f64>> {
    let count = a.count();
    let size = a.m * a.n;
    let mut out = vec![0.0; count * per];
    let mut errs: Vec<Option<Error>> = (0..count).map(|_| None).collect();
    let (o, e) = (SendPtr(out.as_mut_ptr()), SendPtr(errs.as_mut_ptr()));
    threading::for_each_index(count, 1, |b| {
        // SAFETY: matrix `b` writes only its own `per` outputs and its own error slot; both
        // buffers outlive the call.
        let (dst, err) = unsafe {
            (
                std::slice::from_raw_parts_mut(o.get().add(b * per), per),
                &mut *e.get().add(b),
            )
        };
        if let Err(x) = f(b, &a.data[b * size..(b + 1) * size], dst) {
            *err = Some(x);
        }
    });
    if let Some(x) = errs.into_iter().flatten().next() {
        return Err(x);
    }
    Ok(out)
}

fn batch_note(a: &Mats, b: usize) -> String {
    if a.batch.is_empty() {
        String::new()
    } else {
        format!(" (matrix {b} of the batch)")
    }
}

fn tensor(data: Vec<f64>, shape: &[usize], dtype: DType) -> Result<Tensor> {
    let t = Tensor::from_vec(data, shape)?;
    if dtype == DType::F64 {
        Ok(t)
    } else {
        cast_nograd(&t, dtype)
    }
}

fn shape_with(batch: &[usize], tail: &[usize]) -> Vec<usize> {
    batch.iter().chain(tail).copied().collect()
}

fn record(
    out: Tensor,
    op: LinalgOp,
    inputs: &[&Tensor],
    saved: impl FnOnce() -> Vec<Tensor>,
) -> Tensor {
    if inputs.iter().any(|t| t.dtype().is_float()) && needs_record(inputs) {
        let s = saved();
        finish(out, Op::Linalg(op), inputs, s)
    } else {
        out
    }
}

/// Matrix inverse; a singular matrix is an error.
pub fn inv(x: &Tensor) -> Result<Tensor> {
    let a = mats("inv", x, true)?;
    let n = a.n;
    let data = per_matrix(&a, n * n, |b, m, out| {
        let mut lu = m.to_vec();
        let (piv, singular) = k::lu_in_place(&mut lu, n);
        if singular {
            return Err(Error::value(
                "inv",
                format!("the matrix is singular{}", batch_note(&a, b)),
            ));
        }
        for i in 0..n {
            out[i * n + i] = 1.0;
        }
        k::lu_solve(&lu, &piv, n, out, n);
        Ok(())
    })?;
    let y = tensor(data, &shape_with(&a.batch, &[n, n]), a.dtype)?;
    let yc = y.clone();
    Ok(record(y, LinalgOp::Inv, &[x], || vec![yc]))
}

fn slogdet_raw(op: &str, x: &Tensor) -> Result<(Mats, Vec<f64>)> {
    let a = mats(op, x, true)?;
    let n = a.n;
    let data = per_matrix(&a, 2, |_, m, out| {
        let mut lu = m.to_vec();
        let (piv, _) = k::lu_in_place(&mut lu, n);
        let (s, l) = k::slogdet_from_lu(&lu, &piv, n);
        out[0] = s;
        out[1] = l;
        Ok(())
    })?;
    Ok((a, data))
}

/// Determinant (0 for a singular matrix).
pub fn det(x: &Tensor) -> Result<Tensor> {
    let (a, sl) = slogdet_raw("det", x)?;
    let d: Vec<f64> = sl.chunks_exact(2).map(|p| p[0] * p[1].exp()).collect();
    let y = tensor(d, &a.batch, a.dtype)?;
    let yc = y.clone();
    Ok(record(y, LinalgOp::Det, &[x], || vec![yc]))
}

/// `(..., 2)`: the sign of the determinant and the log of its absolute value.
pub fn slogdet(x: &Tensor) -> Result<Tensor> {
    let (a, sl) = slogdet_raw("slogdet", x)?;
    let y = tensor(sl, &shape_with(&a.batch, &[2]), a.dtype)?;
    Ok(record(y, LinalgOp::Slogdet, &[x], Vec::new))
}

/// Solves `A X = B` for square `A` (`(..., N, N)`) and `B` (`(..., N, K)` or `(..., N)`), with
/// the batch axes broadcast.
pub fn solve(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    two_sided("solve", a, b, None)
}

/// Solves `T X = B` with `T` lower (`lower`) or upper triangular (the other triangle is not read).
pub fn solve_triangular(a: &Tensor, b: &Tensor, lower: bool) -> Result<Tensor> {
    two_sided("solve_triangular", a, b, Some(lower))
}

fn two_sided(op: &str, a: &Tensor, b: &Tensor, triangular: Option<bool>) -> Result<Tensor> {
    if a.ndim() < 2 {
        return Err(Error::shape(
            op,
            format!(
                "`a` must be a (batch of) square matrices; got shape {:?}",
                a.shape()
            ),
        ));
    }
    let n = a.shape()[a.ndim() - 1];
    // a batch of vectors when b is 1-D or exactly a's shape without the last axis (PyTorch's rule)
    let vector = b.ndim() == 1 || b.shape() == &a.shape()[..a.ndim() - 1];
    let b2 = if vector {
        super::expand_dims(b, -1)?
    } else {
        b.clone()
    };
    if b2.ndim() < 2 || b2.shape()[b2.ndim() - 2] != n {
        return Err(Error::shape(
            op,
            format!(
                "`b` of shape {:?} does not match `a` of shape {:?} (expected (..., {n}) or \
            (..., {n}, K))",
                b.shape(),
                a.shape()
            ),
        ));
    }
    let kcols = b2.shape()[b2.ndim() - 1];
    let batch = crate::shape::broadcast_shapes(
        op,
        &a.shape()[..a.ndim() - 2],
        &b2.shape()[..b2.ndim() - 2],
    )
    .map_err(|_| {
        Error::shape(
            op,
            format!(
                "the batch axes of `a` {:?} and `b` {:?} do not broadcast",
                a.shape(),
                b.shape()
            ),
        )
    })?;
    let ab = super::broadcast_to(a, &shape_with(&batch, &[a.shape()[a.ndim() - 2], n]))?;
    let bb = super::broadcast_to(&b2, &shape_with(&batch, &[n, kcols]))?;
    let am = mats(op, &ab, true)?;
    let bm = mats(op, &bb, false)?;
    let dtype = if b.dtype() == DType::F64 || a.dtype() == DType::F64 {
        DType::F64
    } else {
        DType::F32
    };
    let data = per_matrix(&am, n * kcols, |i, m, out| {
        out.copy_from_slice(&bm.data[i * n * kcols..(i + 1) * n * kcols]);
        match triangular {
            None => {
                let mut lu = m.to_vec();
                let (piv, singular) = k::lu_in_place(&mut lu, n);
                if singular {
                    return Err(Error::value(
                        op,
                        format!("the matrix `a` is singular{}", batch_note(&am, i)),
                    ));
                }
                k::lu_solve(&lu, &piv, n, out, kcols);
            }
            Some(lower) => {
                let mut t = m.to_vec();
                for r in 0..n {
                    for c in 0..n {
                        if (lower && c > r) || (!lower && c < r) {
                            t[r * n + c] = 0.0;
                        }
                    }
                }
                if k::has_zero_diagonal(&t, n) {
                    return Err(Error::value(
                        op,
                        format!(
                            "the triangular matrix `a` has a zero on its diagonal \
                        (singular){}",
                            batch_note(&am, i)
                        ),
                    ));
                }
                k::tri_solve_in_place(&t, n, out, kcols, lower, false);
            }
        }
        Ok(())
    })?;
    let mut y = tensor(data, &shape_with(&batch, &[n, kcols]), dtype)?;
    if vector {
        y = super::squeeze(&y, Some(&[-1]))?;
    }
    let yc = y.clone();
    let opk = match triangular {
        None => LinalgOp::Solve { vector },
        Some(lower) => LinalgOp::SolveTriangular { lower, vector },
    };
    Ok(record(y, opk, &[a, b], || vec![yc]))
}

/// The Cholesky factor of a symmetric positive-definite matrix: lower `L` (`A = L L^T`), or
/// upper `U = L^T` (only the lower triangle of `x` is read).
pub fn cholesky(x: &Tensor, upper: bool) -> Result<Tensor> {
    let a = mats("cholesky", x, true)?;
    let n = a.n;
    let data = per_matrix(&a, n * n, |b, m, out| {
        let l = k::cholesky(m, n).map_err(|j| {
            Error::value(
                "cholesky",
                format!(
                    "the matrix is not positive definite (leading minor of order {}){}",
                    j + 1,
                    batch_note(&a, b)
                ),
            )
        })?;
        if upper {
            out.copy_from_slice(&k::transpose(&l, n, n));
        } else {
            out.copy_from_slice(&l);
        }
        Ok(())
    })?;
    let y = tensor(data, &shape_with(&a.batch, &[n, n]), a.dtype)?;
    let yc = y.clone();
    Ok(record(y, LinalgOp::Cholesky { upper }, &[x], || vec![yc]))
}

/// Eigenvalues (ascending) and eigenvectors of symmetric matrices, packed `(..., n + 1, n)`.
pub fn eigh(x: &Tensor) -> Result<Tensor> {
    let a = mats("eigh", x, true)?;
    let n = a.n;
    let data = per_matrix(&a, (n + 1) * n, |_, m, out| {
        // symmetrise from the lower triangle (LAPACK's default UPLO='L' reads only that)
        let mut s = m.to_vec();
        for i in 0..n {
            for j in i + 1..n {
                s[i * n + j] = s[j * n + i];
            }
        }
        let (vals, vecs) = keigh::symmetric_eigen(&s, n)?;
        for c in 0..n {
            let src = n - 1 - c; // descending -> ascending
            out[c] = vals[src];
            for r in 0..n {
                out[(r + 1) * n + c] = vecs[r * n + src];
            }
        }
        Ok(())
    })?;
    let y = tensor(data, &shape_with(&a.batch, &[n + 1, n]), a.dtype)?;
    let yc = y.clone();
    Ok(record(y, LinalgOp::Eigh { n }, &[x], || vec![yc]))
}

/// SVD packed as U, s, Vt (see the module docs); `full` gives square U and Vt.
pub fn svd(x: &Tensor, full: bool) -> Result<Tensor> {
    let a = mats("svd", x, false)?;
    let (m, n) = (a.m, a.n);
    let kk = m.min(n);
    let (ku, kv) = if full { (m, n) } else { (kk, kk) };
    let per = m * ku + kk + kv * n;
    let data = per_matrix(&a, per, |_, mat, out| {
        let (u, s, vt) = k::svd(mat, m, n, full)?;
        out[..m * ku].copy_from_slice(&u);
        out[m * ku..m * ku + kk].copy_from_slice(&s);
        out[m * ku + kk..].copy_from_slice(&vt);
        Ok(())
    })?;
    let y = tensor(data, &shape_with(&a.batch, &[per]), a.dtype)?;
    let yc = y.clone();
    Ok(record(y, LinalgOp::Svd { m, n, full }, &[x], || vec![yc]))
}

/// QR packed as Q, R (see the module docs); `complete` gives a square Q.
pub fn qr(x: &Tensor, complete: bool) -> Result<Tensor> {
    let a = mats("qr", x, false)?;
    let (m, n) = (a.m, a.n);
    let c = if complete { m } else { m.min(n) };
    let per = m * c + c * n;
    let data = per_matrix(&a, per, |_, mat, out| {
        let (q, r) = k::qr(mat, m, n, complete);
        out[..m * c].copy_from_slice(&q);
        out[m * c..].copy_from_slice(&r);
        Ok(())
    })?;
    let y = tensor(data, &shape_with(&a.batch, &[per]), a.dtype)?;
    let yc = y.clone();
    Ok(record(y, LinalgOp::Qr { m, n, complete }, &[x], || {
        vec![yc]
    }))
}

/// LU factorisation with partial pivoting: the packed factors `(..., n, n)` and the 0-based
/// LAPACK pivots `(..., n)` (int32). Not differentiable.
pub fn lu_factor(x: &Tensor) -> Result<(Tensor, Tensor)> {
    let a = mats("lu_factor", x, true)?;
    let n = a.n;
    let data = per_matrix(&a, n * n + n, |_, m, out| {
        let (lu, rest) = out.split_at_mut(n * n);
        lu.copy_from_slice(m);
        let (piv, _) = k::lu_in_place(lu, n);
        for (d, p) in rest.iter_mut().zip(piv) {
            *d = p as f64;
        }
        Ok(())
    })?;
    let count = a.count();
    let mut lu = Vec::with_capacity(count * n * n);
    let mut piv = Vec::with_capacity(count * n);
    // n = 0: empty factors and pivots (chunks of 0 elements would panic)
    for chunk in data
        .chunks_exact((n * n + n).max(1))
        .take(if n == 0 { 0 } else { count })
    {
        lu.extend_from_slice(&chunk[..n * n]);
        piv.extend(chunk[n * n..].iter().map(|&p| p as i32));
    }
    Ok((
        tensor(lu, &shape_with(&a.batch, &[n, n]), a.dtype)?,
        Tensor::from_vec(piv, &shape_with(&a.batch, &[n]))?,
    ))
}

// ---- backward -------------------------------------------------------------------------------

fn mt(x: &Tensor) -> Result<Tensor> {
    super::swapaxes(x, -1, -2)
}

fn neg(x: &Tensor) -> Result<Tensor> {
    super::unary(x, crate::kernels::unary::UnaryOp::Neg)
}

fn mm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    super::matmul(a, b)
}

/// `x` with the entries outside a triangle zeroed (`lower`: on and below the diagonal), and the
/// diagonal scaled by `diag`.
fn triangle(x: &Tensor, lower: bool, diag: f64) -> Result<Tensor> {
    let n = x.shape()[x.ndim() - 1];
    let m = x.shape()[x.ndim() - 2];
    let mask: Vec<f64> = (0..m * n)
        .map(|i| {
            let (r, c) = (i / n, i % n);
            if r == c {
                diag
            } else if (lower && r > c) || (!lower && r < c) {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let mask = cast_nograd(&Tensor::from_vec(mask, &[m, n])?, x.dtype())?;
    super::mul(x, &mask)
}

fn sym(x: &Tensor) -> Result<Tensor> {
    let s = super::add(x, &mt(x)?)?;
    super::mul(&s, &super::full(&[], 0.5, x.dtype())?)
}

fn slice_last(x: &Tensor, start: usize, stop: usize) -> Result<Tensor> {
    super::slice_axis(x, -1, Some(start as isize), Some(stop as isize), 1)
}

fn unpack(x: &Tensor, start: usize, rows: usize, cols: usize) -> Result<Tensor> {
    let piece = slice_last(x, start, start + rows * cols)?;
    let batch = &x.shape()[..x.ndim() - 1];
    super::reshape(&piece, &shape_with(batch, &[rows, cols]))
}

/// Gradients of a linear-algebra op's inputs (see the module docs for the formulas).
pub fn linalg_backward(
    op: &LinalgOp,
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let x = &inputs[0];
    let one = |t: Tensor| Ok(vec![Some(t)]);
    match op {
        LinalgOp::Inv => {
            let yt = mt(&saved[0])?;
            one(neg(&mm(&mm(&yt, g)?, &yt)?)?)
        }
        LinalgOp::Det => {
            let scale =
                super::expand_dims(&super::expand_dims(&super::mul(g, &saved[0])?, -1)?, -1)?;
            one(super::mul(&scale, &mt(&inv(x)?)?)?)
        }
        LinalgOp::Slogdet => {
            let glog = super::expand_dims(&slice_last(g, 1, 2)?, -1)?; // (..., 1, 1)
            one(super::mul(&glog, &mt(&inv(x)?)?)?)
        }
        LinalgOp::Solve { vector } | LinalgOp::SolveTriangular { vector, .. } => {
            let a = &inputs[0];
            let tri = match op {
                LinalgOp::SolveTriangular { lower, .. } => Some(*lower),
                _ => None,
            };
            let gcol = if *vector {
                super::expand_dims(g, -1)?
            } else {
                g.clone()
            };
            let at = mt(a)?;
            let gb = match tri {
                None => solve(&at, &gcol)?,
                Some(lower) => solve_triangular(&at, &gcol, !lower)?,
            };
            let ga = if need[0] {
                let xcol = if *vector {
                    super::expand_dims(&saved[0], -1)?
                } else {
                    saved[0].clone()
                };
                let full = neg(&mm(&gb, &mt(&xcol)?)?)?;
                let full = match tri {
                    None => full,
                    Some(lower) => triangle(&full, lower, 1.0)?,
                };
                Some(super::sum_to(&full, a.shape())?)
            } else {
                None
            };
            let gb = if need[1] {
                let gb = if *vector {
                    super::squeeze(&gb, Some(&[-1]))?
                } else {
                    gb
                };
                Some(super::sum_to(&gb, inputs[1].shape())?)
            } else {
                None
            };
            Ok(vec![ga, gb])
        }
        LinalgOp::Cholesky { upper } => {
            let (l, gl) = if *upper {
                (mt(&saved[0])?, mt(g)?)
            } else {
                (saved[0].clone(), g.clone())
            };
            let p = triangle(&mm(&mt(&l)?, &gl)?, true, 0.5)?;
            let lt = mt(&l)?;
            // S = L^{-T} P L^{-1}: Z^T = L^{-T} P^T, then S = L^{-T} Z
            let z = mt(&solve_triangular(&lt, &mt(&p)?, false)?)?;
            let s = solve_triangular(&lt, &z, false)?;
            one(sym(&s)?)
        }
        LinalgOp::Eigh { n } => {
            let y = &saved[0];
            let w = super::slice_axis(y, -2, Some(0), Some(1), 1)?; // (..., 1, n)
            let v = super::slice_axis(y, -2, Some(1), Some(*n as isize + 1), 1)?;
            let gw = super::slice_axis(g, -2, Some(0), Some(1), 1)?;
            let gv = super::slice_axis(g, -2, Some(1), Some(*n as isize + 1), 1)?;
            // F_ij = 1 / (w_j - w_i) off the diagonal
            let diff = super::sub(&w, &mt(&w)?)?;
            let eye = cast_nograd(&super::eye(*n, *n, 0, DType::F64)?, y.dtype())?;
            let off = super::sub(&super::full(&[], 1.0, y.dtype())?, &eye)?;
            let f = super::mul(&super::div(&off, &super::add(&diff, &eye)?)?, &off)?;
            let inner = super::add(
                &super::mul(&f, &mm(&mt(&v)?, &gv)?)?,
                &super::mul(&eye, &gw)?,
            )?;
            one(sym(&mm(&mm(&v, &inner)?, &mt(&v)?)?)?)
        }
        LinalgOp::Svd { m, n, full } => {
            if *full && m != n {
                return Err(Error::autograd(
                    "svd",
                    "gradients need full_matrices=False (the extra singular \
                    vectors of a full SVD are not unique)",
                ));
            }
            let kk = (*m).min(*n);
            let y = &saved[0];
            let u = unpack(y, 0, *m, kk)?;
            let s = slice_last(y, m * kk, m * kk + kk)?;
            let vt = unpack(y, m * kk + kk, kk, *n)?;
            let gu = unpack(g, 0, *m, kk)?;
            let gs = slice_last(g, m * kk, m * kk + kk)?;
            let gvt = unpack(g, m * kk + kk, kk, *n)?;
            one(svd_backward(&u, &s, &vt, &gu, &gs, &gvt, *m, *n)?)
        }
        LinalgOp::Qr { m, n, complete } => {
            if m < n || (*complete && m != n) {
                return Err(Error::autograd(
                    "qr",
                    format!(
                        "gradients need mode='reduced' and M >= N; got a {m}x{n} \
                    matrix{}",
                        if *complete { " in mode='complete'" } else { "" }
                    ),
                ));
            }
            let y = &saved[0];
            let q = unpack(y, 0, *m, *n)?;
            let r = unpack(y, m * n, *n, *n)?;
            let gq = unpack(g, 0, *m, *n)?;
            let gr = unpack(g, m * n, *n, *n)?;
            // M = R gR^T - gQ^T Q; gA = (gQ + Q copyltu(M)) R^{-T}
            let mmat = super::sub(&mm(&r, &mt(&gr)?)?, &mm(&mt(&gq)?, &q)?)?;
            let low = triangle(&mmat, true, 1.0)?;
            let strict = triangle(&mmat, true, 0.0)?;
            let copyltu = super::add(&low, &mt(&strict)?)?;
            let b = super::add(&gq, &mm(&q, &copyltu)?)?;
            // X R^{-T} = (R^{-1} X^T)^T
            one(mt(&solve_triangular(&r, &mt(&b)?, false)?)?)
        }
    }
}

/// Thin-SVD gradient: `U [(F o (U^T gU - gU^T U)) S + diag(gs) + S (F o (V^T gV - gV^T V))] V^T
/// + (I - U U^T) gU S^{-1} V^T + U S^{-1} gV^T (I - V V^T)` with `F_ij = 1 / (s_j^2 - s_i^2)`.
#[allow(clippy::too_many_arguments)]
fn svd_backward(
    u: &Tensor,
    s: &Tensor,
    vt: &Tensor,
    gu: &Tensor,
    gs: &Tensor,
    gvt: &Tensor,
    m: usize,
    n: usize,
) -> Result<Tensor> {
    let kk = m.min(n);
    let dt = u.dtype();
    let v = mt(vt)?;
    let gv = mt(gvt)?;
    let eye = cast_nograd(&super::eye(kk, kk, 0, DType::F64)?, dt)?;
    let one_t = super::full(&[], 1.0, dt)?;
    let off = super::sub(&one_t, &eye)?;
    let srow = super::expand_dims(s, -2)?; // (..., 1, k)
    let s2 = super::mul(&srow, &srow)?;
    let f = super::mul(
        &super::div(&off, &super::add(&super::sub(&s2, &mt(&s2)?)?, &eye)?)?,
        &off,
    )?;
    let smat = super::mul(&eye, &srow)?; // diag(s)
    let sinv = super::mul(&eye, &super::div(&one_t, &srow)?)?;
    let utgu = mm(&mt(u)?, gu)?;
    let vtgv = mm(&mt(&v)?, &gv)?;
    let j = super::mul(&f, &super::sub(&utgu, &mt(&utgu)?)?)?;
    let k2 = super::mul(&f, &super::sub(&vtgv, &mt(&vtgv)?)?)?;
    let inner = super::add(
        &super::add(
            &mm(&j, &smat)?,
            &super::mul(&eye, &super::expand_dims(gs, -2)?)?,
        )?,
        &mm(&smat, &k2)?,
    )?;
    let mut ga = mm(&mm(u, &inner)?, vt)?;
    if m > kk {
        let im = cast_nograd(&super::eye(m, m, 0, DType::F64)?, dt)?;
        let pu = super::sub(&im, &mm(u, &mt(u)?)?)?;
        ga = super::add(&ga, &mm(&mm(&mm(&pu, gu)?, &sinv)?, vt)?)?;
    }
    if n > kk {
        let inn = cast_nograd(&super::eye(n, n, 0, DType::F64)?, dt)?;
        let pv = super::sub(&inn, &mm(&v, vt)?)?;
        ga = super::add(&ga, &mm(&mm(&mm(u, &sinv)?, &mt(&gv)?)?, &pv)?)?;
    }
    Ok(ga)
}

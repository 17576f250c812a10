//! Dense linear algebra on one row-major f64 matrix at a time: LU with partial pivoting,
//! Cholesky, triangular solves, Householder QR and one-sided Jacobi SVD (the symmetric eigen
//! solver is in `eigh.rs`). The ops in `src/ops/linalg.rs` convert, batch and thread them.
//!
//! Conventions follow LAPACK, so results equal NumPy's up to rounding: LU picks the first
//! largest pivot (`idamax`) and reports LAPACK's sequential row swaps; Cholesky reads the lower
//! triangle only; Householder QR uses `beta = -sign(alpha) ||x||` (R's diagonal may be negative).
//! SVD: one-sided Jacobi (Hestenes) on the columns until every pair is orthogonal to `1e-15`
//! relative; singular values come out sorted high to low, singular vectors up to sign.
//! Precision: every kernel computes in f64 (f32 inputs are widened by the caller).
//! Cost: `O(n^3)` with scalar loops in cache-friendly order, no blocking; meant for the small and
//! medium matrices of models (a 512x512 LU takes tens of milliseconds).

use crate::error::{Error, Result};

/// LU of `a` (`n x n`) in place (`L` unit lower below the diagonal, `U` on and above); returns
/// the pivot rows (`piv[k]` swapped with `k` at step `k`) and whether `U` has a zero diagonal.
pub fn lu_in_place(a: &mut [f64], n: usize) -> (Vec<usize>, bool) {
    let mut piv = vec![0; n];
    let mut singular = false;
    for k in 0..n {
        let mut p = k;
        let mut best = a[k * n + k].abs();
        for i in k + 1..n {
            let v = a[i * n + k].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        piv[k] = p;
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
        }
        let d = a[k * n + k];
        if d == 0.0 {
            singular = true;
            continue;
        }
        for i in k + 1..n {
            let l = a[i * n + k] / d;
            a[i * n + k] = l;
            if l != 0.0 {
                let (top, bottom) = a.split_at_mut(i * n);
                let urow = &top[k * n + k + 1..k * n + n];
                for (x, &u) in bottom[k + 1..n].iter_mut().zip(urow) {
                    *x -= l * u;
                }
            }
        }
    }
    (piv, singular)
}

/// `(sign, ln|det|)` from an LU factorisation (sign 0 and `-inf` when singular).
pub fn slogdet_from_lu(lu: &[f64], piv: &[usize], n: usize) -> (f64, f64) {
    let mut sign = 1.0;
    let mut log = 0.0;
    for k in 0..n {
        if piv[k] != k {
            sign = -sign;
        }
        let d = lu[k * n + k];
        if d == 0.0 {
            return (0.0, f64::NEG_INFINITY);
        }
        if d < 0.0 {
            sign = -sign;
        }
        log += d.abs().ln();
    }
    (sign, log)
}

/// Solves `A X = B` for `B` (`n x k`, in place) from `A`'s LU factorisation.
pub fn lu_solve(lu: &[f64], piv: &[usize], n: usize, b: &mut [f64], k: usize) {
    for (i, &p) in piv.iter().enumerate() {
        if p != i {
            for j in 0..k {
                b.swap(i * k + j, p * k + j);
            }
        }
    }
    tri_solve_in_place(lu, n, b, k, true, true);
    tri_solve_in_place(lu, n, b, k, false, false);
}

/// Solves `T X = B` in place for a lower (`lower`) or upper triangular `T` read from `a`
/// (`n x n`; the other triangle is ignored), with a unit diagonal when `unit`.
pub fn tri_solve_in_place(a: &[f64], n: usize, b: &mut [f64], k: usize, lower: bool, unit: bool) {
    let order: Box<dyn Iterator<Item = usize>> = if lower {
        Box::new(0..n)
    } else {
        Box::new((0..n).rev())
    };
    for i in order {
        let (lo, hi) = if lower { (0, i) } else { (i + 1, n) };
        for m in lo..hi {
            let c = a[i * n + m];
            if c != 0.0 {
                for j in 0..k {
                    b[i * k + j] -= c * b[m * k + j];
                }
            }
        }
        if !unit {
            let d = a[i * n + i];
            for j in 0..k {
                b[i * k + j] /= d;
            }
        }
    }
}

/// Whether a triangular matrix has a zero on its diagonal.
pub fn has_zero_diagonal(a: &[f64], n: usize) -> bool {
    (0..n).any(|i| a[i * n + i] == 0.0)
}

/// The lower Cholesky factor `L` (`A = L L^T`) from `A`'s lower triangle; `Err(j)` names the
/// first leading minor that is not positive definite.
pub fn cholesky(a: &[f64], n: usize) -> std::result::Result<Vec<f64>, usize> {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let s: f64 = a[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if s.is_nan() || s <= 0.0 || s.is_infinite() {
            return Err(j);
        }
        let d = s.sqrt();
        l[j * n + j] = d;
        for i in j + 1..n {
            let s: f64 = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = s / d;
        }
    }
    Ok(l)
}

/// Householder QR of `a` (`m x n`): `(Q, R)` with `Q` `m x c` (`c = m` when `complete`, else
/// `min(m, n)`) and `R` `c x n`.
pub fn qr(a: &[f64], m: usize, n: usize, complete: bool) -> (Vec<f64>, Vec<f64>) {
    let k = m.min(n);
    let mut r = a.to_vec();
    let mut vs: Vec<(Vec<f64>, f64)> = Vec::with_capacity(k);
    for j in 0..k {
        let alpha = r[j * n + j];
        if (j + 1..m).all(|i| r[i * n + j] == 0.0) {
            // nothing to annihilate: LAPACK's dlarfg sets tau = 0 (H = I) and keeps alpha
            vs.push((Vec::new(), 0.0));
            continue;
        }
        let norm = (j..m)
            .map(|i| r[i * n + j] * r[i * n + j])
            .sum::<f64>()
            .sqrt();
        let beta = if alpha >= 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (j..m).map(|i| r[i * n + j]).collect();
        v[0] = alpha - beta;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let tau = 2.0 / vv;
        reflect(&mut r, n, j, &v, tau, j..n);
        r[j * n + j] = beta;
        for i in j + 1..m {
            r[i * n + j] = 0.0;
        }
        vs.push((v, tau));
    }
    let cols = if complete { m } else { k };
    let mut q = vec![0.0; m * cols];
    for i in 0..cols {
        q[i * cols + i] = 1.0;
    }
    for (j, (v, tau)) in vs.iter().enumerate().rev() {
        if v.is_empty() {
            continue;
        }
        reflect(&mut q, cols, j, v, *tau, 0..cols);
    }
    let rows = if complete { m } else { k };
    (q, r[..rows * n].to_vec())
}

/// Applies `H = I - tau v v^T` (acting on rows `row0..row0 + v.len()`) to the columns `cols` of
/// a row-major matrix with `stride` columns.
fn reflect(
    a: &mut [f64],
    stride: usize,
    row0: usize,
    v: &[f64],
    tau: f64,
    cols: std::ops::Range<usize>,
) {
    for c in cols {
        let s: f64 = v
            .iter()
            .enumerate()
            .map(|(t, &vt)| vt * a[(row0 + t) * stride + c])
            .sum();
        let f = tau * s;
        for (t, &vt) in v.iter().enumerate() {
            a[(row0 + t) * stride + c] -= f * vt;
        }
    }
}

/// Thin or full SVD of `a` (`m x n`): `(U, s, Vt)` with `s` (`k = min(m, n)`) high to low, `U`
/// `m x ku`, `Vt` `kv x n` (`ku = m, kv = n` when `full`, else `k`).
pub fn svd(a: &[f64], m: usize, n: usize, full: bool) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::value("svd", "the matrix has non-finite values"));
    }
    if m < n {
        // A^T = V S U^T
        let at = transpose(a, m, n);
        let (u, s, vt) = svd(&at, n, m, full)?;
        let (ku, kv) = if full { (n, m) } else { (m, m) };
        return Ok((transpose(&vt, kv, m), s, transpose(&u, n, ku)));
    }
    // columns of A as rows of w (n x m); v accumulates the rotations (rows are V's columns)
    let mut w = transpose(a, m, n);
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (wp, wq) = rows2(&mut w, m, p, q);
                let alpha: f64 = wp.iter().map(|x| x * x).sum();
                let beta: f64 = wq.iter().map(|x| x * x).sum();
                let gamma: f64 = wp.iter().zip(wq.iter()).map(|(x, y)| x * y).sum();
                if gamma == 0.0 || gamma.abs() <= 1e-15 * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for (x, y) in wp.iter_mut().zip(wq.iter_mut()) {
                    let (xp, xq) = (*x, *y);
                    *x = c * xp - s * xq;
                    *y = s * xp + c * xq;
                }
                let (vp, vq) = rows2(&mut v, n, p, q);
                for (x, y) in vp.iter_mut().zip(vq.iter_mut()) {
                    let (xp, xq) = (*x, *y);
                    *x = c * xp - s * xq;
                    *y = s * xp + c * xq;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<f64> = (0..n)
        .map(|i| {
            w[i * m..(i + 1) * m]
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
    let s: Vec<f64> = order.iter().map(|&i| norms[i]).collect();
    let ku = if full { m } else { n };
    // U's columns as rows (ku x m), completed to an orthonormal set where needed
    let tiny = s.first().copied().unwrap_or(0.0) * 1e-300_f64.max(f64::EPSILON * 1e-3);
    let mut ucols: Vec<Vec<f64>> = Vec::with_capacity(ku);
    for (r, &i) in order.iter().enumerate() {
        if s[r] > tiny && s[r] > 0.0 {
            ucols.push(w[i * m..(i + 1) * m].iter().map(|x| x / s[r]).collect());
        } else {
            ucols.push(Vec::new());
        }
    }
    ucols.resize(ku, Vec::new());
    complete_orthonormal(&mut ucols, m);
    let mut u = vec![0.0; m * ku];
    for (c, col) in ucols.iter().enumerate() {
        for r in 0..m {
            u[r * ku + c] = col[r];
        }
    }
    let mut vt = vec![0.0; n * n];
    for (r, &i) in order.iter().enumerate() {
        vt[r * n..(r + 1) * n].copy_from_slice(&v[i * n..(i + 1) * n]);
    }
    Ok((u, s, vt))
}

/// Fills the empty vectors of `cols` (each of length `m` or empty) with unit vectors orthogonal
/// to all others (Gram-Schmidt, twice, over the standard basis).
fn complete_orthonormal(cols: &mut [Vec<f64>], m: usize) {
    let mut next_basis = 0;
    for c in 0..cols.len() {
        if !cols[c].is_empty() {
            continue;
        }
        loop {
            let mut e = vec![0.0; m];
            e[next_basis % m.max(1)] = 1.0;
            next_basis += 1;
            for _ in 0..2 {
                for other in cols.iter().filter(|o| !o.is_empty()) {
                    let d: f64 = e.iter().zip(other).map(|(x, y)| x * y).sum();
                    for (x, y) in e.iter_mut().zip(other) {
                        *x -= d * y;
                    }
                }
            }
            let norm = e.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-8 || next_basis > 4 * m + 4 {
                e.iter_mut().for_each(|x| *x /= norm.max(f64::MIN_POSITIVE));
                cols[c] = e;
                break;
            }
        }
    }
}

fn rows2(buf: &mut [f64], len: usize, p: usize, q: usize) -> (&mut [f64], &mut [f64]) {
    let (a, b) = buf.split_at_mut(q * len);
    (&mut a[p * len..(p + 1) * len], &mut b[..len])
}

/// The transpose of a row-major `m x n` matrix.
pub fn transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    let mut t = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            t[j * m + i] = a[i * n + j];
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for t in 0..k {
                for j in 0..n {
                    c[i * n + j] += a[i * k + t] * b[t * n + j];
                }
            }
        }
        c
    }

    fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
    }

    fn sample(m: usize, n: usize) -> Vec<f64> {
        (0..m * n)
            .map(|i| ((i * 37 + 11) % 17) as f64 / 7.0 - 1.1)
            .collect()
    }

    #[test]
    fn lu_solve_and_determinant() {
        let n = 5;
        let a = sample(n, n);
        let mut lu = a.clone();
        let (piv, singular) = lu_in_place(&mut lu, n);
        assert!(!singular);
        let b = sample(n, 2);
        let mut x = b.clone();
        lu_solve(&lu, &piv, n, &mut x, 2);
        assert!(close(&matmul(&a, &x, n, n, 2), &b, 1e-10));
        let (sign, log) = slogdet_from_lu(&lu, &piv, n);
        // det of a 2x2 by hand
        let mut lu2 = vec![0.0, 2.0, 3.0, 4.0];
        let (p2, _) = lu_in_place(&mut lu2, 2);
        let (s2, l2) = slogdet_from_lu(&lu2, &p2, 2);
        assert!((s2 * l2.exp() - (-6.0)).abs() < 1e-12);
        assert!(sign.abs() == 1.0 && log.is_finite());
        let mut z = vec![1.0, 2.0, 2.0, 4.0];
        assert!(lu_in_place(&mut z, 2).1);
    }

    #[test]
    fn cholesky_and_triangular_solve() {
        let n = 4;
        let b = sample(n, n);
        let mut a = matmul(&b, &transpose(&b, n, n), n, n, n);
        for i in 0..n {
            a[i * n + i] += 1.0;
        }
        let l = cholesky(&a, n).unwrap();
        assert!(close(&matmul(&l, &transpose(&l, n, n), n, n, n), &a, 1e-12));
        let rhs = sample(n, 3);
        let mut x = rhs.clone();
        tri_solve_in_place(&l, n, &mut x, 3, true, false);
        assert!(close(&matmul(&l, &x, n, n, 3), &rhs, 1e-10));
        let u = transpose(&l, n, n);
        let mut y = rhs.clone();
        tri_solve_in_place(&u, n, &mut y, 3, false, false);
        assert!(close(&matmul(&u, &y, n, n, 3), &rhs, 1e-10));
        assert_eq!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2), Err(1));
    }

    #[test]
    fn qr_reconstructs_with_orthonormal_q() {
        for &(m, n) in &[(5, 3), (3, 5), (4, 4), (1, 3), (3, 1)] {
            let a = sample(m, n);
            for complete in [false, true] {
                let (q, r) = qr(&a, m, n, complete);
                let c = if complete { m } else { m.min(n) };
                assert!(
                    close(&matmul(&q, &r, m, c, n), &a, 1e-12),
                    "{m}x{n} {complete}"
                );
                let qtq = matmul(&transpose(&q, m, c), &q, c, m, c);
                let eye: Vec<f64> = (0..c * c)
                    .map(|i| if i % (c + 1) == 0 { 1.0 } else { 0.0 })
                    .collect();
                assert!(close(&qtq, &eye, 1e-12));
                for i in 0..c {
                    for j in 0..i.min(n) {
                        assert_eq!(r[i * n + j], 0.0);
                    }
                }
            }
        }
    }

    #[test]
    fn svd_reconstructs_with_sorted_values() {
        for &(m, n) in &[(5, 3), (3, 5), (4, 4), (1, 1), (6, 2)] {
            let a = sample(m, n);
            for full in [false, true] {
                let (u, s, vt) = svd(&a, m, n, full).unwrap();
                let k = m.min(n);
                let (ku, kv) = if full { (m, n) } else { (k, k) };
                assert!(s.windows(2).all(|w| w[0] >= w[1]));
                let mut us = vec![0.0; m * kv.min(ku)];
                let kk = ku.min(kv);
                for i in 0..m {
                    for j in 0..k {
                        us[i * kk + j] = u[i * ku + j] * s[j];
                    }
                }
                let rec = matmul(&us, &vt[..kk * n], m, kk, n);
                assert!(close(&rec, &a, 1e-10), "{m}x{n} full={full}");
                let utu = matmul(&transpose(&u, m, ku), &u, ku, m, ku);
                let eye: Vec<f64> = (0..ku * ku)
                    .map(|i| if i % (ku + 1) == 0 { 1.0 } else { 0.0 })
                    .collect();
                assert!(
                    close(&utu, &eye, 1e-10),
                    "U not orthonormal {m}x{n} full={full}"
                );
            }
        }
        // rank-deficient: a zero column still gives an orthonormal U
        let (u, s, _) = svd(&[1.0, 0.0, 2.0, 0.0, 3.0, 0.0], 3, 2, true).unwrap();
        assert!(s[1].abs() < 1e-15);
        let utu = matmul(&transpose(&u, 3, 3), &u, 3, 3, 3);
        assert!(close(
            &utu,
            &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            1e-10
        ));
    }
}

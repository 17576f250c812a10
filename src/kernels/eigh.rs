//! Symmetric eigen-decomposition (cyclic Jacobi) and the PCA projection built on it.
//!
//! Math: `A = V diag(l) V^T` for a symmetric `n x n` matrix `A` (row-major, f64). Each Jacobi
//! rotation zeroes one off-diagonal pair; sweeps repeat until the off-diagonal mass is below
//! `1e-14` of the total (quadratic convergence: about 6-10 sweeps), at most 100 sweeps.
//! Eigenvalues come out sorted high to low; each eigenvector's largest-magnitude component is
//! made positive so the result is unique up to ties.
//! PCA: rows of `x` (`n x d`) are centred, `C = Xc^T Xc / max(n - 1, 1)`, and the rows are
//! projected on the top `k` eigenvectors of `C`.
//! Cost: `O(n d^2)` for `C` and `O(d^3)` per sweep: meant for small `d` (embedding plots, a few
//! hundred dimensions), single-threaded and deterministic.

use crate::error::{Error, Result};

/// Eigenvalues (high to low) and the matching eigenvectors as the columns of a row-major `n x n`
/// matrix.
pub fn symmetric_eigen(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if a.len() != n * n {
        return Err(Error::shape(
            "eigh",
            format!("expected {n}x{n} = {} values, got {}", n * n, a.len()),
        ));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(Error::value("eigh", "the matrix has non-finite values"));
    }
    for i in 0..n {
        for j in 0..i {
            let (x, y) = (a[i * n + j], a[j * n + i]);
            if (x - y).abs() > 1e-9 * (1.0 + x.abs().max(y.abs())) {
                return Err(Error::value(
                    "eigh",
                    format!("the matrix is not symmetric at ({i}, {j})"),
                ));
            }
        }
    }
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        if off <= 1e-28 * total.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]));
    let vals = order.iter().map(|&i| m[i * n + i]).collect();
    let mut vecs = vec![0.0; n * n];
    for (c, &i) in order.iter().enumerate() {
        let big = (0..n)
            .max_by(|&a, &b| v[a * n + i].abs().total_cmp(&v[b * n + i].abs()))
            .unwrap_or(0);
        let sign = if v[big * n + i] < 0.0 { -1.0 } else { 1.0 };
        for r in 0..n {
            vecs[r * n + c] = sign * v[r * n + i];
        }
    }
    Ok((vals, vecs))
}

/// The first `k` principal-component coordinates of the rows of `x` (`n x d`), `n x k`, and the
/// variance each component explains.
pub fn pca(x: &[f32], n: usize, d: usize, k: usize) -> Result<(Vec<f32>, Vec<f64>)> {
    if x.len() != n * d || n == 0 || d == 0 {
        return Err(Error::shape(
            "pca",
            format!(
                "expected a non-empty {n}x{d} matrix, got {} values",
                x.len()
            ),
        ));
    }
    if k == 0 || k > d {
        return Err(Error::value(
            "pca",
            format!("n_components must be in 1..={d}; received {k}"),
        ));
    }
    if d > 4096 {
        return Err(Error::value(
            "pca",
            format!("{d} dimensions is too many for the dense eigen-solver (at most 4096)"),
        ));
    }
    let mut mean = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0.0f64; d * d];
    let mut centred = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for ((c, &v), m) in centred.iter_mut().zip(row).zip(&mean) {
            *c = v as f64 - m;
        }
        for i in 0..d {
            let ci = centred[i];
            for j in i..d {
                cov[i * d + j] += ci * centred[j];
            }
        }
    }
    let denom = (n.max(2) - 1) as f64;
    for i in 0..d {
        for j in i..d {
            let v = cov[i * d + j] / denom;
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    let (vals, vecs) = symmetric_eigen(&cov, d)?;
    let mut out = vec![0.0f32; n * k];
    for (r, row) in x.chunks_exact(d).enumerate() {
        for c in 0..k {
            let mut s = 0.0;
            for i in 0..d {
                s += (row[i] as f64 - mean[i]) * vecs[i * d + c];
            }
            out[r * k + c] = s as f32;
        }
    }
    Ok((out, vals[..k].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_a_symmetric_matrix() {
        let n = 5;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = ((i + 1) * (j + 2)) as f64 % 7.0 + if i == j { 3.0 } else { 0.0 };
            }
        }
        for i in 0..n {
            for j in 0..i {
                a[i * n + j] = a[j * n + i];
            }
        }
        let (vals, vecs) = symmetric_eigen(&a, n).unwrap();
        assert!(vals.windows(2).all(|w| w[0] >= w[1]));
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n)
                    .map(|k| vecs[i * n + k] * vals[k] * vecs[j * n + k])
                    .sum();
                assert!((r - a[i * n + j]).abs() < 1e-10, "{r} vs {}", a[i * n + j]);
            }
        }
        assert!(symmetric_eigen(&[1.0, 2.0, 3.0, 1.0], 2).is_err());
        assert!(symmetric_eigen(&[1.0], 2).is_err());
    }

    #[test]
    fn pca_finds_the_long_axis() {
        // points along (1, 1) with a little spread across it
        let x: Vec<f32> = (0..20)
            .flat_map(|i| {
                let t = i as f32 - 10.0;
                let e = if i % 2 == 0 { 0.1 } else { -0.1 };
                [t + e, t - e]
            })
            .collect();
        let (proj, var) = pca(&x, 20, 2, 2).unwrap();
        assert!(var[0] > 100.0 * var[1]);
        // the first point, centred, is (-9.4, -9.6): -19 / sqrt(2) along the axis (either sign)
        assert!(
            (proj[0].abs() - 19.0 / 2f32.sqrt()).abs() < 0.05,
            "{}",
            proj[0]
        );
        assert!(pca(&x, 20, 2, 3).is_err());
    }
}

//! Output encodings of the lookup layers (Keras' `encode_categorical_inputs` with TensorFlow):
//! integer ids in rows -> one-hot, multi-hot, count or TF-IDF rows of width `depth`.
//!
//! Ids outside `[0, depth)` are dropped, as `tf.math.bincount(minlength=maxlength=depth)` and
//! `tf.one_hot` drop them: that is how the mask token (id `i64::MAX` outside "int" mode)
//! disappears. Multi-hot, count and one-hot are int64 (Keras' lookup layers return their value
//! dtype); TF-IDF is `float32(count) * idf`, in f32 as TensorFlow multiplies.
//! Rows are independent, so they run in parallel on the shared pool with each output row written
//! by one task (the result does not depend on the thread count).

use rayon::prelude::*;

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::threading;

/// The encodings with one row of width `depth` per input row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowMode {
    MultiHot,
    Count,
}

/// Rows of ids: row `r` is `ids[offsets[r]..offsets[r + 1]]`.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    pub ids: &'a [i64],
    pub offsets: &'a [usize],
}

impl Rows<'_> {
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn row(&self, r: usize) -> &[i64] {
        &self.ids[self.offsets[r]..self.offsets[r + 1]]
    }

    fn check(&self, op: &str) -> Result<()> {
        let ok = self.offsets.first().is_none_or(|&o| o == 0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last().is_none_or(|&o| o == self.ids.len());
        if ok {
            Ok(())
        } else {
            Err(Error::value(op, "row offsets do not partition the ids"))
        }
    }
}

/// A fresh `shape` tensor of `T` (from the caching allocator, not zeroed) filled by `fill`, which
/// must write every element (the encoders below clear each row first).
pub fn into_tensor<T: Element>(
    shape: &[usize],
    fill: impl FnOnce(&mut [T]) -> Result<()>,
) -> Result<Tensor> {
    let t = Tensor::empty(shape, T::DTYPE)?;
    // SAFETY: a fresh contiguous tensor of `numel` elements of T, not shared until returned.
    let out = unsafe { std::slice::from_raw_parts_mut(t.data_ptr::<T>(), t.numel()) };
    fill(out)?;
    Ok(t)
}

fn check_out(op: &str, len: usize, rows: usize, depth: usize) -> Result<()> {
    match rows.checked_mul(depth) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::shape(
            op,
            format!("an output of {len} values for {rows} rows of {depth}"),
        )),
    }
}

/// Runs `f(row, out_row)` on every row (cleared to zero first), rows in parallel when the output
/// is large; `init` makes one scratch value per worker.
fn fill_rows<T: Send + Copy + Default, S>(
    out: &mut [T],
    depth: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, &mut [T]) + Sync + Send,
) {
    if depth == 0 {
        return;
    }
    let run = |s: &mut S, r: usize, o: &mut [T]| {
        o.fill(T::default());
        f(s, r, o)
    };
    if out.len() >= 1 << 16 {
        threading::install(|| {
            out.par_chunks_mut(depth)
                .enumerate()
                .for_each_init(&init, |s, (r, o)| run(s, r, o))
        });
    } else {
        let mut s = init();
        out.chunks_mut(depth)
            .enumerate()
            .for_each(|(r, o)| run(&mut s, r, o));
    }
}

/// Multi-hot or count rows into `out` (`rows.len() x depth`, int64).
pub fn encode_rows(rows: Rows<'_>, depth: usize, mode: RowMode, out: &mut [i64]) -> Result<()> {
    rows.check("encode_rows")?;
    check_out("encode_rows", out.len(), rows.len(), depth)?;
    fill_rows(
        out,
        depth,
        || (),
        |_, r, o| {
            for &id in rows.row(r) {
                if id >= 0 && (id as u64) < depth as u64 {
                    match mode {
                        RowMode::MultiHot => o[id as usize] = 1,
                        RowMode::Count => o[id as usize] += 1,
                    }
                }
            }
        },
    );
    Ok(())
}

/// TF-IDF rows into `out`: `float32(count) * idf[j]` (`idf` has `depth` weights), written only
/// at the ids a row holds (each row's ids are sorted in a per-worker scratch to count them).
pub fn encode_tf_idf(rows: Rows<'_>, depth: usize, idf: &[f32], out: &mut [f32]) -> Result<()> {
    if idf.len() != depth {
        return Err(Error::shape(
            "encode_tf_idf",
            format!(
                "{} idf weights for an output of depth {depth}: expected one weight per column",
                idf.len()
            ),
        ));
    }
    rows.check("encode_tf_idf")?;
    check_out("encode_tf_idf", out.len(), rows.len(), depth)?;
    fill_rows(out, depth, Vec::<i64>::new, |scratch, r, o| {
        scratch.clear();
        scratch.extend(
            rows.row(r)
                .iter()
                .copied()
                .filter(|&id| id >= 0 && (id as u64) < depth as u64),
        );
        scratch.sort_unstable();
        for run in scratch.chunk_by(|a, b| a == b) {
            let id = run[0] as usize;
            o[id] = run.len() as f32 * idf[id];
        }
    });
    Ok(())
}

/// One-hot rows, one per id, into `out` (`ids.len() x depth`, int64).
pub fn one_hot(ids: &[i64], depth: usize, out: &mut [i64]) -> Result<()> {
    check_out("one_hot", out.len(), ids.len(), depth)?;
    fill_rows(
        out,
        depth,
        || (),
        |_, r, o| {
            let id = ids[r];
            if id >= 0 && (id as u64) < depth as u64 {
                o[id as usize] = 1;
            }
        },
    );
    Ok(())
}

/// Rows padded with 0 (or cut) to `width` into `out` (`rows.len() x width`).
pub fn pad_rows(rows: Rows<'_>, width: usize, out: &mut [i64]) -> Result<()> {
    rows.check("pad_rows")?;
    check_out("pad_rows", out.len(), rows.len(), width)?;
    fill_rows(
        out,
        width,
        || (),
        |_, r, o| {
            let row = rows.row(r);
            let n = row.len().min(width);
            o[..n].copy_from_slice(&row[..n]);
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(rows: Rows<'_>, depth: usize, mode: RowMode) -> Result<Vec<i64>> {
        let mut out = vec![-7; rows.len() * depth];
        encode_rows(rows, depth, mode, &mut out)?;
        Ok(out)
    }

    #[test]
    fn encodings() {
        let ids = [1, 1, 3, i64::MAX, 0, 2];
        let rows = Rows {
            ids: &ids,
            offsets: &[0, 4, 4, 6],
        };
        assert_eq!(
            rows_of(rows, 4, RowMode::MultiHot).unwrap(),
            [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0]
        );
        assert_eq!(
            rows_of(rows, 4, RowMode::Count).unwrap(),
            [0, 2, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0]
        );
        let mut t = vec![9.0f32; 12];
        encode_tf_idf(rows, 4, &[0.5, 2.0, 1.0, 3.0], &mut t).unwrap();
        assert_eq!(
            t,
            [0.0, 4.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.0]
        );
        assert!(encode_tf_idf(rows, 4, &[1.0], &mut t).is_err());
        assert!(encode_tf_idf(rows, 4, &[1.0; 4], &mut t[..11]).is_err());
        let mut oh = vec![5i64; 6];
        one_hot(&[2, -1], 3, &mut oh).unwrap();
        assert_eq!(oh, [0, 0, 1, 0, 0, 0]);
        let mut pad = vec![5i64; 9];
        pad_rows(rows, 3, &mut pad).unwrap();
        assert_eq!(pad, [1, 1, 3, 0, 0, 0, 0, 2, 0]);
        let bad = Rows {
            ids: &ids,
            offsets: &[0, 7],
        };
        assert!(rows_of(bad, 4, RowMode::Count).is_err());
    }

    #[test]
    fn parallel_rows_equal_serial() {
        let ids: Vec<i64> = (0..300_000).map(|i| (i * 7919) % 50).collect();
        let offsets: Vec<usize> = (0..=3000).map(|r| r * 100).collect();
        let rows = Rows {
            ids: &ids,
            offsets: &offsets,
        };
        let par = rows_of(rows, 64, RowMode::Count).unwrap();
        let mut tf = vec![0.0f32; 3000 * 64];
        let idf: Vec<f32> = (0..64).map(|i| 0.1 + i as f32 / 7.0).collect();
        encode_tf_idf(rows, 64, &idf, &mut tf).unwrap();
        assert!(tf
            .iter()
            .zip(&par)
            .enumerate()
            .all(|(i, (&t, &c))| t == c as f32 * idf[i % 64]));
        for r in [0usize, 1234, 2999] {
            let mut want = vec![0i64; 64];
            for &i in &ids[r * 100..(r + 1) * 100] {
                want[i as usize] += 1;
            }
            assert_eq!(&par[r * 64..(r + 1) * 64], &want[..]);
        }
    }
}

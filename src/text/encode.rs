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

use crate::error::{Error, Result};
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

fn alloc<T: Clone + Default>(op: &str, rows: usize, depth: usize) -> Result<Vec<T>> {
    let n = rows
        .checked_mul(depth)
        .ok_or_else(|| Error::memory(op, format!("{rows} rows of {depth} values overflow")))?;
    Ok(vec![T::default(); n])
}

fn fill_rows<T: Send>(
    out: &mut [T],
    depth: usize,
    rows: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    if depth == 0 {
        return;
    }
    if rows * depth >= 1 << 16 {
        threading::install(|| {
            out.par_chunks_mut(depth)
                .enumerate()
                .for_each(|(r, o)| f(r, o))
        });
    } else {
        out.chunks_mut(depth).enumerate().for_each(|(r, o)| f(r, o));
    }
}

/// Multi-hot or count rows (`rows.len() x depth`, int64).
pub fn encode_rows(rows: Rows<'_>, depth: usize, mode: RowMode) -> Result<Vec<i64>> {
    rows.check("encode_rows")?;
    let mut out = alloc::<i64>("encode_rows", rows.len(), depth)?;
    fill_rows(&mut out, depth, rows.len(), |r, o| {
        for &id in rows.row(r) {
            if id >= 0 && (id as u64) < depth as u64 {
                match mode {
                    RowMode::MultiHot => o[id as usize] = 1,
                    RowMode::Count => o[id as usize] += 1,
                }
            }
        }
    });
    Ok(out)
}

/// TF-IDF rows: `float32(count) * idf[j]` (`idf` has at least `depth` weights).
pub fn encode_tf_idf(rows: Rows<'_>, depth: usize, idf: &[f32]) -> Result<Vec<f32>> {
    if idf.len() != depth {
        return Err(Error::shape(
            "encode_tf_idf",
            format!(
                "{} idf weights for an output of depth {depth}: expected one weight per column",
                idf.len()
            ),
        ));
    }
    let counts = encode_rows(rows, depth, RowMode::Count)?;
    let mut out = alloc::<f32>("encode_tf_idf", rows.len(), depth)?;
    for (o, c) in out
        .chunks_mut(depth.max(1))
        .zip(counts.chunks(depth.max(1)))
    {
        for ((o, &c), &w) in o.iter_mut().zip(c).zip(idf) {
            *o = c as f32 * w;
        }
    }
    Ok(out)
}

/// One-hot rows, one per id (`ids.len() x depth`, int64).
pub fn one_hot(ids: &[i64], depth: usize) -> Result<Vec<i64>> {
    let mut out = alloc::<i64>("one_hot", ids.len(), depth)?;
    fill_rows(&mut out, depth, ids.len(), |r, o| {
        let id = ids[r];
        if id >= 0 && (id as u64) < depth as u64 {
            o[id as usize] = 1;
        }
    });
    Ok(out)
}

/// Rows padded with 0 (or cut) to `width` (`rows.len() x width`).
pub fn pad_rows(rows: Rows<'_>, width: usize) -> Result<Vec<i64>> {
    rows.check("pad_rows")?;
    let mut out = alloc::<i64>("pad_rows", rows.len(), width)?;
    fill_rows(&mut out, width, rows.len(), |r, o| {
        let row = rows.row(r);
        let n = row.len().min(width);
        o[..n].copy_from_slice(&row[..n]);
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let ids = [1, 1, 3, i64::MAX, 0, 2];
        let rows = Rows {
            ids: &ids,
            offsets: &[0, 4, 4, 6],
        };
        assert_eq!(
            encode_rows(rows, 4, RowMode::MultiHot).unwrap(),
            [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0]
        );
        assert_eq!(
            encode_rows(rows, 4, RowMode::Count).unwrap(),
            [0, 2, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0]
        );
        let t = encode_tf_idf(rows, 4, &[0.5, 2.0, 1.0, 3.0]).unwrap();
        assert_eq!(
            t,
            [0.0, 4.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.0]
        );
        assert!(encode_tf_idf(rows, 4, &[1.0]).is_err());
        assert_eq!(one_hot(&[2, -1], 3).unwrap(), [0, 0, 1, 0, 0, 0]);
        assert_eq!(pad_rows(rows, 3).unwrap(), [1, 1, 3, 0, 0, 0, 0, 2, 0]);
        let bad = Rows {
            ids: &ids,
            offsets: &[0, 7],
        };
        assert!(encode_rows(bad, 4, RowMode::Count).is_err());
    }

    #[test]
    fn parallel_rows_equal_serial() {
        let ids: Vec<i64> = (0..300_000).map(|i| (i * 7919) % 50).collect();
        let offsets: Vec<usize> = (0..=3000).map(|r| r * 100).collect();
        let rows = Rows {
            ids: &ids,
            offsets: &offsets,
        };
        let par = encode_rows(rows, 64, RowMode::Count).unwrap();
        for r in [0usize, 1234, 2999] {
            let mut want = vec![0i64; 64];
            for &i in &ids[r * 100..(r + 1) * 100] {
                want[i as usize] += 1;
            }
            assert_eq!(&par[r * 64..(r + 1) * 64], &want[..]);
        }
    }
}

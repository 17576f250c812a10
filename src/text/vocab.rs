//! Vocabularies of the lookup layers: the index table (token -> id, id -> token) with Keras'
//! mask and out-of-vocabulary rules, the [`Key`] types, and the IDF weights (the counter `adapt`
//! fills is in [`super::count`]).
//!
//! Keras (`IndexLookup`, 3.15) numbers a vocabulary as `[mask][oov x num_oov_indices][tokens]`:
//! the mask token (only in "int" mode) maps to 0 (to `i64::MAX`, dropped by the encoders, in the
//! other modes), an unknown token to `oov_start` when there is one OOV index, to
//! `oov_start + bucket` with several (`fingerprint64(bytes) % n` for strings, `floormod(x, n)` or
//! the fingerprint of its decimal text for integers), and is an error with none.
//!

use std::borrow::Borrow;
use std::fmt::Debug;
use std::hash::Hash;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::farmhash::fingerprint64;
use crate::error::{Error, Result};
use crate::threading;

/// Below this many items, work stays on the calling thread.
const PAR_MIN: usize = 4096;

/// A vocabulary key: strings (`StringLookup`, `TextVectorization`) or integers (`IntegerLookup`).
pub trait Key: Hash + Eq + Ord + Clone + Send + Sync + Debug + Borrow<Self::Ref> {
    /// The borrowed form looked up (`str` for `String`).
    type Ref: ?Sized + Hash + Eq + Sync + Debug + ToOwned<Owned = Self>;
    /// The OOV bucket of `r` among `n` (n >= 2).
    fn bucket(r: &Self::Ref, n: u64, farmhash: bool) -> u64;
    /// Calls `f` on the bytes that stand for `r` in the adapt counter's table.
    fn with_bytes<R>(r: &Self::Ref, f: impl FnOnce(&[u8]) -> R) -> R;
    /// The key whose bytes (from [`Key::with_bytes`]) are `b`.
    fn from_bytes(b: &[u8]) -> Self;
}

impl Key for String {
    type Ref = str;
    fn bucket(r: &str, n: u64, _farmhash: bool) -> u64 {
        fingerprint64(r.as_bytes()) % n
    }
    fn with_bytes<R>(r: &str, f: impl FnOnce(&[u8]) -> R) -> R {
        f(r.as_bytes())
    }
    fn from_bytes(b: &[u8]) -> Self {
        // the bytes were a `str`'s, so this never replaces anything
        String::from_utf8_lossy(b).into_owned()
    }
}

impl Key for i64 {
    type Ref = i64;
    fn bucket(r: &i64, n: u64, farmhash: bool) -> u64 {
        if farmhash {
            fingerprint64(r.to_string().as_bytes()) % n
        } else {
            r.rem_euclid(n as i64) as u64
        }
    }
    fn with_bytes<R>(r: &i64, f: impl FnOnce(&[u8]) -> R) -> R {
        f(&r.to_le_bytes())
    }
    fn from_bytes(b: &[u8]) -> Self {
        let mut a = [0u8; 8];
        let n = b.len().min(8);
        a[..n].copy_from_slice(&b[..n]);
        i64::from_le_bytes(a)
    }
}

/// How a table numbers the special entries (see the module docs).
#[derive(Clone, Debug)]
pub struct LookupSpec<K> {
    /// The mask token and the id it maps to.
    pub mask: Option<(K, i64)>,
    pub num_oov: usize,
    pub oov_start: i64,
    /// Bucket integer keys by fingerprint instead of floormod (`oov_method="farmhash"`).
    pub farmhash: bool,
}

impl<K> LookupSpec<K> {
    /// The id of the first learned token.
    pub fn token_start(&self) -> i64 {
        self.oov_start + self.num_oov as i64
    }
}

/// A token -> id table.
#[derive(Clone, Debug)]
pub struct IndexTable<K: Key> {
    tokens: Vec<K>,
    index: FxHashMap<K, i64>,
    spec: LookupSpec<K>,
}

impl<K: Key> IndexTable<K> {
    /// The table of `tokens` (without the special entries), numbered from `token_start`.
    pub fn new(tokens: Vec<K>, spec: LookupSpec<K>) -> Result<Self> {
        let start = spec.token_start();
        let mut index = FxHashMap::default();
        index.reserve(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            if index.insert(t.clone(), start + i as i64).is_some() {
                return Err(Error::value(
                    "IndexLookup",
                    format!("the vocabulary repeats the term {t:?}; every term must be unique"),
                ));
            }
        }
        Ok(IndexTable {
            tokens,
            index,
            spec,
        })
    }

    /// The learned tokens, in id order.
    pub fn tokens(&self) -> &[K] {
        &self.tokens
    }

    pub fn spec(&self) -> &LookupSpec<K> {
        &self.spec
    }

    /// The id of one value, -1 for an unknown value when there is no OOV index.
    #[inline]
    pub fn id(&self, r: &K::Ref) -> i64 {
        if let Some((m, v)) = &self.spec.mask {
            if m.borrow() == r {
                return *v;
            }
        }
        match self.index.get(r) {
            Some(&i) => i,
            None => match self.spec.num_oov {
                0 => -1,
                1 => self.spec.oov_start,
                n => self.spec.oov_start + K::bucket(r, n as u64, self.spec.farmhash) as i64,
            },
        }
    }

    /// The ids of `values` (`get` borrows the key of each); an unknown value with no OOV index
    /// is an error naming the first few.
    pub fn lookup<T: Sync>(
        &self,
        values: &[T],
        get: impl Fn(&T) -> &K::Ref + Sync,
    ) -> Result<Vec<i64>> {
        let ids: Vec<i64> = if values.len() >= PAR_MIN {
            threading::install(|| values.par_iter().map(|v| self.id(get(v))).collect())
        } else {
            values.iter().map(|v| self.id(get(v))).collect()
        };
        if self.spec.num_oov == 0 && ids.contains(&-1) {
            let bad: Vec<&K::Ref> = values
                .iter()
                .zip(&ids)
                .filter(|(_, &i)| i == -1)
                .map(|(v, _)| get(v))
                .take(5)
                .collect();
            return Err(Error::value(
                "IndexLookup",
                format!(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV \
                     values {bad:?}, consider setting `num_oov_indices=1`."
                ),
            ));
        }
        Ok(ids)
    }

    /// The tokens of `ids` (`invert=True`): `mask_token` for 0 when given, `oov` for ids that
    /// name no learned token.
    pub fn invert(&self, ids: &[i64], mask_token: Option<&K>, oov: &K) -> Vec<K> {
        let start = self.spec.token_start();
        ids.iter()
            .map(|&i| match mask_token {
                Some(m) if i == 0 => m.clone(),
                _ => {
                    let k = i.wrapping_sub(start);
                    if (0..self.tokens.len() as i64).contains(&k) {
                        self.tokens[k as usize].clone()
                    } else {
                        oov.clone()
                    }
                }
            })
            .collect()
    }
}

/// Keras' inverse document frequency, `log(1 + n / (1 + df))` in f64 then rounded to f32, and
/// the OOV weight: their float32 mean as TensorFlow's `reduce_mean` computes it ([`tf_mean_f32`]).
pub fn idf_weights(doc_counts: &[u64], num_documents: u64) -> (Vec<f32>, f32) {
    let w: Vec<f32> = doc_counts
        .iter()
        .map(|&d| (1.0 + num_documents as f64 / (1.0 + d as f64)).ln() as f32)
        .collect();
    let mean = tf_mean_f32(&w);
    (w, mean)
}

/// Lanes of one AVX packet and the leaf size of Eigen's tree reduction for f32.
const PACKET: usize = 8;
const LEAF: usize = 1024;

/// The mean of `w` rounded exactly as TensorFlow's CPU `reduce_mean` on float32 rounds it: an
/// Eigen sum (blocks over `PACKET * LEAF` values split in two at a packet boundary, recursively;
/// a leaf sums 4 packet accumulators over blocks of 32, then whole packets into the first, then
/// the tail into a scalar, and adds the scalar to the packet's horizontal sum), divided in f32 by
/// the count. An f64 mean differs in the last bit on about one vector in three; this matched
/// TensorFlow 2.21 on every length measured (1 to 20000).
pub fn tf_mean_f32(w: &[f32]) -> f32 {
    if w.is_empty() {
        return f32::NAN;
    }
    eigen_sum(w, 0, w.len()) / w.len() as f32
}

fn eigen_sum(w: &[f32], first: usize, n: usize) -> f32 {
    if n > PACKET * LEAF {
        let split = PACKET * (first + n.div_ceil(2)).div_ceil(PACKET);
        let n_left = (split - first).min(n);
        let mut acc = 0.0f32 + eigen_sum(w, first, n_left);
        if n_left < n {
            acc += eigen_sum(w, split, n - n_left);
        }
        return acc;
    }
    eigen_leaf(&w[first..first + n])
}

fn eigen_leaf(w: &[f32]) -> f32 {
    let n = w.len();
    let add = |acc: &mut [f32; PACKET], x: &[f32]| {
        for (a, &v) in acc.iter_mut().zip(x) {
            *a += v;
        }
    };
    let mut p0 = [0.0f32; PACKET];
    let mut start = 0;
    if n >= 4 * PACKET {
        let (mut p1, mut p2, mut p3) = ([0.0f32; PACKET], [0.0f32; PACKET], [0.0f32; PACKET]);
        let v4 = n / (4 * PACKET) * (4 * PACKET);
        // label: blocks of four packets, one accumulator each
        for j in (0..v4).step_by(4 * PACKET) {
            add(&mut p0, &w[j..]);
            add(&mut p1, &w[j + PACKET..]);
            add(&mut p2, &w[j + 2 * PACKET..]);
            add(&mut p3, &w[j + 3 * PACKET..]);
        }
        add(&mut p0, &p1);
        add(&mut p0, &p2);
        add(&mut p0, &p3);
        start = v4;
    }
    let vs = n / PACKET * PACKET;
    // label: the remaining whole packets
    for j in (start..vs).step_by(PACKET) {
        add(&mut p0, &w[j..]);
    }
    start = start.max(vs);
    let mut tail = 0.0f32;
    for &v in &w[start..] {
        tail += v;
    }
    // AVX horizontal sum: halves, then (b0 + b2) + (b1 + b3)
    let b: Vec<f32> = (0..4).map(|i| p0[i] + p0[i + 4]).collect();
    tail + ((b[0] + b[2]) + (b[1] + b[3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn table_mask_oov_and_invert() {
        let spec = LookupSpec {
            mask: Some((String::new(), 0)),
            num_oov: 2,
            oov_start: 1,
            farmhash: false,
        };
        let t = IndexTable::new(strings(&["a", "b"]), spec).unwrap();
        let ids = t.lookup(&["a", "", "b", "zzz"], |s| *s).unwrap();
        assert_eq!(&ids[..3], &[3, 0, 4]);
        assert!(ids[3] == 1 || ids[3] == 2);
        let inv = t.invert(&[0, 1, 3, 4, 9], Some(&String::new()), &"[UNK]".to_string());
        assert_eq!(inv, strings(&["", "[UNK]", "a", "b", "[UNK]"]));
        assert!(IndexTable::new(strings(&["a", "a"]), t.spec().clone()).is_err());
    }

    #[test]
    fn no_oov_index_rejects_unknown_values() {
        let spec = LookupSpec {
            mask: None,
            num_oov: 0,
            oov_start: 0,
            farmhash: false,
        };
        let t = IndexTable::new(vec![5i64, 7], spec).unwrap();
        assert_eq!(t.lookup(&[7i64, 5], |v| v).unwrap(), [1, 0]);
        assert!(t.lookup(&[6i64], |v| v).is_err());
        assert_eq!(i64::bucket(&-3, 2, false), 1);
    }

    #[test]
    fn idf_matches_keras() {
        // TextVectorization(output_mode="tf_idf") adapted on 4 documents (measured in Keras)
        let (w, mean) = idf_weights(&[3, 2, 1], 4);
        assert_eq!(w, [std::f32::consts::LN_2, 0.847_297_85, 1.098_612_3]);
        assert!((mean - 0.879_685_8).abs() < 1e-6);
    }

    #[test]
    fn tf_mean_rounds_as_tensorflow() {
        // the tv_tf_idf fixture's 59 weights average to 1.9975679 in TensorFlow (f64: 1.9975678)
        let mut w = vec![1.0f32; 59];
        w[0] = 0.5;
        w[58] = 1e-3;
        let s: f32 = tf_mean_f32(&w) * 59.0;
        assert!((s - 57.501).abs() < 1e-3);
        assert!(tf_mean_f32(&[]).is_nan());
        let big: Vec<f32> = (0..20_000).map(|i| (i % 13) as f32 * 0.25).collect();
        let exact = big.iter().map(|&x| x as f64).sum::<f64>() / 20_000.0;
        assert!((tf_mean_f32(&big) as f64 - exact).abs() < 1e-5);
    }
}

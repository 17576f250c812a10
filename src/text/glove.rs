//! GloVe word vectors (Pennington, Socher & Manning, 2014): a corpus of word ids, its windowed
//! co-occurrence counts, and the weighted least-squares fit of log counts trained with AdaGrad.
//!
//! Math: for each pair of a word `i` and a context word `j` at distance `d <= window` inside one
//! document, `X[i][j] += 1/d` (or `+= 1` without distance weighting), and `X[j][i]` as well when
//! the window is symmetric. Training minimises
//! `J = sum_{X_ij > 0} f(X_ij) (w_i . c_j + b_i + b'_j - ln X_ij)^2 / 2`,
//! `f(x) = (x / x_max)^alpha` below `x_max`, else 1, one AdaGrad step per non-zero entry
//! (gradient-square accumulators start at 1, as in the reference C code). The reported loss of an
//! epoch is `J / nnz` accumulated during the pass.
//!
//! Layout: the vocabulary is ordered by count, high to low, ties by the word's UTF-8 bytes, low
//! to high; words below `min_count` (or past `max_vocab`) are dropped from the documents before
//! windowing, so they take no window position (as GloVe's `cooccur` skips them). Documents never
//! share a window. Parameters are one row-major `(2V, dim)` matrix, rows `0..V` the word vectors
//! and `V..2V` the context vectors, and `2V` biases.
//!
//! Determinism: counts are summed per fixed block of documents, the blocks merged in order, so
//! they do not depend on the thread count. Training is stratified SGD: entries are split into
//! `STRATA x STRATA` blocks by `(i % STRATA, j % STRATA)`; an epoch runs `STRATA` rounds, and in
//! round `r` the blocks `(t, (t + r) % STRATA)` touch disjoint word rows and disjoint context rows,
//! so they run in parallel without locks and give the same bits for any thread count (each block
//! is visited in an order shuffled from `(seed, epoch, block)`).

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::ops::{bits, unit};
use crate::threading;

/// Documents per counting block (fixed, so sums never depend on the thread count).
const DOC_BLOCK: usize = 2048;
/// Word groups of the stratified schedule (`STRATA^2` blocks, `STRATA` independent per round).
pub const STRATA: usize = 8;

/// Calls its `FnMut(&str)` on each token of document `k`, in order.
pub type Visit<'a> = dyn Fn(usize, &mut dyn FnMut(&str)) + Sync + 'a;

/// A corpus as word ids: document `k` is `ids[offsets[k]..offsets[k + 1]]`.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub vocab: Vec<String>,
    pub counts: Vec<u64>,
    pub ids: Vec<u32>,
    pub offsets: Vec<usize>,
}

impl Corpus {
    /// Builds the vocabulary and the id documents from `n_docs` documents, `visit(k, f)` calling
    /// `f` on each token of document `k` in order (it is called twice per document: once to
    /// count, once to encode, so memory stays bounded by the vocabulary plus the ids).
    pub fn build(
        n_docs: usize,
        visit: &Visit<'_>,
        min_count: u64,
        max_vocab: Option<usize>,
    ) -> Result<Self> {
        let blocks = n_docs.div_ceil(DOC_BLOCK);
        let mut partial: Vec<FxHashMap<String, u64>> =
            (0..blocks).map(|_| FxHashMap::default()).collect();
        let slots = SendPtr(partial.as_mut_ptr());
        threading::for_each_task(blocks, |b| {
            // SAFETY: each task writes only its own slot `b` of `partial`, which outlives the call.
            let map = unsafe { &mut *slots.get().add(b) };
            for k in b * DOC_BLOCK..((b + 1) * DOC_BLOCK).min(n_docs) {
                visit(k, &mut |t| {
                    if let Some(c) = map.get_mut(t) {
                        *c += 1;
                    } else {
                        map.insert(t.to_string(), 1);
                    }
                });
            }
        });
        let mut total: FxHashMap<String, u64> = FxHashMap::default();
        for map in partial {
            for (t, c) in map {
                *total.entry(t).or_insert(0) += c;
            }
        }
        let mut words: Vec<(String, u64)> =
            total.into_iter().filter(|(_, c)| *c >= min_count).collect();
        words.sort_unstable_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
        });
        if let Some(m) = max_vocab {
            words.truncate(m);
        }
        if words.is_empty() {
            return Err(Error::value(
                "GloVe",
                format!("the corpus has no word occurring at least min_count={min_count} times"),
            ));
        }
        if words.len() > u32::MAX as usize / 2 {
            return Err(Error::value(
                "GloVe",
                format!("a vocabulary of {} words is too large", words.len()),
            ));
        }
        let index: FxHashMap<&str, u32> = words
            .iter()
            .enumerate()
            .map(|(i, (w, _))| (w.as_str(), i as u32))
            .collect();
        let mut docs: Vec<Vec<(usize, Vec<u32>)>> = (0..blocks).map(|_| Vec::new()).collect();
        let slots = SendPtr(docs.as_mut_ptr());
        threading::for_each_task(blocks, |b| {
            // SAFETY: each task writes only its own slot `b` of `docs`, which outlives the call.
            let out = unsafe { &mut *slots.get().add(b) };
            for k in b * DOC_BLOCK..((b + 1) * DOC_BLOCK).min(n_docs) {
                let mut doc = Vec::new();
                visit(k, &mut |t| {
                    if let Some(&i) = index.get(t) {
                        doc.push(i);
                    }
                });
                out.push((k, doc));
            }
        });
        let mut ids = Vec::new();
        let mut offsets = Vec::with_capacity(n_docs + 1);
        offsets.push(0);
        for block in docs {
            for (_, doc) in block {
                ids.extend_from_slice(&doc);
                offsets.push(ids.len());
            }
        }
        let (vocab, counts) = words.into_iter().unzip();
        Ok(Corpus {
            vocab,
            counts,
            ids,
            offsets,
        })
    }

    pub fn n_docs(&self) -> usize {
        self.offsets.len() - 1
    }
}

/// Non-zero co-occurrence counts, sorted by (row, col).
#[derive(Debug, Clone, Default)]
pub struct Cooccurrence {
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
}

/// Counts co-occurrences within `window` words (see the module docs).
pub fn cooccurrence(
    corpus: &Corpus,
    window: usize,
    symmetric: bool,
    distance_weighting: bool,
) -> Result<Cooccurrence> {
    if window == 0 {
        return Err(Error::value("GloVe", "window_size must be at least 1"));
    }
    let n_docs = corpus.n_docs();
    let blocks = n_docs.div_ceil(DOC_BLOCK);
    let mut partial: Vec<FxHashMap<u64, f64>> = (0..blocks).map(|_| FxHashMap::default()).collect();
    let slots = SendPtr(partial.as_mut_ptr());
    threading::for_each_task(blocks, |b| {
        // SAFETY: each task writes only its own slot `b` of `partial`, which outlives the call.
        let map = unsafe { &mut *slots.get().add(b) };
        for k in b * DOC_BLOCK..((b + 1) * DOC_BLOCK).min(n_docs) {
            let doc = &corpus.ids[corpus.offsets[k]..corpus.offsets[k + 1]];
            for (pos, &w) in doc.iter().enumerate() {
                for d in 1..=window.min(pos) {
                    let c = doc[pos - d];
                    let inc = if distance_weighting {
                        1.0 / d as f64
                    } else {
                        1.0
                    };
                    *map.entry(((w as u64) << 32) | c as u64).or_insert(0.0) += inc;
                    if symmetric {
                        *map.entry(((c as u64) << 32) | w as u64).or_insert(0.0) += inc;
                    }
                }
            }
        }
    });
    let mut total: FxHashMap<u64, f64> = FxHashMap::default();
    for map in partial {
        // a block's own entries are summed in document order; blocks add in block order
        let mut entries: Vec<(u64, f64)> = map.into_iter().collect();
        entries.sort_unstable_by_key(|e| e.0);
        for (key, v) in entries {
            *total.entry(key).or_insert(0.0) += v;
        }
    }
    let mut entries: Vec<(u64, f64)> = total.into_iter().collect();
    entries.sort_unstable_by_key(|e| e.0);
    let mut out = Cooccurrence {
        rows: Vec::with_capacity(entries.len()),
        cols: Vec::with_capacity(entries.len()),
        vals: Vec::with_capacity(entries.len()),
    };
    for (key, v) in entries {
        out.rows.push((key >> 32) as u32);
        out.cols.push(key as u32);
        out.vals.push(v);
    }
    Ok(out)
}

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy)]
pub struct TrainSpec {
    pub learning_rate: f32,
    pub x_max: f64,
    pub alpha: f64,
}

/// The parameters and AdaGrad state of a GloVe model.
#[derive(Debug, Clone)]
pub struct Glove {
    pub vocab_size: usize,
    pub dim: usize,
    /// `(2V, dim)`: word vectors, then context vectors.
    pub w: Vec<f32>,
    /// `2V` biases: words, then contexts.
    pub b: Vec<f32>,
    gw: Vec<f32>,
    gb: Vec<f32>,
    /// Entry indices of each stratum, `STRATA * STRATA` lists.
    strata: Vec<Vec<u32>>,
    log_x: Vec<f32>,
    weight: Vec<f32>,
    rows: Vec<u32>,
    cols: Vec<u32>,
    seed: u64,
    epoch: u64,
}

impl Glove {
    /// Parameters drawn uniformly from `(-0.5, 0.5) / dim` (the reference initialisation).
    pub fn new(vocab_size: usize, dim: usize, seed: u64) -> Result<Self> {
        if vocab_size == 0 || dim == 0 {
            return Err(Error::value(
                "GloVe",
                format!("needs a vocabulary and a positive dimension; received vocab_size={vocab_size}, dim={dim}"),
            ));
        }
        let n = 2 * vocab_size * dim;
        let key = bits(seed, u64::MAX);
        let w = (0..n)
            .map(|i| ((unit(bits(key, i as u64)) - 0.5) / dim as f64) as f32)
            .collect();
        let b = (0..2 * vocab_size)
            .map(|i| ((unit(bits(key, (n + i) as u64)) - 0.5) / dim as f64) as f32)
            .collect();
        Ok(Glove {
            vocab_size,
            dim,
            w,
            b,
            gw: vec![1.0; n],
            gb: vec![1.0; 2 * vocab_size],
            strata: Vec::new(),
            log_x: Vec::new(),
            weight: Vec::new(),
            rows: Vec::new(),
            cols: Vec::new(),
            seed,
            epoch: 0,
        })
    }

    /// Sets the co-occurrence entries to fit, with their weights `f(X)` and targets `ln X`.
    pub fn set_cooccurrence(&mut self, cooc: &Cooccurrence, x_max: f64, alpha: f64) -> Result<()> {
        if !(x_max > 0.0 && x_max.is_finite() && alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::value(
                "GloVe",
                format!("x_max must be positive and alpha non-negative; received x_max={x_max}, alpha={alpha}"),
            ));
        }
        let v = self.vocab_size as u32;
        if cooc.rows.iter().chain(&cooc.cols).any(|&i| i >= v) {
            return Err(Error::index(
                "GloVe",
                format!("a co-occurrence index is outside the vocabulary of {v}"),
            ));
        }
        let mut strata = vec![Vec::new(); STRATA * STRATA];
        for (e, (&i, &j)) in cooc.rows.iter().zip(&cooc.cols).enumerate() {
            strata[(i as usize % STRATA) * STRATA + j as usize % STRATA].push(e as u32);
        }
        self.strata = strata;
        self.log_x = cooc.vals.iter().map(|&x| x.ln() as f32).collect();
        self.weight = cooc
            .vals
            .iter()
            .map(|&x| {
                if x < x_max {
                    (x / x_max).powf(alpha) as f32
                } else {
                    1.0
                }
            })
            .collect();
        self.rows = cooc.rows.clone();
        self.cols = cooc.cols.clone();
        Ok(())
    }

    /// One pass over every entry; returns the mean loss `J / nnz` of the pass.
    pub fn train_epoch(&mut self, learning_rate: f32) -> Result<f64> {
        if self.rows.is_empty() {
            return Err(Error::value(
                "GloVe",
                "no co-occurrence entries to train on (count them first)",
            ));
        }
        if !(learning_rate > 0.0 && learning_rate.is_finite()) {
            return Err(Error::value(
                "GloVe",
                format!("learning_rate must be positive; received {learning_rate}"),
            ));
        }
        let epoch_key = bits(self.seed, self.epoch);
        self.epoch += 1;
        // shuffle every stratum (Fisher-Yates from the counter generator)
        let strata = SendPtr(self.strata.as_mut_ptr());
        threading::for_each_task(STRATA * STRATA, |s| {
            // SAFETY: task `s` owns stratum `s` only.
            let list = unsafe { &mut *strata.get().add(s) };
            let key = bits(epoch_key, s as u64);
            for k in (1..list.len()).rev() {
                let r = (unit(bits(key, k as u64)) * (k + 1) as f64) as usize;
                list.swap(k, r.min(k));
            }
        });
        let v = self.vocab_size;
        let dim = self.dim;
        let mut losses = vec![0.0f64; STRATA * STRATA];
        let (w, b, gw, gb) = (
            SendPtr(self.w.as_mut_ptr()),
            SendPtr(self.b.as_mut_ptr()),
            SendPtr(self.gw.as_mut_ptr()),
            SendPtr(self.gb.as_mut_ptr()),
        );
        let loss_slots = SendPtr(losses.as_mut_ptr());
        let (order, rows, cols, log_x, weight) = (
            &self.strata,
            &self.rows,
            &self.cols,
            &self.log_x,
            &self.weight,
        );
        for round in 0..STRATA {
            threading::for_each_task(STRATA, |t| {
                let s = t * STRATA + (t + round) % STRATA;
                let mut loss = 0.0f64;
                for &e in &order[s] {
                    let e = e as usize;
                    let (i, j) = (rows[e] as usize, v + cols[e] as usize);
                    // SAFETY: in this round task `t` is the only one touching word rows `i` with
                    // `i % STRATA == t` and context rows `j` with `(j - V) % STRATA == (t + round)
                    // % STRATA` (the rows, biases and accumulators of both); the buffers are
                    // `2V * dim` and `2V` long and outlive the call.
                    unsafe {
                        let wi = std::slice::from_raw_parts_mut(w.get().add(i * dim), dim);
                        let wj = std::slice::from_raw_parts_mut(w.get().add(j * dim), dim);
                        let gi = std::slice::from_raw_parts_mut(gw.get().add(i * dim), dim);
                        let gj = std::slice::from_raw_parts_mut(gw.get().add(j * dim), dim);
                        let (bi, bj) = (&mut *b.get().add(i), &mut *b.get().add(j));
                        let (gbi, gbj) = (&mut *gb.get().add(i), &mut *gb.get().add(j));
                        loss += step(
                            wi,
                            wj,
                            gi,
                            gj,
                            bi,
                            bj,
                            gbi,
                            gbj,
                            log_x[e],
                            weight[e],
                            learning_rate,
                        );
                    }
                }
                // SAFETY: slot `s` is written by this task only.
                unsafe { *loss_slots.get().add(s) += loss };
            });
        }
        let total: f64 = losses.iter().sum();
        let nnz = self.rows.len() as f64;
        if !total.is_finite() {
            return Err(Error::value(
                "GloVe",
                "the loss became non-finite (lower the learning rate)".to_string(),
            ));
        }
        Ok(total / nnz)
    }

    /// The word vectors, the context vectors, or their sum (`kind` 0, 1, 2), `(V, dim)`.
    pub fn vectors(&self, kind: u8) -> Vec<f32> {
        let n = self.vocab_size * self.dim;
        let (word, ctx) = self.w.split_at(n);
        match kind {
            0 => word.to_vec(),
            1 => ctx.to_vec(),
            _ => word.iter().zip(ctx).map(|(a, c)| a + c).collect(),
        }
    }

    /// The word and context biases, `(V,)` each.
    pub fn biases(&self) -> (Vec<f32>, Vec<f32>) {
        let (a, c) = self.b.split_at(self.vocab_size);
        (a.to_vec(), c.to_vec())
    }
}

/// One AdaGrad step on one entry; returns its loss `f diff^2 / 2`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn step(
    wi: &mut [f32],
    wj: &mut [f32],
    gi: &mut [f32],
    gj: &mut [f32],
    bi: &mut f32,
    bj: &mut f32,
    gbi: &mut f32,
    gbj: &mut f32,
    log_x: f32,
    weight: f32,
    lr: f32,
) -> f64 {
    let dot: f32 = wi.iter().zip(wj.iter()).map(|(a, c)| a * c).sum();
    let diff = dot + *bi + *bj - log_x;
    let fdiff = weight * diff;
    let loss = 0.5 * (fdiff * diff) as f64;
    let g = lr * fdiff;
    for k in 0..wi.len() {
        let t1 = g * wj[k];
        let t2 = g * wi[k];
        wi[k] -= t1 / gi[k].sqrt();
        wj[k] -= t2 / gj[k].sqrt();
        gi[k] += t1 * t1;
        gj[k] += t2 * t2;
    }
    *bi -= g / gbi.sqrt();
    *bj -= g / gbj.sqrt();
    *gbi += g * g;
    *gbj += g * g;
    loss
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(docs: &[&str], min_count: u64) -> Corpus {
        let visit =
            |k: usize, f: &mut dyn FnMut(&str)| docs[k].split_whitespace().for_each(&mut *f);
        Corpus::build(docs.len(), &visit, min_count, None).unwrap()
    }

    #[test]
    fn vocabulary_order_and_oov_dropping() {
        let c = corpus(&["b a a c", "a b rare"], 2);
        assert_eq!(c.vocab, vec!["a", "b"]);
        assert_eq!(c.counts, vec![3, 2]);
        assert_eq!(c.ids, vec![1, 0, 0, 0, 1]);
        assert_eq!(c.offsets, vec![0, 3, 5]);
    }

    #[test]
    fn counts_match_a_direct_loop() {
        let docs = ["a b c a b", "c c a", "b"];
        let c = corpus(&docs, 1);
        let m = cooccurrence(&c, 2, true, true).unwrap();
        let v = c.vocab.len();
        let mut dense = vec![0.0; v * v];
        for k in 0..c.n_docs() {
            let d = &c.ids[c.offsets[k]..c.offsets[k + 1]];
            for p in 0..d.len() {
                for q in p.saturating_sub(2)..p {
                    let inc = 1.0 / (p - q) as f64;
                    dense[d[p] as usize * v + d[q] as usize] += inc;
                    dense[d[q] as usize * v + d[p] as usize] += inc;
                }
            }
        }
        let mut got = vec![0.0; v * v];
        for e in 0..m.vals.len() {
            got[m.rows[e] as usize * v + m.cols[e] as usize] = m.vals[e];
        }
        assert_eq!(got, dense);
        assert!(m
            .rows
            .windows(2)
            .zip(m.cols.windows(2))
            .all(|(r, c)| (r[0], c[0]) < (r[1], c[1])));
    }

    #[test]
    fn training_lowers_the_loss_and_is_thread_independent() {
        let docs: Vec<String> = (0..200)
            .map(|i| format!("w{} w{} w{} x y", i % 7, (i * 3) % 11, i % 5))
            .collect();
        let refs: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
        let c = corpus(&refs, 1);
        let m = cooccurrence(&c, 3, true, true).unwrap();
        let run = || {
            let mut g = Glove::new(c.vocab.len(), 8, 3).unwrap();
            g.set_cooccurrence(&m, 10.0, 0.75).unwrap();
            let losses: Vec<f64> = (0..30).map(|_| g.train_epoch(0.05).unwrap()).collect();
            (losses, g.vectors(2))
        };
        let (l1, v1) = run();
        assert!(l1[29] < 0.5 * l1[0], "{l1:?}");
        let before = threading::num_threads();
        threading::set_num_threads(1).unwrap();
        let (l2, v2) = run();
        threading::set_num_threads(before).unwrap();
        assert_eq!(l1, l2);
        assert_eq!(v1, v2);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(Glove::new(0, 4, 0).is_err());
        let c = corpus(&["a b"], 1);
        assert!(cooccurrence(&c, 0, true, true).is_err());
        let mut g = Glove::new(2, 4, 0).unwrap();
        assert!(g.train_epoch(0.1).is_err());
        let m = cooccurrence(&c, 1, true, true).unwrap();
        assert!(g.set_cooccurrence(&m, -1.0, 0.75).is_err());
        g.set_cooccurrence(&m, 100.0, 0.75).unwrap();
        assert!(g.train_epoch(f32::NAN).is_err());
        assert!(Corpus::build(1, &|_, _| {}, 1, None).is_err());
    }
}

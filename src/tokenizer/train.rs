//! Learning byte-level BPE merges from a corpus.
//!
//! 1. Counting: texts are pre-tokenized (in parallel on the shared pool) and only the distinct
//!    pieces and their counts are kept ([`PieceCounts`]), so memory is bounded by the number of
//!    distinct pieces, not by the corpus. Texts can be fed in batches.
//! 2. Merging: each distinct piece becomes a word of token ids with a weight. Pair counts live in
//!    a hash map, an index maps each pair to the words that (may) contain it, and a max-heap holds
//!    candidate pairs with lazy updates: a popped entry whose count is stale is pushed back with
//!    its current count. A merge only touches the words in its index entry and applies count
//!    deltas for the pairs that changed, so a merge costs time proportional to the occurrences it
//!    affects, never a full recount.
//!
//! Determinism: words are sorted by bytes, ties between equal counts go to the smallest
//! `(left id, right id)` pair, and parallel counting reduces in a fixed order, so the same corpus
//! gives the same vocabulary whatever the number of threads.
//!
//! Token ids: 0..256 are the single bytes in byte order; each merge appends the concatenation of
//! its pair. When a merge produces bytes that are already a token (two different pairs can
//! concatenate to the same bytes) the existing id is reused, so the vocabulary stays a valid rank
//! table (unique byte strings).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::pretokenize::Pretokenizer;
use crate::error::{Error, Result};
use crate::threading;

/// Distinct pre-tokenized pieces and their counts.
#[derive(Default, Debug)]
pub struct PieceCounts {
    counts: FxHashMap<Vec<u8>, u64>,
    bytes_seen: u64,
}

/// Chunk size for parallel counting of one long text.
const CHUNK: usize = 1 << 20;

/// Splits `text` into chunks of about [`CHUNK`] bytes at positions that are piece boundaries for
/// the preset patterns: right after a `\n` that follows a visible ASCII char and precedes an ASCII
/// letter. (For such a position every preset ends a piece with that `\n` and starts the next one
/// at the letter; a custom pattern may, rarely, split differently there.) The positions depend on
/// the text only, so counting is deterministic.
fn chunks(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while b.len() - start > CHUNK {
        let mut cut = None;
        let mut i = start + CHUNK;
        while i + 1 < b.len() {
            if b[i] == b'\n' && (0x21..0x7f).contains(&b[i - 1]) && b[i + 1].is_ascii_alphabetic() {
                cut = Some(i + 1);
                break;
            }
            i += 1;
        }
        match cut {
            Some(c) => {
                out.push(&text[start..c]);
                start = c;
            }
            None => break,
        }
    }
    out.push(&text[start..]);
    out
}

impl PieceCounts {
    /// Empty counts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pre-tokenizes `texts` with `pre` and adds their pieces to the counts.
    pub fn feed(&mut self, pre: &Pretokenizer, texts: &[&str]) -> Result<()> {
        let parts: Vec<&str> = texts.iter().flat_map(|t| chunks(t)).collect();
        fn count_one<'t>(pre: &Pretokenizer, t: &'t str) -> Result<FxHashMap<&'t [u8], u64>> {
            let mut m: FxHashMap<&'t [u8], u64> = FxHashMap::default();
            let bytes = t.as_bytes();
            pre.for_each_piece(t, |a, b| *m.entry(&bytes[a..b]).or_insert(0) += 1)?;
            Ok(m)
        }
        let maps: Vec<FxHashMap<&[u8], u64>> = if parts.len() > 1 && threading::num_threads() > 1 {
            threading::install(|| {
                parts
                    .par_iter()
                    .map(|t| count_one(pre, t))
                    .collect::<Result<Vec<_>>>()
            })?
        } else {
            parts
                .iter()
                .map(|t| count_one(pre, t))
                .collect::<Result<Vec<_>>>()?
        };
        for m in maps {
            for (k, v) in m {
                match self.counts.get_mut(k) {
                    Some(c) => *c += v,
                    None => {
                        self.counts.insert(k.to_vec(), v);
                    }
                }
            }
        }
        self.bytes_seen += texts.iter().map(|t| t.len() as u64).sum::<u64>();
        Ok(())
    }

    /// Number of distinct pieces.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Training parameters.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Number of mergeable tokens wanted, including the 256 single bytes.
    pub n_mergeable: usize,
    /// Stop when the best pair occurs fewer times than this.
    pub min_frequency: u64,
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

/// Learns merges; returns the token byte strings in rank order. `progress(done, total)` is called
/// every 256 merges and at the end; returning `false` stops training early (the tokens learned
/// so far are returned).
pub fn train(
    counts: &PieceCounts,
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<Vec<u8>>> {
    if cfg.n_mergeable < 256 {
        return Err(Error::value(
            "train",
            format!(
                "vocab_size leaves {} mergeable tokens; expected at least 256 (one per byte)",
                cfg.n_mergeable
            ),
        ));
    }
    if cfg.n_mergeable > u32::MAX as usize / 2 {
        return Err(Error::value(
            "train",
            format!("vocab_size {} is too large", cfg.n_mergeable),
        ));
    }
    let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut ids: FxHashMap<Vec<u8>, u32> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();

    let mut pieces: Vec<(&Vec<u8>, u64)> = counts.counts.iter().map(|(k, &v)| (k, v)).collect();
    pieces.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let weights: Vec<i64> = pieces.iter().map(|p| p.1 as i64).collect();
    let mut words: Vec<Vec<u32>> = pieces
        .iter()
        .map(|p| p.0.iter().map(|&b| b as u32).collect())
        .collect();
    drop(pieces);

    // Initial pair counts and index, in parallel over fixed word ranges, reduced in order.
    type Acc = (FxHashMap<u64, i64>, FxHashMap<u64, Vec<u32>>);
    let count_range = |range: std::ops::Range<usize>| -> Acc {
        let mut pc: FxHashMap<u64, i64> = FxHashMap::default();
        let mut wh: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for w in range {
            for p in words[w].windows(2) {
                let k = key(p[0], p[1]);
                *pc.entry(k).or_insert(0) += weights[w];
                let list = wh.entry(k).or_default();
                if list.last() != Some(&(w as u32)) {
                    list.push(w as u32);
                }
            }
        }
        (pc, wh)
    };
    let n_words = words.len();
    let step = n_words.div_ceil(16).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..n_words)
        .step_by(step)
        .map(|s| s..(s + step).min(n_words))
        .collect();
    let parts: Vec<Acc> = threading::install(|| ranges.into_par_iter().map(count_range).collect());
    let mut pair_counts: FxHashMap<u64, i64> = FxHashMap::default();
    let mut where_: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    for (pc, wh) in parts {
        for (k, v) in pc {
            *pair_counts.entry(k).or_insert(0) += v;
        }
        for (k, mut v) in wh {
            where_.entry(k).or_default().append(&mut v);
        }
    }
    let mut heap: BinaryHeap<(i64, Reverse<u64>)> =
        pair_counts.iter().map(|(&k, &c)| (c, Reverse(k))).collect();

    let total = cfg.n_mergeable - 256;
    let min_freq = cfg.min_frequency.max(1) as i64;
    let mut delta: FxHashMap<u64, i64> = FxHashMap::default();
    let mut merges_done = 0usize;
    while tokens.len() < cfg.n_mergeable {
        let Some((c, Reverse(p))) = heap.pop() else {
            break;
        };
        let cur = pair_counts.get(&p).copied().unwrap_or(0);
        if cur != c {
            if cur > 0 {
                heap.push((cur, Reverse(p)));
            }
            continue;
        }
        if c < min_freq {
            break;
        }
        let (a, b) = ((p >> 32) as u32, p as u32);
        let mut bytes = tokens[a as usize].clone();
        bytes.extend_from_slice(&tokens[b as usize]);
        let new = match ids.get(&bytes) {
            Some(&id) => id,
            None => {
                let id = tokens.len() as u32;
                ids.insert(bytes.clone(), id);
                tokens.push(bytes);
                id
            }
        };
        let mut affected = where_.remove(&p).unwrap_or_default();
        affected.sort_unstable();
        affected.dedup();
        for &w in &affected {
            let word = &mut words[w as usize];
            let wt = weights[w as usize];
            if !word.windows(2).any(|x| x[0] == a && x[1] == b) {
                continue; // stale index entry
            }
            for x in word.windows(2) {
                *delta.entry(key(x[0], x[1])).or_insert(0) -= wt;
            }
            // Merge left to right, non-overlapping, in place.
            let (mut i, mut j) = (0, 0);
            while i < word.len() {
                if i + 1 < word.len() && word[i] == a && word[i + 1] == b {
                    word[j] = new;
                    i += 2;
                } else {
                    word[j] = word[i];
                    i += 1;
                }
                j += 1;
            }
            word.truncate(j);
            for x in word.windows(2) {
                let k = key(x[0], x[1]);
                *delta.entry(k).or_insert(0) += wt;
                if x[0] == new || x[1] == new {
                    let list = where_.entry(k).or_default();
                    if list.last() != Some(&w) {
                        list.push(w);
                    }
                }
            }
        }
        for (k, d) in delta.drain() {
            if d == 0 {
                continue;
            }
            let e = pair_counts.entry(k).or_insert(0);
            *e += d;
            if d > 0 {
                heap.push((*e, Reverse(k)));
            } else if *e <= 0 {
                pair_counts.remove(&k);
            }
        }
        merges_done += 1;
        if merges_done.is_multiple_of(256) && !progress(tokens.len() - 256, total) {
            break;
        }
    }
    progress(tokens.len() - 256, total);
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::pretokenize::CL100K_PATTERN;

    #[test]
    fn learns_frequent_pairs_deterministically() {
        let pre = Pretokenizer::new(CL100K_PATTERN, true).unwrap();
        let mut c = PieceCounts::new();
        let text = "low lower lowest newer newest wider ".repeat(50);
        c.feed(&pre, &[&text]).unwrap();
        let cfg = TrainConfig {
            n_mergeable: 270,
            min_frequency: 2,
        };
        let a = train(&c, &cfg, &mut |_, _| true).unwrap();
        let b = train(&c, &cfg, &mut |_, _| true).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 270);
        // "we" occurs in four of the six words: it is the first merge.
        assert_eq!(a[256], b"we");
        assert!(a[256..].iter().any(|t| t == b" lowest"), "{:?}", &a[256..]);
        let unique: std::collections::HashSet<&Vec<u8>> = a.iter().collect();
        assert_eq!(unique.len(), a.len());
    }

    #[test]
    fn min_frequency_stops_early_and_small_vocab_is_an_error() {
        let pre = Pretokenizer::new(CL100K_PATTERN, true).unwrap();
        let mut c = PieceCounts::new();
        c.feed(&pre, &["ab ab cd"]).unwrap();
        let t = train(
            &c,
            &TrainConfig {
                n_mergeable: 1000,
                min_frequency: 2,
            },
            &mut |_, _| true,
        )
        .unwrap();
        assert_eq!(t.len(), 257); // only ("a", "b") occurs twice
        assert!(train(
            &c,
            &TrainConfig {
                n_mergeable: 10,
                min_frequency: 1
            },
            &mut |_, _| true
        )
        .is_err());
    }

    #[test]
    fn chunking_preserves_pieces() {
        let pre = Pretokenizer::new(CL100K_PATTERN, true).unwrap();
        let text = "Hello there.\nGeneral Kenobi!  \n\nyes\n".repeat(70000);
        let mut whole: FxHashMap<Vec<u8>, u64> = FxHashMap::default();
        pre.for_each_piece(&text, |a, b| {
            *whole.entry(text.as_bytes()[a..b].to_vec()).or_insert(0) += 1
        })
        .unwrap();
        let mut c = PieceCounts::new();
        c.feed(&pre, &[&text]).unwrap();
        assert!(chunks(&text).len() > 1);
        assert_eq!(c.counts, whole);
    }
}

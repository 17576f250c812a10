//! Byte-pair merging of one pre-tokenized piece, with tiktoken's rule: repeatedly merge the
//! adjacent pair whose concatenation has the lowest rank, the leftmost one on ties.
//!
//! Two implementations of that one rule, chosen by piece length:
//! - short pieces (the 1-20 bytes of nearly all real text): tiktoken's quadratic scan over a
//!   reused buffer of part ranks. For tiny n it beats any heap (no bookkeeping, all in L1).
//! - long pieces (> [`SMALL_PIECE`] bytes: a run of one character, a long number in a custom
//!   pattern, base64 blobs): a doubly linked list of parts and a priority queue of candidate
//!   merges ordered by `(rank, start index)`, which is exactly "lowest rank, leftmost on ties"
//!   because part start indices increase left to right. Candidates go stale when a neighbour
//!   merges; they are dropped when reached, after re-checking the pair's current rank (lazy
//!   deletion), so the loop is O(n log k) for k distinct ranks. The result equals the quadratic
//!   rule's (tested below on random vocabularies against a literal implementation of the rule).
//!
//!   The queue is a bucket queue: one position list per rank plus a small heap of ranks. A run of
//!   one character has only a handful of distinct ranks, so almost every operation is a vector
//!   push or read; a binary heap of (rank, position) keys over all n candidates was measured
//!   ~2x slower on a megabyte of one letter (cache misses in an 8 MB heap).
//!
//! Rejected alternative: the "backtracking" linear encoder (which needs an Aho-Corasick automaton
//! over the vocabulary and a compatibility table) is faster still on long pieces, but it costs
//! hundreds of MB and seconds to build for o200k, and long pieces are rare in real text.
//!
//! No allocation in the hot path: callers own a [`BpeScratch`] per thread and reuse it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use super::vocab::{Rank, Vocab};

/// Pieces up to this many bytes use the quadratic scan; longer ones the heap.
pub const SMALL_PIECE: usize = 64;

const NONE: Rank = Rank::MAX;

/// Reusable buffers for [`encode_piece`]; one per thread.
#[derive(Default, Debug)]
pub struct BpeScratch {
    parts: Vec<Rank>,
    pair_ranks: Vec<Rank>,
    next: Vec<u32>,
    prev: Vec<u32>,
    queue: Buckets,
}

/// Appends the tokens of `piece` to `out`. `piece` must be shorter than `u32::MAX` bytes (the
/// encoder checks this once per input).
pub fn encode_piece(vocab: &Vocab, piece: &[u8], out: &mut Vec<Rank>, s: &mut BpeScratch) {
    match piece.len() {
        0 => {}
        1 => out.push(vocab.byte_rank(piece[0])),
        // tiktoken emits a piece that is itself a token directly, before any merging.
        _ => match vocab.rank_of(piece) {
            Some(r) => out.push(r),
            None if piece.len() <= SMALL_PIECE => merge_small(vocab, piece, out, s),
            None => merge_heap(vocab, piece, out, s),
        },
    }
}

#[inline]
fn pair_rank(vocab: &Vocab, a: Rank, b: Rank) -> Rank {
    vocab.merge(a, b).unwrap_or(NONE)
}

fn merge_small(vocab: &Vocab, piece: &[u8], out: &mut Vec<Rank>, s: &mut BpeScratch) {
    let parts = &mut s.parts;
    let ranks = &mut s.pair_ranks;
    parts.clear();
    ranks.clear();
    parts.extend(piece.iter().map(|&b| vocab.byte_rank(b)));
    // ranks[k] is the rank of merging parts[k] and parts[k + 1]; the last entry is NONE.
    for k in 0..parts.len() - 1 {
        ranks.push(pair_rank(vocab, parts[k], parts[k + 1]));
    }
    ranks.push(NONE);
    loop {
        // Leftmost minimum: strict `<` keeps the first of equal ranks.
        let mut best = NONE;
        let mut at = 0;
        for (k, &r) in ranks.iter().enumerate() {
            if r < best {
                best = r;
                at = k;
            }
        }
        if best == NONE {
            break;
        }
        parts[at] = best;
        parts.remove(at + 1);
        ranks.remove(at + 1);
        ranks[at] = if at + 1 < parts.len() {
            pair_rank(vocab, parts[at], parts[at + 1])
        } else {
            NONE
        };
        if at > 0 {
            ranks[at - 1] = pair_rank(vocab, parts[at - 1], parts[at]);
        }
    }
    out.extend_from_slice(parts);
}

/// Adds candidate `(rank, at)` to its rank's bucket, registering the rank when the bucket was empty.
#[inline]
fn push_candidate(s: &mut Buckets, rank: Rank, at: u32) {
    let Buckets {
        buckets,
        pool,
        ranks,
    } = s;
    let b = buckets
        .entry(rank)
        .or_insert_with(|| pool.pop().unwrap_or_default());
    if b.is_empty() {
        ranks.push(Reverse(rank));
    }
    b.push(at);
}

/// Candidate merges grouped by rank: one position list per rank and a min-heap of the ranks.
#[derive(Default, Debug)]
struct Buckets {
    buckets: FxHashMap<Rank, Vec<u32>>,
    pool: Vec<Vec<u32>>,
    ranks: BinaryHeap<Reverse<Rank>>,
}

fn merge_heap(vocab: &Vocab, piece: &[u8], out: &mut Vec<Rank>, s: &mut BpeScratch) {
    let n = piece.len() as u32;
    let BpeScratch {
        parts,
        pair_ranks: pr,
        next,
        prev,
        queue,
    } = s;
    parts.clear();
    pr.clear();
    next.clear();
    prev.clear();
    queue.ranks.clear();
    for (_, mut v) in queue.buckets.drain() {
        v.clear();
        queue.pool.push(v);
    }
    parts.extend(piece.iter().map(|&b| vocab.byte_rank(b)));
    next.extend(1..=n);
    prev.extend((0..n).map(|i| i.wrapping_sub(1)));
    // pr[i] is the current rank of merging part i with the part after it (NONE if none), so a
    // candidate is checked with one array load instead of a hash lookup.
    for i in 0..n as usize {
        let r = if i + 1 < n as usize {
            pair_rank(vocab, parts[i], parts[i + 1])
        } else {
            NONE
        };
        pr.push(r);
        if r != NONE {
            push_candidate(queue, r, i as u32);
        }
    }
    // Invariant: the wave for rank r visits r's candidates in position order, and no merge in
    // the wave creates another pair of rank r (a new pair's bytes strictly contain the merged
    // token's bytes, so its rank differs). If a merge creates a pair of lower rank, the wave
    // stops and puts its remaining candidates back, so the order is exactly (rank, position).
    while let Some(Reverse(r)) = queue.ranks.pop() {
        let Some(mut wave) = queue.buckets.remove(&r) else {
            continue;
        };
        if !wave.is_sorted() {
            wave.sort_unstable();
        }
        let mut idx = 0;
        while idx < wave.len() {
            let i = wave[idx];
            idx += 1;
            // parts[i] == NONE marks a position that is no longer the start of a part.
            if parts[i as usize] == NONE || pr[i as usize] != r {
                continue; // stale candidate
            }
            let j = next[i as usize];
            parts[i as usize] = r;
            parts[j as usize] = NONE;
            let k = next[j as usize];
            next[i as usize] = k;
            let mut lower = false;
            let r1 = if k < n {
                prev[k as usize] = i;
                pair_rank(vocab, r, parts[k as usize])
            } else {
                NONE
            };
            pr[i as usize] = r1;
            if r1 != NONE {
                push_candidate(queue, r1, i);
                lower |= r1 < r;
            }
            let p = prev[i as usize];
            if p < n {
                let r2 = pair_rank(vocab, parts[p as usize], r);
                pr[p as usize] = r2;
                if r2 != NONE {
                    push_candidate(queue, r2, p);
                    lower |= r2 < r;
                }
            }
            if lower {
                for &rest in &wave[idx..] {
                    push_candidate(queue, r, rest);
                }
                break;
            }
        }
        wave.clear();
        queue.pool.push(wave);
    }
    let mut i = 0u32;
    while i < n {
        out.push(parts[i as usize]);
        i = next[i as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tiktoken's rule, literally: concatenate byte slices and look them up.
    fn reference(vocab: &Vocab, piece: &[u8]) -> Vec<Rank> {
        if let Some(r) = vocab.rank_of(piece) {
            return vec![r];
        }
        let mut bounds: Vec<usize> = (0..=piece.len()).collect();
        loop {
            let mut best: Option<(Rank, usize)> = None;
            for k in 0..bounds.len().saturating_sub(2) {
                if let Some(r) = vocab.rank_of(&piece[bounds[k]..bounds[k + 2]]) {
                    if best.is_none_or(|(b, _)| r < b) {
                        best = Some((r, k));
                    }
                }
            }
            match best {
                Some((_, k)) => {
                    bounds.remove(k + 1);
                }
                None => break,
            }
        }
        bounds
            .windows(2)
            .map(|w| vocab.rank_of(&piece[w[0]..w[1]]).unwrap())
            .collect()
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// A random vocabulary over a 3-letter alphabet, grown by merging random existing tokens so
    /// that ties, overlaps and unreachable tokens all occur.
    fn random_vocab(rng: &mut Rng, shuffle: bool) -> Vocab {
        let mut toks: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        let alpha = [b'a', b'b', b'c'];
        let mut seen: std::collections::HashSet<Vec<u8>> = toks.iter().cloned().collect();
        let mut pool: Vec<Vec<u8>> = alpha.iter().map(|&c| vec![c]).collect();
        for _ in 0..60 {
            let a = pool[(rng.next() % pool.len() as u64) as usize].clone();
            let b = pool[(rng.next() % pool.len() as u64) as usize].clone();
            let t = [a, b].concat();
            if t.len() <= 12 && seen.insert(t.clone()) {
                pool.push(t.clone());
                toks.push(t);
            }
        }
        if shuffle {
            // Ranks unrelated to merge order: merges then often create lower-rank pairs.
            for i in (257..toks.len()).rev() {
                let j = 256 + (rng.next() % (i - 255) as u64) as usize;
                toks.swap(i, j);
            }
        }
        Vocab::from_tokens(toks).unwrap()
    }

    #[test]
    fn small_and_heap_paths_equal_the_rule() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        let mut s = BpeScratch::default();
        for round in 0..80 {
            let v = random_vocab(&mut rng, round % 2 == 1);
            for len in [2usize, 3, 5, 17, 63, 64, 65, 200, 700] {
                let piece: Vec<u8> = (0..len)
                    .map(|_| b"abc"[(rng.next() % 3) as usize])
                    .collect();
                let want = reference(&v, &piece);
                let mut got = Vec::new();
                encode_piece(&v, &piece, &mut got, &mut s);
                assert_eq!(got, want, "piece {:?}", String::from_utf8_lossy(&piece));
                // Both algorithms on every length, bypassing the length switch.
                if v.rank_of(&piece).is_none() {
                    let mut a = Vec::new();
                    merge_small(&v, &piece, &mut a, &mut s);
                    let mut b = Vec::new();
                    merge_heap(&v, &piece, &mut b, &mut s);
                    assert_eq!(a, want);
                    assert_eq!(b, want);
                }
            }
        }
    }
}

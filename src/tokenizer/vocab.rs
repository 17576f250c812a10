//! The rank table: token bytes <-> rank, and the pair table used by the merge loop.
//!
//! Invariants (checked by the constructors, so the encoder can rely on them without panicking):
//! - ranks are exactly `0..n` with no holes and no duplicates, and token byte strings are unique
//!   and non-empty;
//! - every one of the 256 single bytes is a token, so any byte string can be encoded.
//!
//! Performance note: tiktoken hashes the concatenated byte slice of every candidate pair. Because
//! the parts of a piece are always tokens, the rank of `left ++ right` depends only on the two
//! ranks, so [`Vocab::merge`] looks it up in a table keyed by one `u64` (one multiply to hash)
//! built once at load time from every split of every token. This is exactly tiktoken's rule
//! (same concatenated bytes, same rank), only cheaper per lookup.

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

/// A token id.
pub type Rank = u32;

/// Mergeable tokens of a byte-level BPE vocabulary.
#[derive(Debug, Clone)]
pub struct Vocab {
    encoder: FxHashMap<Vec<u8>, Rank>,
    // Token bytes stored back to back; token r is `bytes[offsets[r]..offsets[r + 1]]`. One flat
    // buffer keeps decoding cache-friendly (no pointer chase per token).
    bytes: Vec<u8>,
    offsets: Vec<usize>,
    byte_rank: [Rank; 256],
    pairs: FxHashMap<u64, Rank>,
}

#[inline]
fn pair_key(a: Rank, b: Rank) -> u64 {
    ((a as u64) << 32) | b as u64
}

impl Vocab {
    /// Builds a vocabulary from token byte strings listed in rank order (index = rank).
    pub fn from_tokens(tokens: Vec<Vec<u8>>) -> Result<Self> {
        let ranked = tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, i as u64))
            .collect();
        Self::from_ranked(ranked, "Vocab")
    }

    /// Builds a vocabulary from `(bytes, rank)` pairs in any order, checking that ranks are
    /// `0..n` without holes or duplicates, bytes are unique and non-empty, and all 256 single
    /// bytes are present. `op` names the caller in error messages.
    pub fn from_ranked(mut ranked: Vec<(Vec<u8>, u64)>, op: &str) -> Result<Self> {
        let n = ranked.len();
        if n == 0 {
            return Err(Error::format(
                op,
                "expected at least the 256 single-byte tokens, received an empty vocabulary",
            ));
        }
        if n > u32::MAX as usize - 1 {
            return Err(Error::format(
                op,
                format!("expected fewer than 2^32 tokens, received {n}"),
            ));
        }
        ranked.sort_by_key(|(_, r)| *r);
        let mut encoder = FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for (i, (tok, r)) in ranked.into_iter().enumerate() {
            if r != i as u64 {
                return Err(if r < i as u64 {
                    Error::format(
                        op,
                        format!("duplicate rank {r}: expected each rank exactly once"),
                    )
                } else {
                    Error::format(op, format!("rank {i} is missing (next rank is {r}): expected ranks 0..{n} without holes"))
                });
            }
            if tok.is_empty() {
                return Err(Error::format(
                    op,
                    format!("rank {r} has an empty token: expected non-empty byte strings"),
                ));
            }
            bytes.extend_from_slice(&tok);
            offsets.push(bytes.len());
            if let Some(prev) = encoder.insert(tok, r as Rank) {
                return Err(Error::format(
                    op,
                    format!(
                        "ranks {prev} and {r} have the same token bytes: expected unique tokens"
                    ),
                ));
            }
        }
        let mut byte_rank = [0 as Rank; 256];
        for b in 0..=255u8 {
            match encoder.get(&[b][..]) {
                Some(&r) => byte_rank[b as usize] = r,
                None => {
                    return Err(Error::format(
                        op,
                        format!("single byte 0x{b:02x} has no rank: a byte-level BPE vocabulary needs all 256 bytes"),
                    ))
                }
            }
        }
        let mut v = Vocab {
            encoder,
            bytes,
            offsets,
            byte_rank,
            pairs: FxHashMap::default(),
        };
        v.build_pairs();
        Ok(v)
    }

    fn build_pairs(&mut self) {
        let mut pairs = FxHashMap::with_capacity_and_hasher(self.len() * 2, Default::default());
        for r in 0..self.len() {
            let t = self.token(r as Rank);
            for split in 1..t.len() {
                if let (Some(&a), Some(&b)) =
                    (self.encoder.get(&t[..split]), self.encoder.get(&t[split..]))
                {
                    pairs.insert(pair_key(a, b), r as Rank);
                }
            }
        }
        self.pairs = pairs;
    }

    /// Number of mergeable tokens.
    #[inline]
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the vocabulary is empty (never true for a constructed vocabulary).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of token `r`; `r` must be `< len()` (callers check with [`Vocab::get`]).
    #[inline]
    fn token(&self, r: Rank) -> &[u8] {
        &self.bytes[self.offsets[r as usize]..self.offsets[r as usize + 1]]
    }

    /// The bytes of token `r`, or `None` when `r` is not a mergeable rank.
    #[inline]
    pub fn get(&self, r: Rank) -> Option<&[u8]> {
        if (r as usize) < self.len() {
            Some(self.token(r))
        } else {
            None
        }
    }

    /// The rank of a byte string, if it is a token.
    #[inline]
    pub fn rank_of(&self, bytes: &[u8]) -> Option<Rank> {
        self.encoder.get(bytes).copied()
    }

    /// The rank of the single byte `b`.
    #[inline]
    pub fn byte_rank(&self, b: u8) -> Rank {
        self.byte_rank[b as usize]
    }

    /// The rank of the concatenation of tokens `a` and `b`, if that is a token.
    #[inline]
    pub fn merge(&self, a: Rank, b: Rank) -> Option<Rank> {
        self.pairs.get(&pair_key(a, b)).copied()
    }

    /// All token byte strings in rank order.
    pub fn tokens(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len() as Rank).map(move |r| self.token(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_vocab(extra: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        v.extend(extra.iter().map(|t| t.to_vec()));
        v
    }

    #[test]
    fn merge_table_matches_concatenation() {
        let v = Vocab::from_tokens(bytes_vocab(&[b"ab", b"abc", b"bc"])).unwrap();
        assert_eq!(v.merge(b'a' as Rank, b'b' as Rank), Some(256));
        assert_eq!(v.merge(256, b'c' as Rank), Some(257));
        assert_eq!(v.merge(b'a' as Rank, 258), Some(257));
        assert_eq!(v.merge(b'c' as Rank, b'a' as Rank), None);
    }

    #[test]
    fn rejects_duplicates_holes_and_missing_bytes() {
        let mut r: Vec<(Vec<u8>, u64)> = (0..=255u8).map(|b| (vec![b], b as u64)).collect();
        r.push((b"ab".to_vec(), 257));
        let e = Vocab::from_ranked(r.clone(), "t").unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        r.pop();
        r.push((b"ab".to_vec(), 255));
        assert!(Vocab::from_ranked(r.clone(), "t")
            .unwrap_err()
            .to_string()
            .contains("duplicate rank"));
        r.pop();
        r.push((b"a".to_vec(), 256));
        assert!(Vocab::from_ranked(r.clone(), "t")
            .unwrap_err()
            .to_string()
            .contains("same token bytes"));
        let short: Vec<(Vec<u8>, u64)> = (0..=200u8).map(|b| (vec![b], b as u64)).collect();
        assert!(Vocab::from_ranked(short, "t")
            .unwrap_err()
            .to_string()
            .contains("0xc9"));
    }
}

//! [`Tokenizer`]: a vocabulary, a pre-tokenizer and special tokens, with tiktoken's encode and
//! decode semantics.
//!
//! Thread safety: a `Tokenizer` is immutable after construction (`Send + Sync`); per-call scratch
//! buffers live in a thread-local, so one tokenizer serves any number of threads at once.
//!
//! Performance note: single texts are encoded on the calling thread (a single-thread encode is a
//! single-thread encode); batches are split across the shared Rayon pool, one task per text, each
//! task with its own scratch buffers. Tokens are appended to one output vector per text, never to
//! per-piece vectors.

use std::cell::RefCell;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::bpe::{encode_piece, BpeScratch};
use super::pretokenize::Pretokenizer;
use super::vocab::{Rank, Vocab};
use crate::error::{Error, Result};
use crate::threading;

thread_local! {
    static SCRATCH: RefCell<BpeScratch> = RefCell::new(BpeScratch::default());
}

fn with_scratch<R>(f: impl FnOnce(&mut BpeScratch) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        // Re-entrant use on one thread (not expected): fall back to a fresh buffer.
        Err(_) => f(&mut BpeScratch::default()),
    })
}

/// Which special tokens `encode` turns into their ids; the rest stay ordinary text.
pub enum Allowed<'a> {
    /// No special token is recognised (`encode_ordinary`).
    None,
    /// Every special token is recognised.
    All,
    /// Only these.
    Some(&'a FxHashSet<String>),
}

impl Allowed<'_> {
    fn contains(&self, s: &str) -> bool {
        match self {
            Allowed::None => false,
            Allowed::All => true,
            Allowed::Some(set) => set.contains(s),
        }
    }
}

/// A byte-level BPE tokenizer.
#[derive(Debug)]
pub struct Tokenizer {
    name: String,
    vocab: Vocab,
    pre: Pretokenizer,
    special: FxHashMap<String, Rank>,
    special_decoder: FxHashMap<Rank, String>,
    special_re: Option<regex::Regex>,
    n_vocab: usize,
}

impl Tokenizer {
    /// Builds a tokenizer. Special token ids must not collide with mergeable ranks or each other.
    pub fn new(
        name: &str,
        vocab: Vocab,
        pattern: &str,
        fast: bool,
        special: Vec<(String, Rank)>,
    ) -> Result<Self> {
        let pre = Pretokenizer::new(pattern, fast)?;
        let mut map = FxHashMap::default();
        let mut decoder = FxHashMap::default();
        let mut n_vocab = vocab.len();
        for (s, r) in special {
            if s.is_empty() {
                return Err(Error::value(
                    "Tokenizer",
                    "special tokens must be non-empty strings",
                ));
            }
            if (r as usize) < vocab.len() {
                return Err(Error::value(
                    "Tokenizer",
                    format!("special token {s:?} has id {r}, which is a mergeable rank (< {}); expected an id >= {}", vocab.len(), vocab.len()),
                ));
            }
            if let Some(other) = decoder.insert(r, s.clone()) {
                return Err(Error::value(
                    "Tokenizer",
                    format!("special tokens {other:?} and {s:?} share id {r}"),
                ));
            }
            if map.insert(s.clone(), r).is_some() {
                return Err(Error::value(
                    "Tokenizer",
                    format!("special token {s:?} is listed twice"),
                ));
            }
            n_vocab = n_vocab.max(r as usize + 1);
        }
        let special_re = if map.is_empty() {
            None
        } else {
            // Longest first so that a token that is a prefix of another never hides it.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            let alt = keys
                .iter()
                .map(|k| regex::escape(k))
                .collect::<Vec<_>>()
                .join("|");
            Some(regex::Regex::new(&alt).map_err(|e| {
                Error::value(
                    "Tokenizer",
                    format!("cannot build the special-token matcher: {e}"),
                )
            })?)
        };
        Ok(Tokenizer {
            name: name.to_string(),
            vocab,
            pre,
            special: map,
            special_decoder: decoder,
            special_re,
            n_vocab,
        })
    }

    /// The encoding's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The mergeable vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }
    /// The pre-tokenizer.
    pub fn pretokenizer(&self) -> &Pretokenizer {
        &self.pre
    }
    /// Special token text -> id.
    pub fn special_tokens(&self) -> &FxHashMap<String, Rank> {
        &self.special
    }
    /// One more than the largest id.
    pub fn n_vocab(&self) -> usize {
        self.n_vocab
    }

    fn check_len(len: usize, op: &str) -> Result<()> {
        if len >= u32::MAX as usize {
            return Err(Error::value(
                op,
                format!("input of {len} bytes is too long: expected fewer than 2^32 bytes"),
            ));
        }
        Ok(())
    }

    /// Appends the tokens of `text` without special-token handling; returns how many tokens the
    /// last piece produced (used by `encode_bytes`).
    fn ordinary_into(&self, text: &str, out: &mut Vec<Rank>, s: &mut BpeScratch) -> Result<usize> {
        let bytes = text.as_bytes();
        let mut last = 0;
        self.pre.for_each_piece(text, |a, b| {
            let before = out.len();
            encode_piece(&self.vocab, &bytes[a..b], out, s);
            last = out.len() - before;
        })?;
        Ok(last)
    }

    /// Encodes `text` treating special-token text as ordinary text.
    pub fn encode_ordinary(&self, text: &str) -> Result<Vec<Rank>> {
        Self::check_len(text.len(), "encode_ordinary")?;
        let mut out = Vec::with_capacity(text.len() / 3 + 4);
        with_scratch(|s| self.ordinary_into(text, &mut out, s))?;
        Ok(out)
    }

    /// tiktoken's `encode` core: special tokens in `allowed` become their ids, all other text
    /// (including special tokens not allowed) is ordinary text. Disallowed-token checks are the
    /// caller's policy (the Python layer raises before calling). Returns the tokens and the
    /// number of tokens of the last ordinary piece (0 if the text ends with a special token).
    fn encode_with_last(
        &self,
        text: &str,
        allowed: &Allowed,
        out: &mut Vec<Rank>,
        s: &mut BpeScratch,
    ) -> Result<usize> {
        let re = match (&self.special_re, allowed) {
            (Some(re), Allowed::All | Allowed::Some(_)) => re,
            _ => return self.ordinary_into(text, out, s),
        };
        let mut start = 0;
        let mut last = 0;
        loop {
            // Find the next allowed special token at or after `start`.
            let mut from = start;
            let mut found = None;
            while let Some(m) = re.find_at(text, from) {
                if allowed.contains(m.as_str()) {
                    found = Some(m);
                    break;
                }
                // Retry one char later (tiktoken retries one byte later; a match cannot start
                // inside a char, so this is the same).
                from = m.start() + text[m.start()..].chars().next().map_or(1, |c| c.len_utf8());
            }
            let end = found.map_or(text.len(), |m| m.start());
            if end > start {
                last = self.ordinary_into(&text[start..end], out, s)?;
            }
            match found {
                Some(m) => {
                    match self.special.get(m.as_str()) {
                        Some(&id) => out.push(id),
                        None => {
                            return Err(Error::value(
                                "encode",
                                format!("unknown special token {:?}", m.as_str()),
                            ))
                        }
                    }
                    start = m.end();
                    last = 0;
                }
                None => return Ok(last),
            }
        }
    }

    /// Encodes `text`, turning the allowed special tokens into their ids.
    pub fn encode(&self, text: &str, allowed: &Allowed) -> Result<Vec<Rank>> {
        Self::check_len(text.len(), "encode")?;
        let mut out = Vec::with_capacity(text.len() / 3 + 4);
        with_scratch(|s| self.encode_with_last(text, allowed, &mut out, s))?;
        Ok(out)
    }

    /// The first special token in `text` that is not allowed, for the disallowed check.
    pub fn find_special(&self, text: &str, disallowed: &Allowed) -> Option<String> {
        let re = self.special_re.as_ref()?;
        let mut from = 0;
        while let Some(m) = re.find_at(text, from) {
            if disallowed.contains(m.as_str()) {
                return Some(m.as_str().to_string());
            }
            from = m.start() + text[m.start()..].chars().next().map_or(1, |c| c.len_utf8());
        }
        None
    }

    /// Encodes raw bytes, as tiktoken's `_encode_bytes`: the longest valid UTF-8 prefix is
    /// encoded as text; the tokens of its last piece (extended back over whitespace-only tokens,
    /// whose split is unstable) are re-merged together with the invalid tail as one byte piece.
    pub fn encode_bytes(&self, bytes: &[u8]) -> Result<Vec<Rank>> {
        Self::check_len(bytes.len(), "encode_bytes")?;
        let (valid, tail) = match std::str::from_utf8(bytes) {
            Ok(text) => return self.encode(text, &Allowed::None),
            Err(e) => bytes.split_at(e.valid_up_to()),
        };
        // `valid` is the prefix from_utf8 accepted, so this cannot fail; map it anyway.
        let text =
            std::str::from_utf8(valid).map_err(|e| Error::value("encode_bytes", e.to_string()))?;
        let mut out = Vec::with_capacity(bytes.len() / 3 + 4);
        with_scratch(|s| -> Result<()> {
            let mut last = self.encode_with_last(text, &Allowed::None, &mut out, s)?;
            let all_space = |r: Rank| {
                self.vocab
                    .get(r)
                    .is_some_and(|t| t.iter().all(|b| matches!(b, b' ' | b'\n' | b'\t')))
            };
            if last > 0 && all_space(out[out.len() - last]) {
                while last < out.len() && all_space(out[out.len() - last - 1]) {
                    last += 1;
                }
            }
            let mut unstable = Vec::new();
            for &r in &out[out.len() - last..] {
                unstable.extend_from_slice(self.vocab.get(r).unwrap_or_default());
            }
            unstable.extend_from_slice(tail);
            out.truncate(out.len() - last);
            encode_piece(&self.vocab, &unstable, &mut out, s);
            Ok(())
        })?;
        Ok(out)
    }

    /// Encodes many texts in parallel on the shared pool (ordinary text when `allowed` is None).
    pub fn encode_batch(&self, texts: &[&str], allowed: &Allowed) -> Result<Vec<Vec<Rank>>> {
        for t in texts {
            Self::check_len(t.len(), "encode_batch")?;
        }
        let total: usize = texts.iter().map(|t| t.len()).sum();
        let one = |t: &&str, s: &mut BpeScratch| -> Result<Vec<Rank>> {
            let mut out = Vec::with_capacity(t.len() / 3 + 4);
            self.encode_with_last(t, allowed, &mut out, s)?;
            Ok(out)
        };
        // Below ~64 KB in total the pool's wake-up costs more than the work.
        if texts.len() < 2 || !threading::should_parallelize(total, 1 << 15) {
            return with_scratch(|s| texts.iter().map(|t| one(t, s)).collect());
        }
        threading::install(|| {
            texts
                .par_iter()
                .map_init(BpeScratch::default, |s, t| one(t, s))
                .collect()
        })
    }

    /// The bytes of `ids` concatenated; unknown ids are an error naming the id.
    pub fn decode_bytes(&self, ids: &[Rank]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            self.decode_into(id, &mut out)?;
        }
        Ok(out)
    }

    #[inline]
    fn decode_into(&self, id: Rank, out: &mut Vec<u8>) -> Result<()> {
        if let Some(t) = self.vocab.get(id) {
            out.extend_from_slice(t);
            return Ok(());
        }
        match self.special_decoder.get(&id) {
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(())
            }
            None => Err(Error::index(
                "decode",
                format!(
                    "unknown token id {id}: expected a rank below {} or a special token id",
                    self.vocab.len()
                ),
            )),
        }
    }

    /// The bytes of one token.
    pub fn decode_single_token_bytes(&self, id: Rank) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.decode_into(id, &mut out)?;
        Ok(out)
    }

    /// Decodes many id lists in parallel.
    pub fn decode_batch(&self, batch: &[Vec<Rank>]) -> Result<Vec<Vec<u8>>> {
        let total: usize = batch.iter().map(|b| b.len()).sum();
        if !threading::should_parallelize(total, 1 << 14) {
            return batch.iter().map(|ids| self.decode_bytes(ids)).collect();
        }
        threading::install(|| batch.par_iter().map(|ids| self.decode_bytes(ids)).collect())
    }

    /// The id of a byte string that is exactly one token (mergeable or special).
    pub fn encode_single_token(&self, bytes: &[u8]) -> Result<Rank> {
        if let Some(r) = self.vocab.rank_of(bytes) {
            return Ok(r);
        }
        if let Ok(s) = std::str::from_utf8(bytes) {
            if let Some(&r) = self.special.get(s) {
                return Ok(r);
            }
        }
        Err(Error::value(
            "encode_single_token",
            format!("{:?} is not a single token", String::from_utf8_lossy(bytes)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::pretokenize::CL100K_PATTERN;

    fn toy() -> Tokenizer {
        let mut toks: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        for t in [
            &b"he"[..],
            b"ll",
            b"hell",
            b"hello",
            b" w",
            b" wo",
            b"rl",
            b" world",
        ] {
            toks.push(t.to_vec());
        }
        let v = Vocab::from_tokens(toks).unwrap();
        Tokenizer::new(
            "toy",
            v,
            CL100K_PATTERN,
            true,
            vec![("<|eot|>".into(), 300)],
        )
        .unwrap()
    }

    #[test]
    fn encode_decode_and_specials() {
        let t = toy();
        let ids = t.encode_ordinary("hello world").unwrap();
        assert_eq!(ids, vec![259, 263]);
        assert_eq!(t.decode_bytes(&ids).unwrap(), b"hello world");
        let ids = t.encode("hello<|eot|>", &Allowed::All).unwrap();
        assert_eq!(ids, vec![259, 300]);
        let ids = t.encode("hello<|eot|>", &Allowed::None).unwrap();
        assert_eq!(t.decode_bytes(&ids).unwrap(), b"hello<|eot|>");
        assert_eq!(
            t.find_special("a<|eot|>", &Allowed::All).as_deref(),
            Some("<|eot|>")
        );
        assert!(t
            .decode_bytes(&[299])
            .unwrap_err()
            .to_string()
            .contains("unknown token id 299"));
        assert_eq!(t.n_vocab(), 301);
    }

    #[test]
    fn encode_bytes_round_trips_invalid_utf8() {
        let t = toy();
        for b in [&b"hello \xff"[..], b"\xe4\xb8", b"ab\xc3", b"  \x80\x80 x"] {
            let ids = t.encode_bytes(b).unwrap();
            assert_eq!(t.decode_bytes(&ids).unwrap(), b);
        }
    }

    #[test]
    fn rejects_colliding_special_ids() {
        let v = Vocab::from_tokens((0..=255u8).map(|b| vec![b]).collect()).unwrap();
        assert!(Tokenizer::new("x", v, CL100K_PATTERN, true, vec![("<s>".into(), 3)]).is_err());
    }
}

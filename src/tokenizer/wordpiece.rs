//! [`WordPiece`]: BERT's sub-word tokenizer. The basic tokenizer ([`super::basic`]) cuts a text
//! into words; each word becomes the longest vocabulary token that starts it, then the longest
//! `suffix_indicator`-prefixed token (`##ing`) that continues it, and so on (greedy
//! longest-match-first). A word that cannot be covered this way, or that is longer than
//! `max_input_chars_per_word` characters, becomes the single `oov_token` (`[UNK]`). This is Hugging
//! Face `tokenizers`' WordPiece model; decoding joins tokens with spaces and glues `##` pieces to
//! the word before them, as keras_hub's `WordPieceTokenizer.detokenize`.
//!
//! Special tokens (`special_tokens_in_strings`) are matched in the raw text before normalisation
//! (leftmost, then longest) and map straight to their ids, never lowercased or split.
//!
//! Thread safety: a `WordPiece` is immutable after construction (`Send + Sync`); scratch buffers
//! are per thread, so one instance serves any number of threads at once.
//!
//! Performance note: a word is matched by hashing `&str` slices of it into one `FxHashMap`, with the
//! candidate end capped at the longest vocabulary piece, so a long word costs O(len x longest
//! piece) lookups rather than O(len^2). Batches go one text per task to the shared Rayon pool (as
//! BPE batches); padded batches write each row straight into the output buffer.

use std::cell::RefCell;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::basic::{for_each_word, BasicOptions, BasicScratch};
use crate::error::{Error, Result};
use crate::threading;

const OP: &str = "WordPieceTokenizer";

/// What a [`WordPiece`] does besides its vocabulary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordPieceConfig {
    /// Normalisation and word splitting.
    pub basic: BasicOptions,
    /// Prefix of the tokens that continue a word (`##`).
    pub suffix_indicator: String,
    /// The token for words that cannot be tokenized (`[UNK]`); must be in the vocabulary.
    pub oov_token: String,
    /// Longer words (in characters) become `oov_token` (100, as BERT).
    pub max_input_chars_per_word: usize,
    /// Vocabulary tokens recognised verbatim inside input text (empty: none).
    pub special_tokens_in_strings: Vec<String>,
}

/// A WordPiece vocabulary with its normalisation settings.
#[derive(Debug)]
pub struct WordPiece {
    cfg: WordPieceConfig,
    tokens: Vec<String>,
    ids: FxHashMap<String, u32>,
    unk: u32,
    /// The longest token, in characters (a bound on the piece lengths worth looking up).
    max_piece_chars: usize,
    specials: Vec<(String, u32)>,
}

#[derive(Default)]
struct Scratch {
    basic: BasicScratch,
    candidate: String,
    bounds: Vec<usize>,
    /// Next match position per special token (`usize::MAX`: none left).
    next: Vec<usize>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    })
}

impl WordPiece {
    /// Builds a tokenizer; token `i` of `tokens` gets id `i` (for a repeated token the last
    /// position wins in the token -> id direction, as keras_hub and the reference do).
    pub fn new(tokens: Vec<String>, cfg: WordPieceConfig) -> Result<Self> {
        if tokens.len() > i32::MAX as usize {
            return Err(Error::value(
                OP,
                format!(
                    "the vocabulary has {} tokens; at most {} are supported",
                    tokens.len(),
                    i32::MAX
                ),
            ));
        }
        if cfg.suffix_indicator.is_empty() {
            return Err(Error::value(
                OP,
                "suffix_indicator must be a non-empty string. Received: suffix_indicator=''",
            ));
        }
        let mut ids = FxHashMap::default();
        ids.reserve(tokens.len());
        let mut max_piece_chars = 0;
        for (i, t) in tokens.iter().enumerate() {
            ids.insert(t.clone(), i as u32);
            // the whole token: one that starts with the suffix indicator also matches, as it is,
            // at the start of a word that starts with it (found by the wordpiece_encode fuzzer)
            max_piece_chars = max_piece_chars.max(t.chars().count());
        }
        let unk = *ids.get(&cfg.oov_token).ok_or_else(|| {
            Error::value(
                OP,
                format!(
                    "cannot find oov_token={:?} in the vocabulary ({} tokens); add it to the \
                     vocabulary or pass another oov_token",
                    cfg.oov_token,
                    tokens.len()
                ),
            )
        })?;
        let mut specials = Vec::with_capacity(cfg.special_tokens_in_strings.len());
        for s in &cfg.special_tokens_in_strings {
            if s.is_empty() {
                return Err(Error::value(OP, "special tokens must be non-empty strings"));
            }
            let id = *ids.get(s).ok_or_else(|| {
                Error::value(OP, format!("special token {s:?} is not in the vocabulary"))
            })?;
            if !specials.iter().any(|(t, _)| t == s) {
                specials.push((s.clone(), id));
            }
        }
        Ok(WordPiece {
            cfg,
            tokens,
            ids,
            unk,
            max_piece_chars,
            specials,
        })
    }

    /// The settings.
    pub fn config(&self) -> &WordPieceConfig {
        &self.cfg
    }

    /// The tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the vocabulary is empty (never: it holds at least `oov_token`).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `oov_token`.
    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// The id of `token`, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The token of `id`; out of range is an error naming the range.
    pub fn id_to_token(&self, id: i64) -> Result<&str> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.tokens.get(i))
            .map(String::as_str)
            .ok_or_else(|| {
                Error::value(
                    OP,
                    format!(
                        "token id must be between 0 and {} (the vocabulary has {} tokens). \
                         Received: {id}",
                        self.tokens.len() as i64 - 1,
                        self.tokens.len()
                    ),
                )
            })
    }

    /// Appends the ids of one word.
    fn encode_word(&self, word: &str, s: &mut Scratch, out: &mut Vec<u32>) {
        let bounds = &mut s.bounds;
        bounds.clear();
        bounds.extend(word.char_indices().map(|(i, _)| i));
        let n = bounds.len();
        bounds.push(word.len());
        if n > self.cfg.max_input_chars_per_word {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        // Level 1: the pieces of the word, left to right.
        while start < n {
            let mut end = n.min(start + self.max_piece_chars);
            let mut found = None;
            // Level 2: the longest piece that starts at `start`.
            while end > start {
                let piece = &word[bounds[start]..bounds[end]];
                let id = if start == 0 {
                    self.ids.get(piece)
                } else {
                    s.candidate.clear();
                    s.candidate.push_str(&self.cfg.suffix_indicator);
                    s.candidate.push_str(piece);
                    self.ids.get(s.candidate.as_str())
                };
                if let Some(&id) = id {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(mark);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }

    /// Appends the ids of text without special tokens.
    fn encode_plain(&self, text: &str, s: &mut Scratch, out: &mut Vec<u32>) {
        let mut basic = std::mem::take(&mut s.basic);
        for_each_word(text, self.cfg.basic, &mut basic, |w| {
            self.encode_word(w, s, out)
        });
        s.basic = basic;
    }

    /// Appends the ids of `text`.
    fn encode_into(&self, text: &str, s: &mut Scratch, out: &mut Vec<u32>) {
        if self.specials.is_empty() {
            return self.encode_plain(text, s, out);
        }
        // Each special token's next occurrence is searched for again only once passed, so the
        // scan is O(text x specials) however many matches there are.
        let mut next = std::mem::take(&mut s.next);
        next.clear();
        next.extend(
            self.specials
                .iter()
                .map(|(tok, _)| text.find(tok.as_str()).unwrap_or(usize::MAX)),
        );
        let mut pos = 0;
        loop {
            let mut best: Option<(usize, usize)> = None; // (start, special index)
            for (k, (tok, _)) in self.specials.iter().enumerate() {
                if next[k] != usize::MAX && next[k] < pos {
                    // `pos` ends a matched special token, so it is a char boundary.
                    next[k] = text[pos..]
                        .find(tok.as_str())
                        .map_or(usize::MAX, |i| pos + i);
                }
                let at = next[k];
                if at == usize::MAX {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((b, j)) => at < b || (at == b && tok.len() > self.specials[j].0.len()),
                };
                if better {
                    best = Some((at, k));
                }
            }
            match best {
                None => {
                    self.encode_plain(&text[pos..], s, out);
                    break;
                }
                Some((at, k)) => {
                    self.encode_plain(&text[pos..at], s, out);
                    out.push(self.specials[k].1);
                    pos = at + self.specials[k].0.len();
                }
            }
        }
        s.next = next;
    }

    /// The ids of `text`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 4);
        with_scratch(|s| self.encode_into(text, s, &mut out));
        out
    }

    /// The words the basic tokenizer cuts `text` into (special tokens are not looked for).
    pub fn basic_tokenize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut basic = BasicScratch::default();
        for_each_word(text, self.cfg.basic, &mut basic, |w| {
            out.push(w.to_string())
        });
        out
    }

    fn parallel(texts: &[&str]) -> bool {
        let total: usize = texts.iter().map(|t| t.len()).sum();
        // Below ~64 KB in total the pool's wake-up costs more than the work (as BPE batches).
        texts.len() >= 2 && threading::should_parallelize(total, 1 << 15)
    }

    /// The ids of each text, encoded in parallel on the shared pool.
    pub fn encode_batch(&self, texts: &[&str]) -> Vec<Vec<u32>> {
        let one = |t: &&str, s: &mut Scratch| {
            let mut out = Vec::with_capacity(t.len() / 4 + 4);
            self.encode_into(t, s, &mut out);
            out
        };
        if !Self::parallel(texts) {
            return with_scratch(|s| texts.iter().map(|t| one(t, s)).collect());
        }
        threading::install(|| {
            texts
                .par_iter()
                .map_init(Scratch::default, |s, t| one(t, s))
                .collect()
        })
    }

    /// A `texts.len() x sequence_length` row-major matrix: each text's ids truncated to
    /// `sequence_length` and padded with `pad_id`.
    pub fn encode_batch_padded(
        &self,
        texts: &[&str],
        sequence_length: usize,
        pad_id: i32,
    ) -> Result<Vec<i32>> {
        let size = texts.len().checked_mul(sequence_length).ok_or_else(|| {
            Error::value(
                OP,
                format!(
                    "{} texts x sequence_length={sequence_length} overflows",
                    texts.len()
                ),
            )
        })?;
        let mut out = vec![pad_id; size];
        if sequence_length == 0 {
            return Ok(out);
        }
        // Ids are < vocabulary size <= i32::MAX (checked in `new`).
        let row = |t: &str, dst: &mut [i32], s: &mut Scratch, ids: &mut Vec<u32>| {
            ids.clear();
            self.encode_into(t, s, ids);
            for (d, &id) in dst.iter_mut().zip(ids.iter()) {
                *d = id as i32;
            }
        };
        if !Self::parallel(texts) {
            let mut ids = Vec::new();
            with_scratch(|s| {
                for (t, dst) in texts.iter().zip(out.chunks_mut(sequence_length)) {
                    row(t, dst, s, &mut ids);
                }
            });
            return Ok(out);
        }
        threading::install(|| {
            out.par_chunks_mut(sequence_length)
                .zip(texts.par_iter())
                .for_each_init(
                    || (Scratch::default(), Vec::new()),
                    |(s, ids), (dst, t)| row(t, dst, s, ids),
                )
        });
        Ok(out)
    }

    /// Tokens joined by spaces, `##` pieces glued to the word before them (a leading `##` piece,
    /// and a token that is only the indicator, stay as they are), as keras_hub's detokenize.
    pub fn decode(&self, ids: &[i64]) -> Result<String> {
        let suffix = self.cfg.suffix_indicator.as_str();
        let suffix_chars = suffix.chars().count();
        let mut out = String::with_capacity(ids.len() * 6);
        for (i, &id) in ids.iter().enumerate() {
            let tok = self.id_to_token(id)?;
            match tok.strip_prefix(suffix) {
                Some(rest) if i > 0 && tok.chars().count() > suffix_chars => out.push_str(rest),
                _ => {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(tok);
                }
            }
        }
        Ok(out)
    }

    /// [`WordPiece::decode`] for each row.
    pub fn decode_batch(&self, batch: &[Vec<i64>]) -> Result<Vec<String>> {
        batch.iter().map(|ids| self.decode(ids)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vec<String> {
        [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox", "jump",
            "##ed", "##s", "un", "##aff", "##able", ".", ",", "!", "a", "##b", "##c", "\u{4E2D}",
            "hello", "##llo", "he", "caf", "##e", "##\u{E9}", "##",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn cfg(lowercase: bool) -> WordPieceConfig {
        WordPieceConfig {
            basic: BasicOptions {
                lowercase,
                strip_accents: lowercase,
                split: true,
                split_on_cjk: true,
            },
            suffix_indicator: "##".into(),
            oov_token: "[UNK]".into(),
            max_input_chars_per_word: 100,
            special_tokens_in_strings: vec![],
        }
    }

    fn toks(wp: &WordPiece, text: &str) -> Vec<String> {
        wp.encode(text)
            .iter()
            .map(|&i| wp.tokens()[i as usize].clone())
            .collect()
    }

    #[test]
    fn greedy_longest_match_first() {
        let wp = WordPiece::new(vocab(), cfg(true)).unwrap();
        assert_eq!(
            toks(&wp, "The quick brown fox jumped."),
            ["the", "quick", "brown", "fox", "jump", "##ed", "."]
        );
        assert_eq!(toks(&wp, "unaffable"), ["un", "##aff", "##able"]);
        // "hello" is whole; "hellox" has no cover -> one [UNK] for the word.
        assert_eq!(toks(&wp, "hello hellox!"), ["hello", "[UNK]", "!"]);
        assert_eq!(toks(&wp, "abcb"), ["a", "##b", "##c", "##b"]);
        assert_eq!(toks(&wp, "Caf\u{E9}"), ["caf", "##e"]);
        assert_eq!(toks(&wp, "x\u{4E2D}x"), ["[UNK]", "\u{4E2D}", "[UNK]"]);
        assert!(wp.encode("").is_empty());
        assert!(wp.encode(" \u{0} \t").is_empty());
    }

    /// A token that starts with the suffix indicator matches as it is at the start of a word
    /// (Hugging Face does the same); the piece-length bound once left it out (fuzzer crash
    /// `crash-unk-word`).
    #[test]
    fn word_initial_token_with_the_suffix_prefix() {
        let mut c = cfg(false);
        c.basic.split = false;
        let v: Vec<String> = ["[UNK]", "## wces", "##es", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let wp = WordPiece::new(v, c).unwrap();
        assert_eq!(toks(&wp, "## wces"), ["## wces"]);
        assert_eq!(toks(&wp, "x"), ["x"]);
    }

    #[test]
    fn cased_keeps_accents() {
        let wp = WordPiece::new(vocab(), cfg(false)).unwrap();
        assert_eq!(toks(&wp, "caf\u{E9}"), ["caf", "##\u{E9}"]);
        assert_eq!(toks(&wp, "The"), ["[UNK]"]);
    }

    #[test]
    fn long_words_are_unknown() {
        let wp = WordPiece::new(vocab(), cfg(true)).unwrap();
        let w = format!("a{}", "b".repeat(99)); // 100 chars: still tokenized
        assert_eq!(wp.encode(&w).len(), 100);
        let w = format!("a{}", "b".repeat(100));
        assert_eq!(toks(&wp, &w), ["[UNK]"]);
        // Characters, not bytes: 100 two-byte characters are fine to try.
        let w = "\u{E9}".repeat(100);
        assert_eq!(
            toks(&WordPiece::new(vocab(), cfg(false)).unwrap(), &w),
            ["[UNK]"]
        );
    }

    #[test]
    fn special_tokens_in_strings() {
        let mut c = cfg(true);
        c.special_tokens_in_strings = vec!["[CLS]".into(), "[SEP]".into(), "[MASK]".into()];
        let wp = WordPiece::new(vocab(), c).unwrap();
        assert_eq!(
            toks(&wp, "[CLS]The fox[MASK] [SEP][SEP]"),
            ["[CLS]", "the", "fox", "[MASK]", "[SEP]", "[SEP]"]
        );
        // Without the option the brackets are punctuation.
        let plain = WordPiece::new(vocab(), cfg(true)).unwrap();
        assert_eq!(toks(&plain, "[CLS]"), ["[UNK]", "[UNK]", "[UNK]"]);
        // Many matches stay linear (this would take minutes if each rescanned the text).
        let text = "[SEP]".repeat(20_000);
        assert_eq!(wp.encode(&text).len(), 20_000);
    }

    #[test]
    fn batches_match_single_encodes() {
        let wp = WordPiece::new(vocab(), cfg(true)).unwrap();
        let texts: Vec<String> = (0..3000)
            .map(|i| format!("the quick{} brown fox jumped {}", "!".repeat(i % 5), i))
            .collect();
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        let batch = wp.encode_batch(&refs);
        for (t, ids) in refs.iter().zip(&batch) {
            assert_eq!(&wp.encode(t), ids);
        }
        let padded = wp.encode_batch_padded(&refs, 7, -1).unwrap();
        for (ids, row) in batch.iter().zip(padded.chunks(7)) {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(v, ids.get(j).map_or(-1, |&i| i as i32));
            }
        }
        assert!(wp.encode_batch_padded(&refs, 0, 0).unwrap().is_empty());
    }

    #[test]
    fn decode_glues_suffix_pieces() {
        let wp = WordPiece::new(vocab(), cfg(true)).unwrap();
        let ids = wp.encode("The fox jumped. unaffable");
        let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        assert_eq!(wp.decode(&ids).unwrap(), "the fox jumped . unaffable");
        // A leading piece and the bare indicator stay as they are.
        let s = wp.token_to_id("##s").unwrap() as i64;
        let bare = wp.token_to_id("##").unwrap() as i64;
        let fox = wp.token_to_id("fox").unwrap() as i64;
        assert_eq!(wp.decode(&[s, fox, s, bare]).unwrap(), "##s foxs ##");
        assert_eq!(wp.decode(&[]).unwrap(), "");
        let e = wp.decode(&[fox, 99]).unwrap_err();
        assert!(
            e.to_string().contains("between 0 and 28") && e.to_string().contains("99"),
            "{e}"
        );
        assert!(wp.decode(&[-1]).is_err());
    }

    #[test]
    fn bad_configurations_are_errors() {
        let e = WordPiece::new(vec!["a".into()], cfg(true)).unwrap_err();
        assert!(e.to_string().contains("[UNK]"), "{e}");
        let mut c = cfg(true);
        c.special_tokens_in_strings = vec!["[NOPE]".into()];
        assert!(WordPiece::new(vocab(), c).is_err());
        let mut c = cfg(true);
        c.suffix_indicator = String::new();
        assert!(WordPiece::new(vocab(), c).is_err());
    }
}

//! Checks for the BPE encoder and decoder (`crate::tokenizer::{encoder, bpe, scanner}`).
//!
//! Each input builds its own small tokenizer: a vocabulary of the 256 bytes plus tokens cut from
//! the input text and concatenations of those (so merges really happen, with ties, overlaps,
//! unreachable tokens and ranks unrelated to merge order), one of the three preset patterns (the
//! hand-written scanner or fancy-regex), and up to three special tokens, often substrings of the
//! text so that they occur in it. The expected ids come from a literal reference: fancy-regex
//! pieces, tiktoken's merge rule written naively over byte strings, and a plain left-to-right
//! scan for special tokens.

use std::sync::OnceLock;

use arbitrary::Unstructured;
use rustc_hash::FxHashSet;

use crate::tokenizer::encoder::{Allowed, Tokenizer};
use crate::tokenizer::pretokenize::{Pretokenizer, CL100K_PATTERN, O200K_PATTERN, R50K_PATTERN};
use crate::tokenizer::vocab::{Rank, Vocab};

/// The preset patterns the scanner implements.
pub const PATTERNS: [&str; 3] = [R50K_PATTERN, CL100K_PATTERN, O200K_PATTERN];

/// Pieces longer than this are not run through the (cubic) reference merge.
const REFERENCE_MAX_PIECE: usize = 256;

/// fancy-regex pre-tokenizers for [`PATTERNS`], compiled once per process.
pub fn reference_pretokenizers() -> &'static [Pretokenizer] {
    static P: OnceLock<Vec<Pretokenizer>> = OnceLock::new();
    P.get_or_init(|| {
        PATTERNS
            .iter()
            .map(|p| Pretokenizer::new(p, false).expect("preset patterns compile"))
            .collect()
    })
}

/// A xorshift generator for the choices derived from the text once it is known.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// tiktoken's merge rule, literally: a piece that is a token is that token; otherwise merge the
/// adjacent pair whose concatenated bytes have the lowest rank, leftmost on ties, until none is a
/// token.
pub fn reference_merge(vocab: &Vocab, piece: &[u8]) -> Vec<Rank> {
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
        .map(|w| vocab.rank_of(&piece[w[0]..w[1]]).expect("parts are tokens"))
        .collect()
}

/// A vocabulary of the 256 bytes plus `n_cut` substrings of `text` (2-8 bytes) and `n_cat`
/// concatenations of two earlier tokens (up to 16 bytes), ranks above 256 shuffled if asked.
pub fn text_vocab(text: &[u8], n_cut: usize, n_cat: usize, shuffle: bool, rng: &mut Rng) -> Vocab {
    let mut toks: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut seen: FxHashSet<Vec<u8>> = toks.iter().cloned().collect();
    let mut pool: Vec<Vec<u8>> = text.iter().take(64).map(|&b| vec![b]).collect();
    if pool.is_empty() {
        pool.push(b"a".to_vec());
    }
    for _ in 0..n_cut {
        if text.len() < 2 {
            break;
        }
        let a = rng.below(text.len() - 1);
        let len = 2 + rng.below(7).min(text.len() - a - 2);
        let t = text[a..a + len].to_vec();
        if seen.insert(t.clone()) {
            pool.push(t.clone());
            toks.push(t);
        }
    }
    for _ in 0..n_cat {
        let t = [
            pool[rng.below(pool.len())].clone(),
            pool[rng.below(pool.len())].clone(),
        ]
        .concat();
        if t.len() <= 16 && seen.insert(t.clone()) {
            pool.push(t.clone());
            toks.push(t);
        }
    }
    if shuffle {
        for i in (257..toks.len()).rev() {
            let j = 256 + rng.below(i - 255);
            toks.swap(i, j);
        }
    }
    Vocab::from_tokens(toks).expect("unique non-empty tokens with all bytes")
}

/// The special-token split of `text`, by a plain scan: at each char position take the longest
/// special token starting there if `allowed` accepts it, else move one char on. Returns ordinary
/// text segments (`Err`) and taken special tokens (`Ok`).
fn split_specials<'t>(
    text: &'t str,
    specials: &[String],
    allowed: &dyn Fn(&str) -> bool,
) -> Vec<Result<&'t str, &'t str>> {
    let mut out = Vec::new();
    let (mut i, mut seg) = (0, 0);
    while i < text.len() {
        let longest = specials
            .iter()
            .filter(|s| text[i..].starts_with(s.as_str()))
            .max_by_key(|s| s.len());
        if let Some(s) = longest.filter(|s| allowed(s)) {
            if i > seg {
                out.push(Err(&text[seg..i]));
            }
            out.push(Ok(&text[i..i + s.len()]));
            i += s.len();
            seg = i;
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if seg < text.len() {
        out.push(Err(&text[seg..]));
    }
    out
}

/// The first special token the encoder's matcher reports that `set` accepts (the scan of
/// [`split_specials`] without taking any).
fn first_special<'t>(
    text: &'t str,
    specials: &[String],
    set: &dyn Fn(&str) -> bool,
) -> Option<&'t str> {
    let mut i = 0;
    while i < text.len() {
        let longest = specials
            .iter()
            .filter(|s| text[i..].starts_with(s.as_str()))
            .max_by_key(|s| s.len());
        if let Some(s) = longest.filter(|s| set(s)) {
            return Some(&text[i..i + s.len()]);
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// The ordinary (no special tokens) ids of `text` by the reference path, or `None` when a piece
/// is too long for the reference merge or fancy-regex gives up (backtrack limit).
fn reference_ordinary(vocab: &Vocab, pattern: usize, text: &str) -> Option<Vec<Rank>> {
    let pieces = reference_pretokenizers()[pattern].pieces(text).ok()?;
    let mut out = Vec::new();
    for p in pieces {
        if p.len() > REFERENCE_MAX_PIECE {
            return None;
        }
        out.extend(reference_merge(vocab, p.as_bytes()));
    }
    Some(out)
}

/// A special token: a substring of the text (1-6 chars) most of the time, else a fixed one.
fn pick_special(text: &str, rng: &mut Rng) -> String {
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if starts.is_empty() || rng.below(4) == 0 {
        return ["<|endoftext|>", "<|fim|>", "<", "\n"][rng.below(4)].to_string();
    }
    let a = rng.below(starts.len());
    let n = 1 + rng.below(6);
    let end = starts.get(a + n).copied().unwrap_or(text.len());
    text[starts[a]..end].to_string()
}

/// Structured: for any bytes, any pattern (scanner or fancy-regex) and any special-token policy,
/// encoding never panics and
/// - the fast scanner's pieces equal fancy-regex's;
/// - `encode` equals the reference (special split, fancy-regex pieces, literal merge rule) for
///   the policies None, All and a subset; `encode_ordinary` equals `encode` with None and with
///   an empty set; `encode_batch` equals one `encode` per text;
/// - decoding any encoding gives back the text's bytes (`encode_bytes`: the raw bytes, valid
///   UTF-8 or not), ids are below `n_vocab` and special ids only come from the allowed set;
/// - `find_special` reports the reference's first special token of a set;
/// - `Tokenizer::new` refuses exactly the special-token lists with a repeated id or text;
/// - `decode_bytes` of arbitrary ids fails exactly when an id is unknown.
pub fn check_encode(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let pattern = u.int_in_range(0..=2usize).unwrap_or(0);
    let fast = u.int_in_range(0..=7u8).unwrap_or(0) != 0;
    let n_cut = u.int_in_range(0..=40usize).unwrap_or(0);
    let n_cat = u.int_in_range(0..=40usize).unwrap_or(0);
    let shuffle: bool = u.arbitrary().unwrap_or(false);
    let n_special = u.int_in_range(0..=3usize).unwrap_or(0);
    let subset_mask: u8 = u.arbitrary().unwrap_or(0);
    let seed: u64 = u.arbitrary().unwrap_or(0);
    let raw = u.take_rest();
    let text = String::from_utf8_lossy(raw).into_owned();
    let mut rng = Rng::new(seed);

    let vocab = text_vocab(text.as_bytes(), n_cut, n_cat, shuffle, &mut rng);
    let nv = vocab.len();
    let specials: Vec<(String, Rank)> = (0..n_special)
        .map(|_| (pick_special(&text, &mut rng), (nv + rng.below(5)) as Rank))
        .collect();
    let names: FxHashSet<&str> = specials.iter().map(|s| s.0.as_str()).collect();
    let ids: FxHashSet<Rank> = specials.iter().map(|s| s.1).collect();
    let valid_specials = names.len() == specials.len() && ids.len() == specials.len();
    let tok = match Tokenizer::new(
        "fuzz",
        vocab.clone(),
        PATTERNS[pattern],
        fast,
        specials.clone(),
    ) {
        Ok(t) => {
            assert!(
                valid_specials,
                "repeated special tokens accepted: {specials:?}"
            );
            t
        }
        Err(e) => {
            assert!(!valid_specials, "Tokenizer::new refused {specials:?}: {e}");
            return;
        }
    };
    let special_names: Vec<String> = specials.iter().map(|s| s.0.clone()).collect();
    let id_of = |s: &str| tok.special_tokens()[s];

    // Pre-tokenization: the scanner against fancy-regex.
    let reference_pieces = reference_pretokenizers()[pattern].pieces(&text).ok();
    if let Some(want) = &reference_pieces {
        let fast_pre = Pretokenizer::new(PATTERNS[pattern], true).unwrap();
        assert_eq!(
            &fast_pre.pieces(&text).unwrap(),
            want,
            "scanner differs from fancy-regex"
        );
    }

    // Ordinary encoding.
    let ordinary = tok.encode_ordinary(&text).expect("encode_ordinary");
    assert_eq!(
        tok.decode_bytes(&ordinary).unwrap(),
        text.as_bytes(),
        "ordinary round trip"
    );
    assert!(
        ordinary.iter().all(|&r| (r as usize) < nv),
        "ordinary ids must be mergeable"
    );
    if let Some(want) = reference_ordinary(&vocab, pattern, &text) {
        assert_eq!(ordinary, want, "encode_ordinary differs from the reference");
    }
    assert_eq!(tok.encode(&text, &Allowed::None).unwrap(), ordinary);
    let empty = FxHashSet::default();
    assert_eq!(tok.encode(&text, &Allowed::Some(&empty)).unwrap(), ordinary);

    // Special tokens under each policy.
    let subset: FxHashSet<String> = specials
        .iter()
        .enumerate()
        .filter(|(i, _)| (subset_mask >> i) & 1 == 1)
        .map(|(_, s)| s.0.clone())
        .collect();
    type Accepts<'a> = &'a dyn Fn(&str) -> bool;
    let policies: [(&Allowed, Accepts); 2] = [
        (&Allowed::All, &|_| true),
        (&Allowed::Some(&subset), &|s| subset.contains(s)),
    ];
    for (allowed, accepts) in policies {
        let ids = tok.encode(&text, allowed).expect("encode");
        assert_eq!(
            tok.decode_bytes(&ids).unwrap(),
            text.as_bytes(),
            "round trip with specials"
        );
        let mut want = Vec::new();
        for seg in split_specials(&text, &special_names, accepts) {
            match seg {
                Ok(s) => want.push(id_of(s)),
                Err(t) => want.extend(tok.encode_ordinary(t).unwrap()),
            }
        }
        assert_eq!(ids, want, "special-token split differs from the reference");
        assert_eq!(
            tok.find_special(&text, allowed).as_deref(),
            first_special(&text, &special_names, accepts),
            "find_special"
        );
        for &r in &ids {
            if (r as usize) >= nv {
                let name = &specials.iter().find(|s| s.1 == r).expect("a special id").0;
                assert!(accepts(name), "special {name:?} emitted but not allowed");
            }
        }
    }

    // Raw bytes, valid UTF-8 or not.
    let ids = tok.encode_bytes(raw).expect("encode_bytes");
    assert_eq!(
        tok.decode_bytes(&ids).unwrap(),
        raw,
        "encode_bytes round trip"
    );
    if std::str::from_utf8(raw).is_ok() {
        assert_eq!(ids, ordinary, "encode_bytes of valid UTF-8");
    }

    // Batches: the text cut at up to two char boundaries.
    let starts: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut cuts = [
        starts[rng.below(starts.len())],
        starts[rng.below(starts.len())],
    ];
    cuts.sort_unstable();
    let parts = [&text[..cuts[0]], &text[cuts[0]..cuts[1]], &text[cuts[1]..]];
    let batch = tok
        .encode_batch(&parts, &Allowed::All)
        .expect("encode_batch");
    for (p, ids) in parts.iter().zip(&batch) {
        assert_eq!(ids, &tok.encode(p, &Allowed::All).unwrap(), "encode_batch");
    }
    let decoded = tok.decode_batch(&batch).expect("decode_batch");
    assert_eq!(decoded.concat(), text.as_bytes(), "decode_batch");

    // Single tokens and arbitrary ids.
    for _ in 0..4 {
        let r = rng.below(nv) as Rank;
        let b = tok.decode_single_token_bytes(r).unwrap();
        assert_eq!(tok.encode_single_token(&b).unwrap(), r, "single token {r}");
    }
    for (s, id) in &specials {
        let want = vocab.rank_of(s.as_bytes()).unwrap_or(*id);
        assert_eq!(
            tok.encode_single_token(s.as_bytes()).unwrap(),
            want,
            "single special {s:?}"
        );
    }
    let n_ids = tok.n_vocab() + 3;
    let any_ids: Vec<Rank> = (0..rng.below(8))
        .map(|_| rng.below(n_ids) as Rank)
        .collect();
    let known = |r: Rank| (r as usize) < nv || ids_contains(&specials, r);
    match tok.decode_bytes(&any_ids) {
        Ok(b) => {
            assert!(any_ids.iter().all(|&r| known(r)), "decoded an unknown id");
            let each: Vec<u8> = any_ids
                .iter()
                .flat_map(|&r| tok.decode_single_token_bytes(r).unwrap())
                .collect();
            assert_eq!(b, each);
        }
        Err(_) => assert!(!any_ids.iter().all(|&r| known(r)), "refused known ids"),
    }
}

fn ids_contains(specials: &[(String, Rank)], r: Rank) -> bool {
    specials.iter().any(|s| s.1 == r)
}

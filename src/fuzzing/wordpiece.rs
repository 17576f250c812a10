//! Checks for the WordPiece tokenizer (`crate::tokenizer::wordpiece`, with the BERT basic
//! tokenizer of `crate::tokenizer::basic` in front).
//!
//! Each input builds a small vocabulary from pieces of the input text (whole words, their
//! prefixes and `##` continuations, so matches really happen, overlap and tie), random settings
//! (lower-casing, accent stripping, splitting, CJK splitting, a short word-length limit, a
//! suffix indicator, an OOV token, special tokens) and a text (the input bytes as lossy UTF-8:
//! any scalar value, control characters, combining marks, CJK). The checks:
//! - construction fails exactly when the OOV token or a special token is missing from the
//!   vocabulary or the suffix indicator is empty, and the error names the problem;
//! - `encode` never panics, every id is inside the vocabulary, and without special tokens the ids
//!   equal a literal reference: the basic tokenizer's words, each cut greedily into the longest
//!   known prefix, then the longest known `##` continuation, left to right, the whole word
//!   becoming the OOV token when a position has no match or the word is too long;
//! - with `[SEP]` as the only special token, it comes out once per occurrence in the text;
//! - `encode_batch` equals one `encode` per text, and `decode` accepts every id it produced.

use arbitrary::Unstructured;

use crate::tokenizer::basic::BasicOptions;
use crate::tokenizer::wordpiece::{WordPiece, WordPieceConfig};

/// Characters of at most this many are cut from the text into vocabulary pieces.
const MAX_PIECE: usize = 6;

/// The literal reference for one word (see the module docs).
fn reference_word(wp: &WordPiece, word: &str, out: &mut Vec<u32>) {
    let cfg = wp.config();
    let chars: Vec<char> = word.chars().collect();
    if chars.len() > cfg.max_input_chars_per_word {
        out.push(wp.unk_id());
        return;
    }
    let mut ids = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut found = None;
        for end in (start + 1..=chars.len()).rev() {
            let piece: String = chars[start..end].iter().collect();
            let key = if start == 0 {
                piece
            } else {
                format!("{}{}", cfg.suffix_indicator, piece)
            };
            if let Some(id) = wp.token_to_id(&key) {
                found = Some((id, end));
                break;
            }
        }
        match found {
            Some((id, end)) => {
                ids.push(id);
                start = end;
            }
            None => {
                out.push(wp.unk_id());
                return;
            }
        }
    }
    out.extend(ids);
}

/// Builds a tokenizer and a text from `data` and checks the invariants of the module docs.
pub fn check_encode(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let flags: u8 = u.arbitrary().unwrap_or(0);
    let max_chars = 1 + usize::from(u.arbitrary::<u8>().unwrap_or(0) % 24);
    let suffix = match u.arbitrary::<u8>().unwrap_or(0) % 8 {
        0 => String::new(), // refused: the suffix indicator must be non-empty
        1 => "@@".to_string(),
        _ => "##".to_string(),
    };
    let text_bytes = u.take_rest();
    let text = String::from_utf8_lossy(text_bytes).into_owned();
    let basic = BasicOptions {
        lowercase: flags & 1 != 0,
        strip_accents: flags & 2 != 0,
        split: flags & 4 == 0,
        split_on_cjk: flags & 8 == 0,
    };
    // Vocabulary: pieces of the text (and of its lower-cased form), word starts and continuations.
    let mut tokens: Vec<String> = vec!["[UNK]".to_string(), "[SEP]".to_string()];
    let sources = [text.clone(), text.to_lowercase()];
    for (k, src) in sources.iter().enumerate() {
        let chars: Vec<char> = src.chars().collect();
        let mut i = 0;
        let mut step = 1 + (flags as usize >> 4) % 3;
        while i < chars.len() && tokens.len() < 200 {
            let len = 1 + (i * 7 + k + step) % MAX_PIECE;
            let piece: String = chars[i..(i + len).min(chars.len())].iter().collect();
            if !piece.trim().is_empty() {
                if (i + step).is_multiple_of(3) {
                    tokens.push(format!("{suffix}{piece}"));
                } else {
                    tokens.push(piece);
                }
            }
            i += step;
            step = 1 + (step * 5 + len) % 4;
        }
    }
    let oov = if flags & 16 != 0 {
        "[UNK]".to_string()
    } else {
        "[MISSING]".to_string()
    };
    let specials: Vec<String> = if flags & 32 != 0 {
        let mut s = vec!["[SEP]".to_string()];
        if let Some(t) = tokens.get(2 + (flags as usize >> 6)) {
            s.push(t.clone());
        }
        if flags & 64 != 0 && flags & 128 != 0 {
            s.push("[NOT-IN-VOCAB]".to_string());
        }
        s
    } else {
        Vec::new()
    };
    let cfg = WordPieceConfig {
        basic,
        suffix_indicator: suffix.clone(),
        oov_token: oov.clone(),
        max_input_chars_per_word: max_chars,
        special_tokens_in_strings: specials.clone(),
    };
    let should_fail = suffix.is_empty()
        || !tokens.contains(&oov)
        || specials.iter().any(|s| s.is_empty() || !tokens.contains(s));
    let wp = match WordPiece::new(tokens.clone(), cfg) {
        Ok(wp) => {
            assert!(!should_fail, "an invalid configuration was accepted");
            wp
        }
        Err(e) => {
            assert!(should_fail, "a valid configuration was refused: {e}");
            let msg = e.to_string();
            assert!(
                msg.contains("suffix_indicator")
                    || msg.contains("oov_token")
                    || msg.contains("special token"),
                "the error does not name the problem: {msg}"
            );
            return;
        }
    };
    let ids = wp.encode(&text);
    assert!(
        ids.iter().all(|&i| (i as usize) < tokens.len()),
        "an id outside the vocabulary"
    );
    if specials.is_empty() {
        let mut want = Vec::new();
        for w in wp.basic_tokenize(&text) {
            reference_word(&wp, &w, &mut want);
        }
        assert_eq!(ids, want, "ids differ from the reference for {text:?}");
    } else if specials.len() == 1 && basic.split {
        // The only special token, [SEP], comes out once per (non-overlapping) occurrence in the
        // text; the basic tokenizer splits its brackets off, so no word can produce its id.
        let sep = wp.token_to_id("[SEP]").expect("[SEP] is in the vocabulary");
        let seps_in_text = text.matches("[SEP]").count();
        let seps_out = ids.iter().filter(|&&i| i == sep).count();
        assert_eq!(
            seps_out, seps_in_text,
            "{seps_in_text} [SEP] in the text, {seps_out} in the ids"
        );
    }
    let cut = floor_char(&text, text.len() / 2);
    let halves = [&text[..cut], text.as_str()];
    let batch = wp.encode_batch(&halves);
    for (h, got) in halves.iter().zip(&batch) {
        assert_eq!(got, &wp.encode(h), "encode_batch differs from encode");
    }
    let as_i64: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    wp.decode(&as_i64)
        .expect("decode accepts the ids encode produced");
    assert!(
        wp.decode(&[tokens.len() as i64]).is_err(),
        "decode accepted an id past the vocabulary"
    );
}

/// The largest char boundary of `s` at or below `i`.
fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::check_encode;
    use crate::fuzzing::bpe::Rng;

    /// A few thousand generated inputs (the corpus seeds' shapes with random bytes and random
    /// text) through the check, so `cargo test` exercises it beyond the seeds without libFuzzer.
    #[test]
    fn generated_inputs_pass() {
        let mut rng = Rng::new(0x5eed);
        let alphabet: Vec<char> =
            "abcAB [SEP]#@.,!-\u{e9}\u{301}\u{4e2d}\u{6587} \t\n\u{0}\u{200b}"
                .chars()
                .collect();
        for _ in 0..3000 {
            let mut data: Vec<u8> = (0..3).map(|_| rng.next_u64() as u8).collect();
            let len = (rng.next_u64() % 40) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize])
                .collect();
            data.extend_from_slice(text.as_bytes());
            if rng.next_u64().is_multiple_of(4) {
                data.push(0xff); // invalid UTF-8 too
            }
            check_encode(&data);
        }
    }
}

//! TextVectorization's string pipeline: standardize, split, n-grams, exactly as Keras 3 runs it
//! on TensorFlow (measured with TF 2.21 / Keras 3.15, `tests/fixtures/capture_text_layers.py`).
//!
//! - `tf.strings.lower` without an encoding lower-cases ASCII letters only: "ÉCOLE" becomes
//!   "École", "ΑΒΓ" and "İ" stay as they are.
//! - Keras strips punctuation with `regex_replace(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']', '')`:
//!   exactly the 32 ASCII characters of Python's `string.punctuation`; non-ASCII punctuation
//!   ("«", "。", "¿") stays.
//! - `tf.strings.split` without a separator splits on C `isspace` (space, \t, \n, \v, \f, \r),
//!   runs counting as one, no empty pieces; U+00A0, U+3000, U+2028 and \x1c do not split.
//! - `tf.strings.unicode_split(..., "UTF-8")` gives one piece per code point.
//! - `tf.strings.ngrams(tokens, widths, separator=" ")` gives, for each width in order, every
//!   window of that width (none when the row is shorter).
//!
//! All of these touch ASCII bytes only, so they run byte-wise on UTF-8 (a continuation byte is
//! never ASCII) without decoding.

use crate::error::{Error, Result};

/// The `standardize` argument's built-in modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standardize {
    None,
    Lower,
    StripPunctuation,
    LowerAndStripPunctuation,
}

/// The `split` argument's built-in modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// One token per input string.
    None,
    Whitespace,
    Character,
}

impl Standardize {
    /// Parses Keras' name (`None` is the Python `None`).
    pub fn parse(name: Option<&str>) -> Result<Self> {
        Ok(match name {
            None => Standardize::None,
            Some("lower") => Standardize::Lower,
            Some("strip_punctuation") => Standardize::StripPunctuation,
            Some("lower_and_strip_punctuation") => Standardize::LowerAndStripPunctuation,
            Some(other) => {
                return Err(Error::value(
                    "TextVectorization",
                    format!(
                        "unknown standardize {other:?}: expected None, \"lower\", \
                         \"strip_punctuation\" or \"lower_and_strip_punctuation\""
                    ),
                ))
            }
        })
    }
}

impl Split {
    /// Parses Keras' name (`None` is the Python `None`).
    pub fn parse(name: Option<&str>) -> Result<Self> {
        Ok(match name {
            None => Split::None,
            Some("whitespace") => Split::Whitespace,
            Some("character") => Split::Character,
            Some(other) => {
                return Err(Error::value(
                    "TextVectorization",
                    format!(
                        "unknown split {other:?}: expected None, \"whitespace\" or \"character\""
                    ),
                ))
            }
        })
    }
}

/// The string pipeline of one TextVectorization layer.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub standardize: Standardize,
    pub split: Split,
    /// The n-gram widths, in order; empty for no n-grams.
    pub ngrams: Vec<usize>,
}

/// Python's `string.punctuation`: the bytes Keras' punctuation regex removes.
#[inline]
pub const fn is_punctuation(b: u8) -> bool {
    matches!(b, b'!'..=b'/' | b':'..=b'@' | b'['..=b'`' | b'{'..=b'~')
}

/// C `isspace` in the "C" locale, as `tf.strings.split` uses it.
#[inline]
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The byte map of a standardize mode: each byte's replacement, or `DROP`.
const DROP: u16 = 256;

const fn byte_map(lower: bool, strip: bool) -> [u16; 256] {
    let mut m = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        m[b] = if strip && is_punctuation(c) {
            DROP
        } else if lower {
            c.to_ascii_lowercase() as u16
        } else {
            c as u16
        };
        b += 1;
    }
    m
}

const MAPS: [[u16; 256]; 4] = [
    byte_map(false, false),
    byte_map(true, false),
    byte_map(false, true),
    byte_map(true, true),
];

/// Appends `text` standardized by `mode` to `out` (one table lookup per byte).
pub fn standardize_into(text: &str, mode: Standardize, out: &mut String) {
    let lower = matches!(
        mode,
        Standardize::Lower | Standardize::LowerAndStripPunctuation
    );
    let strip = matches!(
        mode,
        Standardize::StripPunctuation | Standardize::LowerAndStripPunctuation
    );
    let map = &MAPS[lower as usize + 2 * strip as usize];
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.reserve(text.len());
    for &b in text.as_bytes() {
        let m = map[b as usize];
        if m != DROP {
            bytes.push(m as u8);
        }
    }
    // SAFETY: the maps remove ASCII bytes or change them into ASCII bytes and keep every other
    // byte, so what was valid UTF-8 stays valid UTF-8.
    *out = unsafe { String::from_utf8_unchecked(bytes) };
}

/// `text` standardized by `mode`.
pub fn standardize(text: &str, mode: Standardize) -> String {
    let mut out = String::new();
    standardize_into(text, mode, &mut out);
    out
}

thread_local! {
    /// The standardized text of the document a thread is tokenizing (reused, not reallocated).
    static STD_BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The pieces of `text` between runs of C whitespace.
pub fn split_whitespace(text: &str) -> impl Iterator<Item = &str> {
    // On bytes (no char decoding): the separators are ASCII, and an ASCII byte never occurs
    // inside a multi-byte UTF-8 sequence, so every piece is valid UTF-8.
    text.as_bytes()
        .split(|&b| is_c_space(b))
        .filter(|s| !s.is_empty())
        // SAFETY: a piece of valid UTF-8 cut only at ASCII bytes is valid UTF-8 (see above).
        .map(|s| unsafe { std::str::from_utf8_unchecked(s) })
}

/// Appends the n-grams of `tokens` for each width (Keras' order) to `out`.
pub fn ngrams_into(tokens: &[String], widths: &[usize], out: &mut Vec<String>) {
    // label: one pass per width, windows left to right
    for &w in widths {
        if w == 0 || tokens.len() < w {
            continue;
        }
        for window in tokens.windows(w) {
            out.push(window.join(" "));
        }
    }
}

impl Pipeline {
    /// Checks the n-gram widths (`tf.strings.ngrams` requires positive widths).
    pub fn new(standardize: Standardize, split: Split, ngrams: Vec<usize>) -> Result<Self> {
        if ngrams.contains(&0) {
            return Err(Error::value(
                "TextVectorization",
                format!("ngram widths must be positive; received ngrams={ngrams:?}"),
            ));
        }
        Ok(Pipeline {
            standardize,
            split,
            ngrams,
        })
    }

    /// The tokens of one document.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.visit_tokens(text, &mut |t| out.push(t.to_string()));
        out
    }

    /// Calls `f` on each token of one document, in order, without allocating a string per
    /// token (only the standardized text and, for n-grams, one joined buffer are allocated).
    pub fn visit_tokens(&self, text: &str, f: &mut dyn FnMut(&str)) {
        if self.standardize == Standardize::None {
            return self.visit_standardized(text, f);
        }
        STD_BUF.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                standardize_into(text, self.standardize, &mut buf);
                self.visit_standardized(&buf, f)
            }
            // `f` itself tokenizes on this thread: use a buffer of its own
            Err(_) => self.visit_standardized(&standardize(text, self.standardize), f),
        })
    }

    fn visit_standardized(&self, text: &str, f: &mut dyn FnMut(&str)) {
        if self.ngrams.is_empty() {
            match self.split {
                Split::None => f(text),
                Split::Whitespace => split_whitespace(text).for_each(f),
                Split::Character => {
                    for (i, c) in text.char_indices() {
                        f(&text[i..i + c.len_utf8()]);
                    }
                }
            }
            return;
        }
        let pieces: Vec<&str> = match self.split {
            Split::None => vec![text],
            Split::Whitespace => split_whitespace(text).collect(),
            Split::Character => text
                .char_indices()
                .map(|(i, c)| &text[i..i + c.len_utf8()])
                .collect(),
        };
        let mut buf = String::new();
        // label: one pass per width, windows left to right
        for &w in &self.ngrams {
            if pieces.len() < w {
                continue;
            }
            for window in pieces.windows(w) {
                buf.clear();
                for (k, p) in window.iter().enumerate() {
                    if k > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(p);
                }
                f(&buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `standardize_into` relies on this to skip UTF-8 validation.
    #[test]
    fn maps_keep_non_ascii_bytes_and_emit_only_ascii() {
        for m in &MAPS {
            for (b, &v) in m.iter().enumerate() {
                if b >= 0x80 {
                    assert_eq!(v, b as u16);
                } else {
                    assert!(v == DROP || v < 0x80);
                }
            }
        }
        assert_eq!(
            standardize("ÉtÉ, Ça!", Standardize::LowerAndStripPunctuation),
            "ÉtÉ Ça"
        );
    }

    #[test]
    fn lower_is_ascii_only() {
        assert_eq!(
            standardize("ÉCOLE Straße ΑΒΓ İ ABC", Standardize::Lower),
            "École straße ΑΒΓ İ abc"
        );
    }

    #[test]
    fn strip_removes_the_32_ascii_marks_only() {
        let all: String = (0x21u8..0x7f)
            .filter(|b| !b.is_ascii_alphanumeric())
            .map(|b| b as char)
            .collect();
        assert_eq!(all.len(), 32);
        assert_eq!(standardize(&all, Standardize::StripPunctuation), "");
        assert_eq!(
            standardize("«Hé!» ¿qué? 。", Standardize::LowerAndStripPunctuation),
            "«hé» ¿qué 。"
        );
    }

    #[test]
    fn whitespace_split_is_c_isspace() {
        let t = "a\u{a0}b\u{3000}c  d\te\x1cf\u{85}g\u{2028}h \x0b\x0c\r\n";
        let v: Vec<&str> = split_whitespace(t).collect();
        assert_eq!(v, ["a\u{a0}b\u{3000}c", "d", "e\x1cf\u{85}g\u{2028}h"]);
        assert_eq!(split_whitespace("   ").count(), 0);
    }

    #[test]
    fn ngrams_in_width_order() {
        let p = Pipeline::new(Standardize::None, Split::Whitespace, vec![1, 2, 3]).unwrap();
        assert_eq!(
            p.tokens("a b c"),
            ["a", "b", "c", "a b", "b c", "a b c"].map(String::from)
        );
        assert_eq!(p.tokens("x"), ["x"].map(String::from));
        assert!(Pipeline::new(Standardize::None, Split::None, vec![0]).is_err());
    }

    #[test]
    fn character_split_is_code_points() {
        let p = Pipeline::new(Standardize::Lower, Split::Character, vec![]).unwrap();
        assert_eq!(p.tokens("Aé😀"), ["a", "é", "😀"].map(String::from));
    }
}

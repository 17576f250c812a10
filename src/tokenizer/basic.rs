//! BERT's basic tokenizer: clean the text, normalise it and cut it into words, exactly as Hugging
//! Face `tokenizers`' BertNormalizer followed by BertPreTokenizer do.
//!
//! The steps, in the reference's order:
//! 1. clean: drop controls, format and private-use characters, U+0000 and U+FFFD (the `DROP`
//!    table; a control check comes first, so U+0085 and U+000C are dropped although they are
//!    whitespace); map the remaining whitespace (`\t \n \r` and Unicode White_Space) to a space;
//! 2. CJK ideographs become words of their own (BERT's ranges as the reference has them: its
//!    extension-E range starts at U+2B920, not U+2B820);
//! 3. strip accents (when asked): canonical decomposition (NFD, with the canonical reordering of
//!    combining marks), then nonspacing marks removed;
//! 4. lowercase (when asked): `char::to_lowercase`, one character at a time (no final-sigma rule,
//!    as the reference);
//! 5. split: whitespace separates words; each punctuation character (ASCII punctuation and the
//!    Unicode P* categories) is a word of its own.
//!
//! With `split == false` (keras_hub's pre-split input) steps 2 and 5 are skipped: the whole input
//! is one word.
//!
//! The class tables live in [`super::bert_tables`], generated from the reference tokenizer (its
//! categories are frozen at an old Unicode version; see the generator's docstring).
//!
//! Performance note: everything streams, one character at a time, into one reused word buffer; a
//! 64 KB table answers the class questions for the Basic Multilingual Plane with one load, and
//! binary search over the range tables serves the rarer supplementary planes. The rejected
//! alternative, building the normalised string and then splitting it (what the reference does,
//! with alignment tracking), allocates per text and walks the text three times.

use std::sync::OnceLock;

use unicode_normalization::char::{canonical_combining_class, decompose_canonical};

use super::bert_tables::{CJK, DECOMPOSES, DROP, MN, PUNCT};

/// How the basic tokenizer normalises and splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasicOptions {
    /// `char::to_lowercase` every character.
    pub lowercase: bool,
    /// NFD, then drop nonspacing marks.
    pub strip_accents: bool,
    /// Split on whitespace and punctuation (`false`: the input is one word).
    pub split: bool,
    /// Make each CJK ideograph its own word (only with `split`).
    pub split_on_cjk: bool,
}

const F_DROP: u8 = 1;
const F_PUNCT: u8 = 2;
const F_MN: u8 = 4;
const F_DECOMPOSES: u8 = 8;
const F_SPACE: u8 = 16;
const F_CJK: u8 = 32;

fn in_ranges(table: &[(u32, u32)], cp: u32) -> bool {
    table
        .binary_search_by(|&(a, b)| {
            if b < cp {
                std::cmp::Ordering::Less
            } else if a > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn is_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

fn flags_slow(cp: u32) -> u8 {
    let mut f = 0;
    if in_ranges(DROP, cp) {
        f |= F_DROP;
    }
    if in_ranges(PUNCT, cp) {
        f |= F_PUNCT;
    }
    if in_ranges(MN, cp) {
        f |= F_MN;
    }
    if in_ranges(DECOMPOSES, cp) {
        f |= F_DECOMPOSES;
    }
    if char::from_u32(cp).is_some_and(is_space) {
        f |= F_SPACE;
    }
    if in_ranges(CJK, cp) {
        f |= F_CJK;
    }
    f
}

fn bmp_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| (0..0x10000u32).map(flags_slow).collect())
}

/// The class flags of `c`.
#[inline]
fn flags(c: char) -> u8 {
    let cp = c as u32;
    match bmp_table().get(cp as usize) {
        Some(&f) => f,
        None => flags_slow(cp),
    }
}

/// Whether BERT counts `c` as punctuation (ASCII punctuation or Unicode P*, as the reference).
pub fn is_punctuation(c: char) -> bool {
    flags(c) & F_PUNCT != 0
}

/// Whether `c` is in one of BERT's CJK ideograph ranges.
pub fn is_cjk(c: char) -> bool {
    flags(c) & F_CJK != 0
}

/// Buffers reused across texts on one thread.
#[derive(Default)]
pub struct BasicScratch {
    word: String,
    /// Combining marks (canonical combining class, char) waiting for canonical reordering.
    marks: Vec<(u8, char)>,
}

/// One pass over a text: the pipeline stages as methods, the current word and marks buffered.
struct Run<'a, F: FnMut(&str)> {
    opts: BasicOptions,
    word: &'a mut String,
    marks: &'a mut Vec<(u8, char)>,
    emit: F,
}

impl<F: FnMut(&str)> Run<'_, F> {
    fn end_word(&mut self) {
        if !self.word.is_empty() {
            (self.emit)(self.word);
            self.word.clear();
        }
    }

    /// Step 5 for one normalised character.
    fn split(&mut self, c: char, cjk: bool) {
        if !self.opts.split {
            self.word.push(c);
        } else if c == ' ' {
            self.end_word();
        } else if cjk || flags(c) & F_PUNCT != 0 {
            self.end_word();
            self.word.push(c);
            self.end_word();
        } else {
            self.word.push(c);
        }
    }

    /// Step 4.
    fn lower(&mut self, c: char, cjk: bool) {
        if !self.opts.lowercase {
            self.split(c, cjk);
        } else if c.is_ascii() {
            self.split(c.to_ascii_lowercase(), cjk);
        } else {
            for l in c.to_lowercase() {
                self.split(l, cjk);
            }
        }
    }

    /// Emits the buffered combining marks in canonical order (a stable sort by class, as NFD).
    fn flush_marks(&mut self) {
        if self.marks.is_empty() {
            return;
        }
        self.marks.sort_by_key(|&(ccc, _)| ccc);
        let marks = std::mem::take(self.marks);
        for &(_, m) in &marks {
            self.lower(m, false);
        }
        *self.marks = marks;
        self.marks.clear();
    }

    /// Step 3 for one character of a canonical decomposition. Nonspacing marks are dropped before
    /// reordering: removing items before a stable sort leaves the others in the same order.
    fn decomposed(&mut self, c: char, cjk: bool) {
        if flags(c) & F_MN != 0 {
            return;
        }
        match canonical_combining_class(c) {
            0 => {
                self.flush_marks();
                self.lower(c, cjk);
            }
            ccc => self.marks.push((ccc, c)),
        }
    }

    /// Steps 1 and 2, then the rest, for one input character.
    fn feed(&mut self, c: char) {
        let f = flags(c);
        if f & F_DROP != 0 {
            return;
        }
        let (c, f) = if f & F_SPACE != 0 { (' ', 0) } else { (c, f) };
        let cjk = self.opts.split && self.opts.split_on_cjk && f & F_CJK != 0;
        if !self.opts.strip_accents {
            self.lower(c, cjk);
        } else if f & F_DECOMPOSES != 0 {
            decompose_canonical(c, |d| self.decomposed(d, cjk));
        } else {
            // Drops the character when it is a nonspacing mark.
            self.decomposed(c, cjk);
        }
    }

    fn finish(&mut self) {
        self.flush_marks();
        self.end_word();
    }
}

/// Calls `emit` with each word of `text`, in order.
pub fn for_each_word(
    text: &str,
    opts: BasicOptions,
    scratch: &mut BasicScratch,
    emit: impl FnMut(&str),
) {
    scratch.word.clear();
    scratch.marks.clear();
    let mut run = Run {
        opts,
        word: &mut scratch.word,
        marks: &mut scratch.marks,
        emit,
    };
    for c in text.chars() {
        run.feed(c);
    }
    run.finish();
}

/// The words of `text` as owned strings (tests and the Python `basic_tokenize`).
pub fn words(text: &str, opts: BasicOptions) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, opts, &mut BasicScratch::default(), |w| {
        out.push(w.to_string())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNCASED: BasicOptions = BasicOptions {
        lowercase: true,
        strip_accents: true,
        split: true,
        split_on_cjk: true,
    };
    const CASED: BasicOptions = BasicOptions {
        lowercase: false,
        strip_accents: false,
        split: true,
        split_on_cjk: true,
    };

    #[test]
    fn splits_whitespace_and_punctuation() {
        assert_eq!(
            words("Hello, world!  (ok)", CASED),
            ["Hello", ",", "world", "!", "(", "ok", ")"]
        );
        assert_eq!(words("a--b", CASED), ["a", "-", "-", "b"]);
        // Unicode punctuation (Pd, Pi/Pf) splits; symbols (Sm, Sc) do not.
        assert_eq!(
            words("x\u{2014}y \u{201C}q\u{201D}", CASED),
            ["x", "\u{2014}", "y", "\u{201C}", "q", "\u{201D}"]
        );
        assert_eq!(
            words("1+1=2 $5", CASED),
            ["1", "+", "1", "=", "2", "$", "5"]
        );
        assert_eq!(words("\u{20AC}5", CASED), ["\u{20AC}5"]);
        assert!(words("", CASED).is_empty());
        assert!(words(" \t\n\u{3000} ", CASED).is_empty());
    }

    #[test]
    fn cleans_controls() {
        // Controls and U+FFFD vanish (joining their neighbours); U+0085 is a control first.
        // U+200B ZERO WIDTH SPACE is a format character (Cf), not whitespace: dropped too.
        assert_eq!(words("a\u{0}b\u{FFFD}c\u{85}d\u{200B}e", CASED), ["abcde"]);
        assert_eq!(words("a\u{AD}b", CASED), ["ab"]);
        assert_eq!(words("a\u{7}b\u{c}c", CASED), ["abc"]);
        assert_eq!(words("a\u{2028}b\u{A0}c", CASED), ["a", "b", "c"]);
    }

    #[test]
    fn cjk_is_split_per_character() {
        assert_eq!(
            words("ab\u{4E2D}\u{6587}cd", CASED),
            ["ab", "\u{4E2D}", "\u{6587}", "cd"]
        );
        // Hiragana is not in BERT's ranges.
        assert_eq!(words("\u{3053}\u{3093}", CASED), ["\u{3053}\u{3093}"]);
        let no_cjk = BasicOptions {
            split_on_cjk: false,
            ..CASED
        };
        assert_eq!(words("ab\u{4E2D}cd", no_cjk), ["ab\u{4E2D}cd"]);
    }

    #[test]
    fn lowercase_and_strip_accents() {
        assert_eq!(
            words("H\u{E9}LLO \u{C5}ngstr\u{F6}m", UNCASED),
            ["hello", "angstrom"]
        );
        // Already decomposed input.
        assert_eq!(words("e\u{301}", UNCASED), ["e"]);
        // Per-character lowercase: no final sigma.
        assert_eq!(
            words("\u{39F}\u{394}\u{39F}\u{3A3}", UNCASED),
            ["\u{3BF}\u{3B4}\u{3BF}\u{3C3}"]
        );
        // Strip before lowercase: U+0130 decomposes to I + U+0307, the mark goes, I lowers to i.
        assert_eq!(words("\u{130}", UNCASED), ["i"]);
        // Lowercase without stripping keeps the accent and U+0130's expansion.
        let lower_only = BasicOptions {
            strip_accents: false,
            ..UNCASED
        };
        assert_eq!(words("\u{C9}\u{130}", lower_only), ["\u{E9}i\u{307}"]);
        // Hangul syllables decompose into jamo (not marks, so they stay).
        assert_eq!(words("\u{D55C}", UNCASED), ["\u{1112}\u{1161}\u{11AB}"]);
    }

    #[test]
    fn canonical_reordering_of_remaining_marks() {
        // U+1D165 (ccc 216) and U+1D166 (ccc 216) are spacing marks that survive stripping;
        // U+0301 (ccc 230) goes.
        assert_eq!(words("a\u{301}\u{1D165}", UNCASED), ["a\u{1D165}"]);
    }

    #[test]
    fn no_split_keeps_one_word() {
        let o = BasicOptions {
            split: false,
            ..UNCASED
        };
        assert_eq!(words("A b, \u{4E2D}!", o), ["a b, \u{4E2D}!"]);
    }

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for t in [DROP, PUNCT, MN, DECOMPOSES, CJK] {
            for w in t.windows(2) {
                assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
            }
        }
        assert!(is_punctuation('!') && is_punctuation('\u{3002}') && !is_punctuation('a'));
        assert!(is_cjk('\u{4E00}') && is_cjk('\u{2F800}') && !is_cjk('a'));
        // The reference's extension-E range starts at U+2B920.
        assert!(!is_cjk('\u{2B820}') && is_cjk('\u{2B920}'));
    }
}

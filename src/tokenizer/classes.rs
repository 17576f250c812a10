//! Unicode character classes for the hand-written pre-tokenizers.
//!
//! The tables come from `regex-syntax`, the parser behind both `regex` and `fancy-regex`, so the
//! scanner's idea of `\p{L}`, `\p{N}`, `\s`, ... is by construction the one tiktoken's regex uses
//! (same Unicode version, same `\s` = White_Space definition, same case folding for `(?i:...)`).
//!
//! Performance note: a two-level table (256-codepoint blocks, identical blocks shared) costs about
//! 20 KB and answers any class question with two loads; ASCII has its own 128-byte table. The
//! rejected alternative, binary search over range lists per class, is ~5x slower on CJK text.

use std::sync::OnceLock;

use regex_syntax::hir::{Class, HirKind};

/// `\p{L}`
pub const L: u8 = 1;
/// `\p{N}`
pub const N: u8 = 2;
/// `\s` (Unicode White_Space)
pub const WS: u8 = 4;
/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` (o200k's "upper" class)
pub const UP: u8 = 8;
/// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (o200k's "lower" class)
pub const LO: u8 = 16;
/// `\p{M}`
pub const M: u8 = 32;

/// The class table plus the case-insensitive equivalents used by the contraction alternatives.
pub struct Classes {
    ascii: [u8; 128],
    index: Vec<u16>,
    blocks: Vec<[u8; 256]>,
    /// Non-ASCII characters that `(?i:x)` also matches, per ASCII lowercase letter x
    /// (e.g. U+017F LATIN SMALL LETTER LONG S for `s`).
    folds: Vec<(u8, char)>,
}

fn ranges(pattern: &str) -> Option<Vec<(u32, u32)>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => Some(
            c.ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32))
                .collect(),
        ),
        _ => None,
    }
}

fn build() -> Option<Classes> {
    let mut flat = vec![0u8; 0x110000];
    let sets: [(&str, u8); 9] = [
        (r"\p{L}", L),
        (r"\p{N}", N),
        (r"\s", WS),
        (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UP),
        (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LO),
        (r"\p{M}", M),
        // Touch the remaining categories so a parse failure of any is noticed.
        (r"\p{Lt}", 0),
        (r"\p{Lm}", 0),
        (r"\p{Lo}", 0),
    ];
    for (pat, bit) in sets {
        for (a, b) in ranges(pat)? {
            for cp in a..=b {
                flat[cp as usize] |= bit;
            }
        }
    }
    let mut ascii = [0u8; 128];
    ascii.copy_from_slice(&flat[..128]);
    let mut blocks: Vec<[u8; 256]> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut index = Vec::with_capacity(0x1100);
    for chunk in flat.chunks_exact(256) {
        let mut block = [0u8; 256];
        block.copy_from_slice(chunk);
        let id = *seen.entry(block).or_insert_with(|| {
            blocks.push(block);
            blocks.len() - 1
        });
        index.push(id as u16);
    }
    let mut folds = Vec::new();
    for letter in b'a'..=b'z' {
        for (a, b) in ranges(&format!("(?i:[{}])", letter as char))? {
            for cp in a..=b {
                if cp >= 128 {
                    if let Some(c) = char::from_u32(cp) {
                        folds.push((letter, c));
                    }
                }
            }
        }
    }
    Some(Classes {
        ascii,
        index,
        blocks,
        folds,
    })
}

/// The process-wide table, built on first use (about 2 ms); `None` only if `regex-syntax`
/// rejected one of the fixed class patterns, in which case callers fall back to the regex.
pub fn classes() -> Option<&'static Classes> {
    static TABLE: OnceLock<Option<Classes>> = OnceLock::new();
    TABLE.get_or_init(build).as_ref()
}

impl Classes {
    /// The class bits of `c`.
    #[inline(always)]
    pub fn of(&self, c: char) -> u8 {
        let cp = c as u32;
        if cp < 128 {
            self.ascii[cp as usize]
        } else {
            self.blocks[self.index[(cp >> 8) as usize] as usize][(cp & 0xff) as usize]
        }
    }

    /// Whether `c` matches `(?i:letter)` for an ASCII lowercase `letter`.
    #[inline]
    pub fn ci_eq(&self, c: char, letter: u8) -> bool {
        if c.is_ascii() {
            c.to_ascii_lowercase() as u8 == letter
        } else {
            self.folds.iter().any(|&(l, f)| l == letter && f == c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_agrees_with_regex_on_all_codepoints() {
        let t = classes().expect("class table");
        let checks: [(&str, u8); 6] = [
            (r"^\p{L}$", L),
            (r"^\p{N}$", N),
            (r"^\s$", WS),
            (r"^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$", UP),
            (r"^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$", LO),
            (r"^\p{M}$", M),
        ];
        let res: Vec<(regex::Regex, u8)> = checks
            .iter()
            .map(|(p, b)| (regex::Regex::new(p).unwrap(), *b))
            .collect();
        let mut buf = [0u8; 4];
        for cp in (0..0x110000u32).step_by(7).chain(0..0x3000) {
            if let Some(c) = char::from_u32(cp) {
                let s = c.encode_utf8(&mut buf);
                for (re, bit) in &res {
                    assert_eq!(re.is_match(s), t.of(c) & bit != 0, "U+{cp:04X} bit {bit}");
                }
            }
        }
        assert!(t.ci_eq('\u{17f}', b's'));
        assert!(t.ci_eq('S', b's'));
        assert!(!t.ci_eq('\u{17f}', b't'));
    }
}

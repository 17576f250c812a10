//! Pre-tokenization: splitting text into the pieces BPE merges within.
//!
//! The presets carry tiktoken's current pattern strings verbatim (`tiktoken_ext/openai_public.py`)
//! and their special tokens. A preset's pattern runs through the hand-written scanner
//! (`scanner.rs`); any other pattern, or a preset with `fast = false`, runs through fancy-regex,
//! the engine tiktoken itself uses, which is therefore the reference the scanner is tested
//! against.

use super::classes::{classes, Classes};
use super::scanner::{ScanKind, Scanner};
use super::vocab::Rank;
use crate::error::{Error, Result};

/// gpt2 / r50k_base / p50k_base pattern.
pub const R50K_PATTERN: &str =
    r"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s";
/// cl100k_base pattern.
pub const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";
/// o200k_base pattern.
pub const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+(?!\S)",
    "|",
    r"\s+",
);

/// The named encodings tiktoken ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Gpt2,
    R50k,
    P50k,
    Cl100k,
    O200k,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 5] = [
        Preset::Gpt2,
        Preset::R50k,
        Preset::P50k,
        Preset::Cl100k,
        Preset::O200k,
    ];

    /// The preset called `name` (`gpt2`, `r50k_base`, `p50k_base`, `cl100k_base`, `o200k_base`).
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// tiktoken's name for the preset.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Gpt2 => "gpt2",
            Preset::R50k => "r50k_base",
            Preset::P50k => "p50k_base",
            Preset::Cl100k => "cl100k_base",
            Preset::O200k => "o200k_base",
        }
    }

    /// The pre-tokenization pattern.
    pub fn pattern(self) -> &'static str {
        match self {
            Preset::Gpt2 | Preset::R50k | Preset::P50k => R50K_PATTERN,
            Preset::Cl100k => CL100K_PATTERN,
            Preset::O200k => O200K_PATTERN,
        }
    }

    /// The special tokens tiktoken defines for the preset.
    pub fn special_tokens(self) -> Vec<(String, Rank)> {
        let v: &[(&str, Rank)] = match self {
            Preset::Gpt2 | Preset::R50k | Preset::P50k => &[("<|endoftext|>", 50256)],
            Preset::Cl100k => &[
                ("<|endoftext|>", 100257),
                ("<|fim_prefix|>", 100258),
                ("<|fim_middle|>", 100259),
                ("<|fim_suffix|>", 100260),
                ("<|endofprompt|>", 100276),
            ],
            Preset::O200k => &[("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)],
        };
        v.iter().map(|(s, r)| (s.to_string(), *r)).collect()
    }

    /// tiktoken's `explicit_n_vocab` where it sets one.
    pub fn explicit_n_vocab(self) -> Option<usize> {
        match self {
            Preset::Gpt2 | Preset::R50k => Some(50257),
            Preset::P50k => Some(50281),
            _ => None,
        }
    }
}

fn scan_kind(pattern: &str) -> Option<ScanKind> {
    match pattern {
        R50K_PATTERN => Some(ScanKind::R50k),
        CL100K_PATTERN => Some(ScanKind::Cl100k),
        O200K_PATTERN => Some(ScanKind::O200k),
        _ => None,
    }
}

/// Splits text into pieces.
#[derive(Debug)]
pub enum Pretokenizer {
    /// The hand-written scanner for a preset pattern.
    Scanner {
        kind: ScanKind,
        pattern: String,
        classes: &'static Classes,
    },
    /// fancy-regex for any pattern (the reference path).
    Regex {
        re: Box<fancy_regex::Regex>,
        pattern: String,
    },
}

impl std::fmt::Debug for Classes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Classes")
    }
}

impl Pretokenizer {
    /// A pre-tokenizer for `pattern`: the scanner when `fast` and the pattern is a preset's,
    /// fancy-regex otherwise. Errors name the pattern when it does not compile.
    pub fn new(pattern: &str, fast: bool) -> Result<Self> {
        if fast {
            if let (Some(kind), Some(classes)) = (scan_kind(pattern), classes()) {
                return Ok(Pretokenizer::Scanner {
                    kind,
                    pattern: pattern.to_string(),
                    classes,
                });
            }
        }
        let re = fancy_regex::Regex::new(pattern).map_err(|e| {
            Error::value("pattern", format!("cannot compile regex {pattern:?}: {e}"))
        })?;
        Ok(Pretokenizer::Regex {
            re: Box::new(re),
            pattern: pattern.to_string(),
        })
    }

    /// The pattern string.
    pub fn pattern(&self) -> &str {
        match self {
            Pretokenizer::Scanner { pattern, .. } | Pretokenizer::Regex { pattern, .. } => pattern,
        }
    }

    /// Whether the hand-written scanner is in use.
    pub fn is_fast(&self) -> bool {
        matches!(self, Pretokenizer::Scanner { .. })
    }

    /// Calls `f(start, end)` with the byte range of each piece of `text`, in order. Empty regex
    /// matches produce no piece; text the pattern does not match is skipped, as in tiktoken.
    pub fn for_each_piece(&self, text: &str, mut f: impl FnMut(usize, usize)) -> Result<()> {
        match self {
            Pretokenizer::Scanner { kind, classes, .. } => {
                Scanner::new(text, classes).for_each(*kind, f);
                Ok(())
            }
            Pretokenizer::Regex { re, .. } => {
                for m in re.find_iter(text) {
                    let m = m.map_err(|e| {
                        Error::value(
                            "encode",
                            format!("regex {:?} failed on the input: {e}", self.pattern()),
                        )
                    })?;
                    if m.end() > m.start() {
                        f(m.start(), m.end());
                    }
                }
                Ok(())
            }
        }
    }

    /// The pieces of `text` as string slices.
    pub fn pieces<'t>(&self, text: &'t str) -> Result<Vec<&'t str>> {
        let mut out = Vec::new();
        self.for_each_piece(text, |a, b| out.push(&text[a..b]))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Characters chosen to hit every class boundary the patterns care about.
    const ALPHABET: &[char] = &[
        'a',
        'Z',
        's',
        'S',
        't',
        'l',
        'L',
        'v',
        'e',
        'E',
        'r',
        'd',
        'm',
        'M',
        '\'',
        ' ',
        ' ',
        '\n',
        '\r',
        '\t',
        '\u{a0}',
        '\u{2003}',
        '\u{3000}',
        '\u{85}',
        '\u{b}',
        '\u{c}',
        '0',
        '7',
        '\u{663}',
        '\u{2167}',
        '\u{bd}',
        '.',
        '!',
        '/',
        '"',
        '(',
        '+',
        '-',
        '_',
        '\u{301}',
        '\u{300}',
        '\u{93f}',
        '\u{17f}',
        '\u{1c5}',
        '\u{2b0}',
        '\u{e9}',
        '\u{c9}',
        '\u{4e2d}',
        '\u{5b57}',
        '\u{627}',
        '\u{915}',
        '\u{416}',
        '\u{436}',
        '\u{1f600}',
        '\u{200d}',
        '\u{fe0f}',
        '\u{1f3fd}',
        '\u{2028}',
        '\u{10400}',
        '\u{10428}',
        '$',
        '\u{a7}',
    ];

    fn check_all(kind_pattern: &str, texts: &[String]) {
        let fast = Pretokenizer::new(kind_pattern, true).unwrap();
        assert!(fast.is_fast());
        let slow = Pretokenizer::new(kind_pattern, false).unwrap();
        for t in texts {
            assert_eq!(
                fast.pieces(t).unwrap(),
                slow.pieces(t).unwrap(),
                "text {t:?}"
            );
        }
    }

    fn random_texts(seed: u64, n: usize, max_len: usize) -> Vec<String> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|_| {
                let len = (rng.next() % max_len as u64) as usize;
                (0..len)
                    .map(|_| ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn scanners_equal_fancy_regex_on_random_text() {
        let texts = random_texts(0x2545f4914f6cdd1d, 3000, 24);
        for p in [R50K_PATTERN, CL100K_PATTERN, O200K_PATTERN] {
            check_all(p, &texts);
        }
    }

    #[test]
    fn scanners_equal_fancy_regex_on_fixed_cases() {
        let texts: Vec<String> = [
            "",
            " ",
            "  ",
            "\n",
            " \n ",
            "a  b",
            "a \n\n  b",
            "I'm  He'LL they'Ve 'S ſ 'ſ",
            "HELLO world",
            "HelloWorld",
            "ǅungla",
            "x\u{301}\u{301}y",
            " \u{301}abc",
            "123456789",
            " 12",
            "a/b//c\n/",
            "foo!!\n\n",
            "  \t\n  x",
            "\r\n\r\n",
            "\u{3000}\u{3000}word",
            "end   ",
            "'''",
            "'s's",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for p in [R50K_PATTERN, CL100K_PATTERN, O200K_PATTERN] {
            check_all(p, &texts);
        }
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let e = Pretokenizer::new("(unclosed", true).unwrap_err();
        assert!(e.to_string().contains("cannot compile"), "{e}");
    }
}

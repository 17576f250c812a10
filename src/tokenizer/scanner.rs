//! Hand-written pre-tokenizers for tiktoken's preset patterns.
//!
//! Each `next_*` function returns the end of the regex match that starts at byte `i`. Every
//! pattern matches some non-empty text at every position (each alternative set covers letters,
//! numbers, other symbols and whitespace), so `find_iter` never skips a character and the match
//! always starts at `i`; the functions replay the backtracking engine's choice among the
//! alternatives, in order, as derived in the comments. They are checked against fancy-regex by
//! differential tests here (random strings over a tricky alphabet) and against tiktoken from
//! Python (corpus and hypothesis).
//!
//! Performance note: fancy-regex must run a backtracking VM for `\s+(?!\S)` and spends most of
//! tiktoken's encode time there; this scanner is a single forward pass per piece with two table
//! loads per character (`classes.rs`), about 10x faster than the regex here. The rejected
//! alternative, the `regex` crate's DFA on the pattern without the lookahead plus a fix-up, is
//! faster than fancy-regex but still several times slower than this scanner, and its fix-up is
//! as subtle to prove as the scanner itself.

use super::classes::{Classes, L, LO, N, UP, WS};

/// Which preset pattern to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    /// gpt2 / r50k_base / p50k_base.
    R50k,
    /// cl100k_base.
    Cl100k,
    /// o200k_base.
    O200k,
}

/// A scanner over one text.
pub struct Scanner<'a> {
    b: &'a [u8],
    t: &'static Classes,
}

const PUNCT_MASK: u8 = WS | L | N;

impl<'a> Scanner<'a> {
    /// A scanner over `text` using the class table `t`.
    pub fn new(text: &'a str, t: &'static Classes) -> Self {
        Scanner {
            b: text.as_bytes(),
            t,
        }
    }

    /// The char at byte `i` (a char boundary), its class bits and its length; `None` at the end.
    #[inline(always)]
    fn at(&self, i: usize) -> Option<(char, u8, usize)> {
        let b = self.b;
        let x = *b.get(i)?;
        if x < 0x80 {
            let c = x as char;
            return Some((c, self.t.of(c), 1));
        }
        // `b` is valid UTF-8 and `i` a char boundary, so the continuation bytes exist.
        let (cp, len) = if x < 0xE0 {
            (((x as u32 & 0x1f) << 6) | (b[i + 1] as u32 & 0x3f), 2)
        } else if x < 0xF0 {
            (
                ((x as u32 & 0x0f) << 12)
                    | ((b[i + 1] as u32 & 0x3f) << 6)
                    | (b[i + 2] as u32 & 0x3f),
                3,
            )
        } else {
            (
                ((x as u32 & 0x07) << 18)
                    | ((b[i + 1] as u32 & 0x3f) << 12)
                    | ((b[i + 2] as u32 & 0x3f) << 6)
                    | (b[i + 3] as u32 & 0x3f),
                4,
            )
        };
        let c = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
        Some((c, self.t.of(c), len))
    }

    /// End of the maximal run of chars from `i` whose class bits intersect `mask`.
    #[inline(always)]
    fn run(&self, mut i: usize, mask: u8) -> usize {
        // ASCII fast path: most text is ASCII and needs no decoding.
        while let Some(&x) = self.b.get(i) {
            if x < 0x80 {
                if self.t.of(x as char) & mask == 0 {
                    return i;
                }
                i += 1;
            } else {
                match self.at(i) {
                    Some((_, cls, len)) if cls & mask != 0 => i += len,
                    _ => return i,
                }
            }
        }
        i
    }

    /// End of the maximal run of "other" chars `[^\s\p{L}\p{N}]` from `i`.
    #[inline(always)]
    fn run_punct(&self, mut i: usize) -> usize {
        while let Some((_, cls, len)) = self.at(i) {
            if cls & PUNCT_MASK != 0 {
                break;
            }
            i += len;
        }
        i
    }

    /// End of the maximal run of bytes in `set` (ASCII only) from `i`.
    #[inline(always)]
    fn run_bytes(&self, mut i: usize, set: &[u8]) -> usize {
        while let Some(x) = self.b.get(i) {
            if !set.contains(x) {
                break;
            }
            i += 1;
        }
        i
    }

    /// The whitespace run from `i`: (end, start of its last char, end of its last `\r`/`\n`).
    #[inline(always)]
    fn ws_run(&self, mut i: usize) -> (usize, usize, Option<usize>) {
        let mut last = i;
        let mut nl = None;
        while let Some((c, cls, len)) = self.at(i) {
            if cls & WS == 0 {
                break;
            }
            last = i;
            i += len;
            if c == '\n' || c == '\r' {
                nl = Some(i);
            }
        }
        (i, last, nl)
    }

    #[inline(always)]
    fn is_punct(&self, i: usize) -> bool {
        matches!(self.at(i), Some((_, cls, _)) if cls & PUNCT_MASK == 0)
    }

    /// `'(?:[sdmt]|ll|ve|re)` at `i` (just after nothing; `i` points at the apostrophe), with
    /// `ci` choosing case-insensitive letters (cl100k) or exact lowercase (r50k).
    #[inline]
    fn contraction_cl(&self, i: usize, ci: bool) -> Option<usize> {
        let eq = |c: char, l: u8| {
            if ci {
                self.t.ci_eq(c, l)
            } else {
                c == l as char
            }
        };
        let (d, _, dl) = self.at(i + 1)?;
        if eq(d, b's') || eq(d, b'd') || eq(d, b'm') || eq(d, b't') {
            return Some(i + 1 + dl);
        }
        let (e, _, el) = self.at(i + 1 + dl)?;
        if (eq(d, b'l') && eq(e, b'l'))
            || (eq(d, b'v') && eq(e, b'e'))
            || (eq(d, b'r') && eq(e, b'e'))
        {
            return Some(i + 1 + dl + el);
        }
        None
    }

    /// The optional o200k suffix `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `i`.
    #[inline]
    fn contraction_o200k(&self, i: usize) -> usize {
        if self.b.get(i) != Some(&b'\'') {
            return i;
        }
        let t = self.t;
        let Some((d, _, dl)) = self.at(i + 1) else {
            return i;
        };
        if t.ci_eq(d, b's') || t.ci_eq(d, b't') || t.ci_eq(d, b'm') || t.ci_eq(d, b'd') {
            return i + 1 + dl;
        }
        if let Some((e, _, el)) = self.at(i + 1 + dl) {
            if (t.ci_eq(d, b'r') && t.ci_eq(e, b'e'))
                || (t.ci_eq(d, b'v') && t.ci_eq(e, b'e'))
                || (t.ci_eq(d, b'l') && t.ci_eq(e, b'l'))
            {
                return i + 1 + dl + el;
            }
        }
        i
    }

    /// gpt2/r50k: `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`
    pub fn next_r50k(&self, i: usize) -> usize {
        let Some((c, cls, cl)) = self.at(i) else {
            return i;
        };
        if c == '\'' {
            if let Some(e) = self.contraction_cl(i, false) {
                return e;
            }
        }
        // ` ?X++`: the optional space is taken only if X follows it; otherwise X must start at i.
        let next = if c == ' ' { self.at(i + 1) } else { None };
        let (start, scls) = match next {
            Some((_, ncls, _)) if ncls & WS == 0 => (i + 1, ncls),
            _ => (i, cls),
        };
        if scls & L != 0 {
            return self.run(start, L);
        }
        if scls & N != 0 {
            return self.run(start, N);
        }
        if scls & WS == 0 {
            return self.run_punct(start);
        }
        self.whitespace_tail(i, cl)
    }

    /// `\s++$|\s+(?!\S)|\s` at a whitespace char: the whole run at the end of the text, else the
    /// run minus its last char (which then leads the next piece), else one char.
    #[inline]
    fn whitespace_tail(&self, i: usize, cl: usize) -> usize {
        let (e, last, _) = self.ws_run(i);
        if e == self.b.len() {
            e
        } else if last > i {
            last
        } else {
            i + cl
        }
    }

    /// cl100k: `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|
    /// ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    pub fn next_cl100k(&self, i: usize) -> usize {
        let Some((c, cls, cl)) = self.at(i) else {
            return i;
        };
        if c == '\'' {
            if let Some(e) = self.contraction_cl(i, true) {
                return e;
            }
        }
        if cls & L != 0 {
            return self.run(i, L);
        }
        if c != '\r' && c != '\n' && cls & N == 0 {
            // Possessive optional prefix: taken whenever present, never given back.
            if matches!(self.at(i + cl), Some((_, ncls, _)) if ncls & L != 0) {
                return self.run(i + cl, L);
            }
        }
        if cls & N != 0 {
            // \p{N}{1,3}: at most three numeric chars.
            let mut e = i;
            for _ in 0..3 {
                match self.at(e) {
                    Some((_, k, len)) if k & N != 0 => e += len,
                    _ => break,
                }
            }
            return e;
        }
        let start = if c == ' ' && self.is_punct(i + 1) {
            i + 1
        } else {
            i
        };
        if start > i || cls & WS == 0 {
            let e = self.run_punct(start);
            return self.run_bytes(e, b"\r\n");
        }
        // c is whitespace.
        let (e, last, nl) = self.ws_run(i);
        if e == self.b.len() {
            return e; // \s++$
        }
        if let Some(nl) = nl {
            return nl; // \s*[\r\n]: up to the run's last newline
        }
        if last > i {
            last // \s+(?!\S)
        } else {
            i + cl // \s
        }
    }

    /// o200k's `[^\r\n\p{L}\p{N}]?[UP]*[LO]+` with the prefix decision already made: `q` is
    /// where `[UP]*` starts. Returns the end of `[LO]+` for the first success in backtracking
    /// order: `[UP]*` gives back chars until a char of class LO can start `[LO]+`.
    #[inline]
    fn o200k_upper_lower(&self, q: usize) -> Option<usize> {
        let mut j = q;
        let mut last_lo_end = None;
        while let Some((_, cls, len)) = self.at(j) {
            if cls & UP == 0 {
                if cls & LO != 0 {
                    // [UP]* kept all of its run and [LO]+ starts here, greedy.
                    return Some(self.run(j, LO));
                }
                break;
            }
            j += len;
            if cls & LO != 0 {
                last_lo_end = Some(j);
            }
        }
        // [UP]* gives back up to the last char that is also LO; [LO]+ is then that one char,
        // since no later char of the run (nor the char after it) is LO.
        last_lo_end
    }

    /// o200k: `[^\r\n\p{L}\p{N}]?[UP]*[LO]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
    /// [^\r\n\p{L}\p{N}]?[UP]+[LO]*(?i:...)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|
    /// \s+(?!\S)|\s+`
    pub fn next_o200k(&self, i: usize) -> usize {
        let Some((c, cls, cl)) = self.at(i) else {
            return i;
        };
        let prefix = c != '\r' && c != '\n' && cls & (L | N) == 0;
        // Alternative 1, prefix taken, then not taken.
        if prefix {
            if let Some(e) = self.o200k_upper_lower(i + cl) {
                return self.contraction_o200k(e);
            }
        }
        if cls & (UP | LO) != 0 {
            if let Some(e) = self.o200k_upper_lower(i) {
                return self.contraction_o200k(e);
            }
        }
        // Alternative 2: [UP]+ then greedy [LO]*, which cannot fail once [UP]+ matched.
        if prefix {
            let e = self.run(i + cl, UP);
            if e > i + cl {
                return self.contraction_o200k(self.run(e, LO));
            }
        }
        if cls & UP != 0 {
            let e = self.run(i, UP);
            return self.contraction_o200k(self.run(e, LO));
        }
        if cls & N != 0 {
            let mut e = i;
            for _ in 0..3 {
                match self.at(e) {
                    Some((_, k, len)) if k & N != 0 => e += len,
                    _ => break,
                }
            }
            return e;
        }
        let start = if c == ' ' && self.is_punct(i + 1) {
            i + 1
        } else {
            i
        };
        if start > i || cls & WS == 0 {
            let e = self.run_punct(start);
            return self.run_bytes(e, b"\r\n/");
        }
        let (e, last, nl) = self.ws_run(i);
        if let Some(nl) = nl {
            return nl; // \s*[\r\n]+
        }
        if e == self.b.len() || last == i {
            e // \s+(?!\S) at the end, or \s+ for a single char
        } else {
            last // \s+(?!\S)
        }
    }

    /// Calls `f(start, end)` for every piece of the text.
    #[inline]
    pub fn for_each(&self, kind: ScanKind, mut f: impl FnMut(usize, usize)) {
        let mut i = 0;
        let n = self.b.len();
        while i < n {
            let e = match kind {
                ScanKind::R50k => self.next_r50k(i),
                ScanKind::Cl100k => self.next_cl100k(i),
                ScanKind::O200k => self.next_o200k(i),
            };
            // Every pattern consumes at least one char; guard anyway so a bug cannot loop.
            let e = if e > i {
                e
            } else {
                i + self.at(i).map_or(1, |x| x.2)
            };
            f(i, e);
            i = e;
        }
    }
}

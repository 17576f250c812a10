//! Checks for the `.tiktoken` reader and writer (`crate::tokenizer::tiktoken_file`) and the rank
//! table they feed (`Vocab::from_ranked`).

use arbitrary::Unstructured;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rustc_hash::FxHashSet;

use crate::tokenizer::tiktoken_file::{parse_tiktoken, to_tiktoken_bytes};
use crate::tokenizer::vocab::Vocab;

const SOURCE: &str = "fuzz.tiktoken";

/// Whether `(bytes, rank)` pairs form a valid byte-level BPE rank table, judged independently
/// of `Vocab::from_ranked`: ranks exactly `0..n`, token bytes unique and non-empty, all 256
/// single bytes present.
fn valid_table(pairs: &[(Vec<u8>, u64)]) -> bool {
    let n = pairs.len() as u64;
    let mut ranks: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    ranks.sort_unstable();
    let ranks_ok = ranks.iter().enumerate().all(|(i, &r)| r == i as u64);
    let tokens: FxHashSet<&[u8]> = pairs.iter().map(|p| p.0.as_slice()).collect();
    let all_bytes = (0..=255u8).all(|b| tokens.contains(&[b][..]));
    n > 0 && ranks_ok && tokens.len() == pairs.len() && !tokens.contains(&b""[..]) && all_bytes
}

/// Parses `data`, builds the table when the parse succeeds, and checks the table against
/// [`valid_table`]; on success checks that writing it out reads back to the same table and that
/// writing is a fixed point. Returns the sorted pairs when the file is a valid vocabulary.
fn parse_and_check(data: &[u8]) -> Option<Vec<(Vec<u8>, u64)>> {
    let pairs = match parse_tiktoken(data, SOURCE) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(SOURCE), "error does not name the file: {msg}");
            return None;
        }
    };
    let lines = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.strip_suffix(b"\r").unwrap_or(l).is_empty())
        .count();
    assert_eq!(pairs.len(), lines, "one pair per non-empty line");
    // The base64 engine accepts only canonical encodings, so each token's first field is its
    // exact encoding; check a token made it through unchanged.
    for (tok, _) in &pairs {
        let enc = STANDARD.encode(tok);
        assert!(
            data.windows(enc.len().max(1)).any(|w| w == enc.as_bytes()) || tok.is_empty(),
            "token {tok:?} does not appear in the file as {enc}"
        );
    }
    let ok = valid_table(&pairs);
    let vocab = match Vocab::from_ranked(pairs.clone(), SOURCE) {
        Ok(v) => v,
        Err(e) => {
            assert!(!ok, "a valid rank table was refused: {e}");
            return None;
        }
    };
    assert!(ok, "an invalid rank table was accepted");
    let mut sorted = pairs;
    sorted.sort_by_key(|p| p.1);
    assert_eq!(vocab.len(), sorted.len());
    for (tok, r) in &sorted {
        assert_eq!(vocab.rank_of(tok), Some(*r as u32), "rank of {tok:?}");
        assert_eq!(
            vocab.get(*r as u32),
            Some(tok.as_slice()),
            "token of rank {r}"
        );
    }
    let out = to_tiktoken_bytes(&vocab);
    let back = parse_tiktoken(&out, SOURCE).expect("a written file must parse");
    assert_eq!(back, sorted, "write -> parse changed the table");
    let v2 = Vocab::from_ranked(back, SOURCE).expect("a written file must load");
    assert_eq!(to_tiktoken_bytes(&v2), out, "writing is not a fixed point");
    Some(sorted)
}

/// Any bytes: the parser never panics, every error names the file, and a parsed table is
/// accepted exactly when it is valid and then round-trips (see [`parse_and_check`]).
pub fn check_parse(data: &[u8]) {
    parse_and_check(data);
}

/// Structured: a valid vocabulary (the 256 bytes plus arbitrary extra tokens, ranks in any order
/// in the file) written in `.tiktoken` form, in several equivalent layouts (CRLF, tabs, blank
/// lines, runs of spaces), always parses back to the same table; a truncated file and a file
/// with a duplicated rank are always refused.
pub fn check_roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut seen: FxHashSet<Vec<u8>> = tokens.iter().cloned().collect();
    for _ in 0..u.int_in_range(0..=40usize).unwrap_or(0) {
        let len = u.int_in_range(2..=10usize).unwrap_or(2);
        let Ok(t) = u.bytes(len) else { break };
        if seen.insert(t.to_vec()) {
            tokens.push(t.to_vec());
        }
    }
    // File order: a permutation of the ranks drawn from the input.
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    for i in (1..order.len()).rev() {
        let j = u.int_in_range(0..=i).unwrap_or(i);
        order.swap(i, j);
    }
    let layout = u.int_in_range(0..=4u8).unwrap_or(0);
    let mut file = Vec::new();
    for &r in &order {
        let tok = STANDARD.encode(&tokens[r]);
        let line = match layout {
            0 => format!("{tok} {r}\n"),
            1 => format!("{tok} {r}\r\n"),
            2 => format!("{tok}\t{r}\n"),
            3 => format!("\n{tok} {r}\n\r\n"),
            _ => format!("{tok}   {r}\n"),
        };
        file.extend_from_slice(line.as_bytes());
    }
    let want: Vec<(Vec<u8>, u64)> = tokens
        .iter()
        .enumerate()
        .map(|(r, t)| (t.clone(), r as u64))
        .collect();
    let got = parse_and_check(&file).expect("a valid vocabulary must load");
    assert_eq!(got, want);

    let cut = file.len() - 1;
    assert!(
        parse_tiktoken(&file[..cut], SOURCE).is_err(),
        "a file without its final newline was accepted"
    );
    // Give the first line the rank of another line: ranks then repeat and one goes missing.
    let (first, second) = (order[0], order[1]);
    let mut dup = format!("{} {second}\n", STANDARD.encode(&tokens[first])).into_bytes();
    for &r in &order[1..] {
        dup.extend_from_slice(format!("{} {r}\n", STANDARD.encode(&tokens[r])).as_bytes());
    }
    assert!(
        parse_and_check(&dup).is_none(),
        "a duplicated rank was accepted"
    );
}

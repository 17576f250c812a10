//! Vocabulary files: tiktoken's `.tiktoken` format and GPT-2's `encoder.json` + `vocab.bpe`.
//!
//! `.tiktoken` is one `base64(token bytes) SP rank LF` line per token. Reading is strict, because
//! a silently wrong vocabulary produces silently wrong ids: every line must have exactly two
//! fields, valid base64 and a decimal rank; the file must end with a newline (a missing one
//! almost always means a truncated download); ranks must be `0..n` with no holes or duplicates
//! and tokens unique (checked by `Vocab::from_ranked`). Errors name the file and the line.
//!
//! Performance note: parsing works on the raw bytes with one pass and no per-line `String`;
//! loading cl100k takes ~30 ms, most of it base64 and hashing.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::vocab::Vocab;
use crate::error::{Error, Result};

const OP: &str = "load_tiktoken";

/// Parses `.tiktoken` content into `(bytes, rank)` pairs; `source` names it in errors.
pub fn parse_tiktoken(data: &[u8], source: &str) -> Result<Vec<(Vec<u8>, u64)>> {
    if data.is_empty() {
        return Err(Error::format(
            OP,
            format!("{source}: the file is empty; expected `base64 rank` lines"),
        ));
    }
    if data.last() != Some(&b'\n') {
        return Err(Error::format(
            OP,
            format!("{source}: the file does not end with a newline; it looks truncated"),
        ));
    }
    let mut out = Vec::with_capacity(data.len() / 16);
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let lineno = i + 1;
        let mut fields = line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty());
        let (tok, rank) = match (fields.next(), fields.next(), fields.next()) {
            (Some(t), Some(r), None) => (t, r),
            _ => {
                return Err(Error::format(
                    OP,
                    format!(
                        "{source} line {lineno}: expected `base64 rank`, received {:?}",
                        String::from_utf8_lossy(&line[..line.len().min(80)])
                    ),
                ))
            }
        };
        let bytes = STANDARD.decode(tok).map_err(|e| {
            Error::format(
                OP,
                format!(
                    "{source} line {lineno}: invalid base64 {:?}: {e}",
                    String::from_utf8_lossy(tok)
                ),
            )
        })?;
        let rank = std::str::from_utf8(rank).ok().and_then(|r| r.parse::<u64>().ok()).ok_or_else(|| {
            Error::format(
                OP,
                format!("{source} line {lineno}: expected a non-negative integer rank, received {:?}", String::from_utf8_lossy(rank)),
            )
        })?;
        out.push((bytes, rank));
    }
    Ok(out)
}

/// Reads and validates a `.tiktoken` file.
pub fn load_tiktoken(path: &Path) -> Result<Vocab> {
    let data = std::fs::read(path)
        .map_err(|e| Error::io(OP, format!("cannot read {}: {e}", path.display())))?;
    let source = path.display().to_string();
    Vocab::from_ranked(parse_tiktoken(&data, &source)?, &format!("{OP} {source}"))
}

/// Serialises a vocabulary in `.tiktoken` format.
pub fn to_tiktoken_bytes(vocab: &Vocab) -> Vec<u8> {
    let mut out = Vec::with_capacity(vocab.len() * 16);
    for (r, t) in vocab.tokens().enumerate() {
        out.extend_from_slice(STANDARD.encode(t).as_bytes());
        out.push(b' ');
        out.extend_from_slice(r.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Writes a vocabulary to `path` atomically (temporary file in the same folder, then rename).
pub fn save_tiktoken(vocab: &Vocab, path: &Path) -> Result<()> {
    let data = to_tiktoken_bytes(vocab);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, &data)
        .map_err(|e| Error::io("save", format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(
            "save",
            format!("cannot move {} to {}: {e}", tmp.display(), path.display()),
        )
    })
}

/// GPT-2's byte <-> printable-char table: printable Latin-1 bytes (except space) map to
/// themselves, the other 68 bytes to U+0100 onwards, in byte order. Returns the bytes in rank
/// order (the first 256 ranks) and a char -> byte lookup.
fn gpt2_byte_table() -> (Vec<u8>, rustc_hash::FxHashMap<char, u8>) {
    let printable = |b: u8| matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff);
    let mut order: Vec<u8> = (0..=255u8).filter(|&b| printable(b)).collect();
    let mut map: rustc_hash::FxHashMap<char, u8> = order.iter().map(|&b| (b as char, b)).collect();
    let mut n = 0u32;
    for b in 0..=255u8 {
        if !printable(b) {
            order.push(b);
            if let Some(c) = char::from_u32(256 + n) {
                map.insert(c, b);
            }
            n += 1;
        }
    }
    (order, map)
}

/// Builds the ranks from GPT-2's `vocab.bpe` merges and checks them against `encoder.json`,
/// as tiktoken's `data_gym_to_mergeable_bpe_ranks` does.
pub fn load_gpt2(encoder_json: &Path, vocab_bpe: &Path) -> Result<Vocab> {
    const OP: &str = "load_gpt2";
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::io(OP, format!("cannot read {}: {e}", p.display())))
    };
    let bpe = read(vocab_bpe)?;
    let bpe = String::from_utf8(bpe)
        .map_err(|e| Error::format(OP, format!("{}: not UTF-8: {e}", vocab_bpe.display())))?;
    let (order, map) = gpt2_byte_table();
    let decode = |s: &str, what: &str| -> Result<Vec<u8>> {
        s.chars()
            .map(|c| {
                map.get(&c).copied().ok_or_else(|| {
                    Error::format(
                        OP,
                        format!(
                            "{what}: {s:?} contains {c:?}, which is not in GPT-2's byte alphabet"
                        ),
                    )
                })
            })
            .collect()
    };
    let mut ranked: Vec<(Vec<u8>, u64)> = order
        .iter()
        .enumerate()
        .map(|(i, &b)| (vec![b], i as u64))
        .collect();
    let lines: Vec<&str> = bpe.split('\n').collect();
    if lines.len() < 2 || !lines[0].starts_with("#version") {
        return Err(Error::format(
            OP,
            format!("{}: expected a `#version` header line", vocab_bpe.display()),
        ));
    }
    // tiktoken drops the header and the text after the last newline.
    for (i, line) in lines[1..lines.len() - 1].iter().enumerate() {
        let what = format!("{} line {}", vocab_bpe.display(), i + 2);
        let mut parts = line.split_whitespace();
        let (a, b) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => (a, b),
            _ => {
                return Err(Error::format(
                    OP,
                    format!("{what}: expected two space-separated tokens, received {line:?}"),
                ))
            }
        };
        let mut t = decode(a, &what)?;
        t.extend(decode(b, &what)?);
        let r = ranked.len() as u64;
        ranked.push((t, r));
    }
    let vocab = Vocab::from_ranked(ranked, &format!("{OP} {}", vocab_bpe.display()))?;

    let json = read(encoder_json)?;
    let enc: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&json).map_err(|e| {
            Error::format(
                OP,
                format!("{}: invalid JSON object: {e}", encoder_json.display()),
            )
        })?;
    let mut checked = 0usize;
    for (k, v) in &enc {
        if k == "<|endoftext|>" || k == "<|startoftext|>" {
            continue;
        }
        let what = encoder_json.display().to_string();
        let id = v.as_u64().ok_or_else(|| {
            Error::format(
                OP,
                format!("{what}: {k:?} maps to {v}, expected an integer"),
            )
        })?;
        let bytes = decode(k, &what)?;
        if vocab.rank_of(&bytes) != Some(id as u32) || id > u32::MAX as u64 {
            return Err(Error::format(
                OP,
                format!("{what}: {k:?} has id {id} but vocab.bpe gives it {:?}; the two files do not match", vocab.rank_of(&bytes)),
            ));
        }
        checked += 1;
    }
    if checked != vocab.len() {
        return Err(Error::format(
            OP,
            format!(
                "{} has {checked} tokens but vocab.bpe defines {}; the two files do not match",
                encoder_json.display(),
                vocab.len()
            ),
        ));
    }
    Ok(vocab)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut v: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        v.push(b"ab".to_vec());
        to_tiktoken_bytes(&Vocab::from_tokens(v).unwrap())
    }

    #[test]
    fn round_trip() {
        let data = sample();
        let v = Vocab::from_ranked(parse_tiktoken(&data, "mem").unwrap(), "t").unwrap();
        assert_eq!(v.rank_of(b"ab"), Some(256));
        assert_eq!(to_tiktoken_bytes(&v), data);
    }

    #[test]
    fn malformed_files_are_rejected() {
        let data = sample();
        let e = parse_tiktoken(&data[..data.len() - 3], "mem").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = parse_tiktoken(b"YWI= x\n", "mem").unwrap_err();
        assert!(e.to_string().contains("integer rank"), "{e}");
        let e = parse_tiktoken(b"!!!! 3\n", "mem").unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
        let e = parse_tiktoken(b"YWI= 3 4\n", "mem").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(parse_tiktoken(b"", "mem").is_err());
    }

    #[test]
    fn gpt2_table_is_a_bijection() {
        let (order, map) = gpt2_byte_table();
        assert_eq!(order.len(), 256);
        assert_eq!(map.len(), 256);
        assert_eq!(order[0], b'!');
    }
}

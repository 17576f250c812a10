//! Word vectors in the GloVe text format (also word2vec's text format).
//!
//! Format: one vector per line, `word v_1 ... v_d`, fields separated by single spaces, UTF-8,
//! `\n` or `\r\n` line ends. An optional first line `count dim` (two integers: word2vec's header)
//! gives the dimension and the number of vectors. Words may contain spaces (glove.840B has a few):
//! the last `d` fields are the numbers and everything before them is the word.
//! Reading validates before trusting: every line is UTF-8, has the header's (or the first line's)
//! dimension, and only finite numbers; a line is at most [`MAX_LINE`] bytes (a binary file is not
//! read into memory whole); a header's count must match. Errors name the line. A word repeated
//! keeps its first vector and is counted in `duplicates`. With a vocabulary, only its words are
//! kept, in its order (missing words get zero rows and `found = false`), so memory is bounded by
//! the vocabulary and not the file. Writing goes to a temporary file renamed into place.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

const OP: &str = "GloVe file";
/// Longest accepted line: 16 MiB (a 300-d vector line is about 3 KiB).
pub const MAX_LINE: usize = 16 << 20;

/// Vectors read from a file: `words.len() x dim` row-major values.
#[derive(Debug, Clone, Default)]
pub struct WordVectors {
    pub words: Vec<String>,
    pub dim: usize,
    pub values: Vec<f32>,
    /// With a vocabulary: whether each of its words was in the file.
    pub found: Vec<bool>,
    pub duplicates: usize,
}

fn parse_line<'a>(
    line: &'a str,
    dim: usize,
    lineno: usize,
    source: &str,
) -> Result<(&'a str, Vec<f32>)> {
    let mut fields: Vec<&str> = line.rsplitn(dim + 1, ' ').collect();
    if fields.len() != dim + 1 || fields[dim].is_empty() {
        return Err(Error::format(
            OP,
            format!(
                "{source}: line {lineno} has {} fields; expected a word and {dim} numbers",
                line.split(' ').count()
            ),
        ));
    }
    let word = fields.pop().unwrap_or_default();
    if let Some((_, last)) = word.rsplit_once(' ') {
        if last.parse::<f32>().is_ok() {
            return Err(Error::format(
                OP,
                format!(
                    "{source}: line {lineno} has more than {dim} numbers (the vectors' dimension)"
                ),
            ));
        }
    }
    let mut vec = Vec::with_capacity(dim);
    for (k, f) in fields.iter().rev().enumerate() {
        let v: f32 = f.parse().map_err(|_| {
            Error::format(
                OP,
                format!(
                    "{source}: line {lineno}, value {}: {f:?} is not a number",
                    k + 1
                ),
            )
        })?;
        if !v.is_finite() {
            return Err(Error::format(
                OP,
                format!(
                    "{source}: line {lineno}, value {}: {f} is not finite",
                    k + 1
                ),
            ));
        }
        vec.push(v);
    }
    Ok((word, vec))
}

/// Reads vectors from `reader`; `vocabulary` selects and orders the words kept.
pub fn read<R: Read>(
    reader: R,
    vocabulary: Option<&[String]>,
    source: &str,
) -> Result<WordVectors> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let index: Option<FxHashMap<&str, usize>> =
        vocabulary.map(|v| v.iter().enumerate().map(|(i, w)| (w.as_str(), i)).collect());
    let mut out = WordVectors::default();
    let mut seen: FxHashMap<String, ()> = FxHashMap::default();
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    let mut dim = 0usize;
    let mut expected_count = None;
    let mut total = 0usize;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(OP, format!("{source}: {e}")))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if buf.len() > MAX_LINE {
            return Err(Error::format(
                OP,
                format!("{source}: line {lineno} is longer than {MAX_LINE} bytes (not a GloVe text file?)"),
            ));
        }
        let text = std::str::from_utf8(&buf).map_err(|e| {
            Error::format(OP, format!("{source}: line {lineno} is not UTF-8 ({e})"))
        })?;
        let text = text.trim_end_matches(['\n', '\r']).trim_end_matches(' ');
        if text.is_empty() {
            continue;
        }
        if dim == 0 {
            let fields: Vec<&str> = text.split(' ').collect();
            if lineno == 1 && fields.len() == 2 && fields.iter().all(|f| f.parse::<usize>().is_ok())
            {
                let (count, d) = (
                    fields[0].parse::<usize>().unwrap_or(0),
                    fields[1].parse::<usize>().unwrap_or(0),
                );
                if d == 0 {
                    return Err(Error::format(
                        OP,
                        format!("{source}: the header gives dimension 0"),
                    ));
                }
                dim = d;
                expected_count = Some(count);
                continue;
            }
            if fields.len() < 2 {
                return Err(Error::format(
                    OP,
                    format!("{source}: line {lineno} has no numbers (expected `word v1 v2 ...`)"),
                ));
            }
            dim = fields.len() - 1;
        }
        let (word, vec) = parse_line(text, dim, lineno, source)?;
        total += 1;
        let slot = match &index {
            Some(ix) => match ix.get(word) {
                Some(&i) => Some(i),
                None => continue,
            },
            None => None,
        };
        if seen.insert(word.to_string(), ()).is_some() {
            out.duplicates += 1;
            continue;
        }
        match slot {
            Some(i) => {
                if out.values.is_empty() {
                    let v = vocabulary.map_or(0, |v| v.len());
                    out.values = vec![0.0; v * dim];
                    out.found = vec![false; v];
                }
                out.values[i * dim..(i + 1) * dim].copy_from_slice(&vec);
                out.found[i] = true;
            }
            None => {
                out.words.push(word.to_string());
                out.values.extend_from_slice(&vec);
            }
        }
    }
    if dim == 0 || total == 0 {
        return Err(Error::format(
            OP,
            format!("{source}: the file holds no vectors"),
        ));
    }
    if let Some(c) = expected_count {
        if c != total {
            return Err(Error::format(
                OP,
                format!("{source}: the header promises {c} vectors, the file has {total}"),
            ));
        }
    }
    out.dim = dim;
    if let Some(v) = vocabulary {
        out.words = v.to_vec();
        if out.values.is_empty() {
            out.values = vec![0.0; v.len() * dim];
            out.found = vec![false; v.len()];
        }
    }
    Ok(out)
}

/// Reads the file at `path` (see [`read`]).
pub fn read_file(path: &Path, vocabulary: Option<&[String]>) -> Result<WordVectors> {
    let source = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(OP, format!("{source}: {e}")))?;
    read(file, vocabulary, &source)
}

/// Writes `words` and their rows of `values` (`words.len() x dim`) in the text format.
pub fn write_file(path: &Path, words: &[String], values: &[f32], dim: usize) -> Result<()> {
    if dim == 0 || values.len() != words.len() * dim {
        return Err(Error::shape(
            OP,
            format!(
                "{} words need {} values of dimension {dim}; got {}",
                words.len(),
                words.len() * dim,
                values.len()
            ),
        ));
    }
    if let Some(w) = words
        .iter()
        .find(|w| w.is_empty() || w.contains(['\n', '\r']))
    {
        return Err(Error::value(
            OP,
            format!("the word {w:?} cannot be written (empty or with a line break)"),
        ));
    }
    let tmp = path.with_extension("tmp-write");
    let result = (|| -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(File::create(&tmp)?);
        for (w, row) in words.iter().zip(values.chunks_exact(dim)) {
            f.write_all(w.as_bytes())?;
            for v in row {
                write!(f, " {v}")?;
            }
            f.write_all(b"\n")?;
        }
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(OP, format!("{}: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, vocab: Option<&[String]>) -> Result<WordVectors> {
        read(text.as_bytes(), vocab, "test")
    }

    #[test]
    fn reads_plain_header_spaces_and_vocabulary() {
        let v = parse("the 0.5 -1\r\nof 1e-3 2\n\n", None).unwrap();
        assert_eq!(
            (v.words.clone(), v.dim, v.values.clone()),
            (
                vec!["the".into(), "of".into()],
                2,
                vec![0.5, -1.0, 1e-3, 2.0]
            )
        );
        let v = parse("2 2\n. . . 1 2\nx 3 4\n", None).unwrap();
        assert_eq!(v.words, vec![". . .", "x"]);
        let vocab: Vec<String> = vec!["x".into(), "missing".into(), "the".into()];
        let v = parse("the 1 2\nx 3 4\nthe 9 9\nzz 5 6\n", Some(&vocab)).unwrap();
        assert_eq!(v.values, vec![3.0, 4.0, 0.0, 0.0, 1.0, 2.0]);
        assert_eq!(v.found, vec![true, false, true]);
        assert_eq!(v.duplicates, 1);
    }

    #[test]
    fn malformed_files_name_the_line() {
        let err = |t: &str| parse(t, None).unwrap_err().to_string();
        assert!(err("a 1 2\nb 1\n").contains("line 2 has 2 fields; expected a word and 2 numbers"));
        assert!(err("a 1 2\nb 1 x\n").contains("line 2, value 2: \"x\" is not a number"));
        assert!(err("a 1 nan\n").contains("is not finite"));
        assert!(err("").contains("holds no vectors"));
        assert!(err("word\n").contains("line 1 has no numbers"));
        assert!(err("3 2\na 1 2\n").contains("promises 3 vectors"));
        assert!(err("a 1 2\nb 1 2 3\n").contains("line 2 has more than 2 numbers"));
        assert!(read(&b"a 1 \xff\n"[..], None, "t")
            .unwrap_err()
            .to_string()
            .contains("not UTF-8"));
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = std::env::temp_dir().join(format!("fg-glove-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v.txt");
        let words: Vec<String> = vec!["a".into(), "b c".into()];
        let values = vec![0.1f32, -2.5, 3.25e-7, 1e20];
        write_file(&path, &words, &values, 2).unwrap();
        let v = read_file(&path, None).unwrap();
        assert_eq!(v.words, vec!["a", "b c"]);
        assert_eq!(v.values, values);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The generator of the seed corpus in `fuzz/corpus/<target>/seed-*`. The files are committed;
//! this regenerates them (deterministically) after a change to a check's input layout:
//! `cargo test --lib write_seed_corpus -- --ignored`.

use std::collections::BTreeMap;
use std::path::Path;

use super::bpe::Rng;
use crate::io::safetensors::to_bytes;
use crate::tensor::Tensor;
use crate::tokenizer::tiktoken_file::to_tiktoken_bytes;
use crate::tokenizer::vocab::Vocab;

/// A safetensors buffer from a header text and data bytes.
fn st(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn safetensors_parse() -> Vec<(&'static str, Vec<u8>)> {
    let a = Tensor::from_vec(vec![1.0f32, -2.5, f32::NAN, 0.0, 1e-40, 6.0], &[2, 3]).unwrap();
    let b = Tensor::from_vec(vec![7i64, -1], &[2]).unwrap();
    let c = Tensor::from_vec(vec![true, false, true], &[3, 1]).unwrap();
    let d = Tensor::from_vec(Vec::<f64>::new(), &[0, 4]).unwrap();
    let e = Tensor::scalar(3i32).unwrap();
    let mut meta = BTreeMap::new();
    meta.insert("format".to_string(), "ferrograd".to_string());
    meta.insert("version".to_string(), "0.1.0".to_string());
    let all = [
        ("layers/dense/vars/0".to_string(), a.clone()),
        ("optimizer/iterations".to_string(), b),
        ("mask".to_string(), c),
        ("empty".to_string(), d),
        ("\u{e9}t\u{e9} \u{1f600}".to_string(), e),
    ];
    vec![
        ("valid-all-dtypes", to_bytes(&all, &meta).unwrap()),
        (
            "valid-one",
            to_bytes(&[("w".to_string(), a)], &BTreeMap::new()).unwrap(),
        ),
        ("valid-no-tensors", st("{}", b"")),
        ("empty-file", Vec::new()),
        ("short-length", vec![8, 0, 0]),
        (
            "huge-header-length",
            st("{}", b"")[..8].iter().map(|_| 0xff).collect(),
        ),
        ("header-not-object", st("[1, 2]  ", b"")),
        ("header-bad-json", st("{\"a\": ", b"")),
        (
            "metadata-not-strings",
            st(r#"{"__metadata__":{"k":1}}"#, b""),
        ),
        ("metadata-not-object", st(r#"{"__metadata__":"x"}"#, b"")),
        (
            "overlap",
            st(
                r#"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
        ),
        (
            "empty-inside-region",
            st(
                r#"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#,
                &[0; 8],
            ),
        ),
        (
            "out-of-range",
            st(
                r#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#,
                &[0; 4],
            ),
        ),
        (
            "size-mismatch",
            st(
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                &[0; 8],
            ),
        ),
        (
            "huge-shape",
            st(
                r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#,
                b"",
            ),
        ),
        (
            "bool-not-0-1",
            st(
                r#"{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#,
                &[1, 2],
            ),
        ),
        (
            "unknown-dtype",
            st(
                r#"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}"#,
                &[0, 0],
            ),
        ),
        (
            "float-offsets",
            st(
                r#"{"a":{"dtype":"I32","shape":[1],"data_offsets":[0.0,4]}}"#,
                &[0; 4],
            ),
        ),
        (
            "duplicate-key",
            st(
                r#"{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}"#,
                &[1, 0, 0, 0, 2, 0, 0, 0],
            ),
        ),
    ]
}

/// Pseudo-random byte strings: inputs for the structured targets, whose layout is whatever
/// `Unstructured` makes of them.
fn random_inputs(seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    [8usize, 24, 64, 200, 600]
        .iter()
        .map(|&n| {
            let v = (0..n).map(|_| rng.next_u64() as u8).collect();
            (format!("random-{n}"), v)
        })
        .collect()
}

fn sample_vocab() -> Vocab {
    let mut toks: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    for t in [
        "he", "ll", "hell", "hello", " w", " wo", "rl", " world", "\n\n", "  ",
    ] {
        toks.push(t.as_bytes().to_vec());
    }
    Vocab::from_tokens(toks).unwrap()
}

fn tiktoken_parse() -> Vec<(&'static str, Vec<u8>)> {
    let good = to_tiktoken_bytes(&sample_vocab());
    let crlf = String::from_utf8(good.clone())
        .unwrap()
        .replace('\n', "\r\n");
    let mut swapped = good.clone();
    swapped.splice(0..0, b"aGVsbG8= 263\n".iter().copied());
    vec![
        ("valid", good.clone()),
        ("valid-crlf", crlf.into_bytes()),
        ("no-final-newline", good[..good.len() - 1].to_vec()),
        ("duplicate-token", swapped),
        ("bad-base64", b"!!!! 3\n".to_vec()),
        ("bad-padding", b"YQ 0\nYWI 1\n".to_vec()),
        ("non-canonical-base64", b"YR== 0\n".to_vec()),
        ("rank-not-a-number", b"YWI= x\nYWI= -1\nYWI= +2\n".to_vec()),
        ("three-fields", b"YWI= 3 4\n".to_vec()),
        ("blank-lines", b"\n\n\r\n".to_vec()),
        (
            "huge-rank",
            b"YWI= 18446744073709551615\nYWM= 18446744073709551616\n".to_vec(),
        ),
        ("empty", Vec::new()),
    ]
}

fn bpe_encode() -> Vec<(String, Vec<u8>)> {
    let texts: [(&str, &[u8]); 14] = [
        ("english", b"Hello world, hello there! It's 2024 and they'll say we've won."),
        ("code", b"fn main() {\n    let x = vec![1, 2, 3];\n\tprintln!(\"{x:?}\");\n}\n"),
        ("spaces", b"a  b   c    \n\n\n  \t  x   "),
        ("unicode", "caf\u{e9} \u{4e2d}\u{6587} \u{1f600}\u{200d}\u{1f3fd} \u{663}\u{664} na\u{301}ive".as_bytes()),
        ("special-text", b"<|endoftext|>hello<|endoftext|><|fim|>x<<|endoftext|"),
        ("digits", b"1234567890 3.14159 1,000,000 007"),
        ("contractions", b"I'M you'RE he'S 'll 'd don't can'T"),
        ("crlf", b"line one\r\nline two\r\n\r\n  \r\n"),
        ("invalid-utf8", b"hello \xff\xfe wor\xe4\xb8 ld \xc3"),
        ("invalid-only", b"\x80\x80\x80\xc0\xc1\xf5\xff"),
        ("empty", b""),
        ("upper-lower", b"HelloWorld HTTPServer iPhone \xc7\x85ungla"),
        ("punct", b"!!!??...---///***  ..\n\n"),
        ("mixed-scripts", "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442} \u{645}\u{631}\u{62d}\u{628}\u{627} \u{928}\u{92e}\u{938}\u{94d}\u{924}\u{947}".as_bytes()),
    ];
    let mut out = Vec::new();
    let mut rng = Rng::new(0x5eed);
    for (i, (name, text)) in texts.iter().enumerate() {
        // Header bytes: pattern, fast, cut tokens, concatenations, shuffle, specials, subset
        // mask, seed; varied so that every pattern, policy and vocabulary shape is seeded.
        let mut input = vec![
            i as u8 % 3,
            1 + i as u8 % 7,
            30,
            20,
            i as u8 % 2,
            3,
            i as u8,
        ];
        input.extend((0..8).map(|_| rng.next_u64() as u8));
        input.extend_from_slice(text);
        out.push((name.to_string(), input));
    }
    // Long runs take the heap merge path (pieces over 64 bytes).
    for (p, byte, name) in [
        (0u8, b'a', "letter"),
        (1, b' ', "space"),
        (2, b'7', "digit"),
    ] {
        let mut input = vec![p, 1, 10, 40, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        input.extend(std::iter::repeat_n(byte, 300));
        out.push((format!("run-{name}"), input));
    }
    out
}

fn bpe_train() -> Vec<(&'static str, Vec<u8>)> {
    let corpus = "low lower lowest newer newest wider\0the cat sat on the mat\0low low low";
    vec![
        ("words", [&[0u8, 40, 2][..], corpus.as_bytes()].concat()),
        (
            "words-cl100k",
            [&[1u8, 70, 1][..], corpus.as_bytes()].concat(),
        ),
        ("too-small", [&[2u8, 0, 0][..], b"abc abc"].concat()),
        (
            "unicode",
            [
                &[2u8, 60, 0][..],
                "\u{4e2d}\u{6587}\u{4e2d}\u{6587} caf\u{e9} caf\u{e9}\0\u{1f600}\u{1f600}"
                    .as_bytes(),
            ]
            .concat(),
        ),
        (
            "repeats",
            [
                &[1u8, 70, 3][..],
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".as_bytes(),
            ]
            .concat(),
        ),
        ("empty", vec![0, 30, 1]),
        (
            "invalid-utf8",
            [&[0u8, 50, 1][..], b"ab\xffab\xffab\xff\0\xc3\xc3"].concat(),
        ),
    ]
}

/// Inputs of `wordpiece_encode`: flags, word-length limit and suffix choice, then the text.
/// Flag bits: 1 lower-case, 2 strip accents, 4 no split, 8 no CJK split, 16 OOV token in the
/// vocabulary, 32 special tokens, 64|128 an unknown special token.
fn wordpiece_encode() -> Vec<(&'static str, Vec<u8>)> {
    let texts: [(&str, u8, &str); 8] = [
        (
            "english",
            16 | 1,
            "Hello, world! Unaffable tokenizers split words: unaffable.",
        ),
        (
            "accents",
            16 | 1 | 2,
            "Caf\u{e9} na\u{ef}ve r\u{e9}sum\u{e9} \u{c5}ngstr\u{f6}m",
        ),
        (
            "cjk",
            16,
            "\u{4e2d}\u{6587}\u{5206}\u{8bcd} mixed\u{65e5}\u{672c}text",
        ),
        ("specials", 16 | 32, "first [SEP] second [SEP][SEP] third"),
        (
            "controls",
            16,
            "tab\there\u{0}null\u{7f}del \u{200b}zero-width \u{301}mark",
        ),
        ("no-split", 16 | 4, "one long word with spaces"),
        ("missing-oov", 0, "the oov token is not in the vocabulary"),
        (
            "unknown-special",
            16 | 32 | 64 | 128,
            "a special token missing from the vocabulary",
        ),
    ];
    texts
        .iter()
        .map(|&(name, flags, text)| (name, [&[flags, 7, 3][..], text.as_bytes()].concat()))
        .collect()
}

#[test]
#[ignore = "writes the seed corpus into fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus");
    let write = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), data).unwrap();
    };
    for (n, d) in safetensors_parse() {
        write("safetensors_parse", n, &d);
    }
    for (n, d) in tiktoken_parse() {
        write("tiktoken_parse", n, &d);
    }
    for (n, d) in bpe_encode() {
        write("bpe_encode", &n, &d);
    }
    for (n, d) in bpe_train() {
        write("bpe_train", n, &d);
    }
    for (n, d) in wordpiece_encode() {
        write("wordpiece_encode", n, &d);
    }
    for (i, target) in ["safetensors_roundtrip", "tiktoken_roundtrip"]
        .iter()
        .enumerate()
    {
        for (n, d) in random_inputs(0x1234 + i as u64) {
            write(target, &n, &d);
        }
    }
}

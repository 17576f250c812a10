//! Checks for the BPE trainer (`crate::tokenizer::train`).

use arbitrary::Unstructured;
use rustc_hash::FxHashSet;

use super::bpe::PATTERNS;
use crate::tokenizer::encoder::{Allowed, Tokenizer};
use crate::tokenizer::pretokenize::Pretokenizer;
use crate::tokenizer::train::{train, PieceCounts, TrainConfig};
use crate::tokenizer::vocab::Vocab;

/// Occurrences of `needle` in `hay`, overlapping ones included.
fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Structured: training on arbitrary small texts (split into several, fed in one batch or text
/// by text) never panics and
/// - is deterministic and independent of how the texts were batched;
/// - refuses fewer than 256 tokens and otherwise returns at most the requested number;
/// - yields the 256 bytes in byte order, then unique tokens, each the concatenation of two
///   tokens of lower rank, each occurring in the corpus at least `min_frequency` times;
/// - gives a vocabulary that loads, and a tokenizer over it that round-trips the corpus.
pub fn check_train(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let pattern = u.int_in_range(0..=2usize).unwrap_or(0);
    let n_mergeable = 250 + u.int_in_range(0..=70usize).unwrap_or(0);
    let min_frequency = u.int_in_range(0..=3u64).unwrap_or(0);
    let corpus = String::from_utf8_lossy(u.take_rest()).into_owned();
    let texts: Vec<&str> = corpus.split('\0').take(8).collect();

    let pre = Pretokenizer::new(PATTERNS[pattern], true).unwrap();
    let mut one = PieceCounts::new();
    one.feed(&pre, &texts).expect("feed");
    let mut each = PieceCounts::new();
    for t in &texts {
        each.feed(&pre, &[t]).expect("feed");
    }
    assert_eq!(one.len(), each.len(), "batching changed the counts");

    let cfg = TrainConfig {
        n_mergeable,
        min_frequency,
    };
    let run = |c: &PieceCounts| train(c, &cfg, &mut |_, _| true);
    let tokens = match run(&one) {
        Ok(t) => t,
        Err(e) => {
            assert!(
                n_mergeable < 256,
                "training refused {n_mergeable} tokens: {e}"
            );
            return;
        }
    };
    assert!(
        n_mergeable >= 256,
        "training accepted {n_mergeable} < 256 tokens"
    );
    assert_eq!(run(&one).unwrap(), tokens, "training is not deterministic");
    assert_eq!(run(&each).unwrap(), tokens, "batching changed the result");
    assert!(tokens.len() <= n_mergeable, "more tokens than asked for");

    for (b, t) in tokens.iter().take(256).enumerate() {
        assert_eq!(t, &[b as u8], "the first 256 tokens are the bytes");
    }
    let mut seen: FxHashSet<&[u8]> = FxHashSet::default();
    let rank: rustc_hash::FxHashMap<&[u8], usize> = tokens
        .iter()
        .enumerate()
        .map(|(r, t)| (t.as_slice(), r))
        .collect();
    let need = min_frequency.max(1) as usize;
    for (r, t) in tokens.iter().enumerate() {
        assert!(seen.insert(t), "token {t:?} learned twice");
        if r < 256 {
            continue;
        }
        let made = (1..t.len()).any(|k| {
            rank.get(&t[..k]).is_some_and(|&a| a < r) && rank.get(&t[k..]).is_some_and(|&b| b < r)
        });
        assert!(made, "token {r} {t:?} is not two earlier tokens");
        let n: usize = texts.iter().map(|x| occurrences(x.as_bytes(), t)).sum();
        assert!(
            n >= need,
            "token {t:?} occurs {n} times, min_frequency is {min_frequency}"
        );
    }

    let vocab = Vocab::from_tokens(tokens).expect("a trained vocabulary loads");
    let tok = Tokenizer::new("trained", vocab, PATTERNS[pattern], true, vec![]).unwrap();
    for t in &texts {
        let ids = tok.encode(t, &Allowed::All).unwrap();
        assert_eq!(
            tok.decode_bytes(&ids).unwrap(),
            t.as_bytes(),
            "trained round trip"
        );
        assert!(ids.len() <= t.len(), "more tokens than bytes");
    }
}

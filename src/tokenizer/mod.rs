//! Byte-level BPE tokenizer: tiktoken-identical encoding, decoding, file io and a trainer; and
//! BERT's WordPiece tokenizer, identical to Hugging Face `tokenizers`.
//!
//! Layout (one concept per file):
//! - [`vocab`]: the rank table (bytes <-> rank) plus the pair table the merge loop uses.
//! - [`bpe`]: the merge algorithm for one pre-tokenized piece.
//! - [`classes`]: Unicode class tables taken from `regex-syntax` (the tables fancy-regex uses).
//! - [`scanner`]: hand-written pre-tokenizers for the gpt2/r50k/p50k, cl100k and o200k patterns.
//! - [`pretokenize`]: the pattern presets and the fancy-regex reference path for any pattern.
//! - [`encoder`]: [`Tokenizer`], special tokens, encode/decode entry points, batches.
//! - [`tiktoken_file`]: reading and writing `.tiktoken` files and GPT-2's encoder.json + vocab.bpe.
//! - [`train`]: learning merges from a corpus.
//! - [`basic`]: BERT's basic tokenizer (clean, CJK, accents, lowercase, punctuation split), with
//!   its class tables in [`bert_tables`] (generated from the reference tokenizer).
//! - [`wordpiece`]: [`WordPiece`], greedy longest-match-first sub-words, batches, decoding.
//!
//! Performance note: tiktoken spends most of its time in its backtracking regex and in hashing
//! byte slices inside an O(n^2) merge loop. Here the preset patterns run through a hand-written
//! scanner (proven identical to the regex by differential tests), the merge loop looks up
//! `(left rank, right rank)` pairs in an integer-keyed table, short pieces use a quadratic loop on a
//! reused buffer (fastest for the 1-10 byte pieces of real text) and long pieces switch to a
//! heap-driven O(n log n) merge, so a megabyte of one repeated character stays fast.

pub mod basic;
pub mod bert_tables;
pub mod bpe;
pub mod classes;
pub mod encoder;
pub mod pretokenize;
pub mod scanner;
pub mod tiktoken_file;
pub mod train;
pub mod vocab;
pub mod wordpiece;

pub use encoder::Tokenizer;
pub use pretokenize::{Preset, Pretokenizer};
pub use vocab::{Rank, Vocab};
pub use wordpiece::{WordPiece, WordPieceConfig};

//! Text vectorization, the engine of `layers.TextVectorization`, `StringLookup` and
//! `IntegerLookup`: TensorFlow-identical standardization, splitting and n-grams, vocabulary
//! counting for `adapt`, lookup with Keras' mask/OOV rules, and the output encodings.
//!
//! Layout (one concept per file):
//! - [`preprocess`]: standardize, split, n-grams ([`Pipeline`]).
//! - [`vocab`]: [`IndexTable`] (lookup, invert), the key types, IDF weights.
//! - [`count`]: [`Counter`], the token counts of `adapt` and the vocabulary Keras learns from them.
//! - [`encode`]: multi-hot / count / TF-IDF / one-hot rows and padding of int rows.
//! - [`farmhash`]: FarmHash `Fingerprint64`, TensorFlow's hash for OOV buckets and `Hashing`.
//! - [`siphash`]: SipHash-2-4, the keyed hash of `Hashing` with a salt.
//! - [`glove`]: GloVe word vectors (corpus ids, co-occurrence counts, AdaGrad training).
//!
//! The Python layers (`python/ferrograd/layers/text_vectorization.py`, `lookup.py`) hold the
//! Keras policy (arguments, configs, vocabulary files); everything per string runs here.

pub mod count;
pub mod encode;
pub mod farmhash;
pub mod glove;
pub mod preprocess;
pub mod siphash;
pub mod vocab;

pub use count::Counter;
pub use preprocess::{Pipeline, Split, Standardize};
pub use vocab::{IndexTable, LookupSpec};

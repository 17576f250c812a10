//! File formats: safetensors for weights, the GloVe text format for word vectors.

pub mod glove_text;
pub mod safetensors;

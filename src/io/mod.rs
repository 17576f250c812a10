//! File formats: safetensors for weights.

pub mod safetensors;

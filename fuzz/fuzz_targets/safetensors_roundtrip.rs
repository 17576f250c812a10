//! Fuzz target `safetensors_roundtrip`: runs `ferrograd::fuzzing::safetensors::check_roundtrip` (the invariants are documented there;
//! `cargo test` replays `fuzz/corpus/safetensors_roundtrip/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::safetensors::check_roundtrip(data));

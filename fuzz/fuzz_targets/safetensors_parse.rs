//! Fuzz target `safetensors_parse`: runs `ferrograd::fuzzing::safetensors::check_parse` (the invariants are documented there;
//! `cargo test` replays `fuzz/corpus/safetensors_parse/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::safetensors::check_parse(data));

//! Fuzz target `tiktoken_roundtrip`: runs `ferrograd::fuzzing::tiktoken::check_roundtrip` (the invariants are documented there;
//! `cargo test` replays `fuzz/corpus/tiktoken_roundtrip/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::tiktoken::check_roundtrip(data));

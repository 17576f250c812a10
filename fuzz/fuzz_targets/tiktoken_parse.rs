//! Fuzz target `tiktoken_parse`: runs `ferrograd::fuzzing::tiktoken::check_parse` (the invariants are documented there;
//! `cargo test` replays `fuzz/corpus/tiktoken_parse/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::tiktoken::check_parse(data));

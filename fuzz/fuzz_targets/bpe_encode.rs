//! Fuzz target `bpe_encode`: runs `ferrograd::fuzzing::bpe::check_encode` (the invariants are documented there;
//! `cargo test` replays `fuzz/corpus/bpe_encode/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::bpe::check_encode(data));

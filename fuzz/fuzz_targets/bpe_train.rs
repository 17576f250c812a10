//! Fuzz target `bpe_train`: runs `ferrograd::fuzzing::train::check_train` (the invariants are documented there;
//! `cargo test` replays `fuzz/corpus/bpe_train/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::train::check_train(data));

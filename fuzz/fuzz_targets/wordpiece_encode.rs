//! Fuzz target `wordpiece_encode`: runs `ferrograd::fuzzing::wordpiece::check_encode` (the invariants are documented
//! there; `cargo test` replays `fuzz/corpus/wordpiece_encode/` through the same function).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ferrograd::fuzzing::wordpiece::check_encode(data));

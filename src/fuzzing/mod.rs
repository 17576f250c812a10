//! The invariants the fuzz targets in `fuzz/` check, one `check_*` function per target.
//!
//! Each check takes the raw fuzzer input (`&[u8]`), decodes whatever structure it needs from it
//! (with `arbitrary::Unstructured`, which never fails: exhausted input reads as zeros), runs the
//! code under test and panics when an invariant breaks. "Does not panic" is the weakest of them;
//! every target also checks a property that only holds when the code is right (round trips,
//! agreement with a literal reference implementation, errors raised exactly when the input is
//! invalid).
//!
//! Why the checks live here and not in the fuzz crate: the same functions then run in two places.
//! `cargo +nightly fuzz run <target>` (in `fuzz/`, nightly, libFuzzer + ASan) explores new inputs,
//! and the ordinary `cargo test` (stable, no cargo-fuzz) replays every file under
//! `fuzz/corpus/<target>/` through them (`tests::replay_seed_corpus`), so the invariants and every
//! crash ever found keep being checked on each change. The module compiles only for tests and for
//! the `fuzzing` feature the fuzz crate turns on, so it is not part of a normal build.

pub mod bpe;
pub mod safetensors;
pub mod tiktoken;
pub mod train;
pub mod wordpiece;

#[cfg(test)]
mod seeds;

/// A fuzz target's check: panics (or aborts) on a broken invariant.
pub type Check = fn(&[u8]);

/// Every fuzz target: its name (a file `fuzz/fuzz_targets/<name>.rs` and a folder
/// `fuzz/corpus/<name>/`) and the check it runs.
pub const TARGETS: &[(&str, Check)] = &[
    ("safetensors_parse", safetensors::check_parse),
    ("safetensors_roundtrip", safetensors::check_roundtrip),
    ("tiktoken_parse", tiktoken::check_parse),
    ("tiktoken_roundtrip", tiktoken::check_roundtrip),
    ("bpe_encode", bpe::check_encode),
    ("bpe_train", train::check_train),
    ("wordpiece_encode", wordpiece::check_encode),
];

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::TARGETS;

    fn fuzz_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
    }

    fn names_in(dir: &Path, strip: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(strip).map(str::to_string))
            .collect();
        v.sort();
        v
    }

    /// The corpus files kept in git: hand-made or generated seeds (`seed-*`) and minimized
    /// inputs that once failed (`crash-*`). libFuzzer's own finds (named by hash) stay local.
    fn is_kept(p: &Path) -> bool {
        let n = p.file_name().unwrap_or_default().to_string_lossy();
        n.starts_with("seed-") || n.starts_with("crash-")
    }

    /// The fuzz targets, the corpus folders and [`TARGETS`] name the same set.
    #[test]
    fn targets_corpus_and_checks_agree() {
        let mut want: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
        want.sort();
        assert_eq!(names_in(&fuzz_dir().join("fuzz_targets"), ".rs"), want);
        assert_eq!(names_in(&fuzz_dir().join("corpus"), ""), want);
    }

    /// Every seed (and every minimized crash) in the repository's corpus passes its target's check.
    #[test]
    fn replay_seed_corpus() {
        for (name, check) in TARGETS {
            let dir = fuzz_dir().join("corpus").join(name);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file() && is_kept(p))
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{}: no seeds", dir.display());
            for f in files {
                let data = std::fs::read(&f).unwrap();
                let run = std::panic::catch_unwind(|| check(&data));
                assert!(run.is_ok(), "{name}: seed {} fails its check", f.display());
            }
        }
    }
}

//! Replaying a fuzz target's saved inputs under `cargo test`: the crates' `fuzz_corpus` tests
//! include this file (with `#[path]`, like the target bodies). Not part of the fuzz crate.

use std::path::{Path, PathBuf};

/// The fuzz directory, seen from any crate under `crates/`.
const FUZZ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz");

/// Runs `run` on every file of `dir` (relative to `fuzz/`, e.g. `corpus/policy_parse`), in
/// name order; fails when the directory is missing or empty, or when an input panics.
pub fn replay_dir(dir: &str, run: fn(&[u8])) {
    let dir = Path::new(FUZZ).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    for path in files {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "fuzz input {} fails", path.display());
    }
}

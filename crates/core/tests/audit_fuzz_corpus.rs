//! Replays the `audit_verify` fuzz corpus and crash reproducers (`fuzz/corpus/audit_verify`,
//! `fuzz/regressions/audit_verify`) through the fuzz target's own body: `verify` never
//! panics and finds the chain broken exactly where an independent reading of the chain rule
//! does. See `fuzz/README.md`.

#[path = "../../../fuzz/src/audit.rs"]
mod body;

use std::path::{Path, PathBuf};

const FUZZ: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz");

/// The files of `dir`, sorted; fails when the directory is missing or empty.
fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(FUZZ).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    files
}

fn replay(files: &[PathBuf]) {
    for path in files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| body::run(&data));
        assert!(outcome.is_ok(), "fuzz input {} fails", path.display());
    }
}

#[test]
fn corpus_verifies_without_panics() {
    replay(&inputs("corpus/audit_verify"));
}

#[test]
fn regressions_stay_fixed() {
    // A forged `seq` of u64::MAX made `verify` overflow (a panic in debug builds, a wrap
    // that linked `seq` 0 after it in release).
    replay(&inputs("regressions/audit_verify"));
}

#[test]
fn max_seq_ends_the_chain() {
    let line = format!(r#"{{"seq":{},"prev_hash":"x"}}"#, u64::MAX);
    let hash = hex::encode(coffer_crypto::sha256(line.as_bytes()));
    let file = format!("{line}\n{{\"seq\":0,\"prev_hash\":\"{hash}\"}}\n");
    let report = coffer_core::audit::verify(file.as_bytes(), None).expect("slice");
    assert_eq!(report.lines, 1);
    let problem = report.problem.expect("a wrapped seq does not link");
    assert_eq!(problem.line, 2);
}

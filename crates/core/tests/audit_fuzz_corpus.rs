//! Replays the `audit_verify` fuzz corpus and crash reproducers (`fuzz/corpus/audit_verify`,
//! `fuzz/regressions/audit_verify`) through the fuzz target's own body: `verify` never
//! panics and finds the chain broken exactly where an independent reading of the chain rule
//! does. See `fuzz/README.md`.

#[path = "../../../fuzz/src/audit.rs"]
mod body;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn corpus_verifies_without_panics() {
    replay::replay_dir("corpus/audit_verify", body::run);
}

#[test]
fn regressions_stay_fixed() {
    // A forged `seq` of u64::MAX made `verify` overflow (a panic in debug builds, a wrap
    // that linked `seq` 0 after it in release).
    replay::replay_dir("regressions/audit_verify", body::run);
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

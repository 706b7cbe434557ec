//! Replays the `request_decode` and `config_parse` fuzz corpora and crash reproducers
//! (`fuzz/corpus/<target>`, `fuzz/regressions/<target>`) through the fuzz targets' own
//! bodies: no input panics, `decode_request` refuses only with 400, 405, 413 or 415, and
//! `percent_decode`/`form_pairs` agree with a reference decoder. See `fuzz/README.md`.

#[path = "../../../fuzz/src/config.rs"]
mod config_body;
#[path = "../../../fuzz/src/request.rs"]
mod request_body;

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

fn replay(files: &[PathBuf], run: fn(&[u8])) {
    for path in files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "fuzz input {} fails", path.display());
    }
}

#[test]
fn request_corpus_decodes_without_panics() {
    replay(&inputs("corpus/request_decode"), request_body::run);
}

#[test]
fn config_corpus_parses_without_panics() {
    replay(&inputs("corpus/config_parse"), config_body::run);
}

#[test]
fn request_regressions_stay_fixed() {
    replay(&inputs("regressions/request_decode"), request_body::run);
}

#[test]
fn a_percent_escape_is_exactly_two_hex_digits() {
    // `u8::from_str_radix` accepts a sign: "%+1" used to decode to byte 0x01.
    use coffer_server::decode::percent_decode;
    assert_eq!(percent_decode("a%+1b%-1c%+", false), "a%+1b%-1c%+");
    assert_eq!(percent_decode("%2b%2B%41", true), "++A");
}

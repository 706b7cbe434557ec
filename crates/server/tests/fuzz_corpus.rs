//! Replays the `request_decode` and `config_parse` fuzz corpora and crash reproducers
//! (`fuzz/corpus/<target>`, `fuzz/regressions/<target>`) through the fuzz targets' own
//! bodies: no input panics, `decode_request` refuses only with 400, 405, 413 or 415, and
//! `percent_decode`/`form_pairs` agree with a reference decoder. See `fuzz/README.md`.

#[path = "../../../fuzz/src/config.rs"]
mod config_body;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;
#[path = "../../../fuzz/src/request.rs"]
mod request_body;

#[test]
fn request_corpus_decodes_without_panics() {
    replay::replay_dir("corpus/request_decode", request_body::run);
}

#[test]
fn config_corpus_parses_without_panics() {
    replay::replay_dir("corpus/config_parse", config_body::run);
}

#[test]
fn request_regressions_stay_fixed() {
    replay::replay_dir("regressions/request_decode", request_body::run);
}

#[test]
fn a_percent_escape_is_exactly_two_hex_digits() {
    // `u8::from_str_radix` accepts a sign: "%+1" used to decode to byte 0x01.
    use coffer_server::decode::percent_decode;
    assert_eq!(percent_decode("a%+1b%-1c%+", false), "a%+1b%-1c%+");
    assert_eq!(percent_decode("%2b%2B%41", true), "++A");
}

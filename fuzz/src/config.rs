//! Fuzz body for the server's config file: `coffer_server::config::parse` (TOML), then the
//! duration and address parsing `resolve` applies to the values.
//!
//! Input: the text of a config file.
//!
//! This file is shared: the fuzz target calls [`run`], and `crates/server/tests/fuzz_corpus.rs`
//! includes it with `#[path]` to replay the corpus under `cargo test`. It may use only
//! `coffer_server`, `coffer_core` and std.

use coffer_server::config::parse;

/// Largest whole number of seconds a Go `time.Duration` (i64 nanoseconds) holds.
const GO_DURATION_MAX_SECS: u64 = i64::MAX as u64 / 1_000_000_000;

/// Runs one input. Panics (a finding) when parsing panics or breaks an invariant.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match parse(text) {
        Ok(config) => config,
        Err(err) => {
            assert!(!format!("{err:#}").is_empty());
            return;
        }
    };
    let _ = format!("{config:?}");
    for ttl in [&config.default_lease_ttl, &config.max_lease_ttl].into_iter().flatten() {
        // What parses as a TTL prints as one and parses back to the same seconds, within Go's
        // `time.Duration` range (~292 years). Beyond it, integer seconds parse but Go-style
        // strings do not, so large values do not round-trip: known, see README.md.
        if let Some(secs) = coffer_core::duration::parse(ttl).filter(|&s| s <= GO_DURATION_MAX_SECS) {
            let signed = i64::try_from(secs).expect("durations fit in i64");
            let printed = coffer_core::duration::format_seconds(signed);
            assert_eq!(
                coffer_core::duration::parse(&printed),
                Some(secs),
                "{ttl:?} -> {printed:?}"
            );
        }
    }
    if let Some(address) = &config.listener.address {
        let _ = address.parse::<std::net::SocketAddr>();
    }
}

//! cargo-fuzz target; the body is `coffer_fuzz::audit::run` (shared with the regression tests).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| coffer_fuzz::audit::run(data));

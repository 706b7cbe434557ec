//! Fuzz bodies for Coffer's parsers of outside input, one module per target.
//!
//! Each module has a `run(&[u8])` that the fuzz target in `fuzz_targets/` calls and that the
//! crates' `fuzz_corpus` tests include (with `#[path]`) to replay `corpus/` and
//! `regressions/` under `cargo test`, with the loop in `replay.rs` (which those tests include
//! too; it is not a module of this crate). See README.md.

pub mod audit;
pub mod config;
pub mod policy;
pub mod request;

//! Coffer's secret engines and auth methods. Each engine implements the core's `Backend`
//! trait over the `View` of its mount and never touches storage directly.
//!
//! - [`kv`]: key/value secrets, version 1 (plain) and 2 (versioned, Vault's full API).
//! - [`cubbyhole`]: per-token private key/value space.
//! - [`auth`]: auth methods (`userpass`, `approle`).

pub mod auth;
pub mod cubbyhole;
pub mod discovery;
pub mod kv;

use coffer_core::backend::Registry;

/// Registers every engine of this crate: `kv`, `cubbyhole` and the auth methods.
pub fn register_all(registry: &mut Registry) {
    registry.register("kv", kv::factory());
    registry.register("cubbyhole", cubbyhole::factory());
    registry.register("discovery", discovery::factory());
    auth::register(registry);
}

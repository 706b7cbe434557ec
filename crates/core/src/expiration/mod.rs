//! Leases and their expiry: every token with a TTL and every leased secret has a lease,
//! persisted in the barrier and revoked on time by one background timer.
//!
//! - `lease.rs`: the persisted [`Lease`] record, its kinds and its renewal arithmetic.
//! - `store.rs`: where leases live in the barrier (`sys/expire/id/…`, `sys/expire/token/…`).
//! - `schedule.rs`: the in-memory deadline queue (no scan of all leases per tick).
//! - `timer.rs`: the one task that sleeps until the earliest deadline.
//! - `manager.rs`: [`ExpirationManager`], the public API the core and `sys/leases` use.
//! - `hooks.rs`: what the token store calls (token revoked, token renewed), and tidy.
//! - `api.rs`: the `sys/leases/*` endpoints and the legacy `sys/renew`, `sys/revoke…`.
//! - `core_backend.rs`: [`CoreLeaseBackend`], how the core revokes and renews each kind.

pub mod api;
mod core_backend;
mod hooks;
mod lease;
mod manager;
mod schedule;
mod store;
mod timer;

pub use core_backend::CoreLeaseBackend;
pub use hooks::TidyReport;
pub use lease::{Lease, LeaseKind, SecretLeaseRequest, token_lease_id, validate_lease_id};
pub use manager::{ExpirationManager, LoadReport, PreparedLease, Renewal};
pub use store::{EXPIRE_ID_PREFIX, EXPIRE_TOKEN_PREFIX};

use crate::Result;
use async_trait::async_trait;

/// What the manager calls to act on the thing a lease stands for. The core implements it
/// ([`CoreLeaseBackend`]); tests use a fake.
///
/// Implementations must be idempotent: revoking what is already gone succeeds.
#[async_trait]
pub trait LeaseBackend: Send + Sync + 'static {
    /// Revokes what the lease grants: the token (and its children), or the secret through the
    /// backend mounted at the lease's mount path.
    async fn revoke(&self, lease: &Lease) -> Result<()>;

    /// Extends what the lease grants until `new_expire` (unix seconds; for a token, its
    /// `expire_time`) and returns the expiry actually granted, which may be earlier (the
    /// backend's own maximum TTL). Errors abort the renewal (nothing is changed).
    async fn renew(&self, lease: &Lease, new_expire: i64) -> Result<i64>;

    /// Whether the token with this id still exists (tidy drops leases of vanished tokens).
    async fn token_exists(&self, token_id: &str) -> Result<bool>;
}

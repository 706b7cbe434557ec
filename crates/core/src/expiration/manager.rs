//! `ExpirationManager`: registers, renews, revokes and tidies leases, and runs the timer that
//! revokes each one when it expires.
//!
//! Concurrency: renewals and revocations of one lease run one at a time under that lease's
//! own lock (a map of per-id async mutexes, so no lock is shared by all leases). A revocation
//! that finds the record gone succeeds, so revoking is idempotent, and a renewal racing a
//! revocation either runs first (and is then revoked) or finds no lease. `forget` (called by
//! the token store while it revokes a token) takes no lock, so a revocation that calls into
//! the token store, which calls back here, cannot deadlock.

use super::lease::{Lease, SecretLeaseRequest, validate_lease_id};
use super::schedule::Schedule;
use super::{LeaseBackend, store, timer};
use crate::barrier::{Barrier, BarrierOp};
use crate::time::now_unix;
use crate::token::TokenEntry;
use crate::{CoreError, Result};
use dashmap::DashMap;
use std::sync::Arc;
use tokio::sync::{Notify, OwnedMutexGuard, watch};

/// How a revocation treats the backend and the lease's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Revoke; a backend failure keeps the lease and is returned.
    Normal,
    /// Revoke; a backend failure is logged and the lease removed anyway.
    Force,
    /// Timer: revoke only if still expired at this time (a renewal may have won the race).
    IfExpired(i64),
}

/// State shared by the manager and its timer task.
pub(super) struct Shared {
    pub(super) barrier: Arc<Barrier>,
    pub(super) backend: Arc<dyn LeaseBackend>,
    pub(super) schedule: parking_lot::Mutex<Schedule>,
    pub(super) wake: Notify,
    locks: DashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

/// A per-lease lock; removes its mutex from the map when the last holder lets go.
struct LeaseLock<'a> {
    locks: &'a DashMap<String, Arc<tokio::sync::Mutex<()>>>,
    id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for LeaseLock<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.locks.remove_if(&self.id, |_, m| Arc::strong_count(m) == 1);
    }
}

/// A token lease built but not yet written: its writes go into the token's own batch, then
/// [`ExpirationManager::activate`] schedules it.
#[derive(Debug)]
pub struct PreparedLease {
    lease: Lease,
}

impl PreparedLease {
    /// The barrier writes of the lease (record and index), to append to the caller's batch.
    pub fn ops(&self) -> Result<Vec<BarrierOp>> {
        store::put_ops(&self.lease)
    }

    /// The lease.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }
}

/// Result of a renewal.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The lease after renewal.
    pub lease: Lease,
    /// Seconds granted from now.
    pub ttl: u64,
    /// Whether the maximum TTL cut the requested increment short.
    pub capped: bool,
}

/// What loading at unseal found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Leases loaded and scheduled.
    pub total: usize,
    /// Of those, already expired (revoked as soon as the timer starts).
    pub expired: usize,
}

/// Owns every lease: persistence, renewal, revocation and the expiry timer.
///
/// Dropping it (with the unsealed state, on seal) stops the timer.
pub struct ExpirationManager {
    pub(super) shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for ExpirationManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpirationManager")
            .field("scheduled", &self.scheduled())
            .finish()
    }
}

impl ExpirationManager {
    /// A manager over the barrier; `backend` revokes and renews what leases stand for.
    /// Nothing is loaded and no timer runs until [`load`](Self::load) and [`start`](Self::start).
    pub fn new(barrier: Arc<Barrier>, backend: Arc<dyn LeaseBackend>) -> Self {
        ExpirationManager {
            shared: Arc::new(Shared {
                barrier,
                backend,
                schedule: parking_lot::Mutex::new(Schedule::default()),
                wake: Notify::new(),
                locks: DashMap::new(),
            }),
            stop: watch::channel(false).0,
            task: parking_lot::Mutex::new(None),
        }
    }

    /// Reads every lease from storage (the one full scan, at unseal) and schedules it. Those
    /// that expired while the server was down are due at once.
    pub async fn load(&self) -> Result<LoadReport> {
        let now = now_unix();
        let mut report = LoadReport::default();
        for id in store::walk(&self.shared.barrier, "").await? {
            match store::load(&self.shared.barrier, &id).await {
                Ok(Some(lease)) => {
                    report.total += 1;
                    report.expired += usize::from(lease.expire_time <= now);
                    self.shared.schedule.lock().set(&id, lease.expire_time);
                }
                Ok(None) => {}
                Err(e) => tracing::error!(lease_id = %id, error = %e, "skipping unreadable lease"),
            }
        }
        tracing::info!(total = report.total, expired = report.expired, "leases loaded");
        Ok(report)
    }

    /// Starts the expiry timer (after unseal, once the core can serve revocations). Calling
    /// it while the timer runs does nothing. Needs a tokio runtime.
    pub fn start(&self) {
        let mut task = self.task.lock();
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        self.stop.send_replace(false);
        let rx = self.stop.subscribe();
        *task = Some(tokio::spawn(timer::run(self.shared.clone(), rx)));
    }

    /// Stops the timer (on seal). Leases stay stored and are loaded again at the next unseal.
    pub fn stop(&self) {
        self.stop.send_replace(true);
        self.task.lock().take();
    }

    /// Number of leases waiting in the timer's queue.
    pub fn scheduled(&self) -> usize {
        self.shared.schedule.lock().len()
    }

    /// When the timer will revoke `id`, if it is scheduled (unix seconds).
    pub fn scheduled_at(&self, id: &str) -> Option<i64> {
        self.shared.schedule.lock().due_time(id)
    }

    /// Builds a token's lease without writing it (`None`: the token never expires).
    /// `max_ttl`: the token's effective maximum TTL in seconds (mount or system), or 0 when
    /// unknown (the backend then caps each renewal).
    pub fn prepare_token(&self, entry: &TokenEntry, max_ttl: u64) -> Option<PreparedLease> {
        Lease::for_token(entry, max_ttl).map(|lease| PreparedLease { lease })
    }

    /// Schedules a prepared lease once its writes are committed.
    pub fn activate(&self, prepared: PreparedLease) {
        self.shared.schedule_at(&prepared.lease.id, prepared.lease.expire_time);
    }

    /// Registers the lease of a new token (its own write). `None`: the token never expires.
    /// `max_ttl` 0 leaves the cap to the backend at each renewal.
    pub async fn register_token(&self, entry: &TokenEntry, max_ttl: u64) -> Result<Option<Lease>> {
        let Some(prepared) = self.prepare_token(entry, max_ttl) else {
            return Ok(None);
        };
        self.shared.barrier.batch(prepared.ops()?).await?;
        let lease = prepared.lease.clone();
        self.activate(prepared);
        Ok(Some(lease))
    }

    /// Registers the lease of a secret an engine just issued; its id is
    /// `<request path>/<random>`.
    pub async fn register_secret(&self, req: &SecretLeaseRequest) -> Result<Lease> {
        validate_lease_id(&req.request_path)?;
        let suffix = coffer_crypto::token::random_base62(24);
        let lease = Lease::for_secret(req, &suffix, now_unix());
        self.shared.barrier.batch(store::put_ops(&lease)?).await?;
        self.shared.schedule_at(&lease.id, lease.expire_time);
        Ok(lease)
    }

    /// The lease with this id, if any.
    pub async fn lookup(&self, id: &str) -> Result<Option<Lease>> {
        validate_lease_id(id)?;
        store::load(&self.shared.barrier, id).await
    }

    /// Immediate children of a lease-id prefix (Vault's `LIST sys/leases/lookup/<prefix>`):
    /// lease-id suffixes, and folders ending in `/`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let prefix = prefix.trim_end_matches('/');
        if prefix.is_empty() {
            return self.shared.barrier.list(store::EXPIRE_ID_PREFIX).await;
        }
        validate_lease_id(prefix)?;
        self.shared.barrier.list(&store::id_key(&format!("{prefix}/"))).await
    }

    /// Extends a lease by `increment` seconds from now (or its original TTL; periodic leases
    /// by their period), capped by its maximum. Errors: absent (400), expired, not renewable.
    pub async fn renew(&self, id: &str, increment: Option<u64>) -> Result<Renewal> {
        validate_lease_id(id)?;
        let shared = &self.shared;
        let _lock = shared.lock(id).await;
        let mut lease = store::load(&shared.barrier, id)
            .await?
            .ok_or_else(|| CoreError::bad("lease not found"))?;
        let now = now_unix();
        if lease.expire_time <= now {
            return Err(CoreError::bad("lease expired"));
        }
        if !lease.renewable {
            return Err(CoreError::bad("lease is not renewable"));
        }
        let (wanted, capped) = lease.renewed_expiry(now, increment);
        let expire = shared.backend.renew(&lease, wanted).await?.clamp(now, wanted);
        let capped = capped || expire < wanted;
        lease.expire_time = expire;
        lease.last_renewal = now;
        store::put(&shared.barrier, &lease).await?;
        shared.schedule_at(id, expire);
        Ok(Renewal {
            ttl: lease.remaining(now),
            capped,
            lease,
        })
    }

    /// Revokes one lease: the backend first, then the record. Absent leases succeed.
    /// Returns whether a lease was revoked.
    pub async fn revoke(&self, id: &str) -> Result<bool> {
        validate_lease_id(id)?;
        self.shared.revoke(id, Mode::Normal).await
    }

    /// Revokes every lease whose id is `prefix` or starts with `prefix/`. With `force`,
    /// leases are removed even when their backend revocation fails. Returns how many.
    pub async fn revoke_prefix(&self, prefix: &str, force: bool) -> Result<usize> {
        validate_lease_id(prefix)?;
        let mode = if force { Mode::Force } else { Mode::Normal };
        let shared = &self.shared;
        if !prefix.ends_with('/') && store::load(&shared.barrier, prefix).await?.is_some() {
            return Ok(usize::from(shared.revoke(prefix, mode).await?));
        }
        let dir = format!("{}/", prefix.trim_end_matches('/'));
        let mut count = 0;
        let mut first_error = None;
        for id in store::walk(&shared.barrier, &dir).await? {
            match shared.revoke(&id, mode).await {
                Ok(revoked) => count += usize::from(revoked),
                Err(e) => {
                    tracing::warn!(lease_id = %id, error = %e, "revocation failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(count), Err)
    }
}

impl Shared {
    async fn lock(&self, id: &str) -> LeaseLock<'_> {
        let mutex = self.locks.entry(id.to_string()).or_default().clone();
        LeaseLock {
            locks: &self.locks,
            id: id.to_string(),
            guard: Some(mutex.lock_owned().await),
        }
    }

    /// Schedules `id` at `when`, waking the timer if that is now the earliest deadline.
    pub(super) fn schedule_at(&self, id: &str, when: i64) {
        if self.schedule.lock().set(id, when) {
            self.wake.notify_one();
        }
    }

    /// Revokes one lease under its lock. `Ok(false)`: nothing to revoke (already gone, or
    /// renewed since the timer took it).
    pub(super) async fn revoke(&self, id: &str, mode: Mode) -> Result<bool> {
        let _lock = self.lock(id).await;
        let Some(lease) = store::load(&self.barrier, id).await? else {
            self.schedule.lock().remove(id);
            return Ok(false);
        };
        if let Mode::IfExpired(now) = mode
            && lease.expire_time > now
        {
            self.schedule_at(id, lease.expire_time);
            return Ok(false);
        }
        if let Err(e) = self.backend.revoke(&lease).await {
            if mode != Mode::Force {
                return Err(e);
            }
            tracing::warn!(lease_id = %id, error = %e, "backend revocation failed; lease removed (forced)");
        }
        self.barrier.batch(store::delete_ops(&lease)).await?;
        self.schedule.lock().remove(id);
        tracing::debug!(lease_id = %id, "lease revoked");
        Ok(true)
    }

    /// Drops a lease's records without calling the backend (its token is being revoked by
    /// the token store). Unscheduled first, so a racing renewal cannot leave it queued.
    pub(super) async fn forget(&self, lease: &Lease) -> Result<()> {
        self.schedule.lock().remove(&lease.id);
        self.barrier.batch(store::delete_ops(lease)).await
    }
}

//! The token store's hooks into the expiration manager (a token revoked or renewed), and
//! tidy, which repairs the by-token index.

use super::lease::{LeaseKind, token_lease_id};
use super::manager::{ExpirationManager, Mode};
use super::store;
use crate::Result;
use crate::time::now_unix;
use crate::token::TokenEntry;

/// What a tidy pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TidyReport {
    /// Index entries examined.
    pub scanned: usize,
    /// Index entries removed because their lease was gone.
    pub dangling_removed: usize,
    /// Leases revoked or dropped because their token no longer exists.
    pub orphans_revoked: usize,
}

impl ExpirationManager {
    /// Token-store hook, called for every token it revokes: revokes the leases the token
    /// created and drops the token's own lease (without calling back into the token store).
    pub async fn revoke_by_token(&self, token_id: &str) -> Result<()> {
        let shared = &self.shared;
        let mut first_error = None;
        for id in store::by_token(&shared.barrier, token_id).await? {
            let outcome = match store::load(&shared.barrier, &id).await? {
                None => store::delete_index(&shared.barrier, token_id, &id).await,
                Some(lease) if matches!(&lease.kind, LeaseKind::Token { token_id: t } if t == token_id) => {
                    shared.forget(&lease).await
                }
                Some(_) => shared.revoke(&id, Mode::Normal).await.map(drop),
            };
            if let Err(e) = outcome {
                tracing::warn!(lease_id = %id, error = %e, "revoking a lease of a revoked token failed");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Token-store hook, called after a token's expiry changed (renewal): moves its lease.
    /// Tokens without a lease (created before leases existed, or just revoked) are left alone.
    pub async fn token_renewed(&self, entry: &TokenEntry) -> Result<()> {
        if entry.expire_time == 0 {
            return Ok(());
        }
        let id = token_lease_id(&entry.path, &entry.id);
        let Some(mut lease) = store::load(&self.shared.barrier, &id).await? else {
            return Ok(());
        };
        if lease.expire_time != entry.expire_time {
            lease.expire_time = entry.expire_time;
            lease.last_renewal = now_unix();
            store::put(&self.shared.barrier, &lease).await?;
            self.shared.schedule_at(&id, lease.expire_time);
        }
        Ok(())
    }

    /// Removes index entries whose lease is gone, and revokes leases whose token no longer
    /// exists. Returns what it did.
    pub async fn tidy(&self) -> Result<TidyReport> {
        let shared = &self.shared;
        let mut report = TidyReport::default();
        for token_id in store::indexed_tokens(&shared.barrier).await? {
            let ids = store::by_token(&shared.barrier, &token_id).await?;
            let token_alive = shared.backend.token_exists(&token_id).await?;
            for id in ids {
                report.scanned += 1;
                match store::load(&shared.barrier, &id).await? {
                    None => {
                        store::delete_index(&shared.barrier, &token_id, &id).await?;
                        report.dangling_removed += 1;
                    }
                    Some(lease) if !token_alive => {
                        let outcome = if lease.is_token() {
                            shared.forget(&lease).await
                        } else {
                            shared.revoke(&id, Mode::Normal).await.map(drop)
                        };
                        match outcome {
                            Ok(()) => report.orphans_revoked += 1,
                            Err(e) => tracing::warn!(lease_id = %id, error = %e, "tidy: revocation failed"),
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        tracing::info!(?report, "lease tidy done");
        Ok(report)
    }
}

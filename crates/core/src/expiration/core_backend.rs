//! `CoreLeaseBackend`: how the running core revokes and renews what each lease stands for.
//! Token leases go to the token store; secret leases to the engine at their mount path.

use super::{Lease, LeaseBackend, LeaseKind};
use crate::core::{Core, Inner, Unsealed};
use crate::mounts::TOKEN_KIND;
use crate::{CoreError, Result};
use async_trait::async_trait;
use std::sync::{Arc, Weak};

/// The core's [`LeaseBackend`]. Holds the core weakly (the manager lives inside the core's
/// unsealed state), so a dropped or sealed core makes every call fail with `Sealed`.
#[derive(Clone)]
pub struct CoreLeaseBackend {
    core: Weak<Inner>,
}

impl std::fmt::Debug for CoreLeaseBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreLeaseBackend").finish_non_exhaustive()
    }
}

impl CoreLeaseBackend {
    /// A backend acting on `core`.
    pub fn new(core: &Core) -> Self {
        CoreLeaseBackend {
            core: Arc::downgrade(&core.0),
        }
    }

    fn state(&self) -> Result<Arc<Unsealed>> {
        let inner = self.core.upgrade().ok_or(CoreError::Sealed)?;
        Core(inner).unsealed()
    }
}

#[async_trait]
impl LeaseBackend for CoreLeaseBackend {
    async fn revoke(&self, lease: &Lease) -> Result<()> {
        match &lease.kind {
            // Revokes the token's children too; the token store then calls
            // `ExpirationManager::revoke_by_token` for each of them.
            LeaseKind::Token { token_id } => self.state()?.tokens.revoke_tree(token_id).await,
            LeaseKind::Secret { mount_path, .. } => {
                // No engine issues leased secrets yet; once `Backend` has a revocation hook,
                // call it here with the lease's `internal` data. A mount that is gone has
                // nothing left to revoke.
                tracing::debug!(lease_id = %lease.id, mount = %mount_path, "secret lease expired");
                Ok(())
            }
        }
    }

    async fn renew(&self, lease: &Lease, new_expire: i64) -> Result<i64> {
        match &lease.kind {
            LeaseKind::Token { token_id } => {
                let inner = self.core.upgrade().ok_or(CoreError::Sealed)?;
                let core = Core(inner);
                let state = core.unsealed()?;
                let entry = state
                    .tokens
                    .get_by_id(token_id)
                    .await?
                    .ok_or_else(|| CoreError::bad("lease not found"))?;
                // The same hard limit as `auth/token/renew`, from the token mount's config.
                let max_ttl = state
                    .mounts
                    .load()
                    .by_kind(TOKEN_KIND)
                    .map(|route| core.token_limits(&route.entry).max_ttl)
                    .unwrap_or(core.config().max_lease_ttl);
                let limit = match (entry.explicit_max_ttl, entry.period) {
                    (0, 0) => Some(max_ttl),
                    (0, _) => None,
                    (e, 0) => Some(e.min(max_ttl)),
                    (e, _) => Some(e),
                };
                let granted = match limit {
                    Some(l) => new_expire.min(entry.creation_time.saturating_add(l as i64)),
                    None => new_expire,
                };
                let mut updated = (*entry).clone();
                updated.expire_time = granted;
                state.tokens.update(updated).await?;
                Ok(granted)
            }
            LeaseKind::Secret { .. } => Ok(new_expire),
        }
    }

    async fn token_exists(&self, token_id: &str) -> Result<bool> {
        Ok(self.state()?.tokens.get_by_id(token_id).await?.is_some())
    }
}

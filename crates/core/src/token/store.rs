//! The token store: tokens are persisted only as HMACs of their value, cached in a sharded
//! map for the hot path, and revoked as a tree (revoking a parent revokes its children).

use crate::barrier::{Barrier, BarrierOp};
use crate::time::now_unix;
use crate::view::{View, to_json};
use crate::{CoreError, Result};
use coffer_crypto::{mac, token as tokfmt};
use dashmap::DashMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Storage prefix of the token store inside the barrier.
pub const TOKEN_PREFIX: &str = "sys/token/";
/// Barrier path of the HMAC key used to derive token ids.
pub const HMAC_KEY_PATH: &str = "core/token-hmac-key";
/// Barrier path of the key that seals batch tokens.
pub const BATCH_KEY_PATH: &str = "core/batch-token-key";

/// A persisted token. Holds the token's HMAC id, never its value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenEntry {
    /// HMAC-SHA256 of the token value, hex.
    pub id: String,
    /// Accessor (lookup/revoke without the token).
    pub accessor: String,
    /// Id of the parent token, empty for orphans.
    pub parent: String,
    /// Attached policies, sorted.
    pub policies: Vec<String>,
    /// Metadata.
    pub meta: Map<String, Value>,
    /// Display name.
    pub display_name: String,
    /// Remaining uses; 0 = unlimited.
    pub num_uses: u64,
    /// Unix seconds of creation.
    pub creation_time: i64,
    /// TTL at creation, seconds (0 = none).
    pub creation_ttl: u64,
    /// Unix seconds of expiry; 0 = never.
    pub expire_time: i64,
    /// Hard limit from creation, seconds (0 = none).
    pub explicit_max_ttl: u64,
    /// Period of a periodic token, seconds (0 = not periodic).
    pub period: u64,
    /// Whether it can be renewed.
    pub renewable: bool,
    /// Path that created it.
    pub path: String,
    /// Entity id.
    pub entity_id: String,
    /// `service`.
    #[serde(rename = "type")]
    pub kind: String,
    /// CIDRs the token may be used from (empty = anywhere).
    #[serde(default)]
    pub bound_cidrs: Vec<String>,
    /// Set in the cache when the last use was spent; the token is revoked right after.
    #[serde(skip)]
    pub exhausted: bool,
}

impl TokenEntry {
    /// Whether the token is past its expiry at `now`.
    pub fn expired_at(&self, now: i64) -> bool {
        self.expire_time != 0 && now >= self.expire_time
    }

    /// Seconds left, 0 for tokens that never expire.
    pub fn remaining_ttl(&self, now: i64) -> u64 {
        if self.expire_time == 0 {
            0
        } else {
            (self.expire_time - now).max(0) as u64
        }
    }

    /// Whether it carries the root policy.
    pub fn is_root(&self) -> bool {
        self.policies.iter().any(|p| p == "root")
    }
}

/// Parameters of a new token, already validated and resolved against the parent.
#[derive(Debug, Default)]
pub struct NewToken {
    /// Custom token value (root only), else generated.
    pub value: Option<SecretString>,
    /// Parent id ("" = orphan).
    pub parent: String,
    /// Policies.
    pub policies: Vec<String>,
    /// Metadata.
    pub meta: Map<String, Value>,
    /// Display name.
    pub display_name: String,
    /// Use limit.
    pub num_uses: u64,
    /// TTL seconds (0 = never expires).
    pub ttl: u64,
    /// Explicit max TTL seconds.
    pub explicit_max_ttl: u64,
    /// Period seconds.
    pub period: u64,
    /// Renewable.
    pub renewable: bool,
    /// Creating path.
    pub path: String,
    /// Entity the token belongs to.
    pub entity_id: String,
    /// CIDRs the token may be used from (empty = anywhere).
    pub bound_cidrs: Vec<String>,
}

/// Tokens, persisted under `sys/token/` and cached by id.
pub struct TokenStore {
    view: View,
    barrier: Arc<Barrier>,
    hmac_key: coffer_crypto::SecretBytes,
    /// Seals batch tokens, which carry their own state instead of being stored.
    pub(super) batch_key: coffer_crypto::Key256,
    cache: DashMap<String, Arc<TokenEntry>>,
    /// Absolute storage prefix of the cubbyhole mount, whose `<token id>/` subtree dies with
    /// the token.
    cubbyhole_prefix: String,
    /// Leases: every token with a TTL has one, revoked on time.
    expiration: Arc<crate::expiration::ExpirationManager>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore").field("cached", &self.cache.len()).finish()
    }
}

fn id_key(id: &str) -> String {
    format!("id/{id}")
}
fn parent_key(parent: &str, child: &str) -> String {
    format!("parent/{parent}/{child}")
}

impl TokenStore {
    /// Opens the store; `hmac_key` is the per-cluster key from `core/token-hmac-key`.
    pub fn new(
        barrier: Arc<Barrier>,
        hmac_key: coffer_crypto::SecretBytes,
        batch_key: coffer_crypto::Key256,
        cubbyhole_prefix: String,
        expiration: Arc<crate::expiration::ExpirationManager>,
    ) -> Self {
        TokenStore {
            view: View::new(barrier.clone(), TOKEN_PREFIX),
            barrier,
            hmac_key,
            batch_key,
            cache: DashMap::new(),
            cubbyhole_prefix,
            expiration,
        }
    }

    /// The id (HMAC) of a token value.
    pub fn id_of(&self, token: &str) -> String {
        hex::encode(mac::hmac_sha256(self.hmac_key.expose(), token.as_bytes()))
    }

    fn accessor_key(&self, accessor: &str) -> String {
        format!(
            "accessor/{}",
            hex::encode(mac::hmac_sha256(self.hmac_key.expose(), accessor.as_bytes()))
        )
    }

    /// Creates and persists a token; returns its value and entry.
    pub async fn create(&self, new: NewToken) -> Result<(SecretString, Arc<TokenEntry>)> {
        let value = new
            .value
            .unwrap_or_else(|| SecretString::from(tokfmt::generate(tokfmt::SERVICE_TOKEN_PREFIX)));
        let id = self.id_of(value.expose_secret());
        if self.get_by_id(&id).await?.is_some() {
            return Err(CoreError::bad("a token with that id already exists"));
        }
        let now = now_unix();
        let mut policies = new.policies;
        policies.sort();
        policies.dedup();
        let entry = TokenEntry {
            id: id.clone(),
            accessor: tokfmt::random_base62(24),
            parent: new.parent,
            policies,
            meta: new.meta,
            display_name: new.display_name,
            num_uses: new.num_uses,
            creation_time: now,
            creation_ttl: new.ttl,
            expire_time: if new.ttl == 0 { 0 } else { now + new.ttl as i64 },
            explicit_max_ttl: new.explicit_max_ttl,
            period: new.period,
            renewable: new.renewable,
            path: new.path,
            entity_id: new.entity_id,
            kind: "service".into(),
            bound_cidrs: new.bound_cidrs,
            exhausted: false,
        };
        let mut ops = vec![
            BarrierOp::Put(self.abs(&id_key(&id)), to_json(&entry)?),
            BarrierOp::Put(self.abs(&self.accessor_key(&entry.accessor)), id.as_bytes().to_vec()),
        ];
        if !entry.parent.is_empty() {
            ops.push(BarrierOp::Put(self.abs(&parent_key(&entry.parent, &id)), Vec::new()));
        }
        let lease = self.expiration.prepare_token(&entry, 0);
        if let Some(lease) = &lease {
            ops.extend(lease.ops()?);
        }
        self.barrier.batch(ops).await?;
        if let Some(lease) = lease {
            self.expiration.activate(lease);
        }
        let entry = Arc::new(entry);
        self.cache.insert(id, entry.clone());
        Ok((value, entry))
    }

    /// The store's own view (`sys/token/`), also holding token roles.
    pub(crate) fn view(&self) -> &View {
        &self.view
    }

    /// Absolute barrier path of `key` in a token's cubbyhole.
    pub fn cubbyhole_path(&self, token_id: &str, key: &str) -> String {
        format!("{}{token_id}/{key}", self.cubbyhole_prefix)
    }

    fn abs(&self, key: &str) -> String {
        format!("{TOKEN_PREFIX}{key}")
    }

    /// Entry by id, from the cache or storage; expired tokens are revoked and reported absent.
    pub async fn get_by_id(&self, id: &str) -> Result<Option<Arc<TokenEntry>>> {
        let entry = match self.cache.get(id) {
            Some(e) => e.clone(),
            None => match self.view.get_json::<TokenEntry>(&id_key(id)).await? {
                None => return Ok(None),
                Some(e) => {
                    let e = Arc::new(e);
                    self.cache.insert(id.to_string(), e.clone());
                    e
                }
            },
        };
        if entry.exhausted {
            return Ok(None);
        }
        if entry.expired_at(now_unix()) {
            self.revoke_tree(id).await?;
            return Ok(None);
        }
        Ok(Some(entry))
    }

    /// Entry for a token value.
    pub async fn lookup(&self, token: &SecretString) -> Result<Option<Arc<TokenEntry>>> {
        if token.expose_secret().starts_with(tokfmt::BATCH_TOKEN_PREFIX) {
            return self.open_batch(token.expose_secret()).await;
        }
        self.get_by_id(&self.id_of(token.expose_secret())).await
    }

    /// Entry by accessor.
    pub async fn lookup_accessor(&self, accessor: &str) -> Result<Option<Arc<TokenEntry>>> {
        match self.view.get(&self.accessor_key(accessor)).await? {
            None => Ok(None),
            Some(id) => self.get_by_id(&String::from_utf8_lossy(id.expose())).await,
        }
    }

    /// Counts one use of a limited-use token. Returns the entry as it is after this use, and
    /// `true` when this was the last use (the caller revokes the token after the request).
    /// Errors if no use is left.
    pub async fn use_once(&self, entry: Arc<TokenEntry>) -> Result<(Arc<TokenEntry>, bool)> {
        if entry.num_uses == 0 {
            return Ok((entry, false));
        }
        let updated = {
            let Some(mut cached) = self.cache.get_mut(&entry.id) else {
                return Err(CoreError::PermissionDenied);
            };
            if cached.exhausted || cached.num_uses == 0 {
                return Err(CoreError::PermissionDenied);
            }
            let e = Arc::make_mut(&mut cached);
            e.num_uses -= 1;
            // Exhausted in the cache at once, so no concurrent request gets through; the
            // caller revokes the token when this last request is done.
            e.exhausted = e.num_uses == 0;
            cached.clone()
        };
        if updated.exhausted {
            return Ok((updated, true));
        }
        self.view.put_json(&id_key(&entry.id), &*updated).await?;
        Ok((updated, false))
    }

    /// Persists a changed entry (renewal).
    pub async fn update(&self, entry: TokenEntry) -> Result<Arc<TokenEntry>> {
        self.view.put_json(&id_key(&entry.id), &entry).await?;
        self.expiration.token_renewed(&entry).await?;
        let entry = Arc::new(entry);
        self.cache.insert(entry.id.clone(), entry.clone());
        Ok(entry)
    }

    /// Ids of the direct children of a token.
    async fn children(&self, id: &str) -> Result<Vec<String>> {
        Ok(self
            .view
            .list(&format!("parent/{id}/"))
            .await?
            .into_iter()
            .filter(|c| !c.ends_with('/'))
            .collect())
    }

    /// Revokes a token and all its descendants, their accessors, indexes and cubbyholes, in
    /// one atomic batch.
    pub async fn revoke_tree(&self, id: &str) -> Result<()> {
        let mut doomed = vec![id.to_string()];
        let mut i = 0;
        while i < doomed.len() {
            let children = self.children(&doomed[i]).await?;
            doomed.extend(children);
            i += 1;
        }
        let mut ops = Vec::new();
        for token_id in &doomed {
            ops.extend(self.removal_ops(token_id).await?);
        }
        self.barrier.batch(ops).await?;
        for token_id in &doomed {
            self.cache.remove(token_id);
        }
        for token_id in &doomed {
            if let Err(e) = self.expiration.revoke_by_token(token_id).await {
                tracing::warn!(error = %e, "leases of a revoked token stay until they expire");
            }
        }
        Ok(())
    }

    /// Revokes one token; its children become orphans.
    pub async fn revoke_orphan(&self, id: &str) -> Result<()> {
        let mut ops = self.removal_ops(id).await?;
        let mut orphaned = Vec::new();
        for child in self.children(id).await? {
            if let Some(mut entry) = self.view.get_json::<TokenEntry>(&id_key(&child)).await? {
                entry.parent.clear();
                ops.push(BarrierOp::Put(self.abs(&id_key(&child)), to_json(&entry)?));
                orphaned.push(entry);
            }
        }
        self.barrier.batch(ops).await?;
        self.cache.remove(id);
        if let Err(e) = self.expiration.revoke_by_token(id).await {
            tracing::warn!(error = %e, "leases of a revoked token stay until they expire");
        }
        for entry in orphaned {
            self.cache.insert(entry.id.clone(), Arc::new(entry));
        }
        Ok(())
    }

    async fn removal_ops(&self, id: &str) -> Result<Vec<BarrierOp>> {
        let mut ops = vec![
            BarrierOp::Delete(self.abs(&id_key(id))),
            BarrierOp::DeletePrefix(self.abs(&format!("parent/{id}/"))),
            BarrierOp::DeletePrefix(format!("{}{id}/", self.cubbyhole_prefix)),
        ];
        let stored = match self.cache.get(id) {
            Some(e) => Some((*e.clone()).clone()),
            None => self.view.get_json::<TokenEntry>(&id_key(id)).await?,
        };
        if let Some(entry) = stored {
            ops.push(BarrierOp::Delete(self.abs(&self.accessor_key(&entry.accessor))));
            if !entry.parent.is_empty() {
                ops.push(BarrierOp::Delete(self.abs(&parent_key(&entry.parent, id))));
            }
        }
        Ok(ops)
    }
}

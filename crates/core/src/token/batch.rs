//! Batch tokens: the token *is* its state, sealed with the cluster's batch key, so the server
//! validates it without a storage read. Never persisted, never renewable, no children, no
//! cubbyhole; revoked with their parent.

use super::store::{NewToken, TokenEntry, TokenStore};
use crate::time::now_unix;
use crate::{CoreError, Result};
use coffer_crypto::{aead, token as tokfmt};
use secrecy::SecretString;
use std::sync::Arc;

const AAD: &[u8] = b"coffer batch token v1";

impl TokenStore {
    /// Mints a batch token; nothing is written to storage.
    pub fn create_batch(&self, new: NewToken) -> Result<(SecretString, Arc<TokenEntry>)> {
        if new.num_uses != 0 || new.period != 0 || new.value.is_some() {
            return Err(CoreError::bad(
                "batch tokens cannot have a use limit, a period or a custom id",
            ));
        }
        let now = now_unix();
        let mut policies = new.policies;
        policies.sort();
        policies.dedup();
        let entry = TokenEntry {
            id: String::new(),
            accessor: String::new(),
            parent: new.parent,
            policies,
            meta: new.meta,
            display_name: new.display_name,
            num_uses: 0,
            creation_time: now,
            creation_ttl: new.ttl,
            expire_time: if new.ttl == 0 { 0 } else { now + new.ttl as i64 },
            explicit_max_ttl: new.explicit_max_ttl,
            period: 0,
            renewable: false,
            path: new.path,
            entity_id: new.entity_id,
            kind: "batch".into(),
            bound_cidrs: new.bound_cidrs,
            exhausted: false,
        };
        let sealed = aead::seal(&self.batch_key, AAD, &crate::view::to_json(&entry)?);
        let token = tokfmt::encode_batch(&sealed);
        let id = self.id_of(&token);
        Ok((SecretString::from(token), Arc::new(TokenEntry { id, ..entry })))
    }

    /// Validates a batch token: checksum, seal, expiry, and a parent that still exists.
    pub(super) async fn open_batch(&self, token: &str) -> Result<Option<Arc<TokenEntry>>> {
        let Some(sealed) = tokfmt::decode_batch(token) else {
            return Ok(None);
        };
        let Ok(plain) = aead::open(&self.batch_key, AAD, &sealed) else {
            return Ok(None);
        };
        let mut entry: TokenEntry = serde_json::from_slice(plain.expose())
            .map_err(|_| CoreError::Internal("batch token payload is malformed".into()))?;
        if entry.expired_at(now_unix()) {
            return Ok(None);
        }
        if !entry.parent.is_empty() && self.get_by_id(&entry.parent).await?.is_none() {
            return Ok(None);
        }
        entry.id = self.id_of(token);
        Ok(Some(Arc::new(entry)))
    }
}

/// Whether an entry is a batch token.
pub fn is_batch(entry: &TokenEntry) -> bool {
    entry.kind == "batch"
}

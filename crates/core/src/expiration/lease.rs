//! The persisted lease record: what it stands for, when it was issued and expires, how far
//! it may be renewed; plus lease ids and the renewal arithmetic.

use crate::time::rfc3339;
use crate::token::TokenEntry;
use crate::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a lease stands for, and what its revocation must undo.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LeaseKind {
    /// A service token with a TTL.
    Token {
        /// The token's id (HMAC of its value, never the value).
        token_id: String,
    },
    /// A secret issued by the engine mounted at `mount_path`.
    Secret {
        /// Mount point, with trailing slash (e.g. `database/`).
        mount_path: String,
        /// What the engine needs to revoke the secret later (e.g. the user name it created).
        #[serde(default)]
        internal: Value,
    },
}

impl std::fmt::Debug for LeaseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaseKind::Token { .. } => f.debug_struct("Token").finish_non_exhaustive(),
            LeaseKind::Secret { mount_path, .. } => f
                .debug_struct("Secret")
                .field("mount_path", mount_path)
                .field("internal", &"[redacted]")
                .finish(),
        }
    }
}

/// One lease, as stored at `sys/expire/id/<id>`. Times are unix seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lease {
    /// Lease id: `<creating path>/<suffix>`.
    pub id: String,
    /// What it stands for.
    pub kind: LeaseKind,
    /// Request path that created it (`auth/token/create`, `database/creds/ro`…).
    pub path: String,
    /// Id of the token the lease is indexed under: the creating token for secrets, the token
    /// itself for token leases (revoking that token ends the lease). Empty = none.
    pub client_token_id: String,
    /// When it was issued.
    pub issue_time: i64,
    /// When it expires.
    pub expire_time: i64,
    /// Last renewal; 0 = never renewed.
    #[serde(default)]
    pub last_renewal: i64,
    /// TTL granted at issue, seconds: the increment of a renewal that asks for none.
    pub ttl: u64,
    /// Hard deadline no renewal goes past (max TTL, explicit max TTL); 0 = none.
    pub max_expire: i64,
    /// Period of a periodic token, seconds: every renewal grants exactly this (0 = not periodic).
    #[serde(default)]
    pub period: u64,
    /// Whether it may be renewed.
    pub renewable: bool,
}

/// A leased secret the core registers after an engine answered with a TTL.
#[derive(Debug, Clone)]
pub struct SecretLeaseRequest {
    /// Full request path that produced the secret (`database/creds/ro`).
    pub request_path: String,
    /// Mount point of the engine, with trailing slash.
    pub mount_path: String,
    /// Id of the calling token; revoking it revokes the lease. Empty = none.
    pub client_token_id: String,
    /// Engine data needed to revoke the secret later.
    pub internal: Value,
    /// TTL granted, seconds (> 0).
    pub ttl: u64,
    /// Max TTL from issue (mount max or system max), seconds; 0 = none.
    pub max_ttl: u64,
    /// Whether it may be renewed.
    pub renewable: bool,
}

/// The lease id of a token: the path that created it, then its id (as Vault does).
pub fn token_lease_id(token_path: &str, token_id: &str) -> String {
    format!("{}/{token_id}", token_path.trim_end_matches('/'))
}

/// Rejects lease ids (and prefixes) that are empty or could escape their storage prefix.
pub fn validate_lease_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.starts_with('/')
        || id.split('/').any(|s| s == "." || s == "..")
        || id.chars().any(|c| c == '\0' || c.is_control())
    {
        return Err(CoreError::bad("invalid lease id"));
    }
    Ok(())
}

impl Lease {
    /// The lease of a token; `None` for tokens that never expire (root, TTL 0) and batch tokens.
    /// `max_ttl` is the token's effective maximum TTL (mount or system), seconds.
    pub fn for_token(entry: &TokenEntry, max_ttl: u64) -> Option<Lease> {
        // Batch tokens carry their own expiry and are never stored: nothing to revoke.
        if entry.expire_time == 0 || entry.kind == "batch" {
            return None;
        }
        // Same hard limit as `auth/token/renew`: periodic tokens have none unless explicit.
        let limit = match (entry.explicit_max_ttl, entry.period) {
            (0, 0) => max_ttl,
            (0, _) => 0,
            (e, 0) if max_ttl > 0 => e.min(max_ttl),
            (e, _) => e,
        };
        Some(Lease {
            id: token_lease_id(&entry.path, &entry.id),
            kind: LeaseKind::Token {
                token_id: entry.id.clone(),
            },
            path: entry.path.clone(),
            client_token_id: entry.id.clone(),
            issue_time: entry.creation_time,
            expire_time: entry.expire_time,
            last_renewal: 0,
            ttl: entry.creation_ttl,
            max_expire: if limit == 0 {
                0
            } else {
                entry.creation_time.saturating_add(limit as i64)
            },
            period: entry.period,
            renewable: entry.renewable,
        })
    }

    /// The lease of a secret issued now.
    pub fn for_secret(req: &SecretLeaseRequest, suffix: &str, now: i64) -> Lease {
        Lease {
            id: format!("{}/{suffix}", req.request_path.trim_end_matches('/')),
            kind: LeaseKind::Secret {
                mount_path: req.mount_path.clone(),
                internal: req.internal.clone(),
            },
            path: req.request_path.clone(),
            client_token_id: req.client_token_id.clone(),
            issue_time: now,
            expire_time: now.saturating_add(req.ttl as i64),
            last_renewal: 0,
            ttl: req.ttl,
            max_expire: if req.max_ttl == 0 {
                0
            } else {
                now.saturating_add(req.max_ttl as i64)
            },
            period: 0,
            renewable: req.renewable,
        }
    }

    /// Whether this is a token's lease.
    pub fn is_token(&self) -> bool {
        matches!(self.kind, LeaseKind::Token { .. })
    }

    /// Seconds left at `now` (0 once expired).
    pub fn remaining(&self, now: i64) -> u64 {
        (self.expire_time - now).max(0) as u64
    }

    /// The expiry a renewal at `now` grants: the period for periodic leases, else the
    /// increment (or the original TTL), capped at `max_expire`. Returns the new expiry and
    /// whether the cap applied.
    pub fn renewed_expiry(&self, now: i64, increment: Option<u64>) -> (i64, bool) {
        let ttl = if self.period > 0 {
            self.period
        } else {
            increment.filter(|i| *i > 0).unwrap_or(self.ttl)
        };
        let wanted = now.saturating_add(ttl as i64);
        if self.max_expire > 0 && wanted > self.max_expire {
            (self.max_expire.max(now), true)
        } else {
            (wanted, false)
        }
    }

    /// The `data` of `sys/leases/lookup`.
    pub fn lookup_data(&self, now: i64) -> Value {
        json!({
            "id": self.id,
            "issue_time": rfc3339(self.issue_time),
            "expire_time": rfc3339(self.expire_time),
            "last_renewal": if self.last_renewal == 0 { Value::Null } else { json!(rfc3339(self.last_renewal)) },
            "renewable": self.renewable && (self.max_expire == 0 || self.max_expire > now),
            "ttl": self.remaining(now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(ttl: u64, max_expire: i64, period: u64) -> Lease {
        Lease {
            id: "x/1".into(),
            kind: LeaseKind::Token { token_id: "t".into() },
            path: "x".into(),
            client_token_id: "t".into(),
            issue_time: 1000,
            expire_time: 1000 + ttl as i64,
            last_renewal: 0,
            ttl,
            max_expire,
            period,
            renewable: true,
        }
    }

    #[test]
    fn renewal_uses_increment_then_ttl_and_caps_at_max() {
        let l = lease(60, 1300, 0);
        assert_eq!(l.renewed_expiry(1010, Some(100)), (1110, false));
        assert_eq!(l.renewed_expiry(1010, None), (1070, false));
        assert_eq!(l.renewed_expiry(1010, Some(0)), (1070, false));
        assert_eq!(l.renewed_expiry(1010, Some(1000)), (1300, true));
        assert_eq!(l.renewed_expiry(1400, Some(10)), (1400, true));
    }

    #[test]
    fn periodic_lease_renews_by_its_period() {
        let l = lease(60, 0, 30);
        assert_eq!(l.renewed_expiry(2000, Some(500)), (2030, false));
    }

    #[test]
    fn lease_ids_cannot_escape() {
        for bad in ["", "/abs", "a/../b", "a/./b", "a\0b", "a\nb"] {
            assert!(validate_lease_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_lease_id("auth/token/create/abc").is_ok());
        assert_eq!(token_lease_id("auth/token/create", "ab"), "auth/token/create/ab");
    }

    #[test]
    fn debug_hides_secret_internals() {
        let kind = LeaseKind::Secret {
            mount_path: "db/".into(),
            internal: json!({"password": "hunter2"}),
        };
        assert!(!format!("{kind:?}").contains("hunter2"));
    }
}

//! The `auth/token/` endpoints: create, lookup, renew, revoke, as Vault defines them.

use super::create::{Via, create};
use super::store::{TokenEntry, TokenStore};
use crate::duration::parse_field;
use crate::request::{Auth, Operation, Response};
use crate::time::{now_unix, rfc3339};
use crate::{CoreError, Result};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// TTL limits that apply to tokens (from the token mount's config or the system default).
#[derive(Debug, Clone, Copy)]
pub struct TtlLimits {
    /// Default TTL of a new token, seconds.
    pub default_ttl: u64,
    /// Maximum TTL of any non-periodic token, seconds from creation.
    pub max_ttl: u64,
}

/// The calling token, as the token endpoints need it.
pub struct TokenCaller<'a> {
    /// Its entry.
    pub entry: &'a Arc<TokenEntry>,
    /// Its value (for `id` in lookup-self).
    pub token: &'a SecretString,
    /// Whether the ACL granted sudo on the path.
    pub sudo: bool,
}

/// Paths under `auth/token/` that need sudo (Vault's root paths of the token store).
pub fn needs_sudo(rel: &str) -> bool {
    rel.starts_with("revoke-orphan") || rel.starts_with("accessors")
}

/// Paths under `auth/token/` that change nothing whatever the method (the lookups); see
/// `Backend::reads_only`.
pub fn reads_only(rel: &str) -> bool {
    matches!(rel, "lookup-self" | "lookup" | "lookup-accessor")
}

/// Dispatches a request under `auth/token/`.
pub async fn handle(
    store: &TokenStore,
    caller: &TokenCaller<'_>,
    limits: TtlLimits,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Response> {
    use Operation::*;
    let write = matches!(op, Create | Update);
    match (rel, op) {
        ("create", _) if write => create(store, caller, limits, Via::Create, data).await,
        ("create-orphan", _) if write => create(store, caller, limits, Via::Orphan, data).await,
        (r, _) if write && r.starts_with("create/") => {
            create(store, caller, limits, Via::Role(&r["create/".len()..]), data).await
        }
        (r, _) if r == "roles" || r.starts_with("roles/") => super::roles::handle(store, op, rel, data).await,
        ("lookup-self", Read) | ("lookup-self", Create | Update) => {
            Ok(lookup_response(caller.entry, Some(caller.token.expose_secret())))
        }
        ("lookup", Read | Create | Update) => {
            let token = token_field(data)?;
            let entry = store.lookup(&token).await?.ok_or_else(bad_token)?;
            Ok(lookup_response(&entry, Some(token.expose_secret())))
        }
        ("lookup-accessor", _) if write => {
            let entry = by_accessor(store, data).await?;
            Ok(lookup_response(&entry, None))
        }
        ("renew-self", _) if write => renew(store, limits, caller.entry.clone(), data).await,
        ("renew", _) if write => {
            let entry = store.lookup(&token_field(data)?).await?.ok_or_else(bad_token)?;
            renew(store, limits, entry, data).await
        }
        ("renew-accessor", _) if write => {
            let entry = by_accessor(store, data).await?;
            renew(store, limits, entry, data).await
        }
        ("revoke-self", _) if write => {
            not_batch(caller.entry)?;
            store.revoke_tree(&caller.entry.id).await?;
            Ok(Response::empty())
        }
        ("revoke", _) if write => {
            if let Some(entry) = store.lookup(&token_field(data)?).await? {
                not_batch(&entry)?;
                store.revoke_tree(&entry.id).await?;
            }
            Ok(Response::empty())
        }
        ("revoke-accessor", _) if write => {
            let entry = by_accessor(store, data).await?;
            store.revoke_tree(&entry.id).await?;
            Ok(Response::empty())
        }
        ("revoke-orphan", _) if write => {
            if let Some(entry) = store.lookup(&token_field(data)?).await? {
                store.revoke_orphan(&entry.id).await?;
            }
            Ok(Response::empty())
        }
        (
            "create" | "create-orphan" | "lookup-self" | "lookup" | "lookup-accessor" | "renew-self" | "renew"
            | "renew-accessor" | "revoke-self" | "revoke" | "revoke-accessor" | "revoke-orphan",
            _,
        ) => Err(CoreError::UnsupportedOperation),
        _ => Err(CoreError::NoRoute(format!("auth/token/{rel}"))),
    }
}

/// The TTL a new token gets: its period if periodic; else the requested TTL (or the default)
/// capped by the maximum; never beyond `explicit_max_ttl`. Root tokens without a request get 0
/// (no expiry).
pub fn resolve_ttl(requested: u64, period: u64, explicit_max_ttl: u64, limits: TtlLimits, root: bool) -> u64 {
    let mut ttl = match (period, requested) {
        (p, _) if p > 0 => p,
        (_, t) if t > 0 => t.min(limits.max_ttl),
        _ if root => 0,
        _ => limits.default_ttl.min(limits.max_ttl),
    };
    if explicit_max_ttl > 0 && (ttl == 0 || ttl > explicit_max_ttl) {
        ttl = explicit_max_ttl;
    }
    ttl
}

/// Batch tokens live until they expire or their parent is revoked.
fn not_batch(entry: &TokenEntry) -> Result<()> {
    if super::batch::is_batch(entry) {
        return Err(CoreError::bad(
            "batch tokens cannot be revoked; they expire or die with their parent",
        ));
    }
    Ok(())
}

fn bad_token() -> CoreError {
    CoreError::bad("bad token")
}

fn token_field(data: &Map<String, Value>) -> Result<SecretString> {
    match data.get("token") {
        Some(Value::String(t)) if !t.is_empty() => Ok(SecretString::from(t.clone())),
        _ => Err(CoreError::bad("missing token")),
    }
}

async fn by_accessor(store: &TokenStore, data: &Map<String, Value>) -> Result<Arc<TokenEntry>> {
    let accessor = match data.get("accessor") {
        Some(Value::String(a)) if !a.is_empty() => a,
        _ => return Err(CoreError::bad("missing accessor")),
    };
    store
        .lookup_accessor(accessor)
        .await?
        .ok_or_else(|| CoreError::bad("invalid accessor"))
}

/// The `auth` block describing a token that was just granted `ttl` seconds (0 = no expiry).
pub fn auth_for(entry: &TokenEntry, token: &str, ttl: u64) -> Auth {
    Auth {
        client_token: token.to_string(),
        accessor: entry.accessor.clone(),
        policies: entry.policies.clone(),
        token_policies: entry.policies.clone(),
        metadata: if entry.meta.is_empty() {
            None
        } else {
            Some(entry.meta.clone())
        },
        lease_duration: ttl,
        renewable: entry.renewable && entry.expire_time != 0,
        entity_id: entry.entity_id.clone(),
        token_type: entry.kind.clone(),
        orphan: entry.parent.is_empty(),
        num_uses: entry.num_uses,
        ..Default::default()
    }
}

/// The `data` of a token lookup.
pub fn lookup_response(entry: &TokenEntry, token: Option<&str>) -> Response {
    let now = now_unix();
    let mut resp = Response::data(json!({
        "accessor": entry.accessor,
        "creation_time": entry.creation_time,
        "creation_ttl": entry.creation_ttl,
        "display_name": entry.display_name,
        "entity_id": entry.entity_id,
        "expire_time": if entry.expire_time == 0 { Value::Null } else { json!(rfc3339(entry.expire_time)) },
        "explicit_max_ttl": entry.explicit_max_ttl,
        "id": token.unwrap_or(""),
        "issue_time": rfc3339(entry.creation_time),
        "meta": if entry.meta.is_empty() { Value::Null } else { Value::Object(entry.meta.clone()) },
        "num_uses": entry.num_uses,
        "orphan": entry.parent.is_empty(),
        "path": entry.path,
        "period": if entry.period == 0 { Value::Null } else { json!(entry.period) },
        "policies": entry.policies,
        "renewable": entry.renewable && entry.expire_time != 0,
        "ttl": entry.remaining_ttl(now),
        "type": entry.kind,
    }));
    resp.mount_type = "token".into();
    resp
}

async fn renew(
    store: &TokenStore,
    limits: TtlLimits,
    entry: Arc<TokenEntry>,
    data: &Map<String, Value>,
) -> Result<Response> {
    if super::batch::is_batch(&entry) {
        return Err(CoreError::bad("batch tokens cannot be renewed"));
    }
    if entry.expire_time == 0 {
        return Ok(Response {
            auth: Some(auth_for(&entry, "", 0)),
            ..Default::default()
        });
    }
    if !entry.renewable {
        return Err(CoreError::bad("lease is not renewable"));
    }
    let now = now_unix();
    let increment = parse_field(data, "increment")?.filter(|i| *i > 0);
    let mut ttl = if entry.period > 0 {
        entry.period
    } else {
        increment.unwrap_or(entry.creation_ttl)
    };
    let mut warnings = Vec::new();
    let hard_limit = match (entry.explicit_max_ttl, entry.period) {
        (0, 0) => Some(limits.max_ttl),
        (0, _) => None,
        (e, 0) => Some(e.min(limits.max_ttl)),
        (e, _) => Some(e),
    };
    if let Some(limit) = hard_limit {
        let deadline = entry.creation_time + limit as i64;
        let left = (deadline - now).max(0) as u64;
        if ttl > left {
            ttl = left;
            warnings.push("TTL of the token was capped by its maximum TTL".to_string());
        }
    }
    let mut updated = (*entry).clone();
    updated.expire_time = now + ttl as i64;
    let updated = store.update(updated).await?;
    Ok(Response {
        auth: Some(auth_for(&updated, "", ttl)),
        warnings,
        ..Default::default()
    })
}

//! `login` {role_id, secret_id}: checks the role, its CIDR bindings and the SecretID (expiry,
//! bindings, use count), then answers with the `Auth` the core mints a token from. Spending a
//! use is one atomic batch; the last use deletes the SecretID and its accessor.

use super::Approle;
use super::role::{self, RoleIdIndex};
use super::secret_id::{SecretIdEntry, delete_ops, secret_key, secret_mac};
use coffer_core::backend::BackendRequest;
use coffer_core::cidr::allowed;
use coffer_core::request::{AliasInfo, Auth, Operation, Response};
use coffer_core::time::now_unix;
use coffer_core::view::{ViewOp, to_json};
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use zeroize::Zeroizing;

/// The one answer to an unknown RoleID or an unknown, expired or used-up SecretID (400).
pub const INVALID_CREDENTIALS: &str = "invalid role or secret ID";

fn invalid() -> CoreError {
    CoreError::bad(INVALID_CREDENTIALS)
}

fn trimmed(data: &Map<String, Value>, name: &str) -> Result<String> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a string"))),
    }
}

fn source(addr: Option<IpAddr>) -> String {
    addr.map(|a| format!("\"{a}\"")).unwrap_or_else(|| "(unknown)".into())
}

/// Serves `login`.
pub async fn handle(be: &Approle, req: &BackendRequest<'_>) -> Result<Response> {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return Err(CoreError::UnsupportedOperation);
    }
    let role_id = trimmed(req.data, "role_id")?;
    if role_id.is_empty() {
        return Err(CoreError::bad("missing role_id"));
    }
    let index = be.mac(&["role_id", &role_id]).await?;
    let Some(RoleIdIndex { name }) = be.view.get_json(&format!("{}{index}", role::ROLE_ID_PREFIX)).await? else {
        return Err(refused(req, "", "unknown role_id"));
    };
    let Some(role) = role::load(&be.view, &name).await? else {
        return Err(refused(req, &name, "role index points to a missing role"));
    };
    if !coffer_crypto::ct_eq(role.role_id.as_bytes(), role_id.as_bytes()) {
        return Err(refused(req, &name, "role_id does not match the role"));
    }
    if !allowed(&role.secret_id_bound_cidrs, req.client_addr) {
        tracing::warn!(mount = %req.mount_point, role = %name, client = ?req.client_addr,
            "approle login refused by the role's secret_id_bound_cidrs");
        return Err(CoreError::bad(format!(
            "source address {} unauthorized by CIDR restrictions on the role",
            source(req.client_addr)
        )));
    }
    let mut metadata = BTreeMap::new();
    let mut token_cidrs = role.token.token_bound_cidrs.clone();
    if role.bind_secret_id {
        let secret_id = Zeroizing::new(trimmed(req.data, "secret_id")?);
        if secret_id.is_empty() {
            return Err(CoreError::bad("missing secret_id"));
        }
        let mac = secret_mac(be, &role, &secret_id).await?;
        let entry = spend(be, req, &name, &mac).await?;
        metadata = entry.metadata;
        if !entry.token_bound_cidrs.is_empty() {
            token_cidrs = entry.token_bound_cidrs;
        }
    }
    let mut meta: Map<String, Value> = metadata.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    meta.insert("role_name".into(), Value::String(role.name.clone()));
    let mut auth = Auth {
        metadata: Some(meta.clone()),
        alias: Some(AliasInfo {
            name: role.role_id.clone(),
            metadata: meta,
        }),
        ..Default::default()
    };
    role.token.apply(&mut auth);
    auth.bound_cidrs = token_cidrs;
    Ok(Response {
        auth: Some(auth),
        ..Default::default()
    })
}

/// Checks a SecretID and spends one use, under its lock. Returns the record as it was.
async fn spend(be: &Approle, req: &BackendRequest<'_>, name: &str, mac: &str) -> Result<SecretIdEntry> {
    let _guard = be.lock_secret(mac).await;
    let key = secret_key(name, mac);
    let Some(entry) = be.view.get_json::<SecretIdEntry>(&key).await? else {
        return Err(refused(req, name, "unknown secret_id"));
    };
    if !coffer_crypto::ct_eq(entry.secret_id_hmac.as_bytes(), mac.as_bytes()) {
        return Err(refused(req, name, "secret_id record does not match"));
    }
    if entry.expired() {
        be.view.batch(delete_ops(name, &entry)).await?;
        return Err(refused(req, name, "expired secret_id"));
    }
    if !allowed(&entry.cidr_list, req.client_addr) {
        tracing::warn!(mount = %req.mount_point, role = %name, client = ?req.client_addr,
            accessor = %entry.secret_id_accessor, "approle login refused by the secret ID's cidr_list");
        return Err(CoreError::bad(format!(
            "source address {} unauthorized by CIDR restrictions on the secret ID",
            source(req.client_addr)
        )));
    }
    match entry.secret_id_num_uses {
        0 => {}
        1 => be.view.batch(delete_ops(name, &entry)).await?,
        n => {
            let spent = SecretIdEntry {
                secret_id_num_uses: n - 1,
                last_updated_time: now_unix(),
                ..entry.clone()
            };
            be.view.batch(vec![ViewOp::Put(key, to_json(&spent)?)]).await?;
        }
    }
    Ok(entry)
}

/// Logs a refused login (never the SecretID) and returns the uniform error.
fn refused(req: &BackendRequest<'_>, role: &str, reason: &str) -> CoreError {
    tracing::warn!(mount = %req.mount_point, role = %role, client = ?req.client_addr, %reason,
        "approle login failed");
    invalid()
}

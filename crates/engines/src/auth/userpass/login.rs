//! `login/<name>`: checks a password and answers with the `Auth` the core mints a token from.
//! A wrong password and an unknown user cost the same work and give the same error.

use super::lockout::{LockoutConfig, Lockouts};
use super::password;
use super::users;
use coffer_core::backend::BackendRequest;
use coffer_core::request::{AliasInfo, Auth, Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// The one answer to a wrong password or an unknown user (Vault's wording, 400).
pub const INVALID_CREDENTIALS: &str = "invalid username or password";

/// Serves `login/<name>`.
pub async fn handle(view: &View, lockouts: &Lockouts, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return Err(CoreError::UnsupportedOperation);
    }
    let password = match req.data.get("password") {
        Some(Value::String(s)) if !s.is_empty() => Zeroizing::new(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err(CoreError::bad("missing password")),
        Some(_) => return Err(CoreError::bad("field \"password\" must be a string")),
    };
    // Names that cannot exist are treated as unknown users: same work, same answer.
    let name = users::normalize(name);
    let valid_name = users::validate(&name).is_ok();
    let config = LockoutConfig::load(view).await?;
    if lockouts.is_locked(&name, &config) {
        tracing::warn!(
            mount = %req.mount_point, user = %name, client = ?req.client_addr,
            "userpass login refused: user is locked out"
        );
        return Err(CoreError::PermissionDenied);
    }
    let user = if valid_name {
        users::load(view, &name).await?
    } else {
        None
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify(password, stored).await?;
    let Some(user) = user.filter(|_| matches) else {
        let locked = lockouts.record_failure(&name, &config);
        tracing::warn!(
            mount = %req.mount_point, user = %name, client = ?req.client_addr, locked,
            "userpass login failed: invalid username or password"
        );
        return Err(CoreError::bad(INVALID_CREDENTIALS));
    };
    lockouts.reset(&name);
    if !coffer_core::cidr::allowed(&user.token.token_bound_cidrs, req.client_addr) {
        tracing::warn!(
            mount = %req.mount_point, user = %name, client = ?req.client_addr,
            "userpass login refused: client address outside token_bound_cidrs"
        );
        return Err(CoreError::PermissionDenied);
    }
    let mut metadata = Map::new();
    metadata.insert("username".into(), Value::String(name.clone()));
    let mut auth = Auth {
        metadata: Some(metadata),
        display_name: name.clone(),
        alias: Some(AliasInfo {
            name,
            metadata: Map::new(),
        }),
        ..Default::default()
    };
    user.token.apply(&mut auth);
    Ok(Response {
        auth: Some(auth),
        ..Default::default()
    })
}

//! The `sys/` backend: seal control, mounts, policies, capabilities and UI helpers.

mod audit_api;
mod internal;
mod leases_api;
mod metrics_api;
mod mounts_api;
mod policy_api;
mod quotas_api;
mod seal_api;

use crate::core::{Core, Unsealed};
use crate::request::{Operation, Request, Response};
use crate::token::TokenEntry;
use crate::{CoreError, Result};
use coffer_policy::Acl;
use std::sync::Arc;

/// Paths under `sys/` that need `sudo` (Vault's root-protected system paths we serve).
pub fn needs_sudo(rel: &str) -> bool {
    matches!(rel, "rotate" | "rotate/keyring" | "seal" | "raw" | "audit" | "remount")
        || rel.starts_with("audit-hash/")
        || [
            "raw/",
            "audit/",
            "auth/",
            "leases/revoke-prefix/",
            "leases/revoke-force/",
            "leases/lookup/",
            "revoke-prefix/",
            "revoke-force/",
        ]
        .iter()
        .any(|p| rel.starts_with(p))
}

/// Paths no rate-limit quota applies to: initialising, unsealing and health checks.
pub fn never_rate_limited(path: &str) -> bool {
    matches!(
        path,
        "sys/init" | "sys/unseal" | "sys/seal-status" | "sys/health" | "sys/leader"
    )
}

/// Serves the paths that need no token (and work while sealed). `None` = not one of them.
pub async fn handle_unauthenticated(core: &Core, req: &Request) -> Result<Option<Response>> {
    let Some(rel) = req.path.strip_prefix("sys/") else {
        return Ok(None);
    };
    if rel == "mfa/validate" && super::sys::is_write(req.operation) {
        return crate::login::validate_mfa(core, &req.data).await.map(Some);
    }
    seal_api::handle_unauthenticated(core, rel, req).await
}

/// Serves an authenticated, ACL-checked request under `sys/`.
pub async fn handle(
    core: &Core,
    state: &Arc<Unsealed>,
    acl: &Arc<Acl>,
    caller: &Arc<TokenEntry>,
    op: Operation,
    rel: &str,
    req: &Request,
) -> Result<Response> {
    let mut resp = if let Some(resp) = seal_api::handle(core, op, rel).await? {
        resp
    } else if let Some(resp) = mounts_api::handle(core, state, op, rel, &req.data).await? {
        resp
    } else if let Some(resp) = audit_api::handle(&state.audit, op, rel, &req.data).await? {
        resp
    } else if let Some(resp) = policy_api::handle(state, acl, caller, op, rel, &req.data).await? {
        resp
    } else if let Some(resp) = leases_api::handle(state, op, rel, &req.data).await? {
        resp
    } else if let Some(resp) = internal::handle(state, acl, op, rel).await? {
        resp
    } else if let Some(resp) = quotas_api::handle(state, op, rel, &req.data).await? {
        resp
    } else if let Some(resp) = metrics_api::handle(core, state, op, rel, &req.data)? {
        resp
    } else if let Some(resp) =
        crate::wrapping::handle(core, state, caller, op, rel, &req.data, req.wrap_ttl.is_some()).await?
    {
        // Unwrapped responses keep the shape of the endpoint that produced them.
        return Ok(resp);
    } else {
        return Err(CoreError::NoRoute(req.path.clone()));
    };
    resp.data_at_top_level = resp.raw.is_none();
    resp.mount_type = "system".into();
    Ok(resp)
}

/// Whether an operation writes (Vault maps both POST and PUT to create/update).
pub(crate) fn is_write(op: Operation) -> bool {
    matches!(op, Operation::Create | Operation::Update)
}

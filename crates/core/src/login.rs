//! Completing a login: an auth method's response names the principal and its policies; the
//! core links the alias to an identity entity, asks for a second factor where login MFA is
//! enforced, and mints the token.

use crate::core::{Core, Unsealed};
use crate::mfa::MfaStore;
use crate::mounts::{MountEntry, Route};
use crate::request::{Auth, Request, Response};
use crate::token::NewToken;
use crate::token::api::{TtlLimits, auth_for, resolve_ttl};
use crate::{CoreError, Result};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

/// Turns a login response's `auth` into a real token. Responses without `auth` pass through.
pub(crate) async fn complete(
    core: &Core,
    state: &Unsealed,
    route: &Route,
    mut resp: Response,
    req: &Request,
) -> Result<Response> {
    let Some(auth) = resp.auth.take() else {
        return Ok(resp);
    };
    if !route.entry.is_auth() {
        return Err(CoreError::Internal("a non-auth mount returned a login".into()));
    }
    crate::cidr::parse_all(&auth.bound_cidrs).map_err(CoreError::Internal)?;
    let entity_id = match &auth.alias {
        Some(alias) => {
            state
                .identity
                .entity_for_login(&route.entry.accessor, &route.entry.kind, alias)
                .await?
        }
        None => String::new(),
    };
    let groups = match entity_id.as_str() {
        "" => Vec::new(),
        id => {
            let resolved = state.identity.resolve(id).await?;
            resolved
                .direct_group_ids
                .iter()
                .chain(&resolved.inherited_group_ids)
                .cloned()
                .collect()
        }
    };
    let constraints = state.mfa.constraints_for(&route.entry, &entity_id, &groups).await?;
    if !constraints.is_empty() {
        let pending = MfaStore::pending(auth, route.entry.clone(), req.path.clone(), entity_id, constraints);
        resp.auth = Some(state.mfa.require(pending).await?);
        return Ok(resp);
    }
    resp.auth = Some(mint(core, state, &route.entry, auth, entity_id, &req.path).await?);
    Ok(resp)
}

/// `sys/mfa/validate`: checks the passcodes of a parked login and mints its token.
pub(crate) async fn validate_mfa(core: &Core, data: &Map<String, Value>) -> Result<Response> {
    let state = core.unsealed()?;
    let pending = state.mfa.validate(data).await?;
    let auth = mint(
        core,
        &state,
        &pending.mount,
        pending.auth,
        pending.entity_id,
        &pending.path,
    )
    .await?;
    Ok(Response {
        auth: Some(auth),
        ..Default::default()
    })
}

/// Mints the token of a completed login.
async fn mint(
    core: &Core,
    state: &Unsealed,
    mount: &MountEntry,
    auth: Auth,
    entity_id: String,
    path: &str,
) -> Result<Auth> {
    let mut policies: Vec<String> = auth.policies.iter().map(|p| p.trim().to_lowercase()).collect();
    if policies.iter().any(|p| p == "root") {
        return Err(CoreError::bad("auth methods cannot grant the root policy"));
    }
    if !auth.no_default_policy && !policies.iter().any(|p| p == "default") {
        policies.push("default".into());
    }
    let limits = core.token_limits(mount);
    let limits = TtlLimits {
        default_ttl: limits.default_ttl,
        max_ttl: if auth.max_ttl > 0 {
            auth.max_ttl.min(limits.max_ttl)
        } else {
            limits.max_ttl
        },
    };
    let ttl = resolve_ttl(auth.ttl, auth.period, auth.explicit_max_ttl, limits, false);
    let mount_name = mount
        .path
        .trim_start_matches("auth/")
        .trim_end_matches('/')
        .replace('/', "-");
    let display_name = match auth.display_name.as_str() {
        "" => mount_name,
        name => format!("{mount_name}-{name}"),
    };
    let batch = match auth.token_type.as_str() {
        "" | "default" | "service" => false,
        "batch" => true,
        other => {
            return Err(CoreError::Internal(format!(
                "auth method asked for token type \"{other}\""
            )));
        }
    };
    let new = NewToken {
        policies,
        meta: auth.metadata.clone().unwrap_or_default(),
        display_name,
        num_uses: auth.num_uses,
        ttl,
        explicit_max_ttl: auth.explicit_max_ttl,
        period: auth.period,
        renewable: !batch,
        path: path.to_string(),
        entity_id,
        bound_cidrs: auth.bound_cidrs.clone(),
        ..Default::default()
    };
    let (token, entry) = if batch {
        state.tokens.create_batch(new)?
    } else {
        state.tokens.create(new).await?
    };
    Ok(auth_for(&entry, token.expose_secret(), ttl))
}

//! Completing a login: an auth method's response names the principal and its policies; the
//! core mints the token (and, for identity, links the alias to an entity).

use crate::core::{Core, Unsealed};
use crate::mounts::Route;
use crate::request::{Auth, Request, Response};
use crate::token::NewToken;
use crate::token::api::{auth_for, resolve_ttl};
use crate::{CoreError, Result};
use secrecy::ExposeSecret;

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
    let mut policies: Vec<String> = auth.policies.iter().map(|p| p.trim().to_lowercase()).collect();
    if policies.iter().any(|p| p == "root") {
        return Err(CoreError::bad("auth methods cannot grant the root policy"));
    }
    if !auth.no_default_policy && !policies.iter().any(|p| p == "default") {
        policies.push("default".into());
    }
    let limits = core.token_limits(&route.entry);
    let limits = crate::token::api::TtlLimits {
        default_ttl: limits.default_ttl,
        max_ttl: if auth.max_ttl > 0 {
            auth.max_ttl.min(limits.max_ttl)
        } else {
            limits.max_ttl
        },
    };
    let ttl = resolve_ttl(auth.ttl, auth.period, auth.explicit_max_ttl, limits, false);
    let alias_name = auth.alias.as_ref().map(|a| a.name.clone()).unwrap_or_default();
    let mount_name = route
        .entry
        .path
        .trim_start_matches("auth/")
        .trim_end_matches('/')
        .replace('/', "-");
    let display_name = if alias_name.is_empty() {
        mount_name.clone()
    } else {
        format!("{mount_name}-{alias_name}")
    };
    let entity_id = match &auth.alias {
        Some(alias) => {
            state
                .identity
                .entity_for_login(&route.entry.accessor, &route.entry.kind, alias)
                .await?
        }
        None => String::new(),
    };
    let meta = auth.metadata.clone().unwrap_or_default();
    let (token, entry) = state
        .tokens
        .create(NewToken {
            policies,
            meta,
            display_name,
            num_uses: auth.num_uses,
            ttl,
            explicit_max_ttl: auth.explicit_max_ttl,
            period: auth.period,
            renewable: true,
            path: req.path.clone(),
            entity_id,
            bound_cidrs: auth.bound_cidrs.clone(),
            ..Default::default()
        })
        .await?;
    let out: Auth = auth_for(&entry, token.expose_secret(), ttl);
    resp.auth = Some(out);
    Ok(resp)
}

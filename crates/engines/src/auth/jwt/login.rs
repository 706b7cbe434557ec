//! `auth/<mount>/login` {role, jwt}: verifies the token's signature and claims against the
//! configuration and the role, and answers with the `Auth` the core turns into a token.
//!
//! Every refusal is a 400 naming what failed (never the token or a claim value); JWKS fetch
//! failures are 500s. The alias is the user claim's value; `claim_mappings` fill the token and
//! alias metadata; the values of `groups_claim` go to the alias metadata under `groups` (a JSON
//! list) until the identity store has group aliases.

use super::JwtAuth;
use super::claims::{self, Leeways};
use super::config::{self, JwtConfig};
use super::role::{self, Role};
use super::verify;
use coffer_core::backend::BackendRequest;
use coffer_core::request::{AliasInfo, Auth, Response};
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};

fn refuse(reason: impl std::fmt::Display) -> CoreError {
    CoreError::bad(format!("error validating token: {reason}"))
}

/// Serves `login`.
pub async fn login(backend: &JwtAuth, req: &BackendRequest<'_>) -> Result<Response> {
    let token = req.str_field("jwt")?.unwrap_or_default();
    if token.is_empty() {
        return Err(CoreError::bad("missing token"));
    }
    let Some(cfg) = config::load(&backend.view).await? else {
        return Err(CoreError::bad("could not load configuration"));
    };
    let role_name = match req.str_field("role")?.unwrap_or_default() {
        "" => cfg.default_role.clone(),
        name => name.to_string(),
    };
    if role_name.is_empty() {
        return Err(CoreError::bad("missing role"));
    }
    let Some(role) = role::load(&backend.view, &role_name).await? else {
        return Err(CoreError::bad(format!("role \"{role_name}\" could not be found")));
    };
    if role.role_type == "oidc" {
        return Err(CoreError::bad("role with oidc role_type is not allowed"));
    }
    if !coffer_core::cidr::allowed(&role.token.token_bound_cidrs, req.client_addr) {
        return Err(CoreError::bad("request originated from invalid CIDR"));
    }
    let claims = verified_claims(backend, &cfg, &role, token).await?;
    auth_for(&role_name, &role, &claims)
}

/// Checks the signature, then the registered claims; returns all claims.
async fn verified_claims(backend: &JwtAuth, cfg: &JwtConfig, role: &Role, token: &str) -> Result<Map<String, Value>> {
    let header = verify::header(token, &cfg.algorithms()).map_err(refuse)?;
    let keys = if cfg.jwks_url.is_empty() {
        let mut keys = Vec::new();
        for pem in &cfg.jwt_validation_pubkeys {
            keys.extend(verify::parse_pem_keys(pem).map_err(|e| CoreError::Internal(format!("stored key: {e}")))?);
        }
        keys
    } else {
        let keys = backend.jwks.keys_for(cfg, header.kid.as_deref()).await?;
        if keys.is_empty() {
            return Err(refuse(match &header.kid {
                Some(kid) => format!("no key with id (kid) \"{}\" in the JWKS", printable(kid)),
                None => "no key in the JWKS".to_string(),
            }));
        }
        keys
    };
    let claims = verify::verify_signature(token, header.alg, &keys).map_err(refuse)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let leeways = Leeways {
        clock_skew: role.clock_skew_leeway,
        expiration: role.expiration_leeway,
        not_before: role.not_before_leeway,
    };
    claims::check_times(&claims, now, leeways).map_err(refuse)?;
    claims::check_issuer(&claims, &cfg.bound_issuer).map_err(refuse)?;
    claims::check_audience(&claims, &role.bound_audiences).map_err(refuse)?;
    claims::check_subject(&claims, &role.bound_subject).map_err(CoreError::bad)?;
    claims::check_bound_claims(&claims, &role.bound_claims, role.bound_claims_type == "glob")
        .map_err(|e| CoreError::bad(format!("error validating claims: {e}")))?;
    Ok(claims)
}

/// A key id safe to echo: short, printable ASCII only.
fn printable(kid: &str) -> String {
    kid.chars().filter(|c| c.is_ascii_graphic()).take(64).collect()
}

/// Builds the login answer from verified claims.
fn auth_for(role_name: &str, role: &Role, all: &Map<String, Value>) -> Result<Response> {
    let user = if role.user_claim_json_pointer {
        claims::get(all, &role.user_claim)
    } else {
        all.get(&role.user_claim).filter(|v| !v.is_null())
    };
    let Some(user) = user else {
        return Err(CoreError::bad(format!(
            "claim \"{}\" not found in token",
            role.user_claim
        )));
    };
    let user = match user {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(CoreError::bad(format!(
                "claim \"{}\" could not be converted to string",
                role.user_claim
            )));
        }
    };
    let mut metadata = Map::new();
    for (claim, key) in &role.claim_mappings {
        if let Some(value) = claims::get(all, claim) {
            let value = claims::scalar(value)
                .ok_or_else(|| CoreError::bad(format!("error converting claim \"{claim}\" to string")))?;
            metadata.insert(key.clone(), Value::String(value));
        }
    }
    let mut alias_metadata = metadata.clone();
    if !role.groups_claim.is_empty() {
        alias_metadata.insert("groups".into(), Value::from(groups(role, all)?));
    }
    metadata.insert("role".into(), Value::String(role_name.to_string()));
    let mut auth = Auth {
        metadata: Some(metadata),
        display_name: user.clone(),
        alias: Some(AliasInfo {
            name: user,
            metadata: alias_metadata,
        }),
        ..Default::default()
    };
    role.token.apply(&mut auth);
    Ok(Response {
        auth: Some(auth),
        ..Default::default()
    })
}

/// The values of the role's groups claim (a list of strings, or one string).
fn groups(role: &Role, all: &Map<String, Value>) -> Result<Vec<String>> {
    let Some(raw) = claims::get(all, &role.groups_claim) else {
        return Err(CoreError::bad(format!(
            "claim \"{}\" not found in token",
            role.groups_claim
        )));
    };
    let items: Vec<&Value> = match raw {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(CoreError::bad(format!(
                "claim \"{}\" could not be converted to string list",
                role.groups_claim
            ))),
        })
        .filter(|g| !matches!(g, Ok(s) if s.is_empty()))
        .collect()
}

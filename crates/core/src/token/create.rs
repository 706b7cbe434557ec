//! `auth/token/create`, `create-orphan` and `create/<role>`: policy, parent, TTL and type
//! rules for new tokens, as Vault defines them.

use super::api::{TokenCaller, TtlLimits, auth_for, resolve_ttl};
use super::batch::is_batch;
use super::roles::TokenRole;
use super::store::{NewToken, TokenStore};
use crate::duration::parse_field;
use crate::fields::{bool_field, string_list, string_map, u64_field};
use crate::request::{Response, ignored_fields_warning};
use crate::time::now_unix;
use crate::{CoreError, Result};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

const CREATE_FIELDS: &[&str] = &[
    "id",
    "policies",
    "meta",
    "no_parent",
    "no_default_policy",
    "renewable",
    "ttl",
    "lease",
    "type",
    "explicit_max_ttl",
    "display_name",
    "num_uses",
    "period",
    "entity_alias",
    "role_name",
];

/// Which endpoint the request came through.
pub enum Via<'a> {
    /// `auth/token/create`.
    Create,
    /// `auth/token/create-orphan`.
    Orphan,
    /// `auth/token/create/<role>`.
    Role(&'a str),
}

/// Creates a token for the caller (see the module doc).
pub async fn create(
    store: &TokenStore,
    caller: &TokenCaller<'_>,
    limits: TtlLimits,
    via: Via<'_>,
    data: &Map<String, Value>,
) -> Result<Response> {
    let parent = caller.entry;
    if is_batch(parent) {
        return Err(CoreError::bad("batch tokens cannot create more tokens"));
    }
    let role = match via {
        Via::Role(name) => Some(
            store
                .role(name)
                .await?
                .ok_or_else(|| CoreError::bad(format!("unknown role {name}")))?,
        ),
        _ => None,
    };
    let role = role.as_ref();
    let parent_root = parent.is_root();
    let no_parent = match (&via, role) {
        (Via::Orphan, _) => true,
        (_, Some(r)) => r.orphan,
        _ => bool_field(data, "no_parent")?.unwrap_or(false),
    };
    if no_parent && matches!(via, Via::Create) && !(parent_root || caller.sudo) {
        return Err(CoreError::bad(
            "root or sudo privileges required to create orphan token",
        ));
    }
    let batch = match (data.get("type").and_then(Value::as_str), role) {
        (Some("batch"), _) => true,
        (None | Some("") | Some("default"), Some(r)) => r.token_type == "batch",
        (None | Some("") | Some("default") | Some("service"), _) => false,
        (Some(other), _) => return Err(CoreError::bad(format!("invalid token type \"{other}\""))),
    };
    let custom_id = match data.get("id") {
        Some(Value::String(id)) if !id.is_empty() => {
            if !parent_root {
                return Err(CoreError::bad("root or sudo privileges required to specify token id"));
            }
            if id.contains('.') && !id.starts_with("hvs.") {
                return Err(CoreError::bad(
                    "token IDs can not contain a '.' unless they start with hvs.",
                ));
            }
            Some(SecretString::from(id.clone()))
        }
        _ => None,
    };
    let policies = resolve_policies(parent, parent_root, role, data)?;
    let is_root_token = policies.iter().any(|p| p == "root");
    let role_or = |role_value: u64, requested: Option<u64>| match (role_value, requested) {
        (r, _) if r > 0 => r,
        (_, v) => v.unwrap_or(0),
    };
    let period = role_or(role.map_or(0, |r| r.token_period), parse_field(data, "period")?);
    let explicit_max_ttl = match (
        role.map_or(0, |r| r.token_explicit_max_ttl),
        parse_field(data, "explicit_max_ttl")?,
    ) {
        (0, v) => v.unwrap_or(0),
        (r, Some(v)) if v > 0 => r.min(v),
        (r, _) => r,
    };
    let requested_ttl = parse_field(data, "ttl")?.or(parse_field(data, "lease")?);
    let limits = match role {
        Some(r) => TtlLimits {
            default_ttl: if r.token_ttl > 0 {
                r.token_ttl
            } else {
                limits.default_ttl
            },
            max_ttl: if r.token_max_ttl > 0 {
                r.token_max_ttl.min(limits.max_ttl)
            } else {
                limits.max_ttl
            },
        },
        None => limits,
    };
    let mut ttl = resolve_ttl(
        requested_ttl.unwrap_or(0),
        period,
        explicit_max_ttl,
        limits,
        is_root_token,
    );
    // A child never outlives its parent (unless it is an orphan).
    if !no_parent && parent.expire_time != 0 {
        let left = parent.remaining_ttl(now_unix());
        if ttl == 0 || ttl > left {
            ttl = left;
        }
    }
    let display_name = match data.get("display_name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => format!("token-{}", n.trim_start_matches("token-")),
        _ => "token".to_string(),
    };
    let path = match (via, role) {
        (Via::Orphan, _) => "auth/token/create-orphan".to_string(),
        (Via::Role(name), Some(r)) if !r.path_suffix.is_empty() => {
            format!("auth/token/create/{name}/{}", r.path_suffix)
        }
        (Via::Role(name), _) => format!("auth/token/create/{name}"),
        (Via::Create, _) => "auth/token/create".to_string(),
    };
    let renewable = bool_field(data, "renewable")?.unwrap_or(true) && role.is_none_or(|r| r.renewable);
    let new = NewToken {
        value: custom_id,
        parent: if no_parent { String::new() } else { parent.id.clone() },
        policies,
        meta: string_map(data, "meta")?.unwrap_or_default(),
        display_name,
        num_uses: role_or(role.map_or(0, |r| r.token_num_uses), u64_field(data, "num_uses")?),
        ttl,
        explicit_max_ttl,
        period,
        renewable: renewable && !batch,
        path,
        entity_id: if no_parent {
            String::new()
        } else {
            parent.entity_id.clone()
        },
        bound_cidrs: role.map(|r| r.token_bound_cidrs.clone()).unwrap_or_default(),
    };
    let (value, entry) = if batch {
        store.create_batch(new)?
    } else {
        store.create(new).await?
    };
    let warnings = ignored_fields_warning(data, CREATE_FIELDS).into_iter().collect();
    Ok(Response {
        auth: Some(auth_for(&entry, value.expose_secret(), entry.creation_ttl)),
        warnings,
        ..Default::default()
    })
}

/// The new token's policies: requested (or inherited / the role's allowed set), with `default`
/// unless refused, constrained by the role or else by the parent's own policies.
fn resolve_policies(
    parent: &super::TokenEntry,
    parent_root: bool,
    role: Option<&TokenRole>,
    data: &Map<String, Value>,
) -> Result<Vec<String>> {
    let requested: Option<Vec<String>> = string_list(data, "policies")?
        .filter(|p| !p.is_empty())
        .map(|p| p.into_iter().map(|p| p.to_lowercase()).collect());
    let no_default =
        bool_field(data, "no_default_policy")?.unwrap_or(false) || role.is_some_and(|r| r.token_no_default_policy);
    let mut policies = match (requested, role) {
        (Some(p), _) => p,
        (None, Some(r)) if !r.allowed_policies.is_empty() => r.allowed_policies.clone(),
        _ => parent
            .policies
            .iter()
            .filter(|p| *p != "root" || parent_root)
            .cloned()
            .collect(),
    };
    if policies.iter().any(|p| p == "root") {
        // Only root can mint root; a root token carries only `root` (Vault's sanitising rule).
        if !parent_root {
            return Err(CoreError::bad("root tokens may only be created by a root token"));
        }
        return Ok(vec!["root".to_string()]);
    }
    if no_default {
        policies.retain(|p| p != "default");
    } else if !policies.iter().any(|p| p == "default") {
        policies.push("default".into());
    }
    match role {
        Some(r) => {
            if let Some(bad) = policies.iter().find(|p| r.disallowed_policies.contains(p)) {
                return Err(CoreError::bad(format!(
                    "token policy \"{bad}\" is disallowed by this role"
                )));
            }
            if !r.allowed_policies.is_empty()
                && let Some(bad) = policies
                    .iter()
                    .find(|p| *p != "default" && !r.allowed_policies.contains(p))
            {
                return Err(CoreError::bad(format!(
                    "token policy \"{bad}\" is not allowed by this role"
                )));
            }
            if r.allowed_policies.is_empty() && !parent_root {
                subset_of_parent(parent, &policies)?;
            }
        }
        None if !parent_root => subset_of_parent(parent, &policies)?,
        None => {}
    }
    Ok(policies)
}

fn subset_of_parent(parent: &super::TokenEntry, policies: &[String]) -> Result<()> {
    match policies
        .iter()
        .find(|p| *p != "default" && !parent.policies.contains(p))
    {
        Some(extra) => Err(CoreError::bad(format!(
            "child policies must be subset of parent; policy \"{extra}\" is not held by the calling token"
        ))),
        None => Ok(()),
    }
}

//! `auth/<mount>/role/<name>` (read, create/update, delete) and `role/` (LIST): which tokens a
//! role accepts (audiences, subject, bound claims, leeways), how the user is named (user claim),
//! which claims become metadata, and the settings of the tokens it grants.

use super::claims::{DEFAULT_CLOCK_SKEW, DEFAULT_LEEWAY};
use crate::auth::token_fields::{self, TokenFields, string_list};
use crate::kv::fields::boolean;
use coffer_core::backend::BackendRequest;
use coffer_core::duration::parse_seconds;
use coffer_core::request::{Operation, Response, ignored_fields_warning};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Storage prefix of roles inside the mount's view.
const PREFIX: &str = "role/";

/// Role fields (besides the shared token fields).
const FIELDS: &[&str] = &[
    "name",
    "role_type",
    "bound_audiences",
    "user_claim",
    "user_claim_json_pointer",
    "bound_subject",
    "bound_claims",
    "bound_claims_type",
    "groups_claim",
    "claim_mappings",
    "clock_skew_leeway",
    "expiration_leeway",
    "not_before_leeway",
    "oidc_scopes",
    "allowed_redirect_uris",
    "verbose_oidc_logging",
    "max_age",
];

/// A stored role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Role {
    /// `jwt` (direct JWT login) or `oidc` (browser flow, not served yet).
    pub role_type: String,
    /// Accepted `aud` values; one must match.
    pub bound_audiences: Vec<String>,
    /// Claim naming the user (the alias name).
    pub user_claim: String,
    /// Whether `user_claim` is a JSON pointer.
    pub user_claim_json_pointer: bool,
    /// Required `sub`.
    pub bound_subject: String,
    /// Claims (name or JSON pointer) and the values they must have.
    pub bound_claims: Map<String, Value>,
    /// `string` (exact) or `glob`.
    pub bound_claims_type: String,
    /// Claim holding the user's groups.
    pub groups_claim: String,
    /// Claim (name or JSON pointer) → metadata key.
    pub claim_mappings: BTreeMap<String, String>,
    /// Seconds; 0 = default (60), negative = none.
    pub clock_skew_leeway: i64,
    /// Seconds; 0 = default (150), negative = none.
    pub expiration_leeway: i64,
    /// Seconds; 0 = default (150), negative = none.
    pub not_before_leeway: i64,
    /// OIDC scopes (stored for OIDC roles).
    pub oidc_scopes: Vec<String>,
    /// OIDC redirect URIs (stored for OIDC roles).
    pub allowed_redirect_uris: Vec<String>,
    /// Stored for compatibility; Coffer never logs tokens or claims.
    pub verbose_oidc_logging: bool,
    /// OIDC `max_age` in seconds (stored for OIDC roles).
    pub max_age: u64,
    /// Settings of the tokens the role grants.
    pub token: TokenFields,
}

fn check_name(name: &str) -> Result<&str> {
    if name.is_empty() || name.contains('/') {
        return Err(CoreError::bad("invalid role name"));
    }
    Ok(name)
}

/// Loads a role.
pub async fn load(view: &View, name: &str) -> Result<Option<Role>> {
    if name.is_empty() || name.contains('/') {
        return Ok(None);
    }
    view.get_json(&format!("{PREFIX}{name}")).await
}

/// `LIST role/`.
pub async fn list(view: &View) -> Result<Response> {
    let keys = view.list(PREFIX).await?;
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    Ok(Response::list(keys))
}

/// Serves `role/<name>`.
pub async fn handle(view: &View, name: &str, req: &BackendRequest<'_>) -> Result<Response> {
    let name = check_name(name)?;
    match req.operation {
        Operation::Read => match load(view, name).await? {
            Some(role) => Ok(Response::data(Value::Object(to_data(&role)))),
            None => Err(CoreError::NotFound(String::new())),
        },
        Operation::Create | Operation::Update => {
            let existing = load(view, name).await?;
            let role = update(existing.unwrap_or_default(), req.data)?;
            view.put_json(&format!("{PREFIX}{name}"), &role).await?;
            let mut resp = Response::empty();
            let known: Vec<&str> = FIELDS.iter().chain(token_fields::FIELDS).copied().collect();
            resp.warnings.extend(ignored_fields_warning(req.data, &known));
            Ok(resp)
        }
        Operation::Delete => {
            view.delete(&format!("{PREFIX}{name}")).await?;
            Ok(Response::empty())
        }
        Operation::List => list(view).await,
        Operation::Patch => Err(CoreError::UnsupportedOperation),
    }
}

fn string(data: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a string"))),
    }
}

fn seconds(data: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_seconds(v)
            .map(Some)
            .map_err(|e| CoreError::bad(format!("field \"{name}\": {e}"))),
    }
}

fn scalar_or_list(v: &Value, glob: bool) -> bool {
    match v {
        Value::String(_) => true,
        Value::Number(_) | Value::Bool(_) => !glob,
        Value::Array(items) => items.iter().all(|i| scalar_or_list(i, glob) && !i.is_array()),
        _ => false,
    }
}

/// Applies a create/update body to a role (absent fields keep their value) and checks it.
pub fn update(mut role: Role, data: &Map<String, Value>) -> Result<Role> {
    if let Some(t) = string(data, "role_type")? {
        role.role_type = t;
    }
    if role.role_type.is_empty() {
        role.role_type = "oidc".into();
    }
    if !matches!(role.role_type.as_str(), "jwt" | "oidc") {
        return Err(CoreError::bad(format!("invalid 'role_type': {}", role.role_type)));
    }
    for (field, name) in [
        (&mut role.bound_audiences, "bound_audiences"),
        (&mut role.oidc_scopes, "oidc_scopes"),
        (&mut role.allowed_redirect_uris, "allowed_redirect_uris"),
    ] {
        if let Some(v) = string_list(data, name)? {
            *field = v;
        }
    }
    for (field, name) in [
        (&mut role.user_claim, "user_claim"),
        (&mut role.bound_subject, "bound_subject"),
        (&mut role.groups_claim, "groups_claim"),
        (&mut role.bound_claims_type, "bound_claims_type"),
    ] {
        if let Some(v) = string(data, name)? {
            *field = v;
        }
    }
    for (field, name) in [
        (&mut role.user_claim_json_pointer, "user_claim_json_pointer"),
        (&mut role.verbose_oidc_logging, "verbose_oidc_logging"),
    ] {
        if let Some(v) = boolean(data, name)? {
            *field = v;
        }
    }
    if let Some(secs) = seconds(data, "max_age")? {
        role.max_age = u64::try_from(secs).map_err(|_| CoreError::bad("field \"max_age\" must not be negative"))?;
    }
    for (field, name) in [
        (&mut role.clock_skew_leeway, "clock_skew_leeway"),
        (&mut role.expiration_leeway, "expiration_leeway"),
        (&mut role.not_before_leeway, "not_before_leeway"),
    ] {
        if let Some(v) = seconds(data, name)? {
            *field = v;
        }
    }
    if role.bound_claims_type.is_empty() {
        role.bound_claims_type = "string".into();
    }
    let glob = match role.bound_claims_type.as_str() {
        "string" => false,
        "glob" => true,
        other => return Err(CoreError::bad(format!("invalid 'bound_claims_type': {other:?}"))),
    };
    match data.get("bound_claims") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => role.bound_claims = m.clone(),
        Some(_) => return Err(CoreError::bad("field \"bound_claims\" must be a JSON object")),
    }
    for (claim, value) in &role.bound_claims {
        if !scalar_or_list(value, glob) {
            return Err(CoreError::bad(format!(
                "bound claim \"{claim}\" must be a string or a list of strings"
            )));
        }
    }
    match data.get("claim_mappings") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            let mut mappings = BTreeMap::new();
            for (claim, key) in m {
                let Value::String(key) = key else {
                    return Err(CoreError::bad("claim_mappings values must be strings"));
                };
                mappings.insert(claim.clone(), key.clone());
            }
            role.claim_mappings = mappings;
        }
        Some(_) => return Err(CoreError::bad("field \"claim_mappings\" must be a JSON object")),
    }
    let mut targets: Vec<&String> = role.claim_mappings.values().collect();
    if targets.iter().any(|t| t.as_str() == "role") {
        return Err(CoreError::bad(
            "metadata key \"role\" is reserved and may not be a mapping destination",
        ));
    }
    targets.sort();
    if let Some(w) = targets.windows(2).find(|w| w[0] == w[1]) {
        return Err(CoreError::bad(format!(
            "multiple keys are mapped to metadata key \"{}\"",
            w[0]
        )));
    }
    role.token.update(data)?;
    if role.user_claim.is_empty() {
        return Err(CoreError::bad("a user claim must be defined on the role"));
    }
    if role.role_type == "jwt"
        && role.bound_audiences.is_empty()
        && role.bound_subject.is_empty()
        && role.bound_claims.is_empty()
        && role.token.token_bound_cidrs.is_empty()
    {
        return Err(CoreError::bad(
            "must have at least one bound constraint when creating/updating a role",
        ));
    }
    if role.role_type == "oidc" && role.allowed_redirect_uris.is_empty() {
        return Err(CoreError::bad(
            "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified",
        ));
    }
    Ok(role)
}

/// The read shape of a role (Vault's field names; leeways with defaults applied).
pub fn to_data(role: &Role) -> Map<String, Value> {
    let leeway = |v: i64, default: i64| if v == 0 { default } else { v };
    let mut out = json!({
        "role_type": role.role_type,
        "bound_audiences": role.bound_audiences,
        "user_claim": role.user_claim,
        "user_claim_json_pointer": role.user_claim_json_pointer,
        "bound_subject": role.bound_subject,
        "bound_claims": (!role.bound_claims.is_empty()).then_some(&role.bound_claims),
        "bound_claims_type": role.bound_claims_type,
        "groups_claim": role.groups_claim,
        "claim_mappings": (!role.claim_mappings.is_empty()).then_some(&role.claim_mappings),
        "clock_skew_leeway": leeway(role.clock_skew_leeway, DEFAULT_CLOCK_SKEW),
        "expiration_leeway": leeway(role.expiration_leeway, DEFAULT_LEEWAY),
        "not_before_leeway": leeway(role.not_before_leeway, DEFAULT_LEEWAY),
        "oidc_scopes": role.oidc_scopes,
        "allowed_redirect_uris": role.allowed_redirect_uris,
        "verbose_oidc_logging": role.verbose_oidc_logging,
        "max_age": role.max_age,
    });
    let map = out.as_object_mut().expect("object literal");
    role.token.populate(map);
    let t = &role.token;
    if !t.token_policies.is_empty() {
        map.insert("policies".into(), json!(t.token_policies));
    }
    if !t.token_bound_cidrs.is_empty() {
        map.insert("bound_cidrs".into(), json!(t.token_bound_cidrs));
    }
    for (legacy, value) in [
        ("ttl", t.token_ttl),
        ("max_ttl", t.token_max_ttl),
        ("period", t.token_period),
    ] {
        if value > 0 {
            map.insert(legacy.into(), json!(value));
        }
    }
    if t.token_num_uses > 0 {
        map.insert("num_uses".into(), json!(t.token_num_uses));
    }
    std::mem::take(map)
}

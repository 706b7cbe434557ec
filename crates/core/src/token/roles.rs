//! Token roles (`auth/token/roles/<name>`): named templates that constrain the tokens created
//! through `auth/token/create/<name>` — allowed and disallowed policies, orphan, period, type.

use super::store::TokenStore;
use crate::duration::parse_field;
use crate::fields::{bool_field, string_list, u64_field};
use crate::request::{Operation, Response};
use crate::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A stored token role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TokenRole {
    /// Role name.
    pub name: String,
    /// Policies a token of this role may have (empty = any the parent may grant).
    pub allowed_policies: Vec<String>,
    /// Policies a token of this role may never have.
    pub disallowed_policies: Vec<String>,
    /// Tokens are orphans (no sudo needed).
    pub orphan: bool,
    /// Tokens may be renewed.
    pub renewable: bool,
    /// Appended to the creation path.
    pub path_suffix: String,
    /// Period of the tokens, seconds (0 = not periodic).
    pub token_period: u64,
    /// Hard limit, seconds.
    pub token_explicit_max_ttl: u64,
    /// Default TTL, seconds (0 = the mount's).
    pub token_ttl: u64,
    /// Maximum TTL, seconds (0 = the mount's).
    pub token_max_ttl: u64,
    /// Use limit.
    pub token_num_uses: u64,
    /// Do not attach `default`.
    pub token_no_default_policy: bool,
    /// CIDRs the tokens may be used from.
    pub token_bound_cidrs: Vec<String>,
    /// `service` (default) or `batch`.
    pub token_type: String,
}

impl TokenRole {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "allowed_policies": self.allowed_policies,
            "disallowed_policies": self.disallowed_policies,
            "orphan": self.orphan,
            "renewable": self.renewable,
            "path_suffix": self.path_suffix,
            "token_period": self.token_period,
            "period": self.token_period,
            "token_explicit_max_ttl": self.token_explicit_max_ttl,
            "explicit_max_ttl": self.token_explicit_max_ttl,
            "token_ttl": self.token_ttl,
            "token_max_ttl": self.token_max_ttl,
            "token_num_uses": self.token_num_uses,
            "token_no_default_policy": self.token_no_default_policy,
            "token_bound_cidrs": self.token_bound_cidrs,
            "token_type": if self.token_type.is_empty() { "default-service" } else { &self.token_type },
            "allowed_entity_aliases": Value::Null,
        })
    }

    /// Applies the fields present in `data` (create or update).
    fn apply(&mut self, data: &Map<String, Value>) -> Result<()> {
        let lower = |v: Vec<String>| v.into_iter().map(|p| p.to_lowercase()).collect::<Vec<_>>();
        if let Some(p) = string_list(data, "allowed_policies")? {
            self.allowed_policies = lower(p);
        }
        if let Some(p) = string_list(data, "disallowed_policies")? {
            self.disallowed_policies = lower(p);
        }
        if let Some(b) = bool_field(data, "orphan")? {
            self.orphan = b;
        }
        if let Some(b) = bool_field(data, "renewable")? {
            self.renewable = b;
        }
        if let Some(s) = data.get("path_suffix").and_then(Value::as_str) {
            if s.contains("..") || s.starts_with('/') {
                return Err(CoreError::bad("path_suffix cannot contain \"..\" or start with \"/\""));
            }
            self.path_suffix = s.to_string();
        }
        for (field, legacy) in [
            ("token_period", "period"),
            ("token_explicit_max_ttl", "explicit_max_ttl"),
        ] {
            if let Some(v) = parse_field(data, field)?.or(parse_field(data, legacy)?) {
                if field == "token_period" {
                    self.token_period = v;
                } else {
                    self.token_explicit_max_ttl = v;
                }
            }
        }
        if let Some(v) = parse_field(data, "token_ttl")? {
            self.token_ttl = v;
        }
        if let Some(v) = parse_field(data, "token_max_ttl")? {
            self.token_max_ttl = v;
        }
        if let Some(v) = u64_field(data, "token_num_uses")? {
            self.token_num_uses = v;
        }
        if let Some(b) = bool_field(data, "token_no_default_policy")? {
            self.token_no_default_policy = b;
        }
        if let Some(c) = string_list(data, "token_bound_cidrs")? {
            crate::cidr::parse_all(&c).map_err(CoreError::BadRequest)?;
            self.token_bound_cidrs = c;
        }
        if let Some(t) = data.get("token_type").and_then(Value::as_str) {
            self.token_type = match t {
                "" | "default" | "default-service" | "service" => "service".into(),
                "batch" | "default-batch" => "batch".into(),
                other => return Err(CoreError::bad(format!("invalid token_type \"{other}\""))),
            };
        }
        if self.token_max_ttl != 0 && self.token_ttl > self.token_max_ttl {
            return Err(CoreError::bad("token_ttl cannot be greater than token_max_ttl"));
        }
        if self.token_type == "batch" && (self.token_period > 0 || self.renewable) {
            return Err(CoreError::bad(
                "batch tokens cannot be periodic or renewable; set renewable=false",
            ));
        }
        Ok(())
    }
}

fn role_key(name: &str) -> String {
    format!("roles/{name}")
}

fn valid_name(name: &str) -> Result<&str> {
    if name.is_empty() || name.contains('/') || name.contains("..") {
        return Err(CoreError::bad(format!("invalid role name \"{name}\"")));
    }
    Ok(name)
}

impl TokenStore {
    /// A role by name.
    pub async fn role(&self, name: &str) -> Result<Option<TokenRole>> {
        self.view().get_json(&role_key(valid_name(name)?)).await
    }
}

/// Serves `auth/token/roles` and `auth/token/roles/<name>`.
pub async fn handle(store: &TokenStore, op: Operation, rel: &str, data: &Map<String, Value>) -> Result<Response> {
    if rel == "roles" || rel == "roles/" {
        return match op {
            Operation::List | Operation::Read => {
                let keys = store.view().list("roles/").await?;
                if keys.is_empty() {
                    return Err(CoreError::NotFound(String::new()));
                }
                Ok(Response::list(keys))
            }
            _ => Err(CoreError::UnsupportedOperation),
        };
    }
    let name = valid_name(rel.trim_start_matches("roles/"))?;
    match op {
        Operation::Read => {
            let role = store
                .role(name)
                .await?
                .ok_or_else(|| CoreError::NotFound(String::new()))?;
            Ok(Response::data(role.to_json()))
        }
        Operation::Create | Operation::Update => {
            let mut role = store.role(name).await?.unwrap_or(TokenRole {
                name: name.to_string(),
                renewable: true,
                ..Default::default()
            });
            role.apply(data)?;
            store.view().put_json(&role_key(name), &role).await?;
            Ok(Response::empty())
        }
        Operation::Delete => {
            store.view().delete(&role_key(name)).await?;
            Ok(Response::empty())
        }
        _ => Err(CoreError::UnsupportedOperation),
    }
}

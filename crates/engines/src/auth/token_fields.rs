//! The token settings every auth method shares (Vault's "tokenutil"): parsed from user and
//! role writes, shown on reads, and copied into the `Auth` of a successful login.

use crate::kv::fields::{boolean, uint};
use coffer_core::duration::parse_field;
use coffer_core::request::Auth;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Body fields read by [`TokenFields::update`], including the legacy names Vault still
/// accepts (`policies`, `period`, `ttl`, `max_ttl`, `bound_cidrs`).
pub const FIELDS: &[&str] = &[
    "token_policies",
    "policies",
    "token_ttl",
    "ttl",
    "token_max_ttl",
    "max_ttl",
    "token_period",
    "period",
    "token_explicit_max_ttl",
    "token_num_uses",
    "token_no_default_policy",
    "token_bound_cidrs",
    "bound_cidrs",
    "token_type",
];

/// Token types a login may ask for. Batch tokens do not exist in Coffer yet.
const TOKEN_TYPES: &[&str] = &["default", "service", "batch", "default-service", "default-batch"];

/// Settings of the tokens a user or role logs in to. Durations are in seconds; 0 means
/// "the mount's default".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenFields {
    /// Policies attached to the token (lowercase, sorted, no duplicates).
    pub token_policies: Vec<String>,
    /// Initial TTL.
    pub token_ttl: u64,
    /// Maximum TTL.
    pub token_max_ttl: u64,
    /// Period of a periodic token (renewals reset the TTL to this value).
    pub token_period: u64,
    /// Hard limit from creation, renewals included.
    pub token_explicit_max_ttl: u64,
    /// Number of uses (0 = unlimited).
    pub token_num_uses: u64,
    /// Do not add the `default` policy.
    pub token_no_default_policy: bool,
    /// CIDR blocks the token may be used from.
    pub token_bound_cidrs: Vec<String>,
    /// `default` or `service`.
    pub token_type: String,
}

/// A list of strings given as a JSON array or a comma-separated string (Vault's
/// `TypeCommaStringSlice`); items are trimmed and empty ones dropped. `None` when absent.
pub fn string_list(data: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>> {
    let items: Vec<String> = match data.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(CoreError::bad(format!("field \"{name}\" must be a list of strings"))),
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(CoreError::bad(format!("field \"{name}\" must be a list of strings"))),
    };
    Ok(Some(
        items
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    ))
}

/// A CIDR list field, each block checked; `None` when absent.
pub fn cidr_list(data: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>> {
    let Some(blocks) = string_list(data, name)? else {
        return Ok(None);
    };
    coffer_core::cidr::parse_all(&blocks).map_err(|e| CoreError::bad(format!("field \"{name}\": {e}")))?;
    Ok(Some(blocks))
}

/// Policy names as Vault stores them: trimmed, lowercase, sorted, without duplicates.
pub fn normalize_policies(policies: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = policies
        .into_iter()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The first of two field names present in `data` (the current name wins over the legacy one).
fn first_present<'a>(data: &Map<String, Value>, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .copied()
        .find(|n| !matches!(data.get(*n), None | Some(Value::Null)))
}

impl TokenFields {
    /// Applies the token fields present in `data`; absent fields keep their value. Checks
    /// CIDR blocks, the token type and that `token_ttl` does not exceed `token_max_ttl`.
    pub fn update(&mut self, data: &Map<String, Value>) -> Result<()> {
        if let Some(name) = first_present(data, &["token_policies", "policies"]) {
            self.token_policies = normalize_policies(string_list(data, name)?.unwrap_or_default());
        }
        for (field, names) in [
            (&mut self.token_ttl, &["token_ttl", "ttl"][..]),
            (&mut self.token_max_ttl, &["token_max_ttl", "max_ttl"]),
            (&mut self.token_period, &["token_period", "period"]),
            (&mut self.token_explicit_max_ttl, &["token_explicit_max_ttl"]),
        ] {
            if let Some(name) = first_present(data, names) {
                *field = parse_field(data, name)?.unwrap_or(0);
            }
        }
        if let Some(n) = uint(data, "token_num_uses")? {
            self.token_num_uses = n;
        }
        if let Some(b) = boolean(data, "token_no_default_policy")? {
            self.token_no_default_policy = b;
        }
        if let Some(name) = first_present(data, &["token_bound_cidrs", "bound_cidrs"]) {
            self.token_bound_cidrs = cidr_list(data, name)?.unwrap_or_default();
        }
        if let Some(kind) = data.get("token_type") {
            let kind = match kind {
                Value::String(s) if s.is_empty() => "default",
                Value::String(s) => s.as_str(),
                Value::Null => "default",
                _ => return Err(CoreError::bad("field \"token_type\" must be a string")),
            };
            if !TOKEN_TYPES.contains(&kind) {
                return Err(CoreError::bad(format!(
                    "invalid token_type \"{kind}\": use \"default\", \"service\" or \"batch\""
                )));
            }
            self.token_type = kind.to_string();
        }
        if self.token_max_ttl > 0 && self.token_ttl > self.token_max_ttl {
            return Err(CoreError::bad("\"token_ttl\" cannot be greater than \"token_max_ttl\""));
        }
        Ok(())
    }

    /// Adds the fields to a read response, as Vault shows them.
    pub fn populate(&self, out: &mut Map<String, Value>) {
        let token_type = if self.token_type.is_empty() {
            "default"
        } else {
            &self.token_type
        };
        for (key, value) in [
            ("token_policies", json!(self.token_policies)),
            ("token_ttl", json!(self.token_ttl)),
            ("token_max_ttl", json!(self.token_max_ttl)),
            ("token_period", json!(self.token_period)),
            ("token_explicit_max_ttl", json!(self.token_explicit_max_ttl)),
            ("token_num_uses", json!(self.token_num_uses)),
            ("token_no_default_policy", json!(self.token_no_default_policy)),
            ("token_bound_cidrs", json!(self.token_bound_cidrs)),
            ("token_type", json!(token_type)),
        ] {
            out.insert(key.to_string(), value);
        }
    }

    /// The login inputs of an `Auth` (the core mints the token from them).
    pub fn apply(&self, auth: &mut Auth) {
        auth.policies = self.token_policies.clone();
        auth.ttl = self.token_ttl;
        auth.max_ttl = self.token_max_ttl;
        auth.period = self.token_period;
        auth.explicit_max_ttl = self.token_explicit_max_ttl;
        auth.num_uses = self.token_num_uses;
        auth.no_default_policy = self.token_no_default_policy;
        auth.bound_cidrs = self.token_bound_cidrs.clone();
        auth.token_type = match self.token_type.as_str() {
            "batch" | "default-batch" => "batch".into(),
            _ => "service".into(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn parses_current_and_legacy_names() {
        let mut t = TokenFields::default();
        t.update(&map(json!({
            "policies": "b, A,a", "token_ttl": "1h", "max_ttl": 7200, "period": "0",
            "token_num_uses": 3, "token_no_default_policy": "true",
            "bound_cidrs": ["10.0.0.0/8"], "token_type": "service"
        })))
        .unwrap();
        assert_eq!(t.token_policies, vec!["a", "b"]);
        assert_eq!((t.token_ttl, t.token_max_ttl, t.token_period), (3600, 7200, 0));
        assert_eq!(t.token_num_uses, 3);
        assert!(t.token_no_default_policy);
        assert_eq!(t.token_bound_cidrs, vec!["10.0.0.0/8"]);
        assert_eq!(t.token_type, "service");
        // The current name wins; absent fields are kept.
        t.update(&map(json!({"token_policies": ["x"], "policies": ["y"]})))
            .unwrap();
        assert_eq!(t.token_policies, vec!["x"]);
        assert_eq!(t.token_ttl, 3600);
    }

    #[test]
    fn refuses_bad_values() {
        let t = TokenFields::default();
        for bad in [
            json!({"token_type": "weird"}),
            json!({"token_bound_cidrs": "10.0.0.0/99"}),
            json!({"token_ttl": "2h", "token_max_ttl": "1h"}),
            json!({"token_policies": [1]}),
            json!({"token_num_uses": -1}),
            json!({"token_ttl": "soon"}),
        ] {
            assert!(t.clone().update(&map(bad.clone())).is_err(), "{bad} accepted");
        }
        assert_eq!(t, TokenFields::default());
    }

    #[test]
    fn populates_and_applies() {
        let mut t = TokenFields::default();
        t.update(&map(
            json!({"token_policies": "dev", "token_ttl": 60, "token_bound_cidrs": "127.0.0.1/32"}),
        ))
        .unwrap();
        let mut out = Map::new();
        t.populate(&mut out);
        assert_eq!(out["token_policies"], json!(["dev"]));
        assert_eq!(out["token_type"], json!("default"));
        let mut auth = Auth::default();
        t.apply(&mut auth);
        assert_eq!(auth.policies, vec!["dev"]);
        assert_eq!(auth.ttl, 60);
        assert_eq!(auth.bound_cidrs, vec!["127.0.0.1/32"]);
    }
}

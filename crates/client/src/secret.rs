//! The Vault response envelope (`Secret`) and its `auth` / `wrap_info` parts.

use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// One API response in Vault's envelope:
/// `{request_id, lease_id, renewable, lease_duration, data, wrap_info, warnings, auth}`.
///
/// `Debug` shows the shape (field names, data keys) but never a value from `data`,
/// a token or a wrapping token.
#[derive(Clone, Default, Deserialize)]
pub struct Secret {
    /// Server-assigned request id.
    #[serde(default, deserialize_with = "null_default")]
    pub request_id: String,
    /// Lease id, empty when the response carries no lease.
    #[serde(default, deserialize_with = "null_default")]
    pub lease_id: String,
    /// Lease length in seconds.
    #[serde(default, deserialize_with = "null_default")]
    pub lease_duration: i64,
    /// Whether the lease can be renewed.
    #[serde(default, deserialize_with = "null_default")]
    pub renewable: bool,
    /// The response payload; `None` when absent or `null`.
    #[serde(default)]
    pub data: Option<Map<String, Value>>,
    /// Non-fatal warnings from the server.
    #[serde(default, deserialize_with = "null_default")]
    pub warnings: Vec<String>,
    /// Set when the response was wrapped.
    #[serde(default)]
    pub wrap_info: Option<WrapInfo>,
    /// Set when the response issued or describes a token.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// The whole response body as received (for `-format=json`).
    #[serde(skip)]
    pub raw: Value,
}

impl Secret {
    /// Parses an envelope, keeping the raw JSON beside the typed fields. Bodies that are
    /// not envelopes (e.g. `sys/seal-status`) still parse: the typed fields stay empty.
    pub fn from_value(raw: Value) -> Result<Secret, serde_json::Error> {
        let mut secret: Secret = if raw.is_object() {
            Secret::deserialize(&raw)?
        } else {
            Secret::default()
        };
        secret.raw = raw;
        Ok(secret)
    }

    /// `data`, or an empty map when there is none.
    pub fn data_or_empty(&self) -> Map<String, Value> {
        self.data.clone().unwrap_or_default()
    }

    /// True when the response has neither data nor warnings (Vault's "no value" test).
    pub fn is_empty(&self) -> bool {
        self.data.as_ref().is_none_or(Map::is_empty) && self.warnings.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Option<Vec<&String>> = self.data.as_ref().map(|d| d.keys().collect());
        f.debug_struct("Secret")
            .field("request_id", &self.request_id)
            .field("lease_id", &self.lease_id)
            .field("lease_duration", &self.lease_duration)
            .field("renewable", &self.renewable)
            .field("data_keys", &keys)
            .field("warnings", &self.warnings)
            .field("wrap_info", &self.wrap_info)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The `auth` block of a response (token issued or looked up).
#[derive(Clone, Default, Deserialize)]
pub struct Auth {
    /// The token itself. Never shown by `Debug`.
    #[serde(default, deserialize_with = "null_default")]
    pub client_token: String,
    /// The token's accessor.
    #[serde(default, deserialize_with = "null_default")]
    pub accessor: String,
    /// All policies (token + identity).
    #[serde(default, deserialize_with = "null_default")]
    pub policies: Vec<String>,
    /// Policies attached to the token.
    #[serde(default, deserialize_with = "null_default")]
    pub token_policies: Vec<String>,
    /// Policies that come from the identity (entity/groups).
    #[serde(default, deserialize_with = "null_default")]
    pub identity_policies: Vec<String>,
    /// Token metadata.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: Map<String, Value>,
    /// Token TTL in seconds (0 = never expires).
    #[serde(default, deserialize_with = "null_default")]
    pub lease_duration: i64,
    /// Whether the token can be renewed.
    #[serde(default, deserialize_with = "null_default")]
    pub renewable: bool,
    /// Entity the token belongs to, if any.
    #[serde(default, deserialize_with = "null_default")]
    pub entity_id: String,
    /// `service` or `batch`.
    #[serde(default, deserialize_with = "null_default")]
    pub token_type: String,
    /// Whether the token has no parent.
    #[serde(default, deserialize_with = "null_default")]
    pub orphan: bool,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("client_token", &"[redacted]")
            .field("accessor", &self.accessor)
            .field("policies", &self.policies)
            .field("lease_duration", &self.lease_duration)
            .field("renewable", &self.renewable)
            .finish_non_exhaustive()
    }
}

/// The `wrap_info` block of a wrapped response.
#[derive(Clone, Default, Deserialize)]
pub struct WrapInfo {
    /// The wrapping token. Never shown by `Debug`.
    #[serde(default, deserialize_with = "null_default")]
    pub token: String,
    /// The wrapping token's accessor.
    #[serde(default, deserialize_with = "null_default")]
    pub accessor: String,
    /// Wrapping token TTL in seconds.
    #[serde(default, deserialize_with = "null_default")]
    pub ttl: i64,
    /// RFC 3339 creation time.
    #[serde(default, deserialize_with = "null_default")]
    pub creation_time: String,
    /// Path whose response was wrapped.
    #[serde(default, deserialize_with = "null_default")]
    pub creation_path: String,
    /// Accessor of a wrapped token, if the wrapped response was a token.
    #[serde(default, deserialize_with = "null_default")]
    pub wrapped_accessor: String,
}

impl fmt::Debug for WrapInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrapInfo")
            .field("token", &"[redacted]")
            .field("accessor", &self.accessor)
            .field("ttl", &self.ttl)
            .field("creation_path", &self.creation_path)
            .finish_non_exhaustive()
    }
}

/// Treats JSON `null` like a missing field.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_envelope_and_keeps_raw() {
        let raw = json!({
            "request_id": "r1", "lease_id": "", "renewable": false, "lease_duration": 0,
            "data": {"password": "hunter2"}, "wrap_info": null, "warnings": null,
            "auth": {"client_token": "s.tok", "accessor": "acc", "policies": ["root"],
                     "metadata": null, "lease_duration": 0, "renewable": false}
        });
        let s = Secret::from_value(raw.clone()).unwrap();
        assert_eq!(s.request_id, "r1");
        assert_eq!(s.data.as_ref().unwrap()["password"], "hunter2");
        assert!(s.warnings.is_empty());
        assert_eq!(s.auth.as_ref().unwrap().client_token, "s.tok");
        assert_eq!(s.raw, raw);
        assert!(!s.is_empty());
    }

    #[test]
    fn debug_never_shows_values_or_tokens() {
        let raw = json!({"data": {"password": "hunter2"},
                         "auth": {"client_token": "s.secrettoken"},
                         "wrap_info": {"token": "s.wraptoken", "ttl": 60}});
        let s = Secret::from_value(raw).unwrap();
        let dbg = format!("{s:?}");
        assert!(dbg.contains("password"), "{dbg}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(!dbg.contains("secrettoken"), "{dbg}");
        assert!(!dbg.contains("wraptoken"), "{dbg}");
    }

    #[test]
    fn non_envelope_bodies_parse() {
        let s = Secret::from_value(json!({"sealed": true, "t": 3})).unwrap();
        assert!(s.data.is_none());
        assert!(s.is_empty());
        assert_eq!(s.raw["t"], 3);
        let s = Secret::from_value(json!(["a"])).unwrap();
        assert!(s.is_empty());
    }
}

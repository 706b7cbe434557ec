//! Request and Response: what every caller (HTTP, CLI, console, bastion) hands the core.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::time::Duration;

/// What a request wants to do. ACL capabilities follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// GET.
    Read,
    /// POST/PUT on a path that does not exist yet (decided by the backend's existence check).
    Create,
    /// POST/PUT on an existing path, or on a backend without an existence check.
    Update,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// LIST, or GET with `?list=true`.
    List,
}

impl Operation {
    /// The lowercase name (`read`, `create`, …), as audit entries, metrics and serde write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Patch => "patch",
            Operation::Delete => "delete",
            Operation::List => "list",
        }
    }
}

/// One request to the core. `path` is relative to `/v1/`, without a leading slash.
#[derive(Debug)]
pub struct Request {
    /// The operation requested.
    pub operation: Operation,
    /// Full logical path, e.g. `secret/data/app`.
    pub path: String,
    /// Body fields (POST/PUT/PATCH) or query parameters (GET/LIST/DELETE).
    pub data: Map<String, Value>,
    /// The client token (`X-Vault-Token` or `Authorization: Bearer`).
    pub token: Option<SecretString>,
    /// Response wrapping requested through `X-Vault-Wrap-TTL`.
    pub wrap_ttl: Option<Duration>,
    /// Address of the client, when known.
    pub client_addr: Option<IpAddr>,
    /// DER certificates the client presented over TLS (leaf first); empty without mTLS.
    pub client_certs: Vec<Vec<u8>>,
    /// Unique id, echoed as `request_id`.
    pub id: String,
}

impl Request {
    /// A request with no body, token or wrapping; handy in tests and internal calls.
    pub fn new(operation: Operation, path: impl Into<String>) -> Self {
        Request {
            operation,
            path: path.into(),
            data: Map::new(),
            token: None,
            wrap_ttl: None,
            client_addr: None,
            client_certs: Vec::new(),
            id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Builder: set the body.
    pub fn with_data(mut self, data: Value) -> Self {
        if let Value::Object(map) = data {
            self.data = map;
        }
        self
    }

    /// Builder: set the client token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }
}

/// The principal an auth method logged in, as it names it (links logins to an entity).
#[derive(Debug, Clone, Default)]
pub struct AliasInfo {
    /// Alias name: user name, role id, JWT claim value, certificate name.
    pub name: String,
    /// Alias metadata shown on the entity alias.
    pub metadata: Map<String, Value>,
}

/// Authentication result returned by login and token-creation endpoints.
///
/// Auth methods fill the policy and lease inputs and `alias` on a successful login; the core
/// mints the token and fills `client_token`, `accessor`, `entity_id` and `lease_duration`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Auth {
    /// The new token. Serialized as `client_token`.
    pub client_token: String,
    /// Its accessor.
    pub accessor: String,
    /// Token policies (attached directly).
    pub policies: Vec<String>,
    /// Same as `policies` (Vault reports both).
    pub token_policies: Vec<String>,
    /// Metadata attached to the token.
    pub metadata: Option<Map<String, Value>>,
    /// TTL in seconds (0 = no expiry).
    pub lease_duration: u64,
    /// Whether the token can be renewed.
    pub renewable: bool,
    /// Entity the token belongs to, if any.
    pub entity_id: String,
    /// `service` or `batch` (as a login input: the type the auth method's role asks for).
    pub token_type: String,
    /// Whether the token has no parent.
    pub orphan: bool,
    /// Remaining uses (0 = unlimited).
    pub num_uses: u64,
    /// Set instead of a token when the login still needs a second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_requirement: Option<Value>,
    /// Login input: requested TTL in seconds (0 = the mount's default).
    #[serde(skip)]
    pub ttl: u64,
    /// Login input: maximum TTL in seconds (0 = the mount's maximum).
    #[serde(skip)]
    pub max_ttl: u64,
    /// Login input: period of a periodic token in seconds.
    #[serde(skip)]
    pub period: u64,
    /// Login input: hard limit in seconds from creation.
    #[serde(skip)]
    pub explicit_max_ttl: u64,
    /// Login input: do not attach the `default` policy.
    #[serde(skip)]
    pub no_default_policy: bool,
    /// Login input: CIDRs the token may be used from.
    #[serde(skip)]
    pub bound_cidrs: Vec<String>,
    /// Login input: the principal, for identity.
    #[serde(skip)]
    pub alias: Option<AliasInfo>,
    /// Login input: shown in the token's display name after the mount name (e.g. the user
    /// name); empty for just the mount name.
    #[serde(skip)]
    pub display_name: String,
}

/// A lease attached to a response (dynamic secrets; filled by later engines).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LeaseInfo {
    /// Lease id.
    pub lease_id: String,
    /// Duration in seconds.
    pub lease_duration: u64,
    /// Whether it can be renewed.
    pub renewable: bool,
}

/// Describes a wrapped response (`wrap_info` in the envelope).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WrapInfo {
    /// The single-use wrapping token.
    pub token: String,
    /// Its accessor.
    pub accessor: String,
    /// TTL in seconds.
    pub ttl: u64,
    /// RFC 3339 creation time.
    pub creation_time: String,
    /// Path of the request whose response was wrapped.
    pub creation_path: String,
    /// Accessor of a wrapped token, when the wrapped response was a login/token creation.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub wrapped_accessor: String,
}

/// The core's answer. The server turns it into Vault's JSON envelope.
#[derive(Debug, Default)]
pub struct Response {
    /// The `data` object; `None` with no auth and no warnings means 204.
    pub data: Option<Map<String, Value>>,
    /// Authentication info for login/token-create responses.
    pub auth: Option<Auth>,
    /// Lease info, if the response carries a leased secret.
    pub lease: Option<LeaseInfo>,
    /// Warnings shown to the user.
    pub warnings: Vec<String>,
    /// HTTP status to use instead of the default (200, or 204 without content).
    pub status: Option<u16>,
    /// A body sent as is instead of the envelope (Vault does this for sys/health, sys/init,
    /// sys/seal-status, sys/unseal).
    pub raw: Option<Value>,
    /// A non-JSON body sent as is: (content type, body). `sys/metrics?format=prometheus`.
    pub raw_text: Option<(String, String)>,
    /// Copy `data`'s fields to the top level too (Vault's legacy shape for most `sys/` paths).
    pub data_at_top_level: bool,
    /// Type of the mount that answered (`mount_type` in the envelope).
    pub mount_type: String,
    /// Set when the response was wrapped: the envelope then carries only this.
    pub wrap_info: Option<WrapInfo>,
}

impl Response {
    /// A response holding `data`.
    pub fn data(data: Value) -> Self {
        let data = match data {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("value".into(), other);
                map
            }
        };
        Response {
            data: Some(data),
            ..Default::default()
        }
    }

    /// A response to a LIST: `{"keys": [...]}`.
    pub fn list(keys: Vec<String>) -> Self {
        Response::data(serde_json::json!({ "keys": keys }))
    }

    /// A raw body with a status code, outside the envelope.
    pub fn raw(status: u16, body: Value) -> Self {
        Response {
            raw: Some(body),
            status: Some(status),
            ..Default::default()
        }
    }

    /// A text body with its content type and a status code, outside the envelope.
    pub fn text(status: u16, content_type: &str, body: String) -> Self {
        Response {
            raw_text: Some((content_type.to_string(), body)),
            status: Some(status),
            ..Default::default()
        }
    }

    /// No content (204).
    pub fn empty() -> Self {
        Response::default()
    }
}

/// Vault's warning for body fields an endpoint does not know (Vault ignores them and says so).
pub fn ignored_fields_warning(data: &Map<String, Value>, known: &[&str]) -> Option<String> {
    let unknown: Vec<&str> = data.keys().map(String::as_str).filter(|k| !known.contains(k)).collect();
    (!unknown.is_empty()).then(|| {
        format!(
            "Endpoint ignored these unrecognized parameters: [{}]",
            unknown.join(" ")
        )
    })
}

//! Audit entries in Vault's shape (`type`, `time`, `auth`, `request`, `response`, `error`),
//! with tokens, accessors and every string of request/response data HMAC'd by the device.

use super::hash::{hash_map, hash_string, hash_token, hash_value};
use crate::request::{Auth, Operation, Request, Response, WrapInfo};
use crate::token::TokenEntry;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

/// Who made a request, as the entry's `auth` block shows it (filled from the token entry).
#[derive(Debug, Clone, Default)]
pub struct AuditAuth {
    /// Token accessor (HMAC'd unless the device sets `hmac_accessor=false`).
    pub accessor: String,
    /// Token display name.
    pub display_name: String,
    /// Effective policies (token, entity and group policies).
    pub policies: Vec<String>,
    /// Policies attached to the token itself.
    pub token_policies: Vec<String>,
    /// Token metadata.
    pub metadata: Map<String, Value>,
    /// Entity id, empty when none.
    pub entity_id: String,
    /// `service` or `batch`.
    pub token_type: String,
}

impl AuditAuth {
    /// The `auth` block of a request made with `entry`, whose effective policies are `policies`.
    pub fn from_token(entry: &TokenEntry, policies: &[String]) -> AuditAuth {
        AuditAuth {
            accessor: entry.accessor.clone(),
            display_name: entry.display_name.clone(),
            policies: policies.to_vec(),
            token_policies: entry.policies.clone(),
            metadata: entry.meta.clone(),
            entity_id: entry.entity_id.clone(),
            token_type: if entry.kind.is_empty() {
                "service".into()
            } else {
                entry.kind.clone()
            },
        }
    }
}

/// One request as the audit log sees it; the same record is passed to `log_request` and
/// `log_response`.
#[derive(Debug, Clone, Copy)]
pub struct AuditRecord<'a> {
    /// The request (path, data, client token, address, wrap TTL, id).
    pub request: &'a Request,
    /// The operation as checked (an update on an absent path becomes `create`).
    pub operation: Operation,
    /// The caller; `None` on unauthenticated paths (login).
    pub auth: Option<&'a AuditAuth>,
    /// Type of the mount that serves the path (empty when no mount matched).
    pub mount_type: &'a str,
    /// Accessor of that mount.
    pub mount_accessor: &'a str,
    /// Request data keys logged as they are (the mount's `audit_non_hmac_request_keys`).
    pub non_hmac_request_keys: &'a [String],
    /// Response data keys logged as they are (the mount's `audit_non_hmac_response_keys`).
    pub non_hmac_response_keys: &'a [String],
}

impl<'a> AuditRecord<'a> {
    /// A record with no caller and no mount details (fill the fields that apply).
    pub fn new(request: &'a Request) -> AuditRecord<'a> {
        AuditRecord {
            request,
            operation: request.operation,
            auth: None,
            mount_type: "",
            mount_accessor: "",
            non_hmac_request_keys: &[],
            non_hmac_response_keys: &[],
        }
    }
}

/// Formats entries for one device (its key and options).
pub(crate) struct Formatter<'k> {
    pub key: &'k [u8],
    /// `log_raw`: nothing is HMAC'd.
    pub raw: bool,
    /// `hmac_accessor`: accessors are HMAC'd (default).
    pub hmac_accessor: bool,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn op_name(op: Operation) -> &'static str {
    match op {
        Operation::Read => "read",
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Patch => "patch",
        Operation::Delete => "delete",
        Operation::List => "list",
    }
}

impl Formatter<'_> {
    fn token(&self, v: &str) -> String {
        if self.raw {
            v.to_string()
        } else {
            hash_token(self.key, v)
        }
    }

    fn accessor(&self, v: &str) -> String {
        if self.hmac_accessor {
            self.token(v)
        } else {
            v.to_string()
        }
    }

    fn data(&self, data: &Map<String, Value>, keep: &[String]) -> Value {
        if self.raw {
            Value::Object(data.clone())
        } else {
            Value::Object(hash_map(self.key, data, keep))
        }
    }

    fn client_token<'r>(&self, rec: &'r AuditRecord<'_>) -> &'r str {
        rec.request.token.as_ref().map(|t| t.expose_secret()).unwrap_or("")
    }

    /// The HMAC'd client token and accessor of a record, computed once per entry.
    fn caller(&self, rec: &AuditRecord<'_>) -> (String, String) {
        let accessor = rec.auth.map(|a| a.accessor.as_str()).unwrap_or("");
        (self.token(self.client_token(rec)), self.accessor(accessor))
    }

    fn auth(&self, rec: &AuditRecord<'_>, (token, accessor): &(String, String)) -> Value {
        let Some(a) = rec.auth else {
            return json!({ "client_token": token, "accessor": "", "token_type": "default" });
        };
        json!({
            "client_token": token,
            "accessor": accessor,
            "display_name": a.display_name,
            "policies": a.policies,
            "token_policies": a.token_policies,
            "metadata": if a.metadata.is_empty() { Value::Null } else { Value::Object(a.metadata.clone()) },
            "entity_id": a.entity_id,
            "token_type": a.token_type,
        })
    }

    fn request(&self, rec: &AuditRecord<'_>, (token, accessor): &(String, String)) -> Value {
        let req = rec.request;
        json!({
            "id": req.id,
            "operation": op_name(rec.operation),
            "mount_type": rec.mount_type,
            "mount_accessor": rec.mount_accessor,
            "client_token": token,
            "client_token_accessor": accessor,
            "namespace": { "id": "root" },
            "path": req.path,
            "data": self.data(&req.data, rec.non_hmac_request_keys),
            "remote_address": req.client_addr.map(|a| a.to_string()).unwrap_or_default(),
            "wrap_ttl": req.wrap_ttl.map(|d| d.as_secs()).unwrap_or(0),
            "headers": {},
        })
    }

    fn response_auth(&self, a: &Auth) -> Value {
        json!({
            "client_token": self.token(&a.client_token),
            "accessor": self.accessor(&a.accessor),
            "policies": a.policies,
            "token_policies": a.token_policies,
            "metadata": a.metadata,
            "entity_id": a.entity_id,
            "token_type": a.token_type,
            "token_ttl": a.lease_duration,
        })
    }

    fn wrap_info(&self, w: &WrapInfo) -> Value {
        json!({
            "token": self.token(&w.token),
            "accessor": self.accessor(&w.accessor),
            "ttl": w.ttl,
            "creation_time": w.creation_time,
            "creation_path": w.creation_path,
            "wrapped_accessor": self.accessor(&w.wrapped_accessor),
        })
    }

    fn response(&self, rec: &AuditRecord<'_>, resp: &Response) -> Value {
        let mut out = Map::new();
        let mount_type = if resp.mount_type.is_empty() {
            rec.mount_type
        } else {
            &resp.mount_type
        };
        out.insert("mount_type".into(), json!(mount_type));
        out.insert("mount_accessor".into(), json!(rec.mount_accessor));
        let keep = rec.non_hmac_response_keys;
        if let Some(data) = &resp.data {
            out.insert("data".into(), self.data(data, keep));
        } else if let Some(raw) = &resp.raw {
            let raw = if self.raw {
                raw.clone()
            } else {
                hash_value(self.key, raw, keep)
            };
            out.insert("data".into(), raw);
        }
        if let Some(auth) = &resp.auth {
            out.insert("auth".into(), self.response_auth(auth));
        }
        if let Some(wrap) = &resp.wrap_info {
            out.insert("wrap_info".into(), self.wrap_info(wrap));
        }
        if let Some(lease) = &resp.lease {
            out.insert(
                "secret".into(),
                json!({ "lease_id": lease.lease_id, "lease_duration": lease.lease_duration }),
            );
        }
        if !resp.warnings.is_empty() {
            out.insert("warnings".into(), json!(resp.warnings));
        }
        Value::Object(out)
    }

    /// The body (no chain fields yet) of a request entry.
    pub fn request_entry(&self, rec: &AuditRecord<'_>, error: Option<&str>) -> Vec<u8> {
        let caller = self.caller(rec);
        let mut entry = json!({
            "type": "request",
            "time": now(),
            "auth": self.auth(rec, &caller),
            "request": self.request(rec, &caller),
        });
        if let Some(e) = error {
            entry["error"] = json!(e);
        }
        serde_json::to_vec(&entry).unwrap_or_default()
    }

    /// The body (no chain fields yet) of a response entry: the response, or the error.
    pub fn response_entry(&self, rec: &AuditRecord<'_>, result: Result<&Response, &str>) -> Vec<u8> {
        let caller = self.caller(rec);
        let mut entry = json!({
            "type": "response",
            "time": now(),
            "auth": self.auth(rec, &caller),
            "request": self.request(rec, &caller),
        });
        match result {
            Ok(resp) => entry["response"] = self.response(rec, resp),
            Err(e) => {
                entry["response"] = json!({ "mount_type": rec.mount_type, "mount_accessor": rec.mount_accessor });
                entry["error"] = json!(e);
            }
        }
        serde_json::to_vec(&entry).unwrap_or_default()
    }

    /// `sys/audit-hash`: the HMAC of one input.
    pub fn hash(&self, input: &str) -> String {
        hash_string(self.key, input)
    }
}

/// The body of a gap marker: `dropped` entries were lost when the spool overflowed.
pub(crate) fn gap_entry(dropped: u64) -> Vec<u8> {
    let entry = json!({
        "type": "gap",
        "time": now(),
        "dropped": dropped,
        "error": format!("audit spool full: {dropped} entries were dropped before this line"),
    });
    serde_json::to_vec(&entry).unwrap_or_default()
}

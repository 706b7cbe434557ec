//! Audit entries in Vault's shape (`type`, `time`, `auth`, `request`, `response`, `error`),
//! with tokens, accessors and every string of request/response data HMAC'd by the device.

use super::hash::{Hashed, Node, hash_string, hash_token};
use crate::request::{Operation, Request, Response};
use crate::token::TokenEntry;
use coffer_crypto::HmacKey;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value, json};
use std::net::IpAddr;

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
    pub key: &'k HmacKey,
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

/// `auth` of an entry. Fields are in alphabetical order, as Vault writes them.
#[derive(Serialize)]
struct AuthBlock<'a> {
    accessor: &'a str,
    client_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_id: Option<&'a str>,
    /// `Some(None)` is written as `null` (no metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Option<&'a Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policies: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_policies: Option<&'a [String]>,
    token_type: &'a str,
}

/// `request` of an entry.
#[derive(Serialize)]
struct RequestBlock<'a> {
    client_token: &'a str,
    client_token_accessor: &'a str,
    data: Hashed<'a>,
    headers: Empty,
    id: &'a str,
    mount_accessor: &'a str,
    mount_type: &'a str,
    namespace: Namespace,
    operation: &'static str,
    path: &'a str,
    remote_address: RemoteAddress,
    wrap_ttl: u64,
}

/// `response` of an entry; only the mount fields for an error.
#[derive(Serialize)]
struct ResponseBlock<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<ResponseAuth<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Hashed<'a>>,
    mount_accessor: &'a str,
    mount_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<SecretBlock<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    wrap_info: Option<WrapBlock<'a>>,
}

/// `response.auth`: a token the request created.
#[derive(Serialize)]
struct ResponseAuth<'a> {
    accessor: String,
    client_token: String,
    entity_id: &'a str,
    metadata: &'a Option<Map<String, Value>>,
    policies: &'a [String],
    token_policies: &'a [String],
    token_ttl: u64,
    token_type: &'a str,
}

/// `response.wrap_info`.
#[derive(Serialize)]
struct WrapBlock<'a> {
    accessor: String,
    creation_path: &'a str,
    creation_time: &'a str,
    token: String,
    ttl: u64,
    wrapped_accessor: String,
}

/// `response.secret`: the lease.
#[derive(Serialize)]
struct SecretBlock<'a> {
    lease_duration: u64,
    lease_id: &'a str,
}

/// A whole entry (before the chain fields).
#[derive(Serialize)]
struct Entry<'a> {
    auth: AuthBlock<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    request: RequestBlock<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<ResponseBlock<'a>>,
    time: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// `{}`.
struct Empty;

impl Serialize for Empty {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// `{"id":"root"}`.
#[derive(Serialize)]
struct Namespace {
    id: &'static str,
}

/// The client's address, or an empty string.
struct RemoteAddress(Option<IpAddr>);

impl Serialize for RemoteAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(ip) => s.collect_str(&ip),
            None => s.serialize_str(""),
        }
    }
}

/// The HMAC'd client token and accessor of a record, computed once per entry.
struct CallerHashes {
    token: String,
    accessor: String,
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

    fn hashed<'a>(&'a self, value: Node<'a>, keep: &'a [String]) -> Hashed<'a> {
        Hashed {
            key: (!self.raw).then_some(self.key),
            value,
            keep,
        }
    }

    fn caller(&self, rec: &AuditRecord<'_>) -> CallerHashes {
        let token = rec.request.token.as_ref().map(|t| t.expose_secret()).unwrap_or("");
        let accessor = rec.auth.map(|a| a.accessor.as_str()).unwrap_or("");
        CallerHashes {
            token: self.token(token),
            accessor: self.accessor(accessor),
        }
    }

    fn auth<'a>(rec: &AuditRecord<'a>, caller: &'a CallerHashes) -> AuthBlock<'a> {
        let Some(a) = rec.auth else {
            return AuthBlock {
                accessor: "",
                client_token: &caller.token,
                display_name: None,
                entity_id: None,
                metadata: None,
                policies: None,
                token_policies: None,
                token_type: "default",
            };
        };
        AuthBlock {
            accessor: &caller.accessor,
            client_token: &caller.token,
            display_name: Some(&a.display_name),
            entity_id: Some(&a.entity_id),
            metadata: Some((!a.metadata.is_empty()).then_some(&a.metadata)),
            policies: Some(&a.policies),
            token_policies: Some(&a.token_policies),
            token_type: &a.token_type,
        }
    }

    fn request<'a>(&'a self, rec: &AuditRecord<'a>, caller: &'a CallerHashes) -> RequestBlock<'a> {
        let req = rec.request;
        RequestBlock {
            client_token: &caller.token,
            client_token_accessor: &caller.accessor,
            data: self.hashed(Node::Map(&req.data), rec.non_hmac_request_keys),
            headers: Empty,
            id: &req.id,
            mount_accessor: rec.mount_accessor,
            mount_type: rec.mount_type,
            namespace: Namespace { id: "root" },
            operation: rec.operation.as_str(),
            path: &req.path,
            remote_address: RemoteAddress(req.client_addr),
            wrap_ttl: req.wrap_ttl.map(|d| d.as_secs()).unwrap_or(0),
        }
    }

    fn response<'a>(&'a self, rec: &AuditRecord<'a>, resp: &'a Response) -> ResponseBlock<'a> {
        let keep = rec.non_hmac_response_keys;
        let data = match (&resp.data, &resp.raw) {
            (Some(data), _) => Some(self.hashed(Node::Map(data), keep)),
            (None, Some(raw)) => Some(self.hashed(Node::Value(raw), keep)),
            (None, None) => None,
        };
        ResponseBlock {
            auth: resp.auth.as_ref().map(|a| ResponseAuth {
                accessor: self.accessor(&a.accessor),
                client_token: self.token(&a.client_token),
                entity_id: &a.entity_id,
                metadata: &a.metadata,
                policies: &a.policies,
                token_policies: &a.token_policies,
                token_ttl: a.lease_duration,
                token_type: &a.token_type,
            }),
            data,
            mount_accessor: rec.mount_accessor,
            mount_type: if resp.mount_type.is_empty() {
                rec.mount_type
            } else {
                &resp.mount_type
            },
            secret: resp.lease.as_ref().map(|l| SecretBlock {
                lease_duration: l.lease_duration,
                lease_id: &l.lease_id,
            }),
            warnings: &resp.warnings,
            wrap_info: resp.wrap_info.as_ref().map(|w| WrapBlock {
                accessor: self.accessor(&w.accessor),
                creation_path: &w.creation_path,
                creation_time: &w.creation_time,
                token: self.token(&w.token),
                ttl: w.ttl,
                wrapped_accessor: self.accessor(&w.wrapped_accessor),
            }),
        }
    }

    /// The body (no chain fields yet) of a request entry.
    pub fn request_entry(&self, rec: &AuditRecord<'_>, error: Option<&str>) -> Vec<u8> {
        let caller = self.caller(rec);
        encode(&Entry {
            auth: Self::auth(rec, &caller),
            error,
            request: self.request(rec, &caller),
            response: None,
            time: now(),
            kind: "request",
        })
    }

    /// The body (no chain fields yet) of a response entry: the response, or the error.
    pub fn response_entry(&self, rec: &AuditRecord<'_>, result: Result<&Response, &str>) -> Vec<u8> {
        let caller = self.caller(rec);
        let (response, error) = match result {
            Ok(resp) => (self.response(rec, resp), None),
            Err(e) => (
                ResponseBlock {
                    auth: None,
                    data: None,
                    mount_accessor: rec.mount_accessor,
                    mount_type: rec.mount_type,
                    secret: None,
                    warnings: &[],
                    wrap_info: None,
                },
                Some(e),
            ),
        };
        encode(&Entry {
            auth: Self::auth(rec, &caller),
            error,
            request: self.request(rec, &caller),
            response: Some(response),
            time: now(),
            kind: "response",
        })
    }

    /// `sys/audit-hash`: the HMAC of one input.
    pub fn hash(&self, input: &str) -> String {
        hash_string(self.key, input)
    }
}

/// An entry's JSON bytes.
fn encode(entry: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(768);
    // Writing these types into a Vec cannot fail (string keys, no I/O).
    let _ = serde_json::to_writer(&mut out, entry);
    out
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

#[cfg(test)]
mod tests {
    //! The typed entries against a `json!` rendering of Vault's shape: same keys, same values,
    //! same bytes (keys in alphabetical order, as a `serde_json::Map` writes them).
    use super::*;
    use crate::request::{Auth, LeaseInfo, WrapInfo};
    use secrecy::SecretString;

    const KEY_BYTES: &[u8] = b"device-key";

    fn h(f: &Formatter<'_>, v: &str) -> Value {
        if f.raw || v.is_empty() {
            json!(v)
        } else {
            json!(hash_string(&HmacKey::new(KEY_BYTES), v))
        }
    }

    fn hv(f: &Formatter<'_>, v: &Value, keep: &[String]) -> Value {
        match v {
            Value::String(s) if !f.raw => json!(hash_string(&HmacKey::new(KEY_BYTES), s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| hv(f, x, keep)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), if keep.contains(k) { x.clone() } else { hv(f, x, keep) }))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn expected(f: &Formatter<'_>, rec: &AuditRecord<'_>, result: Option<Result<&Response, &str>>) -> Value {
        let req = rec.request;
        let token = h(f, req.token.as_ref().map(|t| t.expose_secret()).unwrap_or(""));
        let acc = |v: &str| if f.hmac_accessor { h(f, v) } else { json!(v) };
        let accessor = acc(rec.auth.map(|a| a.accessor.as_str()).unwrap_or(""));
        let auth = match rec.auth {
            None => json!({"client_token": token, "accessor": "", "token_type": "default"}),
            Some(a) => json!({
                "client_token": token, "accessor": accessor, "display_name": a.display_name,
                "policies": a.policies, "token_policies": a.token_policies,
                "metadata": if a.metadata.is_empty() { Value::Null } else { Value::Object(a.metadata.clone()) },
                "entity_id": a.entity_id, "token_type": a.token_type,
            }),
        };
        let mut entry = json!({
            "type": if result.is_some() { "response" } else { "request" },
            "auth": auth,
            "request": {
                "id": req.id, "operation": rec.operation.as_str(), "mount_type": rec.mount_type,
                "mount_accessor": rec.mount_accessor, "client_token": token,
                "client_token_accessor": accessor, "namespace": {"id": "root"}, "path": req.path,
                "data": hv(f, &Value::Object(req.data.clone()), rec.non_hmac_request_keys),
                "remote_address": req.client_addr.map(|a| a.to_string()).unwrap_or_default(),
                "wrap_ttl": req.wrap_ttl.map(|d| d.as_secs()).unwrap_or(0), "headers": {},
            },
        });
        match result {
            None => {}
            Some(Err(e)) => {
                entry["response"] = json!({"mount_type": rec.mount_type, "mount_accessor": rec.mount_accessor});
                entry["error"] = json!(e);
            }
            Some(Ok(resp)) => {
                let keep = rec.non_hmac_response_keys;
                let mut out = json!({"mount_type": rec.mount_type, "mount_accessor": rec.mount_accessor});
                if let Some(d) = &resp.data {
                    out["data"] = hv(f, &Value::Object(d.clone()), keep);
                } else if let Some(raw) = &resp.raw {
                    out["data"] = hv(f, raw, keep);
                }
                if let Some(a) = &resp.auth {
                    out["auth"] = json!({
                        "client_token": h(f, &a.client_token), "accessor": acc(&a.accessor),
                        "policies": a.policies, "token_policies": a.token_policies, "metadata": a.metadata,
                        "entity_id": a.entity_id, "token_type": a.token_type, "token_ttl": a.lease_duration,
                    });
                }
                if let Some(w) = &resp.wrap_info {
                    out["wrap_info"] = json!({
                        "token": h(f, &w.token), "accessor": acc(&w.accessor), "ttl": w.ttl,
                        "creation_time": w.creation_time, "creation_path": w.creation_path,
                        "wrapped_accessor": acc(&w.wrapped_accessor),
                    });
                }
                if let Some(l) = &resp.lease {
                    out["secret"] = json!({"lease_id": l.lease_id, "lease_duration": l.lease_duration});
                }
                if !resp.warnings.is_empty() {
                    out["warnings"] = json!(resp.warnings);
                }
                entry["response"] = out;
            }
        }
        entry
    }

    /// `actual` has the shape and the bytes of `expected` (with `actual`'s time).
    fn check(actual: Vec<u8>, mut expected: Value) {
        let parsed: Value = serde_json::from_slice(&actual).unwrap();
        expected["time"] = parsed["time"].clone();
        assert!(parsed["time"].as_str().is_some_and(|t| t.len() >= 20));
        assert_eq!(parsed, expected);
        assert_eq!(
            String::from_utf8(actual).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }

    #[test]
    fn entries_have_vaults_shape_for_every_kind_of_record() {
        let mut req = Request::new(Operation::Update, "secret/data/app").with_data(json!({
            "data": {"password": "hunter2", "n": 5, "list": ["a", {"b": "c"}], "plain": "visible"},
            "options": {"cas": 1},
        }));
        req.token = Some(SecretString::from("s.client-token".to_string()));
        req.client_addr = Some("2001:db8::7".parse().unwrap());
        req.wrap_ttl = Some(std::time::Duration::from_secs(60));
        let mut metadata = Map::new();
        metadata.insert("team".into(), json!("ops"));
        let auth = AuditAuth {
            accessor: "acc-1".into(),
            display_name: "token-ops".into(),
            policies: vec!["default".into(), "ops".into()],
            token_policies: vec!["ops".into()],
            metadata,
            entity_id: "ent-1".into(),
            token_type: "service".into(),
        };
        let keep = vec!["plain".to_string()];
        let rec = AuditRecord {
            auth: Some(&auth),
            mount_type: "kv",
            mount_accessor: "kv_123",
            non_hmac_request_keys: &keep,
            non_hmac_response_keys: &keep,
            ..AuditRecord::new(&req)
        };
        let resp = Response {
            data: Some(
                json!({"data": {"password": "hunter2", "plain": "visible"}})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            auth: Some(Auth {
                client_token: "s.new".into(),
                accessor: "acc-new".into(),
                policies: vec!["p".into()],
                token_policies: vec!["p".into()],
                lease_duration: 3600,
                ..Auth::default()
            }),
            lease: Some(LeaseInfo {
                lease_id: "kv/creds/x".into(),
                lease_duration: 30,
                renewable: true,
            }),
            warnings: vec!["careful".into()],
            wrap_info: Some(WrapInfo {
                token: "s.wrap".into(),
                accessor: "acc-wrap".into(),
                ttl: 60,
                creation_time: "2026-11-28T00:00:00Z".into(),
                creation_path: "secret/data/app".into(),
                wrapped_accessor: String::new(),
            }),
            ..Response::default()
        };
        let raw_resp = Response {
            raw: Some(json!(["x", 1, {"plain": "y", "z": "w"}])),
            ..Response::default()
        };
        let bare = Request::new(Operation::Read, "sys/health");
        let bare_rec = AuditRecord::new(&bare);
        let key = HmacKey::new(KEY_BYTES);
        for (raw, hmac_accessor) in [(false, true), (false, false), (true, true)] {
            let f = Formatter {
                key: &key,
                raw,
                hmac_accessor,
            };
            check(f.request_entry(&rec, None), expected(&f, &rec, None));
            let mut denied = expected(&f, &rec, None);
            denied["error"] = json!("permission denied");
            check(f.request_entry(&rec, Some("permission denied")), denied);
            check(f.response_entry(&rec, Ok(&resp)), expected(&f, &rec, Some(Ok(&resp))));
            check(
                f.response_entry(&rec, Ok(&raw_resp)),
                expected(&f, &rec, Some(Ok(&raw_resp))),
            );
            check(
                f.response_entry(&rec, Err("boom")),
                expected(&f, &rec, Some(Err("boom"))),
            );
            check(f.request_entry(&bare_rec, None), expected(&f, &bare_rec, None));
            check(
                f.response_entry(&bare_rec, Ok(&Response::default())),
                expected(&f, &bare_rec, Some(Ok(&Response::default()))),
            );
        }
        let f = Formatter {
            key: &key,
            raw: false,
            hmac_accessor: true,
        };
        let line = String::from_utf8(f.response_entry(&rec, Ok(&resp))).unwrap();
        for secret in ["hunter2", "s.client-token", "s.new", "s.wrap", "acc-1"] {
            assert!(!line.contains(secret), "{secret} in the clear");
        }
        assert!(line.contains("visible"));
    }
}

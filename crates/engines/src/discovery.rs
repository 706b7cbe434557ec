//! The `discovery` engine: the server's inventory of hardcoded secrets found by `coffer scan`.
//! One record per finding fingerprint — rule, secret type, where it was found (path, line,
//! commit), first and last seen, and whether it was onboarded (and to which reference).
//! It never holds a secret value: a batch carrying one is refused.
//!
//! - `POST findings` `{"findings": [{fingerprint, rule_id, kind, path, line, commit?,
//!   reference?}]}`: adds new records, updates `last_seen` and locations of known ones.
//! - `LIST findings`: fingerprints, with a summary of each in `key_info`.
//! - `GET findings/<fingerprint>`, `DELETE findings/<fingerprint>`.

use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendFactory, BackendRequest, MountContext};
use coffer_core::request::{Operation, Response};
use coffer_core::view::{View, ViewOp, to_json};
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Most locations kept per record (the oldest are dropped past it).
const MAX_LOCATIONS: usize = 100;
/// Most findings in one batch.
const MAX_BATCH: usize = 10_000;
/// Fields a reported finding may carry. Anything else (`secret`, `value`…) is refused.
const FINDING_FIELDS: &[&str] = &["fingerprint", "rule_id", "kind", "path", "line", "commit", "reference"];

/// Where a finding was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// File path relative to the scan root.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// Commit id for history findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// One inventory record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Finding fingerprint (hex SHA-256 of rule, path and secret).
    pub fingerprint: String,
    /// Rule that found it.
    pub rule_id: String,
    /// Secret type.
    pub kind: String,
    /// Every place it was seen (most recent last).
    pub locations: Vec<Location>,
    /// RFC 3339 time of the first report.
    pub first_seen: String,
    /// RFC 3339 time of the latest report.
    pub last_seen: String,
    /// Whether the secret was moved into Coffer.
    pub onboarded: bool,
    /// The `coffer://` reference it was replaced with, once onboarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A discovery inventory mount.
#[derive(Debug)]
pub struct Discovery {
    view: View,
    write: tokio::sync::Mutex<()>,
}

/// Creates a `discovery` backend.
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| {
        Ok(Arc::new(Discovery {
            view: ctx.view,
            write: tokio::sync::Mutex::new(()),
        }) as Arc<dyn Backend>)
    })
}

fn valid_fingerprint(fp: &str) -> bool {
    !fp.is_empty()
        && fp.len() <= 128
        && fp
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn str_of(obj: &Map<String, Value>, name: &str, i: usize) -> Result<Option<String>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CoreError::bad(format!("findings[{i}].{name} must be a string"))),
    }
}

/// One reported finding, validated.
struct Reported {
    fingerprint: String,
    rule_id: String,
    kind: String,
    location: Location,
    reference: Option<String>,
}

fn parse_finding(i: usize, v: &Value) -> Result<Reported> {
    let obj = v
        .as_object()
        .ok_or_else(|| CoreError::bad(format!("findings[{i}] must be an object")))?;
    if let Some(unknown) = obj.keys().find(|k| !FINDING_FIELDS.contains(&k.as_str())) {
        return Err(CoreError::bad(format!(
            "findings[{i}] has unknown field {unknown:?}: the inventory never stores secret values; \
             allowed fields are {}",
            FINDING_FIELDS.join(", ")
        )));
    }
    let fingerprint = str_of(obj, "fingerprint", i)?.unwrap_or_default();
    if !valid_fingerprint(&fingerprint) {
        return Err(CoreError::bad(format!(
            "findings[{i}].fingerprint must be 1-128 of [A-Za-z0-9_.-]"
        )));
    }
    let line = match obj.get("line") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| CoreError::bad(format!("findings[{i}].line must be a non-negative integer")))?,
    };
    let reference = str_of(obj, "reference", i)?.filter(|r| !r.is_empty());
    if reference.as_deref().is_some_and(|r| !r.starts_with("coffer://")) {
        return Err(CoreError::bad(format!(
            "findings[{i}].reference must be a coffer:// reference"
        )));
    }
    Ok(Reported {
        fingerprint,
        rule_id: str_of(obj, "rule_id", i)?.unwrap_or_default(),
        kind: str_of(obj, "kind", i)?.unwrap_or_default(),
        location: Location {
            path: str_of(obj, "path", i)?.unwrap_or_default(),
            line,
            commit: str_of(obj, "commit", i)?.filter(|c| !c.is_empty()),
        },
        reference,
    })
}

/// Folds a report into an existing record (or starts one).
fn merge(old: Option<Record>, r: Reported, now: &str) -> Record {
    let mut rec = old.unwrap_or_else(|| Record {
        fingerprint: r.fingerprint.clone(),
        rule_id: r.rule_id.clone(),
        kind: r.kind.clone(),
        locations: Vec::new(),
        first_seen: now.to_string(),
        last_seen: now.to_string(),
        onboarded: false,
        reference: None,
    });
    rec.last_seen = now.to_string();
    if !r.rule_id.is_empty() {
        rec.rule_id = r.rule_id;
    }
    if !r.kind.is_empty() {
        rec.kind = r.kind;
    }
    rec.locations.retain(|l| *l != r.location);
    rec.locations.push(r.location);
    if rec.locations.len() > MAX_LOCATIONS {
        let extra = rec.locations.len() - MAX_LOCATIONS;
        rec.locations.drain(..extra);
    }
    if let Some(reference) = r.reference {
        rec.onboarded = true;
        rec.reference = Some(reference);
    }
    rec
}

fn record_json(rec: &Record) -> Result<Value> {
    serde_json::to_value(rec).map_err(|e| CoreError::Internal(format!("cannot encode record: {e}")))
}

impl Discovery {
    async fn report(&self, data: &Map<String, Value>) -> Result<Response> {
        let list = data
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| CoreError::bad("missing \"findings\": a list of findings"))?;
        if list.len() > MAX_BATCH {
            return Err(CoreError::bad(format!("at most {MAX_BATCH} findings per request")));
        }
        let reported = list
            .iter()
            .enumerate()
            .map(|(i, v)| parse_finding(i, v))
            .collect::<Result<Vec<_>>>()?;
        let now = coffer_core::time::rfc3339(coffer_core::time::now_unix());
        let _guard = self.write.lock().await;
        let mut records: std::collections::BTreeMap<String, Option<Record>> = Default::default();
        for r in &reported {
            if !records.contains_key(&r.fingerprint) {
                let old = self
                    .view
                    .get_json::<Record>(&format!("findings/{}", r.fingerprint))
                    .await?;
                records.insert(r.fingerprint.clone(), old);
            }
        }
        let (mut created, mut updated) = (0, 0);
        for r in reported {
            let slot = records.get_mut(&r.fingerprint).expect("loaded above");
            if slot.is_none() {
                created += 1;
            }
            *slot = Some(merge(slot.take(), r, &now));
        }
        let mut ops = Vec::new();
        for (fp, rec) in records {
            let rec = rec.expect("every slot merged");
            updated += 1;
            ops.push(ViewOp::Put(format!("findings/{fp}"), to_json(&rec)?));
        }
        self.view.batch(ops).await?;
        Ok(Response::data(
            json!({ "created": created, "updated": updated - created }),
        ))
    }

    async fn list(&self) -> Result<Response> {
        let keys = self.view.list("findings/").await?;
        if keys.is_empty() {
            return Err(CoreError::NotFound(String::new()));
        }
        let mut info = Map::new();
        for key in &keys {
            if let Some(rec) = self.view.get_json::<Record>(&format!("findings/{key}")).await? {
                let mut summary = record_json(&rec)?;
                if let Some(obj) = summary.as_object_mut() {
                    obj.remove("fingerprint");
                }
                info.insert(key.clone(), summary);
            }
        }
        Ok(Response::data(json!({ "keys": keys, "key_info": info })))
    }
}

#[async_trait]
impl Backend for Discovery {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let path = req.path.trim_end_matches('/');
        match (req.operation, path) {
            (Operation::List, "findings") => self.list().await,
            (Operation::Create | Operation::Update, "findings") => self.report(req.data).await,
            (op, p) => {
                let Some(fp) = p.strip_prefix("findings/") else {
                    return Err(CoreError::NotFound(String::new()));
                };
                if !valid_fingerprint(fp) {
                    return Err(CoreError::bad("invalid fingerprint"));
                }
                let key = format!("findings/{fp}");
                match op {
                    Operation::Read => match self.view.get_json::<Record>(&key).await? {
                        Some(rec) => Ok(Response::data(record_json(&rec)?)),
                        None => Err(CoreError::NotFound(String::new())),
                    },
                    Operation::Delete => {
                        let _guard = self.write.lock().await;
                        self.view.delete(&key).await?;
                        Ok(Response::empty())
                    }
                    _ => Err(CoreError::UnsupportedOperation),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_secret_values_and_bad_fingerprints() {
        let err = parse_finding(0, &json!({"fingerprint": "ab", "secret": "x"}))
            .err()
            .unwrap();
        assert!(err.to_string().contains("never stores secret values"), "{err}");
        assert!(parse_finding(0, &json!({"fingerprint": "../x"})).is_err());
        assert!(parse_finding(0, &json!({"fingerprint": "ab", "reference": "http://x"})).is_err());
        assert!(parse_finding(0, &json!({"fingerprint": "ab", "line": -1})).is_err());
    }

    #[test]
    fn merge_keeps_first_seen_and_dedupes_locations() {
        let rep = |line: u64, reference: Option<&str>| {
            let mut v = json!({"fingerprint": "fp1", "rule_id": "r", "kind": "k", "path": "a", "line": line});
            if let Some(r) = reference {
                v["reference"] = json!(r);
            }
            parse_finding(0, &v).unwrap()
        };
        let rec = merge(None, rep(1, None), "t1");
        let rec = merge(Some(rec), rep(1, None), "t2");
        let rec = merge(Some(rec), rep(2, Some("coffer://s/x#value")), "t3");
        let rec = merge(Some(rec), rep(2, None), "t4");
        assert_eq!((rec.first_seen.as_str(), rec.last_seen.as_str()), ("t1", "t4"));
        assert_eq!(rec.locations.iter().map(|l| l.line).collect::<Vec<_>>(), [1, 2]);
        assert!(rec.onboarded, "onboarding is not undone by a later plain report");
        assert_eq!(rec.reference.as_deref(), Some("coffer://s/x#value"));
    }
}

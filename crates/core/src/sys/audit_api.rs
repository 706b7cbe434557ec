//! `sys/audit` (list), `sys/audit/<path>` (enable, disable) and `sys/audit-hash/<path>`.

use super::is_write;
use crate::audit::{AuditBroker, AuditDeviceInfo};
use crate::fields::{bool_field, str_field};
use crate::request::{Operation, Response, ignored_fields_warning};
use crate::{CoreError, Result};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const ENABLE_FIELDS: &[&str] = &["type", "description", "options", "local"];

/// Serves the audit endpoints; `None` for other paths.
pub(super) async fn handle(
    audit: &AuditBroker,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    if rel == "audit" || rel == "audit/" {
        return match op {
            Operation::Read | Operation::List => Ok(Some(list(audit))),
            _ => Err(CoreError::UnsupportedOperation),
        };
    }
    if let Some(path) = rel.strip_prefix("audit-hash/") {
        if !is_write(op) {
            return Err(CoreError::UnsupportedOperation);
        }
        let input = str_field(data, "input")?.ok_or_else(|| CoreError::bad("missing required field \"input\""))?;
        let hash = audit.hash(path, input)?;
        return Ok(Some(Response::data(json!({ "hash": hash }))));
    }
    let Some(path) = rel.strip_prefix("audit/") else {
        return Ok(None);
    };
    Ok(Some(match op {
        _ if is_write(op) => {
            let kind = match data.get("type") {
                Some(Value::String(t)) if !t.is_empty() => t.as_str(),
                _ => return Err(CoreError::bad("audit device type must be specified as a string")),
            };
            let description = str_field(data, "description")?.unwrap_or("");
            let local = bool_field(data, "local")?.unwrap_or(false);
            audit.enable(path, kind, description, options(data)?, local).await?;
            let mut resp = Response::empty();
            resp.warnings.extend(ignored_fields_warning(data, ENABLE_FIELDS));
            resp
        }
        Operation::Delete => {
            audit.disable(path).await?;
            Response::empty()
        }
        _ => return Err(CoreError::UnsupportedOperation),
    }))
}

fn list(audit: &AuditBroker) -> Response {
    let devices: Map<String, Value> = audit.list().into_iter().map(|d| (d.path.clone(), info(&d))).collect();
    Response::data(Value::Object(devices))
}

/// The JSON Vault shows for an audit device.
fn info(d: &AuditDeviceInfo) -> Value {
    json!({
        "type": d.kind,
        "description": d.description,
        "options": d.options,
        "local": d.local,
        "path": d.path,
    })
}

fn options(data: &Map<String, Value>) -> Result<HashMap<String, String>> {
    crate::fields::options_map(data, "options")
}

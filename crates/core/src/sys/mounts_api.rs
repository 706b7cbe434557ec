//! `sys/mounts`, `sys/mounts/<path>`, `sys/mounts/<path>/tune` and the read-only `sys/auth`.

use super::is_write;
use crate::core::{Core, Unsealed, normalize_kind};
use crate::duration::parse_field;
use crate::mounts::{MountEntry, normalize_path};
use crate::request::{Operation, Response, ignored_fields_warning};
use crate::{CoreError, Result};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Prefixes no user mount may take.
const RESERVED: &[&str] = &["sys/", "auth/", "cubbyhole/", "identity/", "coffer/"];

pub(super) async fn handle(
    core: &Core,
    state: &Arc<Unsealed>,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    if rel == "mounts" && op == Operation::Read {
        return Ok(Some(list(state, false)));
    }
    if rel == "auth" && op == Operation::Read {
        return Ok(Some(list(state, true)));
    }
    let (auth, rest) = match (rel.strip_prefix("mounts/"), rel.strip_prefix("auth/")) {
        (Some(rest), _) => (false, rest),
        (None, Some(rest)) => (true, rest),
        _ => return Ok(None),
    };
    let full_path = |p: &str| -> Result<String> {
        let p = normalize_path(p)?;
        Ok(if auth { format!("auth/{p}") } else { p })
    };
    if let Some(path) = rest.strip_suffix("/tune") {
        let path = full_path(path)?;
        return Ok(Some(match op {
            Operation::Read => {
                let table = state.mounts.load();
                let route = table
                    .get(&path)
                    .ok_or_else(|| CoreError::bad(format!("cannot fetch sysview for path \"{path}\"")))?;
                Response::data(tune_info(core, &route.entry))
            }
            _ if is_write(op) => {
                tune(core, &path, data).await?;
                Response::empty()
            }
            _ => return Err(CoreError::UnsupportedOperation),
        }));
    }
    let path = full_path(rest)?;
    let reserved = |path: &str| {
        if auth {
            path == "auth/token/"
        } else {
            RESERVED.iter().any(|r| path.starts_with(r))
        }
    };
    Ok(Some(match op {
        Operation::Read => {
            let table = state.mounts.load();
            let route = table
                .get(&path)
                .ok_or_else(|| CoreError::bad(format!("no secret engine mount at {path}")))?;
            Response::data(mount_info(&route.entry))
        }
        _ if is_write(op) => {
            if reserved(&path) {
                return Err(CoreError::bad(format!("cannot mount at reserved path \"{path}\"")));
            }
            enable(core, &path, data).await?;
            let mut resp = Response::empty();
            resp.warnings.extend(ignored_fields_warning(data, ENABLE_FIELDS));
            resp
        }
        Operation::Delete => {
            if reserved(&path) {
                return Err(CoreError::bad(format!("cannot unmount \"{path}\"")));
            }
            core.unmount(&path).await?;
            Response::empty()
        }
        _ => return Err(CoreError::UnsupportedOperation),
    }))
}

fn list(state: &Unsealed, auth: bool) -> Response {
    let table = state.mounts.load();
    let mut data = Map::new();
    for entry in table.entries() {
        if entry.is_auth() == auth {
            let key = if auth {
                entry.path.trim_start_matches("auth/").to_string()
            } else {
                entry.path.clone()
            };
            data.insert(key, mount_info(entry));
        }
    }
    Response::data(Value::Object(data))
}

/// The JSON Vault shows for a mount.
pub(crate) fn mount_info(entry: &MountEntry) -> Value {
    json!({
        "type": entry.kind,
        "description": entry.description,
        "accessor": entry.accessor,
        "uuid": entry.uuid,
        "config": {
            "default_lease_ttl": entry.config.default_lease_ttl,
            "max_lease_ttl": entry.config.max_lease_ttl,
            "force_no_cache": false,
            "audit_non_hmac_request_keys": entry.config.audit_non_hmac_request_keys,
            "audit_non_hmac_response_keys": entry.config.audit_non_hmac_response_keys,
        },
        "options": if entry.options.is_empty() { Value::Null } else { json!(entry.options) },
        "local": entry.local,
        "seal_wrap": entry.seal_wrap,
        "external_entropy_access": false,
        "plugin_version": "",
        "running_plugin_version": "",
        "running_sha256": "",
    })
}

fn tune_info(core: &Core, entry: &MountEntry) -> Value {
    let pick = |v: u64, d: u64| if v == 0 { d } else { v };
    json!({
        "description": entry.description,
        "default_lease_ttl": pick(entry.config.default_lease_ttl, core.config().default_lease_ttl),
        "max_lease_ttl": pick(entry.config.max_lease_ttl, core.config().max_lease_ttl),
        "force_no_cache": false,
        "options": if entry.options.is_empty() { Value::Null } else { json!(entry.options) },
    })
}

fn options_field(data: &Map<String, Value>) -> Result<HashMap<String, String>> {
    crate::fields::options_map(data, "options")
}

fn config_ttls(data: &Map<String, Value>, entry: &mut MountEntry) -> Result<()> {
    if let Some(ttl) = parse_field(data, "default_lease_ttl")? {
        entry.config.default_lease_ttl = ttl;
    }
    if let Some(ttl) = parse_field(data, "max_lease_ttl")? {
        entry.config.max_lease_ttl = ttl;
    }
    for (field, slot) in [
        (
            "audit_non_hmac_request_keys",
            &mut entry.config.audit_non_hmac_request_keys,
        ),
        (
            "audit_non_hmac_response_keys",
            &mut entry.config.audit_non_hmac_response_keys,
        ),
    ] {
        if let Some(keys) = crate::fields::string_list(data, field)? {
            *slot = keys;
        }
    }
    if entry.config.max_lease_ttl != 0 && entry.config.default_lease_ttl > entry.config.max_lease_ttl {
        return Err(CoreError::bad("default lease TTL cannot be greater than max lease TTL"));
    }
    Ok(())
}

const ENABLE_FIELDS: &[&str] = &[
    "type",
    "description",
    "config",
    "options",
    "local",
    "seal_wrap",
    "external_entropy_access",
    "plugin_name",
    "plugin_version",
];

async fn enable(core: &Core, path: &str, data: &Map<String, Value>) -> Result<()> {
    let kind = match data.get("type") {
        Some(Value::String(t)) if !t.is_empty() => t.as_str(),
        _ => return Err(CoreError::bad("backend type must be specified as a string")),
    };
    let mut options = options_field(data)?;
    let kind = normalize_kind(kind, &mut options);
    let description = data.get("description").and_then(Value::as_str).unwrap_or("");
    let mut entry = MountEntry::new(path, &kind, description);
    entry.options = options;
    entry.local = data.get("local").and_then(Value::as_bool).unwrap_or(false);
    entry.seal_wrap = data.get("seal_wrap").and_then(Value::as_bool).unwrap_or(false);
    match data.get("config") {
        None | Some(Value::Null) => {}
        Some(Value::Object(config)) => config_ttls(config, &mut entry)?,
        Some(_) => return Err(CoreError::bad("\"config\" must be an object")),
    }
    core.mount(entry).await
}

async fn tune(core: &Core, path: &str, data: &Map<String, Value>) -> Result<()> {
    let new_options = options_field(data)?;
    let description = data.get("description").and_then(Value::as_str).map(str::to_string);
    core.retune(path, |entry| {
        config_ttls(data, entry)?;
        if let Some(d) = description {
            entry.description = d;
        }
        for (k, v) in new_options {
            if k == "version" && entry.kind == "kv" {
                let current = entry.options.get("version").map(String::as_str).unwrap_or("1");
                if v != current && !(current == "1" && v == "2") {
                    return Err(CoreError::bad("kv mounts can only be upgraded from version 1 to 2"));
                }
                if current == "1" && v == "2" {
                    return Err(CoreError::bad(
                        "upgrading a kv mount from version 1 to 2 is not supported yet",
                    ));
                }
            }
            entry.options.insert(k, v);
        }
        Ok(())
    })
    .await
}

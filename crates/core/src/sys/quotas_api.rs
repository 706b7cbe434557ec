//! `sys/quotas/config` and `sys/quotas/rate-limit[/<name>]` (Vault's rate limit quota API).
//! The enforcement itself is `crate::quotas`.

use super::is_write;
use crate::core::Unsealed;
use crate::fields::{bool_field, str_field, string_list};
use crate::quotas::{MAX_INTERVAL, RateLimitQuota};
use crate::request::{Operation, Response, ignored_fields_warning};
use crate::{CoreError, Result};
use serde_json::{Map, Value, json};

const QUOTA_FIELDS: &[&str] = &[
    "name",
    "path",
    "rate",
    "interval",
    "block_interval",
    "role",
    "type",
    "inheritable",
];

/// Serves the quota endpoints; `None` for other paths.
pub(super) async fn handle(
    state: &Unsealed,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    let quotas = &state.quotas;
    if rel == "quotas/config" {
        return Ok(Some(match op {
            Operation::Read => {
                let c = quotas.config();
                Response::data(json!({
                    "enable_rate_limit_audit_logging": c.enable_rate_limit_audit_logging,
                    "enable_rate_limit_response_headers": c.enable_rate_limit_response_headers,
                    "rate_limit_exempt_paths": c.rate_limit_exempt_paths,
                }))
            }
            _ if is_write(op) => {
                // Fields left out keep their value.
                let mut c = quotas.config();
                if let Some(v) = bool_field(data, "enable_rate_limit_audit_logging")? {
                    c.enable_rate_limit_audit_logging = v;
                }
                if let Some(v) = bool_field(data, "enable_rate_limit_response_headers")? {
                    c.enable_rate_limit_response_headers = v;
                }
                if let Some(paths) = string_list(data, "rate_limit_exempt_paths")? {
                    c.rate_limit_exempt_paths = paths.iter().map(|p| p.trim_start_matches('/').to_string()).collect();
                }
                quotas.set_config(c).await?;
                Response::empty()
            }
            _ => return Err(CoreError::UnsupportedOperation),
        }));
    }
    if rel == "quotas/rate-limit" || rel == "quotas/rate-limit/" {
        return match op {
            Operation::List | Operation::Read => {
                let names = quotas.names();
                if names.is_empty() {
                    return Err(CoreError::NotFound(String::new()));
                }
                Ok(Some(Response::list(names)))
            }
            _ => Err(CoreError::UnsupportedOperation),
        };
    }
    let Some(name) = rel.strip_prefix("quotas/rate-limit/") else {
        return Ok(None);
    };
    if name.is_empty() || name.contains('/') || name.contains("..") || name.chars().any(char::is_control) {
        return Err(CoreError::bad(format!("invalid quota name \"{name}\"")));
    }
    Ok(Some(match op {
        Operation::Read => {
            let q = quotas.get(name).ok_or_else(|| CoreError::NotFound(String::new()))?;
            Response::data(json!({
                "type": "rate-limit",
                "name": q.name,
                "path": q.path,
                "role": q.role,
                "rate": q.rate,
                "inheritable": q.path.is_empty(),
                "interval": q.interval,
                "block_interval": q.block_interval,
            }))
        }
        _ if is_write(op) => {
            let quota = parse_quota(state, name, data)?;
            quotas.put(quota).await?;
            let mut resp = Response::empty();
            resp.warnings.extend(ignored_fields_warning(data, QUOTA_FIELDS));
            resp
        }
        Operation::Delete => {
            quotas.delete(name).await?;
            Response::empty()
        }
        _ => return Err(CoreError::UnsupportedOperation),
    }))
}

/// Validates a write (Vault replaces the whole quota: absent fields take their defaults).
fn parse_quota(state: &Unsealed, name: &str, data: &Map<String, Value>) -> Result<RateLimitQuota> {
    let rate = match data.get("rate") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let rate = match rate {
        Some(r) if r.is_finite() && r > 0.0 => r,
        _ => return Err(CoreError::bad("'rate' is invalid")),
    };
    let interval = crate::duration::parse_field(data, "interval")?.unwrap_or(0);
    let interval = if interval == 0 { 1 } else { interval };
    let block_interval = crate::duration::parse_field(data, "block_interval")?.unwrap_or(0);
    if interval > MAX_INTERVAL || block_interval > MAX_INTERVAL {
        return Err(CoreError::bad(
            "'interval' and 'block_interval' cannot exceed ten years",
        ));
    }
    if !str_field(data, "role")?.unwrap_or("").is_empty() {
        return Err(CoreError::bad("role-based rate limit quotas are not supported"));
    }
    let path = normalize_path(state, str_field(data, "path")?.unwrap_or(""))?;
    Ok(RateLimitQuota {
        name: name.to_string(),
        path,
        rate,
        interval,
        block_interval,
        role: String::new(),
    })
}

/// `""` stays global; a mount is stored with its trailing slash (`auth/userpass/`); a path
/// under a mount without one; a trailing `*` is kept. The mount must exist.
fn normalize_path(state: &Unsealed, path: &str) -> Result<String> {
    let path = path.trim().trim_start_matches('/');
    if path.is_empty() {
        return Ok(String::new());
    }
    if path.chars().any(char::is_control) || path.split('/').any(|s| s == "..") {
        return Err(CoreError::bad(format!("invalid path \"{path}\"")));
    }
    let (base, glob) = match path.strip_suffix('*') {
        Some(base) => (base, true),
        None => (path.trim_end_matches('/'), false),
    };
    let mounts = state.mounts.load();
    let Some((route, _)) = mounts.route(base) else {
        return Err(CoreError::bad(format!("invalid mount path \"{base}\"")));
    };
    let mount = route.entry.path.as_str();
    Ok(match glob {
        true => path.to_string(),
        false if mount.trim_end_matches('/') == base => mount.to_string(),
        false => base.to_string(),
    })
}

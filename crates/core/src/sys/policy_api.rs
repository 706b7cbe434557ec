//! `sys/policy`, `sys/policies/acl`, and `sys/capabilities{,-self,-accessor}`.

use super::is_write;
use crate::core::Unsealed;
use crate::fields::string_list;
use crate::request::{Operation, Response};
use crate::token::TokenEntry;
use crate::{CoreError, Result};
use coffer_policy::Acl;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(super) async fn handle(
    state: &Arc<Unsealed>,
    acl: &Arc<Acl>,
    caller: &Arc<TokenEntry>,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    let store = &state.policies;
    Ok(Some(match rel {
        "policy" | "policies/acl" | "policies/acl/" if matches!(op, Operation::Read | Operation::List) => {
            let names = store.list().await?;
            if rel == "policy" {
                Response::data(json!({ "policies": names, "keys": names }))
            } else {
                Response::list(names)
            }
        }
        "capabilities-self" if is_write(op) => capabilities(acl, data)?,
        "capabilities" if is_write(op) => {
            let token = match data.get("token") {
                Some(Value::String(t)) if !t.is_empty() => SecretString::from(t.clone()),
                _ => return Err(CoreError::bad("missing token")),
            };
            let entry = state
                .tokens
                .lookup(&token)
                .await?
                .ok_or_else(|| CoreError::bad("invalid token"))?;
            let target: Arc<Acl> = state.policies.acl(&entry.policies).await?;
            capabilities(&target, data)?
        }
        "capabilities-accessor" if is_write(op) => {
            let accessor = data.get("accessor").and_then(Value::as_str).unwrap_or_default();
            let entry = state
                .tokens
                .lookup_accessor(accessor)
                .await?
                .ok_or_else(|| CoreError::bad("invalid accessor"))?;
            let target: Arc<Acl> = state.policies.acl(&entry.policies).await?;
            capabilities(&target, data)?
        }
        _ => {
            let (name, legacy) = if let Some(n) = rel.strip_prefix("policy/") {
                (n, true)
            } else if let Some(n) = rel.strip_prefix("policies/acl/") {
                (n, false)
            } else {
                return Ok(None);
            };
            let _ = caller;
            match op {
                Operation::Read => {
                    let name = crate::policy_store::validate_name(name)?;
                    let raw = if name == coffer_policy::ROOT_POLICY {
                        String::new()
                    } else {
                        let policy = store
                            .get(&name)
                            .await?
                            .ok_or_else(|| CoreError::NotFound(String::new()))?;
                        policy.raw().to_string()
                    };
                    let field = if legacy { "rules" } else { "policy" };
                    Response::data(json!({ "name": name, field: raw }))
                }
                _ if is_write(op) => {
                    let raw = ["policy", "rules"]
                        .iter()
                        .find_map(|f| data.get(*f).and_then(Value::as_str))
                        .ok_or_else(|| CoreError::bad("'policy' parameter not supplied or empty"))?;
                    store.put(name, raw).await?;
                    Response::empty()
                }
                Operation::Delete => {
                    store.delete(name).await?;
                    Response::empty()
                }
                _ => return Err(CoreError::UnsupportedOperation),
            }
        }
    }))
}

fn capabilities(acl: &Acl, data: &Map<String, Value>) -> Result<Response> {
    let mut paths = string_list(data, "paths")?.unwrap_or_default();
    if let Some(p) = data.get("path").and_then(Value::as_str) {
        paths.push(p.to_string());
    }
    if paths.is_empty() {
        return Err(CoreError::bad("missing path"));
    }
    let mut out = Map::new();
    let mut all = Vec::new();
    for path in &paths {
        let path = path.trim_start_matches('/');
        let caps = if acl.is_root() {
            vec!["root".to_string()]
        } else {
            let c = acl.capabilities(path);
            if c.is_empty() {
                vec!["deny".to_string()]
            } else {
                c.to_strings()
            }
        };
        all.extend(caps.iter().cloned());
        out.insert(path.to_string(), json!(caps));
    }
    all.sort();
    all.dedup();
    out.insert("capabilities".into(), json!(all));
    Ok(Response::data(Value::Object(out)))
}

//! Routing of `identity/*` requests to the entity, alias, group and lookup handlers, and the
//! parsing of their parameters (Vault accepts lists as arrays or comma-separated strings,
//! metadata as an object or `key=value` pairs).

use super::{IdentityStore, MountLookup};
use crate::request::{Operation, Response};
use crate::{CoreError, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Typed access to a request body.
pub(super) struct Params<'a>(pub &'a Map<String, Value>);

impl Params<'_> {
    /// A string parameter; numbers are accepted and printed; `null` is absent.
    pub(super) fn string(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A list of strings: a JSON array or a comma-separated string. `null` is absent.
    pub(super) fn list(&self, key: &str) -> Result<Option<Vec<String>>> {
        let items: Vec<String> = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.trim().to_string()),
                    _ => Err(CoreError::bad(format!("{key}: expected a list of strings"))),
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(CoreError::bad(format!("{key}: expected a list of strings"))),
        };
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            if !item.is_empty() && !out.contains(&item) {
                out.push(item);
            }
        }
        Ok(Some(out))
    }

    /// Key/value pairs: a JSON object (values printed if not strings) or `key=value` strings.
    pub(super) fn metadata(&self, key: &str) -> Result<Option<BTreeMap<String, String>>> {
        let bad = || CoreError::bad(format!("{key}: expected an object or a list of key=value pairs"));
        let pair = |s: &str| -> Result<(String, String)> {
            let (k, v) = s.split_once('=').ok_or_else(bad)?;
            Ok((k.trim().to_string(), v.trim().to_string()))
        };
        Ok(Some(match self.0.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            Some(Value::String(s)) if s.trim().is_empty() => BTreeMap::new(),
            Some(Value::String(s)) => s.split(',').map(pair).collect::<Result<_>>()?,
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().ok_or_else(bad).and_then(pair))
                .collect::<Result<_>>()?,
            Some(_) => return Err(bad()),
        }))
    }

    /// A boolean: JSON bool or `"true"`/`"false"`. `null` is absent.
    pub(super) fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" | "" => Ok(Some(false)),
                _ => Err(CoreError::bad(format!("{key}: expected a boolean"))),
            },
            Some(_) => Err(CoreError::bad(format!("{key}: expected a boolean"))),
        }
    }
}

/// A LIST answer; Vault answers 404 when there is nothing to list.
pub(super) fn list_response(keys: Vec<String>, key_info: Option<Map<String, Value>>) -> Result<Response> {
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    let mut data = Map::new();
    data.insert("keys".into(), Value::from(keys));
    if let Some(info) = key_info {
        data.insert("key_info".into(), Value::Object(info));
    }
    Ok(Response::data(Value::Object(data)))
}

/// Dispatches one `identity/<rel>` request.
pub(super) async fn route(
    store: &IdentityStore,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
    mounts: Option<MountLookup<'_>>,
) -> Result<Response> {
    use Operation::{Create, Delete, List, Read, Update};
    let p = Params(data);
    let parts: Vec<&str> = rel.trim_end_matches('/').split('/').collect();
    let write = matches!(op, Create | Update);
    match (parts.as_slice(), op) {
        (["entity"], _) if write => store.write_entity(None, &p).await,
        (["entity", by @ ("id" | "name")], List) => store.list_entities(*by == "name", mounts).await,
        (["entity", by @ ("id" | "name"), key], _) if write => store.write_entity(Some((*by, *key)), &p).await,
        (["entity", by @ ("id" | "name"), key], Read) => store.read_entity((*by, *key), mounts).await,
        (["entity", by @ ("id" | "name"), key], Delete) => store.delete_entity((*by, *key)).await,
        (["entity", "batch-delete"], _) if write => store.batch_delete_entities(&p).await,
        (["entity", "merge"], _) if write => store.merge_entities(&p).await,
        (["entity-alias"], _) if write => store.write_alias(None, &p, mounts).await,
        (["entity-alias", "id"], List) => store.list_aliases(mounts).await,
        (["entity-alias", "id", id], _) if write => store.write_alias(Some(id), &p, mounts).await,
        (["entity-alias", "id", id], Read) => store.read_alias(id, mounts).await,
        (["entity-alias", "id", id], Delete) => store.delete_alias(id).await,
        (["group"], _) if write => store.write_group(None, &p).await,
        (["group", by @ ("id" | "name")], List) => store.list_groups(*by == "name").await,
        (["group", by @ ("id" | "name"), key], _) if write => store.write_group(Some((*by, *key)), &p).await,
        (["group", by @ ("id" | "name"), key], Read) => store.read_group((*by, *key)).await,
        (["group", by @ ("id" | "name"), key], Delete) => store.delete_group((*by, *key)).await,
        (["lookup", "entity"], _) if write => store.lookup_entity(&p, mounts).await,
        (["lookup", "group"], _) if write => store.lookup_group(&p).await,
        (
            ["entity" | "entity-alias" | "group"]
            | ["entity" | "entity-alias" | "group", _]
            | ["entity" | "entity-alias" | "group", "id" | "name", _]
            | ["lookup", "entity" | "group"],
            _,
        ) => Err(CoreError::UnsupportedOperation),
        _ => Err(CoreError::NoRoute(format!("identity/{rel}"))),
    }
}

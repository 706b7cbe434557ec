//! `subkeys/<path>`: the structure of a version's data with every leaf value replaced by
//! `null`, optionally cut at a nesting `depth`.

use super::clock;
use super::data::version_param;
use super::store::{Store, not_found, not_found_with};
use crate::kv::fields;
use coffer_core::backend::BackendRequest;
use coffer_core::request::{Operation, Response};
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};

/// Handles a request on `subkeys/<key>`.
pub async fn handle(store: &Store, req: &BackendRequest<'_>, key: &str) -> Result<Response> {
    if req.operation != Operation::Read {
        return Err(CoreError::UnsupportedOperation);
    }
    let key = fields::secret_key(key)?;
    let version = version_param(req)?;
    let depth = fields::uint(req.data, "depth")?.unwrap_or(0);
    let meta = store.meta(key).await?.ok_or_else(not_found)?;
    let number = version.unwrap_or(meta.current_version);
    let vm = meta.versions.get(&number).ok_or_else(not_found)?;
    let mut body = Map::new();
    body.insert("subkeys".into(), Value::Null);
    body.insert("metadata".into(), Value::Object(meta.version_json(number, vm)));
    if !vm.is_live(clock::now_nanos()) {
        return Ok(not_found_with(body));
    }
    let Some(data) = store.version_data(key, number).await? else {
        return Ok(not_found_with(body));
    };
    body.insert("subkeys".into(), Value::Object(strip(&data, 1, depth)));
    Ok(Response::data(Value::Object(body)))
}

/// Replaces leaves with `null`; objects below `max_depth` (0 = unlimited) become `null` too.
/// Empty objects are leaves.
pub fn strip(map: &Map<String, Value>, depth: u64, max_depth: u64) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| {
            let inner = match v {
                Value::Object(child) if !child.is_empty() && (max_depth == 0 || depth < max_depth) => {
                    Value::Object(strip(child, depth + 1, max_depth))
                }
                _ => Value::Null,
            };
            (k.clone(), inner)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_values_and_cuts_depth() {
        let data = json!({"a": 1, "b": {"c": "x", "d": {"e": true}}, "f": {}, "g": [1]});
        let Value::Object(m) = data else { unreachable!() };
        assert_eq!(
            Value::Object(strip(&m, 1, 0)),
            json!({"a": null, "b": {"c": null, "d": {"e": null}}, "f": null, "g": null})
        );
        assert_eq!(
            Value::Object(strip(&m, 1, 1)),
            json!({"a": null, "b": null, "f": null, "g": null})
        );
        assert_eq!(
            Value::Object(strip(&m, 1, 2)),
            json!({"a": null, "b": {"c": null, "d": null}, "f": null, "g": null})
        );
    }
}

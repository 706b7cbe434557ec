//! `metadata/<path>`: read, write and patch a secret's settings and custom metadata, list
//! keys, and delete a secret with all its versions.

use super::clock;
use super::store::{KeyMeta, META_PREFIX, Store, meta_key, not_found, version_key};
use crate::kv::fields;
use coffer_core::backend::BackendRequest;
use coffer_core::duration::parse_seconds;
use coffer_core::request::{Operation, Response};
use coffer_core::view::ViewOp;
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const MAX_KEYS: usize = 64;
const MAX_KEY_LEN: usize = 128;
const MAX_VALUE_LEN: usize = 512;
const PREFIX: &str = "custom_metadata validation failed";
const CAS_WARNING: &str =
    "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.";

/// Dispatches a request on `metadata/<key>`.
pub async fn handle(store: &Store, req: &BackendRequest<'_>, key: &str) -> Result<Response> {
    match req.operation {
        Operation::List => list(store, key).await,
        Operation::Read => read(store, fields::secret_key(key)?).await,
        Operation::Create | Operation::Update => write(store, req, fields::secret_key(key)?, false).await,
        Operation::Patch => write(store, req, fields::secret_key(key)?, true).await,
        Operation::Delete => delete(store, fields::secret_key(key)?).await,
    }
}

async fn list(store: &Store, path: &str) -> Result<Response> {
    let keys = store
        .view()
        .list(&format!("{META_PREFIX}{}", fields::folder(path)))
        .await?;
    if keys.is_empty() {
        return Err(not_found());
    }
    Ok(Response::list(keys))
}

async fn read(store: &Store, key: &str) -> Result<Response> {
    let meta = store.meta(key).await?.ok_or_else(not_found)?;
    Ok(Response::data(meta.to_json()))
}

/// A setting of a metadata write or patch: absent, reset to its default (`null` in a
/// patch), or set.
enum Change<T> {
    Keep,
    Reset,
    Set(T),
}

impl<T> Change<T> {
    fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }

    fn apply(self, slot: &mut T)
    where
        T: Default,
    {
        match self {
            Change::Keep => {}
            Change::Reset => *slot = T::default(),
            Change::Set(v) => *slot = v,
        }
    }
}

fn change<T>(
    data: &Map<String, Value>,
    name: &str,
    is_patch: bool,
    parse: impl FnOnce(&Map<String, Value>) -> Result<Option<T>>,
) -> Result<Change<T>> {
    match data.get(name) {
        None => Ok(Change::Keep),
        Some(Value::Null) if is_patch => Ok(Change::Reset),
        Some(Value::Null) => Ok(Change::Keep),
        Some(_) => Ok(parse(data)?.map_or(Change::Reset, Change::Set)),
    }
}

fn max_versions(data: &Map<String, Value>) -> Result<Option<u32>> {
    match fields::uint(data, "max_versions")? {
        None => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| CoreError::bad("field \"max_versions\" is too large")),
    }
}

fn delete_version_after(data: &Map<String, Value>) -> Result<Option<i64>> {
    let Some(raw) = data.get("delete_version_after") else {
        return Ok(None);
    };
    let secs = parse_seconds(raw).map_err(|e| CoreError::bad(format!("field \"delete_version_after\": {e}")))?;
    if secs < 0 {
        return Err(CoreError::bad("delete_version_after cannot be negative"));
    }
    Ok(Some(secs))
}

/// Decodes `custom_metadata` values to strings as Vault does (numbers and booleans weakly);
/// with `drop_nulls` (patch), `null` values mean "remove this key" and are returned as `None`.
fn custom_metadata(raw: &Map<String, Value>, drop_nulls: bool) -> Result<BTreeMap<String, Option<String>>> {
    raw.iter()
        .map(|(k, v)| {
            let s = match v {
                Value::Null if drop_nulls => None,
                Value::Null => Some(String::new()),
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
                _ => {
                    return Err(CoreError::bad(format!(
                        "{PREFIX}: value for key {k:?} must be a string"
                    )));
                }
            };
            Ok((k.clone(), s))
        })
        .collect()
}

/// Vault's limits on custom metadata, with all violations reported at once in
/// go-multierror's format.
pub fn validate_custom_metadata(map: &BTreeMap<String, String>) -> Result<()> {
    if map.len() > MAX_KEYS {
        return Err(multi_error(vec![format!(
            "{PREFIX}: payload must contain at most {MAX_KEYS} keys, provided {}",
            map.len()
        )]));
    }
    let mut errors = Vec::new();
    for (k, v) in map {
        if k.is_empty() || k.len() > MAX_KEY_LEN {
            errors.push(format!(
                "{PREFIX}: length of key {k:?} is {} but must be 0 < len(key) <= {MAX_KEY_LEN}",
                k.len()
            ));
        }
        if v.is_empty() || v.len() > MAX_VALUE_LEN {
            errors.push(format!(
                "{PREFIX}: length of value for key {k:?} is {} but must be 0 < len(value) <= {MAX_VALUE_LEN}",
                v.len()
            ));
        }
        if k.chars().any(char::is_control) {
            errors.push(format!("{PREFIX}: key {k:?} contains unprintable characters"));
        }
        if v.chars().any(char::is_control) {
            errors.push(format!("{PREFIX}: value for key {k:?} contains unprintable characters"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(multi_error(errors))
    }
}

fn multi_error(errors: Vec<String>) -> CoreError {
    let points: Vec<String> = errors.iter().map(|e| format!("* {e}")).collect();
    let head = if errors.len() == 1 {
        "1 error occurred:".to_string()
    } else {
        format!("{} errors occurred:", errors.len())
    };
    CoreError::bad(format!("{head}\n\t{}\n\n", points.join("\n\t")))
}

async fn write(store: &Store, req: &BackendRequest<'_>, key: &str, is_patch: bool) -> Result<Response> {
    let data = req.data;
    // Parse and validate everything before touching storage.
    let max = change(data, "max_versions", is_patch, max_versions)?;
    let cas = change(data, "cas_required", is_patch, |d| fields::boolean(d, "cas_required"))?;
    let dva = change(data, "delete_version_after", is_patch, delete_version_after)?;
    let custom = match data.get("custom_metadata") {
        None => Change::Keep,
        Some(Value::Null) if is_patch => Change::Reset,
        Some(Value::Null) => Change::Keep,
        Some(Value::Object(m)) => Change::Set(custom_metadata(m, is_patch)?),
        Some(_) => return Err(CoreError::bad("field \"custom_metadata\" must be a JSON object")),
    };
    if !is_patch {
        if let Change::Set(m) = &custom {
            let full: BTreeMap<String, String> = m
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                .collect();
            validate_custom_metadata(&full)?;
        }
        if max.is_keep() && cas.is_keep() && dva.is_keep() && custom.is_keep() {
            return Ok(Response::empty());
        }
    }

    let config = store.config().await?;
    let mut warnings = Vec::new();
    if matches!(cas, Change::Set(false)) && config.cas_required {
        warnings.push(CAS_WARNING.to_string());
    }

    let _guard = store.lock(key).await;
    let mut meta = match store.meta(key).await? {
        Some(meta) => meta,
        None if is_patch => return Err(not_found()),
        None => {
            let now = clock::now_nanos();
            KeyMeta {
                created_time: Some(now),
                updated_time: Some(now),
                ..Default::default()
            }
        }
    };
    max.apply(&mut meta.max_versions);
    cas.apply(&mut meta.cas_required);
    dva.apply(&mut meta.delete_version_after);
    match custom {
        Change::Keep => {}
        Change::Reset => meta.custom_metadata = None,
        Change::Set(m) if is_patch => {
            let mut merged = meta.custom_metadata.take().unwrap_or_default();
            for (k, v) in m {
                match v {
                    Some(v) => merged.insert(k, v),
                    None => merged.remove(&k),
                };
            }
            validate_custom_metadata(&merged)?;
            meta.custom_metadata = Some(merged);
        }
        Change::Set(m) => {
            meta.custom_metadata = Some(m.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect());
        }
    }
    store.commit(vec![Store::put_meta_op(key, &meta)?]).await?;
    Ok(Response {
        warnings,
        ..Default::default()
    })
}

async fn delete(store: &Store, key: &str) -> Result<Response> {
    let _guard = store.lock(key).await;
    let Some(meta) = store.meta(key).await? else {
        return Ok(Response::empty());
    };
    let mut ops: Vec<ViewOp> = meta
        .versions
        .keys()
        .map(|n| ViewOp::Delete(version_key(key, *n)))
        .collect();
    ops.push(ViewOp::Delete(meta_key(key)));
    store.commit(ops).await?;
    Ok(Response::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_metadata_limits() {
        let ok: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
        assert!(validate_custom_metadata(&ok).is_ok());
        let too_many: BTreeMap<String, String> = (0..65).map(|i| (format!("k{i}"), "v".to_string())).collect();
        let err = validate_custom_metadata(&too_many).unwrap_err().to_string();
        assert!(err.contains("at most 64 keys, provided 65"), "{err}");
        let bad: BTreeMap<String, String> =
            [("k".repeat(129), "v".to_string()), ("x".to_string(), "v".repeat(513))].into();
        let err = validate_custom_metadata(&bad).unwrap_err().to_string();
        assert!(err.starts_with("2 errors occurred:\n\t* "), "{err}");
        let ctl: BTreeMap<String, String> = [("a\u{7}".to_string(), "v".to_string())].into();
        assert!(validate_custom_metadata(&ctl).is_err());
    }
}

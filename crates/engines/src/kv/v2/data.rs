//! `data/<path>`: read a version, write a new version (with check-and-set), patch the latest
//! version with a JSON merge patch, and soft-delete the latest version.

use super::clock;
use super::store::{Config, KeyMeta, Store, not_found, not_found_with, version_key};
use crate::kv::fields;
use crate::kv::merge::merge_maps;
use coffer_core::backend::BackendRequest;
use coffer_core::request::{Operation, Response};
use coffer_core::view::{ViewOp, to_json};
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};

/// Dispatches a request on `data/<key>`.
pub async fn handle(store: &Store, req: &BackendRequest<'_>, key: &str) -> Result<Response> {
    match req.operation {
        Operation::Read => read(store, req, fields::secret_key(key)?).await,
        Operation::Create | Operation::Update => write(store, req, fields::secret_key(key)?).await,
        Operation::Patch => patch(store, req, fields::secret_key(key)?).await,
        Operation::Delete => delete_latest(store, fields::secret_key(key)?).await,
        Operation::List => Err(CoreError::UnsupportedOperation),
    }
}

/// The `version` query parameter: `None` (or 0) means the latest.
pub fn version_param(req: &BackendRequest<'_>) -> Result<Option<u64>> {
    Ok(fields::uint(req.data, "version")?.filter(|v| *v > 0))
}

async fn read(store: &Store, req: &BackendRequest<'_>, key: &str) -> Result<Response> {
    let version = version_param(req)?;
    let meta = store.meta(key).await?.ok_or_else(not_found)?;
    let number = version.unwrap_or(meta.current_version);
    let vm = meta.versions.get(&number).ok_or_else(not_found)?;
    let mut body = Map::new();
    body.insert("data".into(), Value::Null);
    body.insert("metadata".into(), Value::Object(meta.version_json(number, vm)));
    if !vm.is_live(clock::now_nanos()) {
        return Ok(not_found_with(body));
    }
    match store.version_data(key, number).await? {
        Some(data) => {
            body.insert("data".into(), Value::Object(data));
            Ok(Response::data(Value::Object(body)))
        }
        // Destroyed between our two reads.
        None => Ok(not_found_with(body)),
    }
}

/// The `options.cas` of a write; `None` when not given.
fn cas_param(req: &BackendRequest<'_>) -> Result<Option<u64>> {
    let Some(options) = fields::object(req.data, "options")? else {
        return Ok(None);
    };
    match options.get("cas") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match fields::as_int("cas", v) {
            Ok(n) if n >= 0 => Ok(Some(n as u64)),
            _ => Err(CoreError::bad("error parsing check-and-set parameter")),
        },
    }
}

fn check_cas(config: &Config, meta: &KeyMeta, cas: Option<u64>) -> Result<()> {
    match cas {
        Some(cas) if cas != meta.current_version => Err(CoreError::bad(
            "check-and-set parameter did not match the current version",
        )),
        Some(_) => Ok(()),
        None if config.cas_required || meta.cas_required => {
            Err(CoreError::bad("check-and-set parameter required for this call"))
        }
        None => Ok(()),
    }
}

/// The `data` object of a write or patch body.
fn data_param<'a>(req: &'a BackendRequest<'_>) -> Result<&'a Map<String, Value>> {
    match req.data.get("data") {
        None | Some(Value::Null) => Err(CoreError::bad("no data provided")),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(CoreError::bad("field \"data\" must be a JSON object")),
    }
}

async fn write(store: &Store, req: &BackendRequest<'_>, key: &str) -> Result<Response> {
    let data = data_param(req)?;
    let cas = cas_param(req)?;
    let _guard = store.lock(key).await;
    let config = store.config().await?;
    let mut meta = store.meta(key).await?.unwrap_or_default();
    check_cas(&config, &meta, cas)?;
    append_version(store, key, &config, &mut meta, data).await
}

/// Appends `data` as the next version of `key` in one atomic batch (metadata, data, and
/// the deletion of trimmed versions) and answers with the new version's metadata.
async fn append_version(
    store: &Store,
    key: &str,
    config: &Config,
    meta: &mut KeyMeta,
    data: &Map<String, Value>,
) -> Result<Response> {
    let now = clock::now_nanos();
    let deletion = meta.deletion_time(config, now);
    let removed = meta.add_version(now, deletion, config.max_versions);
    let number = meta.current_version;
    let mut ops = vec![
        ViewOp::Put(version_key(key, number), to_json(data)?),
        Store::put_meta_op(key, meta)?,
    ];
    ops.extend(removed.into_iter().map(|n| ViewOp::Delete(version_key(key, n))));
    store.commit(ops).await?;
    let vm = meta.versions.get(&number).cloned().unwrap_or_default();
    Ok(Response::data(Value::Object(meta.version_json(number, &vm))))
}

async fn patch(store: &Store, req: &BackendRequest<'_>, key: &str) -> Result<Response> {
    let patch = data_param(req)?;
    let cas = cas_param(req)?;
    let _guard = store.lock(key).await;
    let mut meta = store.meta(key).await?.ok_or_else(not_found)?;
    let config = store.config().await?;
    check_cas(&config, &meta, cas)?;
    let number = meta.current_version;
    let vm = meta.versions.get(&number).ok_or_else(not_found)?;
    if !vm.is_live(clock::now_nanos()) {
        return Ok(not_found_with(meta.version_json(number, vm)));
    }
    let Some(mut data) = store.version_data(key, number).await? else {
        return Ok(not_found_with(meta.version_json(number, vm)));
    };
    merge_maps(&mut data, patch);
    append_version(store, key, &config, &mut meta, &data).await
}

async fn delete_latest(store: &Store, key: &str) -> Result<Response> {
    let _guard = store.lock(key).await;
    let Some(mut meta) = store.meta(key).await? else {
        return Ok(Response::empty());
    };
    let now = clock::now_nanos();
    let current = meta.current_version;
    match meta.versions.get_mut(&current) {
        Some(vm) if vm.is_live(now) => vm.deletion_time = Some(now),
        _ => return Ok(Response::empty()),
    }
    store.commit(vec![Store::put_meta_op(key, &meta)?]).await?;
    Ok(Response::empty())
}

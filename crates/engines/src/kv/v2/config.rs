//! `config`: the mount-wide `max_versions`, `cas_required` and `delete_version_after`.

use super::store::Store;
use crate::kv::fields;
use coffer_core::backend::BackendRequest;
use coffer_core::duration::parse_seconds;
use coffer_core::request::{Operation, Response};
use coffer_core::{CoreError, Result};

/// Handles a request on `config`.
pub async fn handle(store: &Store, req: &BackendRequest<'_>) -> Result<Response> {
    match req.operation {
        Operation::Read => Ok(Response::data(store.config().await?.to_json())),
        Operation::Create | Operation::Update => write(store, req).await,
        _ => Err(CoreError::UnsupportedOperation),
    }
}

async fn write(store: &Store, req: &BackendRequest<'_>) -> Result<Response> {
    let max = match fields::uint(req.data, "max_versions")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| CoreError::bad("field \"max_versions\" is too large"))?),
    };
    let cas = fields::boolean(req.data, "cas_required")?;
    let dva = match req.data.get("delete_version_after") {
        None | Some(serde_json::Value::Null) => None,
        Some(raw) => {
            Some(parse_seconds(raw).map_err(|e| CoreError::bad(format!("field \"delete_version_after\": {e}")))?)
        }
    };
    if max.is_none() && cas.is_none() && dva.is_none() {
        return Ok(Response::empty());
    }
    let mut config = store.config().await?;
    if let Some(max) = max {
        config.max_versions = max;
    }
    if let Some(cas) = cas {
        config.cas_required = cas;
    }
    if let Some(dva) = dva {
        // Negative disables delete_version_after for every key; zero clears it.
        config.delete_version_after = if dva < 0 { -1 } else { dva };
    }
    store.put_config(&config).await?;
    Ok(Response::empty())
}

//! KV version 1: unversioned pass-through storage. A secret is the JSON body of the write,
//! stored as is at its path. The same handlers serve cubbyhole on a per-token view.

use super::fields::{folder, secret_key};
use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendRequest};
use coffer_core::request::{Operation, Response};
use coffer_core::view::{View, to_json};
use coffer_core::{CoreError, Result};
use serde_json::{Map, Value};

/// A KV version 1 mount.
#[derive(Debug, Clone)]
pub struct KvV1 {
    view: View,
}

impl KvV1 {
    /// A KV v1 backend storing secrets in `view`.
    pub fn new(view: View) -> Self {
        KvV1 { view }
    }
}

#[async_trait]
impl Backend for KvV1 {
    /// Reads and lists change nothing.
    fn reads_only(&self, op: Operation, _path: &str) -> bool {
        matches!(op, Operation::Read | Operation::List)
    }

    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        handle_on(&self.view, req).await
    }

    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        exists_on(&self.view, req.path).await
    }
}

/// Whether a secret is stored at `path` in `view` (KV v1 and cubbyhole existence check).
pub(crate) async fn exists_on(view: &View, path: &str) -> Result<Option<bool>> {
    if secret_key(path).is_err() {
        return Ok(Some(false));
    }
    Ok(Some(view.get(path).await?.is_some()))
}

/// Serves one pass-through request against `view`.
pub(crate) async fn handle_on(view: &View, req: &BackendRequest<'_>) -> Result<Response> {
    let path = req.path;
    match req.operation {
        Operation::Read => {
            if path.is_empty() || path.ends_with('/') {
                return Err(CoreError::NotFound(String::new()));
            }
            match view.get_json::<Map<String, Value>>(path).await? {
                Some(data) => Ok(Response::data(Value::Object(data))),
                None => Err(CoreError::NotFound(String::new())),
            }
        }
        Operation::Create | Operation::Update => {
            let key = secret_key(path)?;
            if req.data.is_empty() {
                return Err(CoreError::bad("missing data fields"));
            }
            view.put(key, &to_json(req.data)?).await?;
            Ok(Response::empty())
        }
        Operation::Delete => {
            let key = secret_key(path)?;
            view.delete(key).await?;
            Ok(Response::empty())
        }
        Operation::List => {
            let keys = view.list(&folder(path)).await?;
            if keys.is_empty() {
                return Err(CoreError::NotFound(String::new()));
            }
            Ok(Response::list(keys))
        }
        Operation::Patch => Err(CoreError::UnsupportedOperation),
    }
}

//! KV version 2: versioned secrets with check-and-set, soft delete, destroy, per-key
//! metadata and mount-wide config. Routes `config`, `data/`, `metadata/`, `delete/`,
//! `undelete/`, `destroy/` and `subkeys/` to one module each.

pub mod clock;
pub mod config;
pub mod data;
pub mod metadata;
pub mod store;
pub mod subkeys;
pub mod versions;

use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendRequest};
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use store::Store;
use versions::Action;

/// A KV version 2 mount.
#[derive(Debug, Clone)]
pub struct KvV2 {
    store: Store,
    mount_point: String,
}

impl KvV2 {
    /// A KV v2 backend over `view`, mounted at `mount_point` (used in error messages).
    pub fn new(view: View, mount_point: impl Into<String>) -> Self {
        KvV2 {
            store: Store::new(view),
            mount_point: mount_point.into(),
        }
    }

    fn no_route(&self, path: &str) -> CoreError {
        CoreError::NoRoute(format!("{}{}", self.mount_point, path))
    }
}

#[async_trait]
impl Backend for KvV2 {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let store = &self.store;
        if req.path == "config" {
            return config::handle(store, req).await;
        }
        // `LIST <mount>/metadata` (no slash) lists the mount's top level, as the CLIs send it.
        if req.path == "metadata" && req.operation == Operation::List {
            return metadata::handle(store, req, "").await;
        }
        let Some((group, key)) = req.path.split_once('/') else {
            return Err(self.no_route(req.path));
        };
        match group {
            "data" => data::handle(store, req, key).await,
            "metadata" => metadata::handle(store, req, key).await,
            "delete" => versions::handle(store, req, key, Action::Delete).await,
            "undelete" => versions::handle(store, req, key, Action::Undelete).await,
            "destroy" => versions::handle(store, req, key, Action::Destroy).await,
            "subkeys" => subkeys::handle(store, req, key).await,
            _ => Err(self.no_route(req.path)),
        }
    }

    /// Reads and lists change nothing.
    fn reads_only(&self, op: Operation, _path: &str) -> bool {
        matches!(op, Operation::Read | Operation::List)
    }

    /// `data/` and `metadata/` writes are `create` when the secret has no metadata yet and
    /// `update` otherwise. Other paths have no existence check (checked as `update`, as in
    /// Vault, where `config`, `delete/`, `undelete/` and `destroy/` have none either).
    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        if !matches!(req.operation, Operation::Create | Operation::Update) {
            return Ok(None);
        }
        match req.path.split_once('/') {
            Some(("data" | "metadata", key)) => match crate::kv::fields::secret_key(key) {
                Ok(key) => Ok(Some(self.store.meta(key).await?.is_some())),
                Err(_) => Ok(Some(false)),
            },
            _ => Ok(None),
        }
    }
}

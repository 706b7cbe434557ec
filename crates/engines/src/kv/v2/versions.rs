//! `delete/<path>`, `undelete/<path>` and `destroy/<path>`: soft-delete, restore, or
//! permanently remove the data of chosen versions.

use super::clock;
use super::store::{Store, version_key};
use crate::kv::fields;
use coffer_core::backend::BackendRequest;
use coffer_core::request::{Operation, Response};
use coffer_core::view::ViewOp;
use coffer_core::{CoreError, Result};

/// What to do with the listed versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Mark as deleted now (reversible).
    Delete,
    /// Clear the deletion mark.
    Undelete,
    /// Remove the data for good; the metadata keeps `destroyed: true`.
    Destroy,
}

/// Handles a write on `delete/`, `undelete/` or `destroy/` + `key`.
pub async fn handle(store: &Store, req: &BackendRequest<'_>, key: &str, action: Action) -> Result<Response> {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return Err(CoreError::UnsupportedOperation);
    }
    let key = fields::secret_key(key)?;
    let versions = fields::int_list(req.data, "versions")?;
    if versions.is_empty() {
        return Err(CoreError::bad(match action {
            Action::Destroy => "no version number provided",
            _ => "No version number provided",
        }));
    }
    let config = if action == Action::Undelete {
        Some(store.config().await?)
    } else {
        None
    };

    let _guard = store.lock(key).await;
    let Some(mut meta) = store.meta(key).await? else {
        return Ok(Response::empty());
    };
    let now = clock::now_nanos();
    let mut ops = Vec::new();
    let mut changed = false;
    for number in versions {
        // Undelete computes the new deletion time before borrowing the version mutably.
        let redelete = config.as_ref().and_then(|c| meta.deletion_time(c, now));
        let Some(vm) = meta.versions.get_mut(&number) else {
            continue;
        };
        if vm.destroyed {
            continue;
        }
        match action {
            Action::Delete => {
                if !vm.is_deleted(now) {
                    vm.deletion_time = Some(now);
                    changed = true;
                }
            }
            Action::Undelete => {
                vm.deletion_time = redelete;
                changed = true;
            }
            Action::Destroy => {
                vm.destroyed = true;
                ops.push(ViewOp::Delete(version_key(key, number)));
                changed = true;
            }
        }
    }
    if changed {
        ops.push(Store::put_meta_op(key, &meta)?);
        store.commit(ops).await?;
    }
    Ok(Response::empty())
}

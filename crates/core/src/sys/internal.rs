//! `sys/internal/ui/mounts`: mount discovery used by the `vault`/`bao` CLIs (e.g. `kv get`
//! asks which KV version serves a path); `sys/internal/specs/openapi` (see `crate::openapi`).

use super::mounts_api::mount_info;
use crate::core::Unsealed;
use crate::request::{Operation, Response};
use crate::{CoreError, Result};
use coffer_policy::Acl;
use serde_json::{Map, Value, json};
use std::sync::Arc;

pub(super) async fn handle(
    state: &Arc<Unsealed>,
    acl: &Arc<Acl>,
    op: Operation,
    rel: &str,
) -> Result<Option<Response>> {
    if op != Operation::Read {
        return Ok(None);
    }
    let table = state.mounts.load();
    if rel == "internal/specs/openapi" {
        let doc = crate::openapi::document(table.routes(), |path| may_see_mount(acl, path));
        return Ok(Some(Response::raw(200, doc)));
    }
    if rel == "internal/ui/mounts" {
        let (mut secret, mut auth) = (Map::new(), Map::new());
        for entry in table.entries() {
            if !may_see_mount(acl, &entry.path) {
                continue;
            }
            if entry.is_auth() {
                auth.insert(entry.path.trim_start_matches("auth/").to_string(), mount_info(entry));
            } else {
                secret.insert(entry.path.clone(), mount_info(entry));
            }
        }
        return Ok(Some(Response::data(json!({ "secret": secret, "auth": auth }))));
    }
    let Some(path) = rel.strip_prefix("internal/ui/mounts/") else {
        return Ok(None);
    };
    let (route, _) = table
        .route(path)
        .ok_or_else(|| CoreError::bad(format!("no mount at \"{path}\"")))?;
    if !may_see_mount(acl, &route.entry.path) {
        return Err(CoreError::PermissionDenied);
    }
    let mut info = mount_info(&route.entry);
    if let Value::Object(map) = &mut info {
        map.insert("path".into(), json!(route.entry.path));
    }
    Ok(Some(Response::data(info)))
}

/// Whether a token may learn about a mount: it holds some capability under the mount path.
fn may_see_mount(acl: &Acl, mount_path: &str) -> bool {
    acl.is_root() || acl.has_access_under(mount_path)
}

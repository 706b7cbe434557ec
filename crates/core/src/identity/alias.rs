//! The `identity/entity-alias*` endpoints. Aliases live inside their entity's record; the
//! `alias/` and `alias-key/` indexes find them by id and by (mount accessor, name).

use super::api::{Params, list_response};
use super::store::{Alias, Entity};
use super::{IdentityStore, MountLookup};
use crate::request::Response;
use crate::time::{now_unix, rfc3339};
use crate::{CoreError, Result};
use serde_json::{Map, Value, json};

/// An alias as `identity/entity-alias/id/<id>` returns it (and inside entity reads).
pub(super) fn alias_json(alias: &Alias, mounts: Option<MountLookup<'_>>) -> Value {
    let mount = mounts.and_then(|m| m(&alias.mount_accessor));
    let (mount_type, mount_path) = match mount {
        Some(m) => (m.kind, m.path),
        None => (alias.mount_type.clone(), alias.mount_path.clone()),
    };
    json!({
        "id": alias.id,
        "canonical_id": alias.canonical_id,
        "mount_accessor": alias.mount_accessor,
        "mount_type": mount_type,
        "mount_path": mount_path,
        "name": alias.name,
        "metadata": alias.metadata,
        "custom_metadata": alias.custom_metadata,
        "creation_time": rfc3339(alias.creation_time),
        "last_update_time": rfc3339(alias.last_update_time),
        "merged_from_canonical_ids": Value::Null,
        "local": false,
        "namespace_id": "root",
    })
}

impl IdentityStore {
    /// `identity/entity-alias` (create, or update when `id` is given or the (accessor, name)
    /// pair exists) and `identity/entity-alias/id/<id>` (update). Answers `{id, canonical_id}`.
    pub(super) async fn write_alias(
        &self,
        path_id: Option<&str>,
        p: &Params<'_>,
        mounts: Option<MountLookup<'_>>,
    ) -> Result<Response> {
        let name = p.string("name").filter(|s| !s.is_empty());
        let accessor = p.string("mount_accessor").filter(|s| !s.is_empty());
        let canonical_id = p.string("canonical_id").filter(|s| !s.is_empty());
        let custom_metadata = p.metadata("custom_metadata")?;
        let mount = match (&accessor, mounts) {
            (Some(acc), Some(lookup)) => Some(
                lookup(acc)
                    .filter(|m| m.path.starts_with("auth/"))
                    .ok_or_else(|| CoreError::bad(format!("invalid mount accessor \"{acc}\"")))?,
            ),
            _ => None,
        };
        let _w = self.store.write.lock().await;
        let alias_id = path_id
            .map(str::to_string)
            .or_else(|| p.string("id").filter(|s| !s.is_empty()));
        let current = match (&alias_id, &accessor, &name) {
            (Some(id), _, _) => Some(
                self.store
                    .alias(id)
                    .await?
                    .ok_or_else(|| CoreError::bad("invalid alias ID"))?,
            ),
            (None, Some(acc), Some(n)) => self.store.alias_by_factors(acc, n).await?,
            (None, _, _) => {
                let missing = if name.is_none() { "name" } else { "mount_accessor" };
                return Err(CoreError::bad(format!("missing {missing}")));
            }
        };
        let now = now_unix();
        let (old_owner, mut alias) = match current {
            Some((owner, alias)) => (Some(owner), alias),
            None => (
                None,
                Alias {
                    id: uuid::Uuid::new_v4().to_string(),
                    creation_time: now,
                    ..Alias::default()
                },
            ),
        };
        if let Some(n) = name {
            alias.name = n;
        }
        if let Some(acc) = accessor {
            alias.mount_accessor = acc;
        }
        if let Some(m) = mount {
            alias.mount_type = m.kind;
            alias.mount_path = m.path;
        }
        if let Some(cm) = custom_metadata {
            alias.custom_metadata = cm;
        }
        let target_id = canonical_id
            .or_else(|| old_owner.as_ref().map(|o| o.id.clone()))
            .ok_or_else(|| CoreError::bad("missing entity id (canonical_id)"))?;
        let target = self
            .store
            .entity(&target_id)
            .await?
            .ok_or_else(|| CoreError::bad("invalid canonical ID"))?;
        if let Some((other, _)) = self.store.alias_by_factors(&alias.mount_accessor, &alias.name).await?
            && other
                .aliases
                .iter()
                .any(|a| a.id != alias.id && a.mount_accessor == alias.mount_accessor && a.name == alias.name)
        {
            return Err(CoreError::bad(
                "alias with combination of mount accessor and name already exists",
            ));
        }
        if target
            .aliases
            .iter()
            .any(|a| a.id != alias.id && a.mount_accessor == alias.mount_accessor)
        {
            return Err(CoreError::bad(
                "alias already exists for requested entity and mount accessor",
            ));
        }
        alias.canonical_id = target.id.clone();
        alias.last_update_time = now;
        let response = Response::data(json!({ "id": alias.id, "canonical_id": target.id }));
        let mut changes = super::store::Changes::default();
        if let Some(owner) = old_owner.as_ref().filter(|o| o.id != target.id) {
            let mut without = (**owner).clone();
            without.aliases.retain(|a| a.id != alias.id);
            without.last_update_time = now;
            changes.put_entity(Some(owner), without)?;
        }
        let mut updated = (*target).clone();
        updated.aliases.retain(|a| a.id != alias.id);
        updated.aliases.push(alias);
        updated.last_update_time = now;
        changes.put_entity(Some(&target), updated)?;
        self.store.commit(changes).await?;
        self.invalidate_all();
        Ok(response)
    }

    /// Reads an alias by id (404 when absent).
    pub(super) async fn read_alias(&self, id: &str, mounts: Option<MountLookup<'_>>) -> Result<Response> {
        match self.store.alias(id).await? {
            Some((_, alias)) => Ok(Response::data(alias_json(&alias, mounts))),
            None => Err(CoreError::NotFound(String::new())),
        }
    }

    /// Deletes an alias; its entity stays.
    pub(super) async fn delete_alias(&self, id: &str) -> Result<Response> {
        let _w = self.store.write.lock().await;
        if let Some((owner, _)) = self.store.alias(id).await? {
            let mut updated: Entity = (*owner).clone();
            updated.aliases.retain(|a| a.id != id);
            updated.last_update_time = now_unix();
            self.commit_entity(Some(&owner), updated).await?;
        }
        Ok(Response::empty())
    }

    /// LIST `identity/entity-alias/id` with `key_info`.
    pub(super) async fn list_aliases(&self, mounts: Option<MountLookup<'_>>) -> Result<Response> {
        let ids = self.store.list("alias/").await?;
        let mut keys = Vec::with_capacity(ids.len());
        let mut info = Map::new();
        for id in ids {
            let Some((_, alias)) = self.store.alias(&id).await? else {
                continue;
            };
            let full = alias_json(&alias, mounts);
            info.insert(
                id.clone(),
                json!({
                    "canonical_id": alias.canonical_id,
                    "custom_metadata": alias.custom_metadata,
                    "local": false,
                    "mount_accessor": alias.mount_accessor,
                    "mount_path": full["mount_path"],
                    "mount_type": full["mount_type"],
                    "name": alias.name,
                }),
            );
            keys.push(id);
        }
        list_response(keys, Some(info))
    }
}

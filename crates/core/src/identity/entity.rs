//! The `identity/entity*` endpoints: create/update, read, delete, list, batch-delete, merge.

use super::alias::alias_json;
use super::api::{Params, list_response};
use super::store::{Changes, Entity};
use super::{IdentityStore, MountLookup};
use crate::request::Response;
use crate::time::{now_unix, rfc3339};
use crate::{CoreError, Result};
use serde_json::{Map, Value, json};
use std::sync::Arc;

impl IdentityStore {
    /// An entity as the read endpoints return it.
    pub(super) async fn entity_json(&self, entity: &Entity, mounts: Option<MountLookup<'_>>) -> Result<Value> {
        let resolved = self.resolve(&entity.id).await?;
        let mut group_ids = resolved.direct_group_ids.clone();
        group_ids.extend(resolved.inherited_group_ids.iter().cloned());
        let aliases: Vec<Value> = entity.aliases.iter().map(|a| alias_json(a, mounts)).collect();
        Ok(json!({
            "id": entity.id,
            "name": entity.name,
            "metadata": entity.metadata,
            "policies": entity.policies,
            "disabled": entity.disabled,
            "aliases": aliases,
            "direct_group_ids": resolved.direct_group_ids,
            "inherited_group_ids": resolved.inherited_group_ids,
            "group_ids": group_ids,
            "merged_entity_ids": entity.merged_entity_ids,
            "creation_time": rfc3339(entity.creation_time),
            "last_update_time": rfc3339(entity.last_update_time),
            "namespace_id": "root",
        }))
    }

    async fn entity_by(&self, by: (&str, &str)) -> Result<Option<Arc<Entity>>> {
        match by {
            ("id", id) => self.store.entity(id).await,
            (_, name) => self.store.entity_by_name(name).await,
        }
    }

    /// `identity/entity` (body `id` or `name` selects an existing entity) and
    /// `identity/entity/{id,name}/<x>`. Creating answers `{id, name, aliases}`; updating
    /// answers 204, as Vault does.
    pub(super) async fn write_entity(&self, by: Option<(&str, &str)>, p: &Params<'_>) -> Result<Response> {
        let _w = self.store.write.lock().await;
        let name = match by {
            Some(("name", name)) => Some(name.to_string()),
            _ => p.string("name").filter(|n| !n.is_empty()),
        };
        if let Some(n) = &name
            && n.contains('/')
        {
            return Err(CoreError::bad("entity name must not contain \"/\""));
        }
        let wanted_id = match by {
            Some(("id", id)) => Some(id.to_string()),
            Some(_) => None,
            None => p.string("id").filter(|id| !id.is_empty()),
        };
        let mut existing = match &wanted_id {
            Some(id) => Some(
                self.store
                    .entity(id)
                    .await?
                    .ok_or_else(|| CoreError::bad("entity not found from id"))?,
            ),
            None => None,
        };
        if let Some(n) = &name
            && let Some(named) = self.store.entity_by_name(n).await?
        {
            match &existing {
                Some(e) if e.id != named.id => return Err(CoreError::bad("entity name is already in use")),
                Some(_) => {}
                None => existing = Some(named),
            }
        }
        let mut entity = match &existing {
            Some(e) => (**e).clone(),
            None => self.new_entity(name.clone()).await?,
        };
        if let Some(n) = name {
            entity.name = n;
        }
        if let Some(metadata) = p.metadata("metadata")? {
            entity.metadata = metadata;
        }
        if let Some(policies) = p.list("policies")? {
            entity.policies = policies;
        }
        if let Some(disabled) = p.boolean("disabled")? {
            entity.disabled = disabled;
        }
        let created = existing.is_none();
        if existing.as_deref() != Some(&entity) {
            entity.last_update_time = now_unix();
            self.commit_entity(existing.as_deref(), entity.clone()).await?;
        }
        if !created {
            return Ok(Response::empty());
        }
        let aliases: Vec<&str> = entity.aliases.iter().map(|a| a.id.as_str()).collect();
        Ok(Response::data(
            json!({ "id": entity.id, "name": entity.name, "aliases": aliases }),
        ))
    }

    /// Reads an entity by id or name (404 when absent).
    pub(super) async fn read_entity(&self, by: (&str, &str), mounts: Option<MountLookup<'_>>) -> Result<Response> {
        match self.entity_by(by).await? {
            Some(e) => Ok(Response::data(self.entity_json(&e, mounts).await?)),
            None => Err(CoreError::NotFound(String::new())),
        }
    }

    /// Deletes an entity by id or name, with its aliases and its group memberships.
    pub(super) async fn delete_entity(&self, by: (&str, &str)) -> Result<Response> {
        let _w = self.store.write.lock().await;
        if let Some(entity) = self.entity_by(by).await? {
            self.delete_entities_locked(&[entity]).await?;
        }
        Ok(Response::empty())
    }

    /// `identity/entity/batch-delete` with `entity_ids`.
    pub(super) async fn batch_delete_entities(&self, p: &Params<'_>) -> Result<Response> {
        let ids = p
            .list("entity_ids")?
            .ok_or_else(|| CoreError::bad("missing entity_ids"))?;
        let _w = self.store.write.lock().await;
        let mut entities = Vec::new();
        for id in ids {
            if let Some(e) = self.store.entity(&id).await? {
                entities.push(e);
            }
        }
        self.delete_entities_locked(&entities).await?;
        Ok(Response::empty())
    }

    async fn delete_entities_locked(&self, entities: &[Arc<Entity>]) -> Result<()> {
        if entities.is_empty() {
            return Ok(());
        }
        let index = self.store.groups_locked().await?;
        let mut changes = Changes::default();
        let mut touched = std::collections::BTreeMap::new();
        for entity in entities {
            for gid in index.direct_groups(&entity.id) {
                if let Some(g) = index.get(gid) {
                    touched.entry(gid.clone()).or_insert_with(|| (**g).clone());
                }
            }
            changes.delete_entity(entity);
        }
        let now = now_unix();
        for (_, mut group) in touched {
            group.member_entity_ids.retain(|e| !entities.iter().any(|x| x.id == *e));
            group.last_update_time = now;
            group.modify_index += 1;
            changes.put_group(group)?;
        }
        self.store.commit(changes).await?;
        self.invalidate_all();
        Ok(())
    }

    /// LIST `identity/entity/id` (with `key_info`) or `identity/entity/name`.
    pub(super) async fn list_entities(&self, by_name: bool, mounts: Option<MountLookup<'_>>) -> Result<Response> {
        if by_name {
            let mut names: Vec<String> = self
                .store
                .list("entity-name/")
                .await?
                .into_iter()
                .filter_map(|h| hex::decode(h).ok().and_then(|b| String::from_utf8(b).ok()))
                .collect();
            names.sort();
            return list_response(names, None);
        }
        let ids = self.store.list("entity/").await?;
        let mut info = Map::new();
        for id in &ids {
            if let Some(e) = self.store.entity(id).await? {
                let aliases: Vec<Value> = e
                    .aliases
                    .iter()
                    .map(|a| {
                        let full = alias_json(a, mounts);
                        json!({
                            "id": a.id,
                            "name": a.name,
                            "mount_accessor": a.mount_accessor,
                            "mount_path": full["mount_path"],
                            "mount_type": full["mount_type"],
                        })
                    })
                    .collect();
                info.insert(id.clone(), json!({ "name": e.name, "aliases": aliases }));
            }
        }
        list_response(ids, Some(info))
    }

    /// `identity/entity/merge`: moves the aliases, policies and group memberships of
    /// `from_entity_ids` into `to_entity_id` and deletes the merged entities. Two aliases on
    /// one mount conflict; with `force` the target's alias is kept.
    pub(super) async fn merge_entities(&self, p: &Params<'_>) -> Result<Response> {
        let to_id = p
            .string("to_entity_id")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CoreError::bad("missing entity id to merge to"))?;
        let from_ids = p
            .list("from_entity_ids")?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| CoreError::bad("missing entity ids to merge from"))?;
        let force = p.boolean("force")?.unwrap_or(false);
        let _w = self.store.write.lock().await;
        let target = self
            .store
            .entity(&to_id)
            .await?
            .ok_or_else(|| CoreError::bad("entity id to merge to is invalid"))?;
        let index = self.store.groups_locked().await?;
        let mut merged = (*target).clone();
        let mut sources = Vec::new();
        for id in &from_ids {
            if *id == to_id {
                return Err(CoreError::bad("to_entity_id should not be present in from_entity_ids"));
            }
            let source = self
                .store
                .entity(id)
                .await?
                .ok_or_else(|| CoreError::bad(format!("entity id to merge from is invalid: {id}")))?;
            for alias in &source.aliases {
                if merged.aliases.iter().any(|a| a.mount_accessor == alias.mount_accessor) {
                    if !force {
                        return Err(CoreError::bad(format!(
                            "conflicting mount accessors in following alias IDs: {}",
                            alias.id
                        )));
                    }
                    continue;
                }
                let mut moved = alias.clone();
                moved.canonical_id = to_id.clone();
                merged.aliases.push(moved);
            }
            for policy in &source.policies {
                if !merged.policies.contains(policy) {
                    merged.policies.push(policy.clone());
                }
            }
            merged.merged_entity_ids.push(source.id.clone());
            sources.push(source);
        }
        let mut changes = Changes::default();
        let now = now_unix();
        let mut touched = std::collections::BTreeMap::new();
        for source in &sources {
            changes.delete_entity(source);
            for gid in index.direct_groups(&source.id) {
                if let Some(g) = index.get(gid) {
                    touched.entry(gid.clone()).or_insert_with(|| (**g).clone());
                }
            }
        }
        for (_, mut group) in touched {
            group.member_entity_ids.retain(|e| !from_ids.contains(e));
            if !group.member_entity_ids.contains(&to_id) {
                group.member_entity_ids.push(to_id.clone());
                group.member_entity_ids.sort();
            }
            group.last_update_time = now;
            group.modify_index += 1;
            changes.put_group(group)?;
        }
        merged.last_update_time = now;
        changes.put_entity(Some(&target), merged)?;
        self.store.commit(changes).await?;
        self.invalidate_all();
        Ok(Response::empty())
    }
}

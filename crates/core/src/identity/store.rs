//! Identity records, their storage layout and the in-memory caches over them.
//!
//! Layout under the store's view (`sys/identity/`), every value barrier-encrypted:
//!
//! ```text
//! entity/<id>                          Entity, with its aliases embedded
//! entity-name/<hex name>               entity id
//! alias/<alias id>                     entity id
//! alias-key/<hex accessor>/<hex name>  alias id
//! group/<id>                           Group
//! ```
//!
//! Indexes are derived from the records by [`Changes`], so one write is one atomic batch.
//! Writers are serialised by one mutex that readers never take; readers use sharded maps
//! and an `ArcSwap`ed snapshot of all groups.

use super::group::GroupIndex;
use crate::view::{View, ViewOp, to_json};
use crate::{CoreError, Result};
use arc_swap::ArcSwapOption;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One person or service, with its aliases (one per auth mount).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Entity {
    /// Entity id (uuid).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Policies attached to the entity.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Disabled entities' tokens are refused.
    #[serde(default)]
    pub disabled: bool,
    /// Unix seconds.
    pub creation_time: i64,
    /// Unix seconds.
    pub last_update_time: i64,
    /// Aliases, at most one per mount accessor.
    #[serde(default)]
    pub aliases: Vec<Alias>,
    /// Entities merged into this one.
    #[serde(default)]
    pub merged_entity_ids: Vec<String>,
}

/// The name an auth mount knows an entity by.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Alias {
    /// Alias id (uuid).
    pub id: String,
    /// Owning entity.
    pub canonical_id: String,
    /// Accessor of the auth mount.
    pub mount_accessor: String,
    /// Type of that mount, when known.
    #[serde(default)]
    pub mount_type: String,
    /// Path of that mount, when known.
    #[serde(default)]
    pub mount_path: String,
    /// Name on that mount (user name, role id, ...).
    pub name: String,
    /// Metadata set by the auth method at login.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Metadata set through the API.
    #[serde(default)]
    pub custom_metadata: BTreeMap<String, String>,
    /// Unix seconds.
    pub creation_time: i64,
    /// Unix seconds.
    pub last_update_time: i64,
}

/// A set of entities and groups sharing policies.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Group {
    /// Group id (uuid).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `internal` (members set through the API).
    #[serde(rename = "type")]
    pub kind: String,
    /// Policies every member gets.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Direct member entities.
    #[serde(default)]
    pub member_entity_ids: Vec<String>,
    /// Direct member groups (their members inherit this group's policies).
    #[serde(default)]
    pub member_group_ids: Vec<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Unix seconds.
    pub creation_time: i64,
    /// Unix seconds.
    pub last_update_time: i64,
    /// Number of updates.
    #[serde(default)]
    pub modify_index: u64,
}

pub(super) fn hex_key(s: &str) -> String {
    hex::encode(s.as_bytes())
}

pub(super) fn entity_key(id: &str) -> String {
    format!("entity/{id}")
}

pub(super) fn entity_name_key(name: &str) -> String {
    format!("entity-name/{}", hex_key(name))
}

pub(super) fn alias_key(id: &str) -> String {
    format!("alias/{id}")
}

pub(super) fn alias_factors_key(accessor: &str, name: &str) -> String {
    format!("alias-key/{}/{}", hex_key(accessor), hex_key(name))
}

pub(super) fn group_key(id: &str) -> String {
    format!("group/{id}")
}

/// The writes of one request: storage operations plus the cache updates to apply once the
/// batch is committed. A key written by `put` is never removed by a later `delete` of the
/// same change set (an alias moving between entities is deleted from one and put on the other).
#[derive(Default)]
pub(super) struct Changes {
    ops: BTreeMap<String, Option<Vec<u8>>>,
    entities: Vec<(String, Option<Arc<Entity>>)>,
    groups: Vec<(String, Option<Arc<Group>>)>,
}

impl Changes {
    fn put(&mut self, key: String, value: Vec<u8>) {
        self.ops.insert(key, Some(value));
    }

    fn delete(&mut self, key: String) {
        self.ops.entry(key).or_insert(None);
    }

    /// Writes an entity and its indexes (`old` is its stored state, to drop stale indexes).
    pub(super) fn put_entity(&mut self, old: Option<&Entity>, new: Entity) -> Result<()> {
        if let Some(old) = old {
            if old.name != new.name {
                self.delete(entity_name_key(&old.name));
            }
            for a in &old.aliases {
                if !new.aliases.iter().any(|n| n.id == a.id) {
                    self.delete(alias_key(&a.id));
                }
                if !new
                    .aliases
                    .iter()
                    .any(|n| n.mount_accessor == a.mount_accessor && n.name == a.name)
                {
                    self.delete(alias_factors_key(&a.mount_accessor, &a.name));
                }
            }
        }
        self.put(entity_name_key(&new.name), to_json(&new.id)?);
        for a in &new.aliases {
            self.put(alias_key(&a.id), to_json(&new.id)?);
            self.put(alias_factors_key(&a.mount_accessor, &a.name), to_json(&a.id)?);
        }
        self.put(entity_key(&new.id), to_json(&new)?);
        self.entities.push((new.id.clone(), Some(Arc::new(new))));
        Ok(())
    }

    /// Deletes an entity and every index pointing at it.
    pub(super) fn delete_entity(&mut self, old: &Entity) {
        self.delete(entity_key(&old.id));
        self.delete(entity_name_key(&old.name));
        for a in &old.aliases {
            self.delete(alias_key(&a.id));
            self.delete(alias_factors_key(&a.mount_accessor, &a.name));
        }
        self.entities.push((old.id.clone(), None));
    }

    /// Writes a group.
    pub(super) fn put_group(&mut self, group: Group) -> Result<()> {
        self.put(group_key(&group.id), to_json(&group)?);
        self.groups.push((group.id.clone(), Some(Arc::new(group))));
        Ok(())
    }

    /// Deletes a group.
    pub(super) fn delete_group(&mut self, id: &str) {
        self.delete(group_key(id));
        self.groups.push((id.to_string(), None));
    }
}

/// Storage plus caches. See the module docs for the layout.
pub(super) struct Store {
    pub(super) view: View,
    /// Entities by id; `None` is a tombstone written by a delete (loads never insert `None`).
    entities: DashMap<String, Option<Arc<Entity>>>,
    /// Every group, loaded on first use and replaced on each group write.
    groups: ArcSwapOption<GroupIndex>,
    /// Serialises writers (never taken by readers).
    pub(super) write: tokio::sync::Mutex<()>,
    /// Bumped after every committed write; resolved caches are valid for one generation.
    generation: AtomicU64,
}

impl Store {
    pub(super) fn new(view: View) -> Self {
        Store {
            view,
            entities: DashMap::new(),
            groups: ArcSwapOption::empty(),
            write: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
        }
    }

    /// The current write generation.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// An entity by id (cached).
    pub(super) async fn entity(&self, id: &str) -> Result<Option<Arc<Entity>>> {
        if id.is_empty() || id.contains('/') {
            return Ok(None);
        }
        if let Some(e) = self.entities.get(id) {
            return Ok(e.clone());
        }
        let Some(loaded) = self.view.get_json::<Entity>(&entity_key(id)).await? else {
            return Ok(None);
        };
        // A write that raced this load already inserted its value, which wins.
        let entry = self.entities.entry(id.to_string()).or_insert(Some(Arc::new(loaded)));
        Ok(entry.clone())
    }

    /// An entity by name.
    pub(super) async fn entity_by_name(&self, name: &str) -> Result<Option<Arc<Entity>>> {
        if name.is_empty() {
            return Ok(None);
        }
        match self.view.get_json::<String>(&entity_name_key(name)).await? {
            Some(id) => self.entity(&id).await,
            None => Ok(None),
        }
    }

    /// The entity owning alias `alias_id`, and that alias.
    pub(super) async fn alias(&self, alias_id: &str) -> Result<Option<(Arc<Entity>, Alias)>> {
        if alias_id.is_empty() || alias_id.contains('/') {
            return Ok(None);
        }
        let Some(entity_id) = self.view.get_json::<String>(&alias_key(alias_id)).await? else {
            return Ok(None);
        };
        let Some(entity) = self.entity(&entity_id).await? else {
            return Ok(None);
        };
        let alias = entity.aliases.iter().find(|a| a.id == alias_id).cloned();
        Ok(alias.map(|a| (entity, a)))
    }

    /// The alias named `name` on mount `accessor`, with its entity.
    pub(super) async fn alias_by_factors(&self, accessor: &str, name: &str) -> Result<Option<(Arc<Entity>, Alias)>> {
        match self.view.get_json::<String>(&alias_factors_key(accessor, name)).await? {
            Some(alias_id) => self.alias(&alias_id).await,
            None => Ok(None),
        }
    }

    /// Immediate children of a storage folder (ids or hex names).
    pub(super) async fn list(&self, folder: &str) -> Result<Vec<String>> {
        Ok(self
            .view
            .list(folder)
            .await?
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .collect())
    }

    /// The group snapshot, loading every group on first use.
    pub(super) async fn groups(&self) -> Result<Arc<GroupIndex>> {
        if let Some(g) = self.groups.load_full() {
            return Ok(g);
        }
        let _w = self.write.lock().await;
        self.groups_locked().await
    }

    /// As [`Store::groups`], for a caller already holding the write lock.
    pub(super) async fn groups_locked(&self) -> Result<Arc<GroupIndex>> {
        if let Some(g) = self.groups.load_full() {
            return Ok(g);
        }
        let mut groups = HashMap::new();
        for id in self.list("group/").await? {
            let group: Group = self
                .view
                .get_json(&group_key(&id))
                .await?
                .ok_or_else(|| CoreError::Internal(format!("group {id} vanished while loading")))?;
            groups.insert(id, Arc::new(group));
        }
        let index = Arc::new(GroupIndex::build(groups));
        self.groups.store(Some(index.clone()));
        Ok(index)
    }

    /// Commits a change set atomically, then updates the caches. Call with the write lock held.
    pub(super) async fn commit(&self, changes: Changes) -> Result<()> {
        let groups = if changes.groups.is_empty() {
            None
        } else {
            Some(self.groups_locked().await?)
        };
        let ops = changes
            .ops
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => ViewOp::Put(k, v),
                None => ViewOp::Delete(k),
            })
            .collect();
        self.view.batch(ops).await?;
        for (id, entity) in changes.entities {
            self.entities.insert(id, entity);
        }
        if let Some(index) = groups {
            self.groups.store(Some(Arc::new(index.apply(changes.groups))));
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

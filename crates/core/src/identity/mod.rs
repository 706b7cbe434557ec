//! Identity: entities (one person or service), their aliases (one per login method) and
//! groups. A token's effective policies are its own plus its entity's and groups'.
//!
//! `store.rs` holds the records, storage layout and caches; `entity.rs`, `alias.rs`,
//! `group.rs` and `lookup.rs` serve the `identity/*` endpoints routed by `api.rs`;
//! `template.rs` is what ACL path templates see of an entity. The per-request path
//! ([`IdentityStore::resolve`]) answers from memory: a resolved entity (policies, groups,
//! template data) is cached until the next identity write.

mod alias;
mod api;
mod entity;
mod group;
mod lookup;
mod store;
mod template;

pub use group::GroupIndex;
pub use store::{Alias, Entity, Group};
pub use template::{AliasTemplateData, EntityTemplateData, GroupTemplateData};

use crate::request::{AliasInfo, Operation, Response};
use crate::time::now_unix;
use crate::view::View;
use crate::{CoreError, Result};
use dashmap::DashMap;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{Changes, Store};

/// Barrier prefix of the identity store.
pub const IDENTITY_PREFIX: &str = "sys/identity/";

/// What the mount table knows about an auth mount, by accessor.
#[derive(Debug, Clone, Default)]
pub struct MountInfo {
    /// Mount type (`userpass`, `approle`, ...).
    pub kind: String,
    /// Mount path (`auth/userpass/`).
    pub path: String,
}

/// Looks up an auth mount by accessor (the core passes one built over its mount table).
pub type MountLookup<'a> = &'a (dyn Fn(&str) -> Option<MountInfo> + Send + Sync);

/// Everything a request of an entity-bound token needs from identity, computed once per
/// entity and identity-store generation.
#[derive(Debug)]
pub struct ResolvedEntity {
    /// Whether the entity exists (tokens may outlive their entity).
    pub exists: bool,
    /// Whether the entity is disabled: its tokens must be refused.
    pub disabled: bool,
    /// Entity policies plus those of every group it belongs to, sorted, deduplicated.
    pub policies: Vec<String>,
    /// Groups listing the entity as a member.
    pub direct_group_ids: Vec<String>,
    /// Groups reached from the direct groups through `member_group_ids` nesting.
    pub inherited_group_ids: Vec<String>,
    /// Template data for ACL path templates; `None` when the entity does not exist.
    pub template: Option<Arc<EntityTemplateData>>,
    generation: u64,
}

/// Entities, aliases and groups.
pub struct IdentityStore {
    store: Store,
    resolved: DashMap<String, Arc<ResolvedEntity>>,
}

impl std::fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStore")
            .field("resolved", &self.resolved.len())
            .finish()
    }
}

impl IdentityStore {
    /// Opens the store.
    pub fn new(view: View) -> Self {
        IdentityStore {
            store: Store::new(view),
            resolved: DashMap::new(),
        }
    }

    /// The entity for a login through mount `mount_accessor` as `alias` (created with its
    /// alias, atomically, on first login; alias metadata updated when it changed); returns
    /// its id. A disabled entity cannot log in.
    pub async fn entity_for_login(&self, mount_accessor: &str, mount_type: &str, alias: &AliasInfo) -> Result<String> {
        if alias.name.is_empty() {
            return Err(CoreError::Internal(
                "auth method returned an alias without a name".into(),
            ));
        }
        let metadata = string_map(&alias.metadata);
        let current = |found: &Option<(Arc<Entity>, Alias)>| match found {
            Some((e, a)) if a.metadata == metadata && a.mount_type == mount_type => Some(e.clone()),
            _ => None,
        };
        let found = self.store.alias_by_factors(mount_accessor, &alias.name).await?;
        let entity = match current(&found) {
            Some(e) => e,
            None => {
                let _w = self.store.write.lock().await;
                let found = self.store.alias_by_factors(mount_accessor, &alias.name).await?;
                match (current(&found), found) {
                    (Some(e), _) => e,
                    (None, Some((entity, _))) => {
                        let mut updated = (*entity).clone();
                        let now = now_unix();
                        for a in updated.aliases.iter_mut() {
                            if a.mount_accessor == mount_accessor && a.name == alias.name {
                                a.metadata = metadata.clone();
                                a.mount_type = mount_type.to_string();
                                a.last_update_time = now;
                            }
                        }
                        self.commit_entity(Some(&entity), updated).await?
                    }
                    (None, None) => {
                        let mut entity = self.new_entity(None).await?;
                        entity.aliases.push(Alias {
                            id: uuid::Uuid::new_v4().to_string(),
                            canonical_id: entity.id.clone(),
                            mount_accessor: mount_accessor.to_string(),
                            mount_type: mount_type.to_string(),
                            name: alias.name.clone(),
                            metadata: metadata.clone(),
                            creation_time: entity.creation_time,
                            last_update_time: entity.creation_time,
                            ..Alias::default()
                        });
                        self.commit_entity(None, entity).await?
                    }
                }
            }
        };
        if entity.disabled {
            return Err(CoreError::PermissionDenied);
        }
        Ok(entity.id.clone())
    }

    /// Policies an entity gets from itself and its groups (nested groups included).
    pub async fn policies_for_entity(&self, entity_id: &str) -> Result<Vec<String>> {
        Ok(self.resolve(entity_id).await?.policies.clone())
    }

    /// Whether the entity is disabled (its tokens must be refused). A missing entity is not.
    pub async fn is_entity_disabled(&self, entity_id: &str) -> Result<bool> {
        Ok(self.resolve(entity_id).await?.disabled)
    }

    /// What ACL path templates see of the entity; `None` when it does not exist.
    pub async fn template_data(&self, entity_id: &str) -> Result<Option<Arc<EntityTemplateData>>> {
        Ok(self.resolve(entity_id).await?.template.clone())
    }

    /// Policies, groups, disabled flag and template data of an entity, from memory unless
    /// an identity write happened since it was last resolved.
    pub async fn resolve(&self, entity_id: &str) -> Result<Arc<ResolvedEntity>> {
        let generation = self.store.generation();
        let previous = self.resolved.get(entity_id).map(|r| r.clone());
        if let Some(r) = &previous
            && r.generation == generation
        {
            return Ok(r.clone());
        }
        let entity = self.store.entity(entity_id).await?;
        let index = self.store.groups().await?;
        let Some(entity) = entity else {
            let r = Arc::new(ResolvedEntity {
                exists: false,
                disabled: false,
                policies: Vec::new(),
                direct_group_ids: Vec::new(),
                inherited_group_ids: Vec::new(),
                template: None,
                generation,
            });
            self.resolved.insert(entity_id.to_string(), r.clone());
            return Ok(r);
        };
        let direct = index.direct_groups(&entity.id).to_vec();
        let inherited = index.ancestors(&direct);
        let mut policies: Vec<String> = entity.policies.iter().map(|p| p.trim().to_lowercase()).collect();
        let mut template = EntityTemplateData::new(&entity.id, &entity.name);
        for (k, v) in &entity.metadata {
            template = template.with_metadata(k, v);
        }
        for a in &entity.aliases {
            template = template.with_alias(
                &a.mount_accessor,
                AliasTemplateData {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    metadata: a.metadata.clone(),
                    custom_metadata: a.custom_metadata.clone(),
                },
            );
        }
        for gid in direct.iter().chain(&inherited) {
            if let Some(g) = index.get(gid) {
                policies.extend(g.policies.iter().map(|p| p.trim().to_lowercase()));
                template = template.with_group(GroupTemplateData {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    metadata: g.metadata.clone(),
                });
            }
        }
        policies.retain(|p| !p.is_empty());
        policies.sort();
        policies.dedup();
        // Keep the old stamp when nothing a template can see changed: compiled ACLs stay cached.
        let template = match previous.as_ref().and_then(|p| p.template.clone()) {
            Some(old) if old.same_values(&template) => old,
            _ => Arc::new(template),
        };
        let r = Arc::new(ResolvedEntity {
            exists: true,
            disabled: entity.disabled,
            policies,
            direct_group_ids: direct,
            inherited_group_ids: inherited,
            template: Some(template),
            generation,
        });
        self.resolved.insert(entity_id.to_string(), r.clone());
        Ok(r)
    }

    /// Serves `identity/*` without knowing the mount table: entity-alias accessors are not
    /// validated and aliases show only the mount type recorded at login.
    pub async fn handle(&self, op: Operation, rel: &str, data: &Map<String, Value>) -> Result<Response> {
        self.handle_with_mounts(op, rel, data, None).await
    }

    /// Serves `identity/*`; `mounts` resolves auth mount accessors (validation of
    /// `mount_accessor`, `mount_path`/`mount_type` in alias responses).
    pub async fn handle_with_mounts(
        &self,
        op: Operation,
        rel: &str,
        data: &Map<String, Value>,
        mounts: Option<MountLookup<'_>>,
    ) -> Result<Response> {
        api::route(self, op, rel, data, mounts).await
    }

    /// A new entity record (not stored) with a fresh id and a unique name. Call with the
    /// write lock held.
    async fn new_entity(&self, name: Option<String>) -> Result<Entity> {
        let id = uuid::Uuid::new_v4().to_string();
        let name = match name {
            Some(n) => n,
            None => {
                let mut candidate = format!("entity_{}", &id[..8]);
                while self.store.entity_by_name(&candidate).await?.is_some() {
                    candidate = format!("entity_{}", &uuid::Uuid::new_v4().to_string()[..8]);
                }
                candidate
            }
        };
        let now = now_unix();
        Ok(Entity {
            id,
            name,
            creation_time: now,
            last_update_time: now,
            ..Entity::default()
        })
    }

    /// Stores one entity (with its indexes). Call with the write lock held.
    async fn commit_entity(&self, old: Option<&Entity>, new: Entity) -> Result<Arc<Entity>> {
        let id = new.id.clone();
        let mut changes = Changes::default();
        changes.put_entity(old, new)?;
        self.store.commit(changes).await?;
        self.resolved.remove(&id);
        self.store
            .entity(&id)
            .await?
            .ok_or_else(|| CoreError::Internal("entity vanished after write".into()))
    }

    /// Drops every resolved entity (group writes can change any of them).
    fn invalidate_all(&self) {
        self.resolved.clear();
    }
}

/// Alias metadata from an auth method (strings kept, other JSON values printed).
fn string_map(map: &Map<String, Value>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

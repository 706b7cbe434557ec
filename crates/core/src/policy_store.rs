//! Stored ACL policies, with compiled `Policy` and `Acl` caches for the hot path.
//!
//! A token's ACL is compiled once per distinct policy set and shared; any policy change
//! clears the compiled caches (policy writes are rare, requests are not).
//!
//! Templated policies (`{{identity.entity.name}}` in a path) are rendered per entity: tokens
//! with an entity use [`PolicyStore::acl_for_entity`], cached per (entity, policy set) and
//! valid while the entity's template data keeps its stamp; tokens without one use
//! [`PolicyStore::acl`], where templated rules drop out.

use crate::identity::EntityTemplateData;
use crate::view::View;
use crate::{CoreError, Result};
use coffer_policy::{Acl, DEFAULT_POLICY, Policy, ROOT_POLICY};
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Barrier prefix of stored policies.
pub const POLICY_PREFIX: &str = "sys/policy/";

#[derive(Serialize, Deserialize)]
struct StoredPolicy {
    name: String,
    raw: String,
}

/// Policies by name, persisted and cached.
pub struct PolicyStore {
    view: View,
    policies: DashMap<String, Option<Arc<Policy>>>,
    /// Compiled ACLs per policy set, tagged with the policy generation they were built at.
    acls: DashMap<Vec<String>, (u64, Arc<Acl>)>,
    /// Compiled ACLs of entity-bound tokens, per entity.
    entity_acls: DashMap<String, EntityAcls>,
    /// Bumped on every policy write; cached ACLs of an older generation are stale.
    generation: AtomicU64,
    root_acl: Arc<Acl>,
}

/// One entity's compiled ACLs: valid for one template stamp and one policy generation.
struct EntityAcls {
    stamp: u64,
    generation: u64,
    by_set: HashMap<Vec<String>, Arc<Acl>>,
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore")
            .field("cached", &self.policies.len())
            .finish()
    }
}

impl PolicyStore {
    /// Opens the store over its view.
    pub fn new(view: View) -> Self {
        PolicyStore {
            view,
            policies: DashMap::new(),
            acls: DashMap::new(),
            entity_acls: DashMap::new(),
            generation: AtomicU64::new(0),
            root_acl: Arc::new(Acl::root()),
        }
    }

    /// Writes the built-in `default` policy if it is missing.
    pub async fn ensure_default(&self) -> Result<()> {
        if self.get(DEFAULT_POLICY).await?.is_none() {
            self.put(DEFAULT_POLICY, coffer_policy::default_policy_text()).await?;
        }
        Ok(())
    }

    /// A policy by name (`root` is built in and has no rules text).
    pub async fn get(&self, name: &str) -> Result<Option<Arc<Policy>>> {
        if let Some(p) = self.policies.get(name) {
            return Ok(p.clone());
        }
        let loaded = match self.view.get_json::<StoredPolicy>(name).await? {
            None => None,
            Some(stored) => Some(Arc::new(Policy::parse(&stored.name, &stored.raw).map_err(|e| {
                CoreError::Internal(format!("stored policy {name} no longer parses: {e}"))
            })?)),
        };
        self.policies.insert(name.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// Parses and stores a policy; a policy that does not parse is rejected and nothing changes.
    pub async fn put(&self, name: &str, raw: &str) -> Result<()> {
        let name = validate_name(name)?;
        if name == ROOT_POLICY {
            return Err(CoreError::bad("cannot update \"root\" policy"));
        }
        let policy = Policy::parse(&name, raw).map_err(|e| CoreError::bad(e.to_string()))?;
        self.view
            .put_json(
                &name,
                &StoredPolicy {
                    name: name.clone(),
                    raw: raw.to_string(),
                },
            )
            .await?;
        self.policies.insert(name, Some(Arc::new(policy)));
        self.invalidate();
        Ok(())
    }

    /// Deletes a policy; `root` and `default` cannot be deleted.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let name = validate_name(name)?;
        if name == ROOT_POLICY || name == DEFAULT_POLICY {
            return Err(CoreError::bad(format!("cannot delete \"{name}\" policy")));
        }
        self.view.delete(&name).await?;
        self.policies.insert(name, None);
        self.invalidate();
        Ok(())
    }

    /// Names of all policies, including `root`, sorted.
    pub async fn list(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .view
            .list("")
            .await?
            .into_iter()
            .filter(|n| !n.ends_with('/'))
            .collect();
        names.push(ROOT_POLICY.to_string());
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Drops every compiled ACL (after a policy write).
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.acls.clear();
        self.entity_acls.clear();
    }

    /// The compiled ACL for a set of policy names (sorted, as tokens store them), for a token
    /// without an entity. Unknown names contribute nothing; templated rules drop out.
    pub async fn acl(&self, names: &[String]) -> Result<Arc<Acl>> {
        if names.iter().any(|n| n == ROOT_POLICY) {
            return Ok(self.root_acl.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(entry) = self.acls.get(names)
            && entry.0 == generation
        {
            return Ok(entry.1.clone());
        }
        let (acl, _) = compile(self.load(names).await?, &|_| None);
        self.acls.insert(names.to_vec(), (generation, acl.clone()));
        Ok(acl)
    }

    /// The compiled ACL of a token bound to an entity: templated policies are rendered for
    /// `entity`, and a rule whose template it cannot resolve (missing metadata key, no alias
    /// on that mount, a group it is not in) drops out. Cached per (entity, policy set) until
    /// a policy write or a change of the entity's template data (its stamp).
    pub async fn acl_for_entity(&self, names: &[String], entity: &EntityTemplateData) -> Result<Arc<Acl>> {
        if names.iter().any(|n| n == ROOT_POLICY) {
            return Ok(self.root_acl.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let stamp = entity.stamp();
        if let Some(cached) = self.entity_acls.get(entity.entity_id())
            && cached.stamp == stamp
            && cached.generation == generation
            && let Some(acl) = cached.by_set.get(names)
        {
            return Ok(acl.clone());
        }
        let (acl, templated) = compile(self.load(names).await?, &|expr| entity.resolve(expr));
        // A set without templated policies is the same for every entity: share it.
        let acl = if templated { acl } else { self.acl(names).await? };
        let mut cached = self
            .entity_acls
            .entry(entity.entity_id().to_string())
            .or_insert_with(|| EntityAcls {
                stamp,
                generation,
                by_set: HashMap::new(),
            });
        if cached.stamp != stamp || cached.generation != generation {
            *cached = EntityAcls {
                stamp,
                generation,
                by_set: HashMap::new(),
            };
        }
        cached.by_set.insert(names.to_vec(), acl.clone());
        Ok(acl)
    }

    /// The stored policies of a set (unknown names contribute nothing).
    async fn load(&self, names: &[String]) -> Result<Vec<Arc<Policy>>> {
        let mut policies = Vec::with_capacity(names.len());
        for name in names {
            if let Some(p) = self.get(name).await? {
                policies.push(p);
            }
        }
        Ok(policies)
    }
}

/// Lower-cases and validates a policy name.
pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim().to_lowercase();
    coffer_policy::validate_name(&name).map_err(|e| CoreError::bad(e.to_string()))?;
    Ok(name)
}

/// Compiles policies, rendering templated ones with `resolve`; also says whether any was
/// templated.
fn compile(policies: Vec<Arc<Policy>>, resolve: &dyn Fn(&str) -> Option<String>) -> (Arc<Acl>, bool) {
    let mut templated = false;
    let rendered: Vec<Arc<Policy>> = policies
        .into_iter()
        .map(|p| {
            if p.is_templated() {
                templated = true;
                Arc::new(p.render(resolve))
            } else {
                p
            }
        })
        .collect();
    (Arc::new(Acl::new(&rendered)), templated)
}

//! Stored ACL policies, with compiled `Policy` and `Acl` caches for the hot path.
//!
//! A token's ACL is compiled once per distinct policy set and shared; any policy change
//! clears the compiled caches (policy writes are rare, requests are not).

use crate::view::View;
use crate::{CoreError, Result};
use coffer_policy::{Acl, DEFAULT_POLICY, Policy, ROOT_POLICY};
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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
    acls: DashMap<Vec<String>, Arc<Acl>>,
    root_acl: Arc<Acl>,
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
        self.acls.clear();
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
        self.acls.clear();
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

    /// The compiled ACL for a set of policy names (sorted, as tokens store them). Unknown
    /// names contribute nothing.
    pub async fn acl(&self, names: &[String]) -> Result<Arc<Acl>> {
        if names.iter().any(|n| n == ROOT_POLICY) {
            return Ok(self.root_acl.clone());
        }
        if let Some(acl) = self.acls.get(names) {
            return Ok(acl.clone());
        }
        let mut policies = Vec::with_capacity(names.len());
        for name in names {
            if let Some(p) = self.get(name).await? {
                policies.push(p);
            }
        }
        let acl = Arc::new(Acl::new(&policies));
        self.acls.insert(names.to_vec(), acl.clone());
        Ok(acl)
    }
}

/// Lower-cases and validates a policy name.
pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim().to_lowercase();
    coffer_policy::validate_name(&name).map_err(|e| CoreError::bad(e.to_string()))?;
    Ok(name)
}

//! Login MFA enforcements (`identity/mfa/login-enforcement/<name>`): which logins need which
//! MFA methods — by auth mount accessor, auth method type, entity or group.

use crate::fields::string_list;
use crate::view::View;
use crate::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One enforcement.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Enforcement {
    /// Name (also the key of its constraint in `mfa_requirement`).
    pub name: String,
    /// Id (uuid).
    pub id: String,
    /// Methods of which any one satisfies this enforcement.
    pub mfa_method_ids: Vec<String>,
    /// Auth mounts it applies to.
    pub auth_method_accessors: Vec<String>,
    /// Auth method types it applies to (e.g. `userpass`).
    pub auth_method_types: Vec<String>,
    /// Entities it applies to.
    pub identity_entity_ids: Vec<String>,
    /// Groups whose members it applies to.
    pub identity_group_ids: Vec<String>,
}

impl Enforcement {
    /// The JSON Vault shows.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name, "id": self.id, "mfa_method_ids": self.mfa_method_ids,
            "auth_method_accessors": self.auth_method_accessors, "auth_method_types": self.auth_method_types,
            "identity_entity_ids": self.identity_entity_ids, "identity_group_ids": self.identity_group_ids,
            "namespace_id": "root", "namespace_path": "",
        })
    }

    /// Whether a login through mount (`accessor`, `kind`) by `entity_id` (member of `groups`)
    /// must satisfy this enforcement.
    pub fn applies(&self, accessor: &str, kind: &str, entity_id: &str, groups: &[String]) -> bool {
        self.auth_method_accessors.iter().any(|a| a == accessor)
            || self.auth_method_types.iter().any(|t| t == kind)
            || (!entity_id.is_empty() && self.identity_entity_ids.iter().any(|e| e == entity_id))
            || self.identity_group_ids.iter().any(|g| groups.contains(g))
    }
}

fn key(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('/') {
        return Err(CoreError::bad(format!("invalid enforcement name \"{name}\"")));
    }
    Ok(format!("enforcement/{name}"))
}

/// Reads one.
pub async fn load(view: &View, name: &str) -> Result<Option<Enforcement>> {
    view.get_json(&key(name)?).await
}

/// Creates or updates one; `method_exists` validates method ids.
pub async fn write(view: &View, name: &str, data: &Map<String, Value>, known_methods: &[String]) -> Result<()> {
    let mut e = load(view, name).await?.unwrap_or_else(|| Enforcement {
        name: name.to_string(),
        id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    });
    for (field, slot) in [
        ("mfa_method_ids", &mut e.mfa_method_ids),
        ("auth_method_accessors", &mut e.auth_method_accessors),
        ("auth_method_types", &mut e.auth_method_types),
        ("identity_entity_ids", &mut e.identity_entity_ids),
        ("identity_group_ids", &mut e.identity_group_ids),
    ] {
        if let Some(v) = string_list(data, field)? {
            *slot = v;
        }
    }
    if e.mfa_method_ids.is_empty() {
        return Err(CoreError::bad("mfa_method_ids is required"));
    }
    if let Some(unknown) = e.mfa_method_ids.iter().find(|m| !known_methods.contains(m)) {
        return Err(CoreError::bad(format!("MFA method \"{unknown}\" does not exist")));
    }
    if e.auth_method_accessors.is_empty()
        && e.auth_method_types.is_empty()
        && e.identity_entity_ids.is_empty()
        && e.identity_group_ids.is_empty()
    {
        return Err(CoreError::bad(
            "one of auth_method_accessors, auth_method_types, identity_entity_ids or identity_group_ids is required",
        ));
    }
    view.put_json(&key(name)?, &e).await
}

/// Deletes one.
pub async fn delete(view: &View, name: &str) -> Result<()> {
    view.delete(&key(name)?).await
}

/// All enforcements.
pub async fn all(view: &View) -> Result<Vec<Enforcement>> {
    let mut out = Vec::new();
    for name in view.list("enforcement/").await? {
        if let Some(e) = load(view, &name).await? {
            out.push(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_by_accessor_type_entity_and_group() {
        let e = Enforcement {
            auth_method_types: vec!["userpass".into()],
            identity_group_ids: vec!["g1".into()],
            ..Default::default()
        };
        assert!(e.applies("auth_x", "userpass", "", &[]));
        assert!(e.applies("auth_x", "approle", "ent", &["g1".into()]));
        assert!(!e.applies("auth_x", "approle", "ent", &["g2".into()]));
    }
}

//! What ACL path templates can see of an entity (`{{identity.entity.*}}`,
//! `{{identity.groups.*}}`), and resolving one template expression against it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Source of [`EntityTemplateData::stamp`] values: unique for the life of the process.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

/// One alias as templates see it (`identity.entity.aliases.<mount accessor>.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasTemplateData {
    /// Alias id.
    pub id: String,
    /// Alias name (the user name on that mount).
    pub name: String,
    /// Alias metadata.
    pub metadata: BTreeMap<String, String>,
    /// Alias custom metadata.
    pub custom_metadata: BTreeMap<String, String>,
}

/// One group as templates see it (`identity.groups.ids.<id>.*`, `identity.groups.names.<name>.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTemplateData {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Group metadata.
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Values {
    id: String,
    name: String,
    metadata: BTreeMap<String, String>,
    aliases: BTreeMap<String, AliasTemplateData>,
    groups: Vec<GroupTemplateData>,
}

/// An entity and every group it belongs to (directly or through nested groups), as policy
/// templates see them.
///
/// Each value carries a `stamp`: two values with the same stamp hold the same data, so a
/// compiled ACL cached under (policy set, entity id, stamp) stays valid until the stamp
/// changes.
#[derive(Debug, Clone)]
pub struct EntityTemplateData {
    stamp: u64,
    values: Values,
}

impl EntityTemplateData {
    /// Data for entity `id` named `name`, with no metadata, aliases or groups yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        EntityTemplateData {
            stamp: NEXT_STAMP.fetch_add(1, Ordering::Relaxed),
            values: Values {
                id: id.into(),
                name: name.into(),
                ..Values::default()
            },
        }
    }

    /// Builder: one entity metadata pair.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.metadata.insert(key.into(), value.into());
        self
    }

    /// Builder: the entity's alias on mount `accessor`.
    pub fn with_alias(mut self, accessor: impl Into<String>, alias: AliasTemplateData) -> Self {
        self.values.aliases.insert(accessor.into(), alias);
        self
    }

    /// Builder: a group the entity belongs to.
    pub fn with_group(mut self, group: GroupTemplateData) -> Self {
        self.values.groups.push(group);
        self
    }

    /// Identifies this exact data: equal stamps mean equal data.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The entity id.
    pub fn entity_id(&self) -> &str {
        &self.values.id
    }

    /// Whether `other` holds the same data (ignoring stamps).
    pub fn same_values(&self, other: &EntityTemplateData) -> bool {
        self.values == other.values
    }

    /// The value of one template expression (without braces), `None` when it names nothing
    /// this entity has: a missing metadata key, no alias on that mount, a group the entity
    /// is not in, or an unknown expression.
    pub fn resolve(&self, expr: &str) -> Option<String> {
        let v = &self.values;
        if let Some(rest) = expr.strip_prefix("identity.entity.") {
            return match rest {
                "id" => Some(v.id.clone()),
                "name" => non_empty(&v.name),
                _ => {
                    if let Some(key) = rest.strip_prefix("metadata.") {
                        v.metadata.get(key).cloned()
                    } else if let Some(rest) = rest.strip_prefix("aliases.") {
                        let (accessor, field) = rest.split_once('.')?;
                        let alias = v.aliases.get(accessor)?;
                        match field {
                            "id" => Some(alias.id.clone()),
                            "name" => non_empty(&alias.name),
                            f => {
                                if let Some(key) = f.strip_prefix("metadata.") {
                                    alias.metadata.get(key).cloned()
                                } else {
                                    alias.custom_metadata.get(f.strip_prefix("custom_metadata.")?).cloned()
                                }
                            }
                        }
                    } else {
                        None
                    }
                }
            };
        }
        let rest = expr.strip_prefix("identity.groups.")?;
        let (by, rest) = rest.split_once('.')?;
        let (key, field) = rest.split_once('.')?;
        let group = match by {
            "ids" => v.groups.iter().find(|g| g.id == key)?,
            "names" => v.groups.iter().find(|g| g.name == key)?,
            _ => return None,
        };
        match field {
            "id" => Some(group.id.clone()),
            "name" => non_empty(&group.name),
            f => group.metadata.get(f.strip_prefix("metadata.")?).cloned(),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

//! `identity/lookup/entity` and `identity/lookup/group`: find one record by exactly one
//! criterion (name, id, alias id, or alias name + mount accessor). No match answers 204.

use super::api::Params;
use super::group::group_json;
use super::{IdentityStore, MountLookup};
use crate::request::Response;
use crate::{CoreError, Result};

/// The one criterion a lookup request gives.
enum Criterion {
    Name(String),
    Id(String),
    AliasId(String),
    AliasFactors { name: String, accessor: String },
}

fn criterion(p: &Params<'_>) -> Result<Criterion> {
    let get = |k: &str| p.string(k).filter(|s| !s.is_empty());
    let (name, id, alias_id) = (get("name"), get("id"), get("alias_id"));
    let (alias_name, accessor) = (get("alias_name"), get("alias_mount_accessor"));
    let given = [
        name.is_some(),
        id.is_some(),
        alias_id.is_some(),
        alias_name.is_some() || accessor.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given > 1 {
        return Err(CoreError::bad(
            "query parameters name, id, alias_id and alias_name/alias_mount_accessor are mutually exclusive",
        ));
    }
    if let Some(n) = name {
        return Ok(Criterion::Name(n));
    }
    if let Some(i) = id {
        return Ok(Criterion::Id(i));
    }
    if let Some(a) = alias_id {
        return Ok(Criterion::AliasId(a));
    }
    match (alias_name, accessor) {
        (Some(name), Some(accessor)) => Ok(Criterion::AliasFactors { name, accessor }),
        (Some(_), None) => Err(CoreError::bad("missing alias_mount_accessor")),
        (None, Some(_)) => Err(CoreError::bad("missing alias_name")),
        (None, None) => Err(CoreError::bad(
            "missing criteria: one of name, id, alias_id, or alias_name with alias_mount_accessor",
        )),
    }
}

impl IdentityStore {
    /// `identity/lookup/entity`.
    pub(super) async fn lookup_entity(&self, p: &Params<'_>, mounts: Option<MountLookup<'_>>) -> Result<Response> {
        let entity = match criterion(p)? {
            Criterion::Name(n) => self.store.entity_by_name(&n).await?,
            Criterion::Id(i) => self.store.entity(&i).await?,
            Criterion::AliasId(a) => self.store.alias(&a).await?.map(|(e, _)| e),
            Criterion::AliasFactors { name, accessor } => {
                self.store.alias_by_factors(&accessor, &name).await?.map(|(e, _)| e)
            }
        };
        match entity {
            Some(e) => Ok(Response::data(self.entity_json(&e, mounts).await?)),
            None => Ok(Response::empty()),
        }
    }

    /// `identity/lookup/group` (groups have no aliases yet: alias criteria find nothing).
    pub(super) async fn lookup_group(&self, p: &Params<'_>) -> Result<Response> {
        let index = self.store.groups().await?;
        let group = match criterion(p)? {
            Criterion::Name(n) => index.by_name(&n),
            Criterion::Id(i) => index.get(&i),
            Criterion::AliasId(_) | Criterion::AliasFactors { .. } => None,
        };
        match group {
            Some(g) => Ok(Response::data(group_json(g, &index))),
            None => Ok(Response::empty()),
        }
    }
}

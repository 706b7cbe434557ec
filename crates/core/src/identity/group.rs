//! Groups: the in-memory index of every group (membership in both directions, nesting) and
//! the `identity/group*` endpoints.

use super::IdentityStore;
use super::api::{Params, list_response};
use super::store::{Changes, Group};
use crate::request::Response;
use crate::time::{now_unix, rfc3339};
use crate::{CoreError, Result};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// Every group, with the reverse edges needed to resolve an entity's groups.
#[derive(Debug, Default)]
pub struct GroupIndex {
    by_id: HashMap<String, Arc<Group>>,
    by_name: HashMap<String, String>,
    /// Entity id → groups listing it in `member_entity_ids`.
    entity_groups: HashMap<String, Vec<String>>,
    /// Group id → groups listing it in `member_group_ids`.
    parents: HashMap<String, Vec<String>>,
}

impl GroupIndex {
    /// Indexes a full set of groups.
    pub(super) fn build(by_id: HashMap<String, Arc<Group>>) -> Self {
        let mut index = GroupIndex::default();
        for group in by_id.values() {
            index.by_name.insert(group.name.clone(), group.id.clone());
            for e in &group.member_entity_ids {
                index.entity_groups.entry(e.clone()).or_default().push(group.id.clone());
            }
            for g in &group.member_group_ids {
                index.parents.entry(g.clone()).or_default().push(group.id.clone());
            }
        }
        for v in index.entity_groups.values_mut().chain(index.parents.values_mut()) {
            v.sort();
        }
        index.by_id = by_id;
        index
    }

    /// A new index with groups replaced (`Some`) or removed (`None`).
    pub(super) fn apply(&self, changes: Vec<(String, Option<Arc<Group>>)>) -> Self {
        let mut by_id = self.by_id.clone();
        for (id, group) in changes {
            match group {
                Some(g) => by_id.insert(id, g),
                None => by_id.remove(&id),
            };
        }
        GroupIndex::build(by_id)
    }

    /// A group by id.
    pub fn get(&self, id: &str) -> Option<&Arc<Group>> {
        self.by_id.get(id)
    }

    /// A group by name.
    pub fn by_name(&self, name: &str) -> Option<&Arc<Group>> {
        self.by_name.get(name).and_then(|id| self.by_id.get(id))
    }

    /// All group ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.by_id.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Groups that list `entity_id` as a member.
    pub fn direct_groups(&self, entity_id: &str) -> &[String] {
        self.entity_groups.get(entity_id).map_or(&[], Vec::as_slice)
    }

    /// Groups that list `group_id` in their `member_group_ids`.
    pub fn parents(&self, group_id: &str) -> &[String] {
        self.parents.get(group_id).map_or(&[], Vec::as_slice)
    }

    /// Every group reachable from `start` through parent links, excluding `start`, sorted.
    pub fn ancestors(&self, start: &[String]) -> Vec<String> {
        let mut seen: BTreeSet<&str> = start.iter().map(String::as_str).collect();
        let mut out = BTreeSet::new();
        let mut queue: VecDeque<&str> = start.iter().map(String::as_str).collect();
        while let Some(g) = queue.pop_front() {
            for p in self.parents(g) {
                if seen.insert(p) {
                    out.insert(p.clone());
                    queue.push_back(p);
                }
            }
        }
        out.into_iter().collect()
    }
}

/// A group as `identity/group/id/<id>` returns it.
pub(super) fn group_json(group: &Group, index: &GroupIndex) -> Value {
    json!({
        "id": group.id,
        "name": group.name,
        "type": group.kind,
        "policies": group.policies,
        "member_entity_ids": group.member_entity_ids,
        "member_group_ids": group.member_group_ids,
        "parent_group_ids": index.parents(&group.id),
        "metadata": group.metadata,
        "creation_time": rfc3339(group.creation_time),
        "last_update_time": rfc3339(group.last_update_time),
        "modify_index": group.modify_index,
        "alias": {},
        "namespace_id": "root",
    })
}

impl IdentityStore {
    /// `identity/group` and `identity/group/{id,name}/<x>` writes. `by` selects the group
    /// named by the path (`("id", x)` or `("name", x)`); without it the body's `id`/`name` do.
    pub(super) async fn write_group(&self, by: Option<(&str, &str)>, p: &Params<'_>) -> Result<Response> {
        let _w = self.store.write.lock().await;
        let index = self.store.groups_locked().await?;
        let wanted_id = match by {
            Some(("id", id)) => Some(id.to_string()),
            Some(_) => None,
            None => p.string("id").filter(|id| !id.is_empty()),
        };
        let existing = match (by, wanted_id) {
            (_, Some(id)) => Some(
                index
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| CoreError::bad("invalid group ID"))?,
            ),
            (Some((_, name)), None) => index.by_name(name).cloned(),
            (None, None) => p.string("name").and_then(|n| index.by_name(&n).cloned()),
        };
        let now = now_unix();
        let mut group = existing.as_deref().cloned().unwrap_or_else(|| Group {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "internal".into(),
            creation_time: now,
            ..Group::default()
        });
        let name = match by {
            Some(("name", name)) => Some(name.to_string()),
            _ => p.string("name"),
        };
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            if let Some(other) = index.by_name(&name)
                && other.id != group.id
            {
                return Err(CoreError::bad(format!("group name \"{name}\" is already in use")));
            }
            group.name = name;
        }
        if group.name.is_empty() {
            group.name = format!("group_{}", &group.id[..8]);
        }
        if let Some(kind) = p.string("type").filter(|k| !k.is_empty() && k != "internal") {
            return Err(CoreError::bad(format!(
                "group type \"{kind}\" is not supported; only \"internal\" groups are"
            )));
        }
        if let Some(policies) = p.list("policies")? {
            group.policies = policies;
        }
        if let Some(metadata) = p.metadata("metadata")? {
            group.metadata = metadata;
        }
        if let Some(members) = p.list("member_entity_ids")? {
            for id in &members {
                if self.store.entity(id).await?.is_none() {
                    return Err(CoreError::bad(format!("invalid member entity ID \"{id}\"")));
                }
            }
            group.member_entity_ids = sorted_unique(members);
        }
        if let Some(members) = p.list("member_group_ids")? {
            let mut forbidden = index.ancestors(std::slice::from_ref(&group.id));
            forbidden.push(group.id.clone());
            for id in &members {
                if index.get(id).is_none() {
                    return Err(CoreError::bad(format!("invalid member group ID \"{id}\"")));
                }
                if forbidden.contains(id) {
                    return Err(CoreError::bad(format!(
                        "cyclic relationship detected for member group ID \"{id}\""
                    )));
                }
            }
            group.member_group_ids = sorted_unique(members);
        }
        let created = existing.is_none();
        if let Some(old) = &existing
            && **old == group
        {
            return Ok(group_ref_response(&group));
        }
        group.last_update_time = now;
        group.modify_index += 1;
        let response = group_ref_response(&group);
        let mut changes = Changes::default();
        changes.put_group(group)?;
        self.store.commit(changes).await?;
        self.invalidate_all();
        tracing::debug!(created, "identity group written");
        Ok(response)
    }

    /// Deletes a group and removes it from its parents' `member_group_ids`.
    pub(super) async fn delete_group(&self, by: (&str, &str)) -> Result<Response> {
        let _w = self.store.write.lock().await;
        let index = self.store.groups_locked().await?;
        let group = match by {
            ("id", id) => index.get(id),
            (_, name) => index.by_name(name),
        };
        let Some(group) = group.cloned() else {
            return Ok(Response::empty());
        };
        let mut changes = Changes::default();
        for parent in index.parents(&group.id) {
            if let Some(p) = index.get(parent) {
                let mut p = (**p).clone();
                p.member_group_ids.retain(|g| *g != group.id);
                p.last_update_time = now_unix();
                p.modify_index += 1;
                changes.put_group(p)?;
            }
        }
        changes.delete_group(&group.id);
        self.store.commit(changes).await?;
        self.invalidate_all();
        Ok(Response::empty())
    }

    /// Reads a group by id or name.
    pub(super) async fn read_group(&self, by: (&str, &str)) -> Result<Response> {
        let index = self.store.groups().await?;
        let group = match by {
            ("id", id) => index.get(id),
            (_, name) => index.by_name(name),
        };
        match group {
            Some(g) => Ok(Response::data(group_json(g, &index))),
            None => Err(CoreError::NotFound(String::new())),
        }
    }

    /// LIST `identity/group/id` (with `key_info`) or `identity/group/name`.
    pub(super) async fn list_groups(&self, by_name: bool) -> Result<Response> {
        let index = self.store.groups().await?;
        let ids = index.ids();
        if by_name {
            let mut names: Vec<String> = ids
                .iter()
                .filter_map(|id| index.get(id))
                .map(|g| g.name.clone())
                .collect();
            names.sort();
            return list_response(names, None);
        }
        let mut info = serde_json::Map::new();
        for id in &ids {
            if let Some(g) = index.get(id) {
                info.insert(
                    id.clone(),
                    json!({
                        "name": g.name,
                        "num_member_entities": g.member_entity_ids.len(),
                        "num_parent_groups": index.parents(id).len(),
                    }),
                );
            }
        }
        list_response(ids, Some(info))
    }
}

fn group_ref_response(group: &Group) -> Response {
    Response::data(json!({ "id": group.id, "name": group.name }))
}

fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

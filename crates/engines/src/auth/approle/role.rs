//! `role` (LIST), `role/<name>` and `role/<name>/role-id`: AppRole definitions and their
//! RoleIDs. A role and its RoleID index are always written in one batch.

use super::Approle;
use crate::auth::token_fields::{self, TokenFields, cidr_list};
use crate::kv::fields::{boolean, uint};
use coffer_core::backend::BackendRequest;
use coffer_core::duration::parse_field;
use coffer_core::request::{Operation, Response, ignored_fields_warning};
use coffer_core::view::{View, ViewOp, to_json};
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Storage prefix of role records.
const PREFIX: &str = "role/";
/// Storage prefix of the RoleID index.
pub(crate) const ROLE_ID_PREFIX: &str = "role_id/";
const ROLE_FIELDS: &[&str] = &[
    "role_name",
    "role_id",
    "bind_secret_id",
    "secret_id_bound_cidrs",
    "bound_cidr_list",
    "secret_id_num_uses",
    "secret_id_ttl",
    "local_secret_ids",
];

/// One AppRole.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleEntry {
    /// Random id of this incarnation of the role: SecretIDs are bound to it, so a role
    /// deleted and created again under the same name does not accept old SecretIDs.
    pub id: String,
    /// Role name (lowercase).
    pub name: String,
    /// The RoleID presented at login.
    pub role_id: String,
    /// Whether login requires a SecretID.
    pub bind_secret_id: bool,
    /// CIDR blocks allowed to log in.
    pub secret_id_bound_cidrs: Vec<String>,
    /// Default use count of new SecretIDs (0 = unlimited).
    pub secret_id_num_uses: u64,
    /// Default TTL of new SecretIDs in seconds (0 = no expiry).
    pub secret_id_ttl: u64,
    /// Accepted for compatibility; Coffer has no cluster-local storage.
    pub local_secret_ids: bool,
    /// Settings of the tokens this role logs in to.
    #[serde(flatten)]
    pub token: TokenFields,
}

/// Index record: RoleID HMAC → role name.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RoleIdIndex {
    pub name: String,
}

/// A fresh random UUID (v4 layout) from the crypto stack's CSPRNG.
pub(crate) fn new_uuid() -> String {
    let bytes: [u8; 16] = coffer_crypto::random_bytes(16).try_into().unwrap_or([0u8; 16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Checks a role name (letters, digits, space, `-`, `_`, `.`; under 4096 bytes) and returns
/// its lowercase form, as Vault stores role names case-insensitively.
pub fn validate_name(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(CoreError::bad("missing role_name"));
    }
    let ok = name.len() < 4096
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    if !ok {
        return Err(CoreError::bad(format!(
            "invalid role_name \"{name}\": use letters, digits, space, \"-\", \"_\" and \".\" \
             (less than 4096 bytes)"
        )));
    }
    Ok(name.to_lowercase())
}

/// Reads a role by (lowercase) name.
pub async fn load(view: &View, name: &str) -> Result<Option<RoleEntry>> {
    view.get_json(&format!("{PREFIX}{name}")).await
}

/// Reads a role that must exist (400 otherwise, as Vault).
pub async fn require(view: &View, name: &str) -> Result<RoleEntry> {
    load(view, name)
        .await?
        .ok_or_else(|| CoreError::bad(format!("role \"{name}\" does not exist")))
}

/// `LIST role`.
pub async fn list(view: &View) -> Result<Response> {
    let keys = view.list(PREFIX).await?;
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    Ok(Response::list(keys))
}

/// What Vault shows for a role.
fn role_data(role: &RoleEntry) -> Value {
    let mut data = Map::new();
    data.insert("bind_secret_id".into(), json!(role.bind_secret_id));
    data.insert("secret_id_bound_cidrs".into(), json!(role.secret_id_bound_cidrs));
    data.insert("secret_id_num_uses".into(), json!(role.secret_id_num_uses));
    data.insert("secret_id_ttl".into(), json!(role.secret_id_ttl));
    data.insert("local_secret_ids".into(), json!(role.local_secret_ids));
    role.token.populate(&mut data);
    Value::Object(data)
}

/// `role/<name>`: read, create/update, delete.
pub async fn handle_role(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    let view = &be.view;
    match req.operation {
        Operation::Read => {
            let role = load(view, name)
                .await?
                .ok_or_else(|| CoreError::NotFound(String::new()))?;
            Ok(Response::data(role_data(&role)))
        }
        Operation::Create | Operation::Update => write_role(be, req.data, name).await,
        Operation::Delete => {
            let _guard = be.role_lock.lock().await;
            let Some(role) = load(view, name).await? else {
                return Ok(Response::empty());
            };
            let index = be.mac(&["role_id", &role.role_id]).await?;
            view.batch(vec![
                ViewOp::Delete(format!("{PREFIX}{name}")),
                ViewOp::Delete(format!("{ROLE_ID_PREFIX}{index}")),
                ViewOp::DeletePrefix(format!("{}{name}/", super::secret_id::SECRET_PREFIX)),
                ViewOp::DeletePrefix(format!("{}{name}/", super::secret_id::ACCESSOR_PREFIX)),
            ])
            .await?;
            Ok(Response::empty())
        }
        _ => Err(CoreError::UnsupportedOperation),
    }
}

async fn write_role(be: &Approle, data: &Map<String, Value>, name: &str) -> Result<Response> {
    let view = &be.view;
    let _guard = be.role_lock.lock().await;
    let existing = load(view, name).await?;
    let mut role = existing.clone().unwrap_or_else(|| RoleEntry {
        id: new_uuid(),
        name: name.to_string(),
        role_id: new_uuid(),
        bind_secret_id: true,
        secret_id_bound_cidrs: vec![],
        secret_id_num_uses: 0,
        secret_id_ttl: 0,
        local_secret_ids: false,
        token: TokenFields::default(),
    });
    if let Some(b) = boolean(data, "bind_secret_id")? {
        role.bind_secret_id = b;
    }
    if let Some(blocks) = cidr_list(data, "secret_id_bound_cidrs")? {
        role.secret_id_bound_cidrs = blocks;
    } else if let Some(blocks) = cidr_list(data, "bound_cidr_list")? {
        role.secret_id_bound_cidrs = blocks;
    }
    if let Some(n) = uint(data, "secret_id_num_uses")? {
        role.secret_id_num_uses = n;
    }
    if let Some(ttl) = parse_field(data, "secret_id_ttl")? {
        role.secret_id_ttl = ttl;
    }
    if let Some(local) = boolean(data, "local_secret_ids")? {
        if existing.as_ref().is_some_and(|r| r.local_secret_ids != local) {
            return Err(CoreError::bad(
                "local_secret_ids can only be modified during role creation",
            ));
        }
        role.local_secret_ids = local;
    }
    role.token.update(data)?;
    if let Some(role_id) = data.get("role_id") {
        role.role_id = role_id_value(role_id)?;
    }
    if !role.bind_secret_id && role.secret_id_bound_cidrs.is_empty() && role.token.token_bound_cidrs.is_empty() {
        return Err(CoreError::bad(
            "at least one constraint should be enabled on the role: bind_secret_id, \
             secret_id_bound_cidrs or token_bound_cidrs",
        ));
    }
    save(be, existing.as_ref(), &role).await?;
    let mut resp = Response::empty();
    resp.warnings.extend(ignored_fields_warning(
        data,
        &[ROLE_FIELDS, token_fields::FIELDS].concat(),
    ));
    Ok(resp)
}

fn role_id_value(value: &Value) -> Result<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::String(_) | Value::Null => Err(CoreError::bad("missing role_id")),
        _ => Err(CoreError::bad("field \"role_id\" must be a string")),
    }
}

/// Writes a role and, when its RoleID is new, moves the index, in one batch. Refuses a RoleID
/// another role already uses. The caller holds `role_lock`.
async fn save(be: &Approle, old: Option<&RoleEntry>, role: &RoleEntry) -> Result<()> {
    let mut ops = vec![ViewOp::Put(format!("{PREFIX}{}", role.name), to_json(role)?)];
    if old.map(|o| o.role_id.as_str()) != Some(role.role_id.as_str()) {
        let index = be.mac(&["role_id", &role.role_id]).await?;
        let key = format!("{ROLE_ID_PREFIX}{index}");
        if let Some(other) = be.view.get_json::<RoleIdIndex>(&key).await?
            && other.name != role.name
        {
            return Err(CoreError::bad("role_id already in use"));
        }
        ops.push(ViewOp::Put(
            key,
            to_json(&RoleIdIndex {
                name: role.name.clone(),
            })?,
        ));
        if let Some(old) = old {
            let old_index = be.mac(&["role_id", &old.role_id]).await?;
            ops.push(ViewOp::Delete(format!("{ROLE_ID_PREFIX}{old_index}")));
        }
    }
    be.view.batch(ops).await
}

/// `role/<name>/role-id`: read the RoleID, or set a custom one.
pub async fn handle_role_id(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    match req.operation {
        Operation::Read => {
            let role = load(&be.view, name)
                .await?
                .ok_or_else(|| CoreError::NotFound(String::new()))?;
            Ok(Response::data(json!({ "role_id": role.role_id })))
        }
        Operation::Create | Operation::Update => {
            let role_id = role_id_value(req.data.get("role_id").unwrap_or(&Value::Null))?;
            let _guard = be.role_lock.lock().await;
            let old = require(&be.view, name).await?;
            let role = RoleEntry { role_id, ..old.clone() };
            save(be, Some(&old), &role).await?;
            Ok(Response::empty())
        }
        _ => Err(CoreError::UnsupportedOperation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        assert_eq!(validate_name("My App.1_x-y z").unwrap(), "my app.1_x-y z");
        for bad in ["", ".", "..", "a/b", "a*", "é"] {
            assert!(validate_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_name(&"a".repeat(4096)).is_err());
    }

    #[test]
    fn uuids_are_random_v4() {
        let (a, b) = (new_uuid(), new_uuid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}

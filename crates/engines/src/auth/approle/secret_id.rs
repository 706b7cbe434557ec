//! SecretIDs: generate (`role/<name>/secret-id`, `custom-secret-id`), list accessors, look up
//! and destroy by value or by accessor. A SecretID is stored only as its HMAC; its record and
//! its accessor index are written and deleted together.

use super::Approle;
use super::role::{self, RoleEntry, new_uuid};
use crate::auth::token_fields::cidr_list;
use crate::kv::fields::uint;
use coffer_core::backend::BackendRequest;
use coffer_core::cidr::Cidr;
use coffer_core::duration::parse_field;
use coffer_core::request::{Operation, Response};
use coffer_core::time::{now_unix, rfc3339};
use coffer_core::view::{ViewOp, to_json};
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Storage prefix of SecretID records (`secret_id/<role>/<hmac>`).
pub(crate) const SECRET_PREFIX: &str = "secret_id/";
/// Storage prefix of accessor records (`accessor/<role>/<accessor>`).
pub(crate) const ACCESSOR_PREFIX: &str = "accessor/";

/// One SecretID (times are unix seconds; 0 = never expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretIdEntry {
    /// HMAC of the SecretID (hex), also its storage key.
    pub secret_id_hmac: String,
    /// Accessor: names the SecretID without revealing it.
    pub secret_id_accessor: String,
    /// Remaining uses (0 = unlimited).
    pub secret_id_num_uses: u64,
    /// TTL given at creation, seconds.
    pub secret_id_ttl: u64,
    /// Creation time.
    pub creation_time: i64,
    /// Expiry time, 0 for none.
    pub expiration_time: i64,
    /// Last change (creation or a use).
    pub last_updated_time: i64,
    /// Metadata copied to the tokens it logs in to.
    pub metadata: BTreeMap<String, String>,
    /// CIDR blocks allowed to log in with it.
    pub cidr_list: Vec<String>,
    /// CIDR blocks the tokens are bound to (overrides the role's).
    pub token_bound_cidrs: Vec<String>,
}

impl SecretIdEntry {
    /// Whether the SecretID has expired.
    pub fn expired(&self) -> bool {
        self.expiration_time != 0 && now_unix() >= self.expiration_time
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessorEntry {
    secret_id_hmac: String,
}

pub(crate) fn secret_key(role: &str, mac: &str) -> String {
    format!("{SECRET_PREFIX}{role}/{mac}")
}

fn accessor_key(role: &str, accessor: &str) -> String {
    format!("{ACCESSOR_PREFIX}{role}/{accessor}")
}

/// The HMAC naming a SecretID of `role`: bound to the role's incarnation, so SecretIDs of a
/// deleted role never match a new role of the same name.
pub(crate) async fn secret_mac(be: &Approle, role: &RoleEntry, secret_id: &str) -> Result<String> {
    be.mac(&["secret_id", &role.id, secret_id]).await
}

/// The operations deleting a SecretID and its accessor.
pub(crate) fn delete_ops(role: &str, entry: &SecretIdEntry) -> Vec<ViewOp> {
    vec![
        ViewOp::Delete(secret_key(role, &entry.secret_id_hmac)),
        ViewOp::Delete(accessor_key(role, &entry.secret_id_accessor)),
    ]
}

fn required_str(data: &Map<String, Value>, name: &str) -> Result<String> {
    match data.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(CoreError::bad(format!("missing {name}"))),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a string"))),
    }
}

/// `metadata`: a JSON object of strings, or a string holding one (as hvac sends it).
fn metadata_field(data: &Map<String, Value>) -> Result<BTreeMap<String, String>> {
    let err = || CoreError::bad("failed to parse metadata: it must be a JSON object of string values");
    let object = match data.get("metadata") {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(BTreeMap::new()),
        Some(Value::String(s)) => serde_json::from_str::<Map<String, Value>>(s).map_err(|_| err())?,
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(err()),
    };
    object
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            _ => Err(err()),
        })
        .collect()
}

/// A CIDR block as (address, prefix length); a bare address is a host block.
fn split_block(block: &str) -> std::result::Result<(IpAddr, u8), String> {
    let bad = || format!("invalid CIDR block \"{block}\"");
    let (addr, prefix) = block.trim().split_once('/').unwrap_or((block.trim(), ""));
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() {
        max
    } else {
        prefix.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?
    };
    Ok((ip, prefix))
}

/// Checks that every block of `inner` lies inside some block of `outer` (an empty `outer`
/// allows anything): same address family, a prefix at least as long, and an address the
/// outer block contains.
fn cidrs_subset(inner: &[String], outer: &[String]) -> std::result::Result<(), String> {
    if outer.is_empty() {
        return Ok(());
    }
    let outer = outer
        .iter()
        .map(|b| Ok((Cidr::parse(b)?, split_block(b)?)))
        .collect::<std::result::Result<Vec<_>, String>>()?;
    for block in inner {
        let (ip, prefix) = split_block(block)?;
        let inside = outer.iter().any(|(cidr, (outer_ip, outer_prefix))| {
            ip.is_ipv4() == outer_ip.is_ipv4() && prefix >= *outer_prefix && cidr.contains(ip)
        });
        if !inside {
            return Err(format!("\"{block}\" is not inside the role's CIDR blocks"));
        }
    }
    Ok(())
}

/// `role/<name>/secret-id` (generated value) and `role/<name>/custom-secret-id` (given value).
pub async fn generate(be: &Approle, req: &BackendRequest<'_>, name: &str, custom: bool) -> Result<Response> {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return Err(CoreError::UnsupportedOperation);
    }
    let data = req.data;
    let secret_id = if custom {
        zeroize::Zeroizing::new(required_str(data, "secret_id")?)
    } else {
        zeroize::Zeroizing::new(new_uuid())
    };
    let cidrs = cidr_list(data, "cidr_list")?.unwrap_or_default();
    let token_cidrs = cidr_list(data, "token_bound_cidrs")?.unwrap_or_default();
    let metadata = metadata_field(data)?;
    let num_uses = uint(data, "num_uses")?;
    let ttl = parse_field(data, "ttl")?;

    let _guard = be.role_lock.lock().await;
    let role = role::require(&be.view, name).await?;
    if !role.bind_secret_id {
        return Err(CoreError::bad("bind_secret_id is not set on the role"));
    }
    cidrs_subset(&cidrs, &role.secret_id_bound_cidrs).map_err(|e| {
        CoreError::bad(format!(
            "failed to verify the CIDR restrictions set on the secret ID: {e}"
        ))
    })?;
    cidrs_subset(&token_cidrs, &role.token.token_bound_cidrs).map_err(|e| {
        CoreError::bad(format!(
            "failed to verify the token bound CIDR restrictions set on the secret ID: {e}"
        ))
    })?;
    let num_uses = match num_uses {
        None => role.secret_id_num_uses,
        Some(n) if role.secret_id_num_uses > 0 && (n == 0 || n > role.secret_id_num_uses) => {
            return Err(CoreError::bad(
                "num_uses cannot be higher than the role's secret_id_num_uses",
            ));
        }
        Some(n) => n,
    };
    let ttl = match ttl {
        None => role.secret_id_ttl,
        Some(t) if role.secret_id_ttl > 0 && (t == 0 || t > role.secret_id_ttl) => {
            return Err(CoreError::bad("ttl cannot be longer than the role's secret_id_ttl"));
        }
        Some(t) => t,
    };
    let mac = secret_mac(be, &role, &secret_id).await?;
    let _secret_guard = be.lock_secret(&mac).await;
    if be.view.get(&secret_key(name, &mac)).await?.is_some() {
        return Err(CoreError::bad("SecretID is already registered"));
    }
    let now = now_unix();
    let entry = SecretIdEntry {
        secret_id_hmac: mac.clone(),
        secret_id_accessor: new_uuid(),
        secret_id_num_uses: num_uses,
        secret_id_ttl: ttl,
        creation_time: now,
        expiration_time: if ttl > 0 { now + ttl as i64 } else { 0 },
        last_updated_time: now,
        metadata,
        cidr_list: cidrs,
        token_bound_cidrs: token_cidrs,
    };
    let accessor = AccessorEntry {
        secret_id_hmac: mac.clone(),
    };
    be.view
        .batch(vec![
            ViewOp::Put(secret_key(name, &mac), to_json(&entry)?),
            ViewOp::Put(accessor_key(name, &entry.secret_id_accessor), to_json(&accessor)?),
        ])
        .await?;
    Ok(Response::data(json!({
        "secret_id": secret_id.as_str(),
        "secret_id_accessor": entry.secret_id_accessor,
        "secret_id_ttl": entry.secret_id_ttl,
        "secret_id_num_uses": entry.secret_id_num_uses,
    })))
}

/// `LIST role/<name>/secret-id`: the accessors of the role's SecretIDs.
pub async fn list(be: &Approle, name: &str) -> Result<Response> {
    role::require(&be.view, name).await?;
    let keys = be.view.list(&format!("{ACCESSOR_PREFIX}{name}/")).await?;
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    Ok(Response::list(keys))
}

fn entry_data(entry: &SecretIdEntry) -> Value {
    let time = |t: i64| {
        if t == 0 {
            "0001-01-01T00:00:00Z".to_string()
        } else {
            rfc3339(t)
        }
    };
    json!({
        "secret_id_accessor": entry.secret_id_accessor,
        "secret_id_num_uses": entry.secret_id_num_uses,
        "secret_id_ttl": entry.secret_id_ttl,
        "creation_time": time(entry.creation_time),
        "expiration_time": time(entry.expiration_time),
        "last_updated_time": time(entry.last_updated_time),
        "metadata": entry.metadata,
        "cidr_list": entry.cidr_list,
        "token_bound_cidrs": entry.token_bound_cidrs,
    })
}

/// Finds a SecretID by value: (role, HMAC, record if any).
async fn by_value(
    be: &Approle,
    req: &BackendRequest<'_>,
    name: &str,
) -> Result<(RoleEntry, String, Option<SecretIdEntry>)> {
    let secret_id = zeroize::Zeroizing::new(required_str(req.data, "secret_id")?);
    let role = role::require(&be.view, name).await?;
    let mac = secret_mac(be, &role, &secret_id).await?;
    let entry = be.view.get_json(&secret_key(name, &mac)).await?;
    Ok((role, mac, entry))
}

/// Finds a SecretID by accessor; 400 when the accessor is unknown (Vault's wording).
async fn by_accessor(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<(String, Option<SecretIdEntry>)> {
    let accessor = required_str(req.data, "secret_id_accessor")?;
    role::require(&be.view, name).await?;
    let index: AccessorEntry = be.view.get_json(&accessor_key(name, &accessor)).await?.ok_or_else(|| {
        CoreError::bad(format!(
            "failed to find accessor entry for secret_id_accessor: \"{accessor}\""
        ))
    })?;
    let entry = be.view.get_json(&secret_key(name, &index.secret_id_hmac)).await?;
    Ok((index.secret_id_hmac, entry))
}

fn write_op(op: Operation) -> Result<()> {
    match op {
        Operation::Create | Operation::Update | Operation::Delete => Ok(()),
        _ => Err(CoreError::UnsupportedOperation),
    }
}

/// `role/<name>/secret-id/lookup` {secret_id}: the SecretID's properties; 204 when unknown.
pub async fn lookup(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    write_op(req.operation)?;
    let (_, _, entry) = by_value(be, req, name).await?;
    Ok(entry.map(|e| Response::data(entry_data(&e))).unwrap_or_default())
}

/// `role/<name>/secret-id/destroy` {secret_id}: deletes the SecretID (204 even when unknown).
pub async fn destroy(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    write_op(req.operation)?;
    let (_, mac, _) = by_value(be, req, name).await?;
    delete_locked(be, name, &mac).await
}

/// `role/<name>/secret-id-accessor/lookup` {secret_id_accessor}.
pub async fn lookup_accessor(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    write_op(req.operation)?;
    let (_, entry) = by_accessor(be, req, name).await?;
    Ok(entry.map(|e| Response::data(entry_data(&e))).unwrap_or_default())
}

/// `role/<name>/secret-id-accessor/destroy` {secret_id_accessor}.
pub async fn destroy_accessor(be: &Approle, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    write_op(req.operation)?;
    let (mac, _) = by_accessor(be, req, name).await?;
    delete_locked(be, name, &mac).await
}

async fn delete_locked(be: &Approle, name: &str, mac: &str) -> Result<Response> {
    let _guard = be.lock_secret(mac).await;
    if let Some(entry) = be.view.get_json::<SecretIdEntry>(&secret_key(name, mac)).await? {
        be.view.batch(delete_ops(name, &entry)).await?;
    }
    Ok(Response::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cidr_subsets() {
        let outer = v(&["10.0.0.0/8", "192.168.1.0/24"]);
        assert!(cidrs_subset(&v(&["10.1.0.0/16", "192.168.1.7", "10.0.0.0/8"]), &outer).is_ok());
        assert!(cidrs_subset(&v(&["10.0.0.0/7"]), &outer).is_err());
        assert!(cidrs_subset(&v(&["192.168.2.0/24"]), &outer).is_err());
        assert!(cidrs_subset(&v(&["::1/128"]), &outer).is_err());
        assert!(cidrs_subset(&v(&["1.2.3.4/32"]), &[]).is_ok());
    }

    #[test]
    fn metadata_from_string_or_object() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        let got = metadata_field(&m(json!({"metadata": "{\"a\": \"b\"}"}))).unwrap();
        assert_eq!(got.get("a").map(String::as_str), Some("b"));
        assert_eq!(metadata_field(&m(json!({"metadata": {"x": "y"}}))).unwrap().len(), 1);
        assert!(metadata_field(&m(json!({"metadata": {"x": 1}}))).is_err());
        assert!(metadata_field(&m(json!({"metadata": "nope"}))).is_err());
        assert!(metadata_field(&m(json!({}))).unwrap().is_empty());
    }
}

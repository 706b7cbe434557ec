//! `sys/init`, `sys/unseal`, `sys/seal-status`, `sys/health`, `sys/leader`, `sys/seal`,
//! `sys/rotate`, `sys/key-status`.

use super::is_write;
use crate::core::Core;
use crate::request::{Operation, Request, Response};
use crate::seal::decode_key;
use crate::time::{now_unix, rfc3339};
use crate::{CoreError, Result};
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// Version reported to clients.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub(super) async fn handle_unauthenticated(core: &Core, rel: &str, req: &Request) -> Result<Option<Response>> {
    let op = req.operation;
    let resp = match (rel, op) {
        ("init", Operation::Read) => Response::raw(200, json!({ "initialized": core.seal_config().await?.is_some() })),
        ("init", _) if is_write(op) => init(core, &req.data).await?,
        ("seal-status", Operation::Read) => Response::raw(200, seal_status(core).await?),
        ("unseal", _) if is_write(op) => unseal(core, &req.data).await?,
        ("health", Operation::Read) => health(core, &req.data).await?,
        ("leader", Operation::Read) => {
            core.unsealed()?;
            Response::raw(
                200,
                json!({
                    "ha_enabled": false, "is_self": true, "active_time": "0001-01-01T00:00:00Z",
                    "leader_address": "", "leader_cluster_address": "", "performance_standby": false,
                    "performance_standby_last_remote_wal": 0, "raft_committed_index": 0, "raft_applied_index": 0,
                }),
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(resp))
}

pub(super) async fn handle(core: &Core, op: Operation, rel: &str) -> Result<Option<Response>> {
    Ok(Some(match (rel, op) {
        ("seal", _) if is_write(op) => {
            core.seal().await?;
            Response::empty()
        }
        ("rotate" | "rotate/keyring", _) if is_write(op) => {
            core.rotate().await?;
            Response::empty()
        }
        ("key-status", Operation::Read) => {
            let (term, installed) = core.key_status()?;
            Response::data(json!({ "term": term, "install_time": rfc3339(installed as i64), "encryptions": 0 }))
        }
        _ => return Ok(None),
    }))
}

fn small_int(data: &serde_json::Map<String, Value>, name: &str) -> Result<Option<u8>> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= 255)
            .map(|n| Some(n as u8))
            .ok_or_else(|| CoreError::bad(format!("{name} must be an integer between 1 and 255"))),
    }
}

async fn init(core: &Core, data: &serde_json::Map<String, Value>) -> Result<Response> {
    for key in data.keys() {
        if ![
            "secret_shares",
            "secret_threshold",
            "pgp_keys",
            "root_token_pgp_key",
            "stored_shares",
            "recovery_shares",
            "recovery_threshold",
            "recovery_pgp_keys",
        ]
        .contains(&key.as_str())
        {
            return Err(CoreError::bad(format!("unknown field \"{key}\"")));
        }
    }
    if matches!(data.get("pgp_keys"), Some(Value::Array(a)) if !a.is_empty())
        || matches!(data.get("root_token_pgp_key"), Some(Value::String(s)) if !s.is_empty())
    {
        return Err(CoreError::bad("PGP-encrypted key shares are not supported yet"));
    }
    let shares = small_int(data, "secret_shares")?.ok_or_else(|| CoreError::bad("secret_shares is required"))?;
    let threshold =
        small_int(data, "secret_threshold")?.ok_or_else(|| CoreError::bad("secret_threshold is required"))?;
    if shares == 0 || threshold == 0 || threshold > shares || (shares > 1 && threshold < 2) {
        return Err(CoreError::bad(
            "invalid seal configuration: need 1 <= secret_threshold <= secret_shares, and a threshold of at least 2 when there is more than one share",
        ));
    }
    let out = core.initialize(shares, threshold).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let keys: Vec<String> = out.shares.iter().map(|s| hex::encode(s.expose())).collect();
    let keys_b64: Vec<String> = out.shares.iter().map(|s| b64.encode(s.expose())).collect();
    Ok(Response::raw(
        200,
        json!({ "keys": keys, "keys_base64": keys_b64, "root_token": out.root_token.expose_secret() }),
    ))
}

async fn unseal(core: &Core, data: &serde_json::Map<String, Value>) -> Result<Response> {
    if data.get("reset").and_then(Value::as_bool) == Some(true) {
        core.reset_unseal();
        return Ok(Response::raw(200, seal_status(core).await?));
    }
    let key = match data.get("key") {
        Some(Value::String(k)) if !k.is_empty() => decode_key(k)?,
        _ => {
            return Err(CoreError::bad(
                "'key' must be specified in request body as JSON, or 'reset' set to true",
            ));
        }
    };
    if core.seal_config().await?.is_none() {
        return Err(CoreError::NotInitialized);
    }
    if let Err(e) = core.submit_unseal_key(key).await {
        core.reset_unseal();
        return Err(e);
    }
    Ok(Response::raw(200, seal_status(core).await?))
}

/// The seal-status body (also returned by unseal).
pub(crate) async fn seal_status(core: &Core) -> Result<Value> {
    let config = core.seal_config().await?;
    let (progress, nonce) = core.unseal_progress();
    Ok(json!({
        "type": "shamir",
        "initialized": config.is_some(),
        "sealed": core.is_sealed(),
        "t": config.as_ref().map(|c| c.secret_threshold).unwrap_or(0),
        "n": config.as_ref().map(|c| c.secret_shares).unwrap_or(0),
        "progress": progress,
        "nonce": nonce,
        "version": VERSION,
        "build_date": "",
        "migration": false,
        "recovery_seal": false,
        "storage_type": core.config().storage_type,
        "cluster_name": "coffer",
        "cluster_id": "",
    }))
}

async fn health(core: &Core, query: &serde_json::Map<String, Value>) -> Result<Response> {
    let code = |name: &str, default: u16| -> Result<u16> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| v.as_u64().map(|n| n as u16))
                .filter(|c| (100..600).contains(c))
                .ok_or_else(|| CoreError::bad(format!("{name} must be an HTTP status code"))),
        }
    };
    let initialized = core.seal_config().await?.is_some();
    let sealed = core.is_sealed();
    let status = if !initialized {
        code("uninitcode", 501)?
    } else if sealed {
        code("sealedcode", 503)?
    } else {
        code("activecode", 200)?
    };
    Ok(Response::raw(
        status,
        json!({
            "initialized": initialized, "sealed": sealed, "standby": false, "performance_standby": false,
            "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
            "server_time_utc": now_unix(), "version": VERSION, "cluster_name": "coffer", "cluster_id": "",
        }),
    ))
}

//! Response wrapping: a response is stored in the cubbyhole of a new single-use token and the
//! caller gets only that token (`wrap_info`); `sys/wrapping/*` unwraps, looks up, rewraps and
//! wraps arbitrary data.

use crate::core::{Core, Unsealed};
use crate::request::{Auth, LeaseInfo, Operation, Response, WrapInfo};
use crate::time::rfc3339;
use crate::token::{NewToken, TokenEntry};
use crate::{CoreError, Result};
use coffer_policy::{Acl, Policy};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::{Arc, LazyLock};

/// The only policy a wrapping token carries.
pub const WRAPPING_POLICY: &str = "response-wrapping";
const RESPONSE_KEY: &str = "response";

static WRAPPING_ACL: LazyLock<Arc<Acl>> = LazyLock::new(|| {
    let rules = r#"
path "sys/wrapping/unwrap" { capabilities = ["update"] }
path "sys/wrapping/lookup" { capabilities = ["update"] }
"#;
    let policy = Policy::parse(WRAPPING_POLICY, rules).expect("built-in wrapping policy parses");
    Arc::new(Acl::new(&[Arc::new(policy)]))
});

/// The ACL of wrapping tokens: unwrap and lookup, nothing else.
pub fn acl() -> Arc<Acl> {
    WRAPPING_ACL.clone()
}

/// Whether a token is a wrapping token.
pub fn is_wrapping_token(entry: &TokenEntry) -> bool {
    entry.policies.len() == 1 && entry.policies[0] == WRAPPING_POLICY
}

/// What is kept in the wrapping token's cubbyhole.
#[derive(Serialize, Deserialize)]
struct Wrapped {
    data: Option<Map<String, Value>>,
    auth: Option<Auth>,
    lease: Option<LeaseInfo>,
    warnings: Vec<String>,
    mount_type: String,
}

/// Wraps `resp` (if it has anything to wrap) for `ttl` seconds.
pub(crate) async fn wrap(core: &Core, state: &Unsealed, resp: Response, ttl: u64, path: &str) -> Result<Response> {
    if resp.raw.is_some() || (resp.data.is_none() && resp.auth.is_none()) {
        return Ok(resp);
    }
    let wrapped = Wrapped {
        data: resp.data,
        auth: resp.auth,
        lease: resp.lease,
        warnings: resp.warnings,
        mount_type: resp.mount_type,
    };
    let wrapped_accessor = wrapped.auth.as_ref().map(|a| a.accessor.clone()).unwrap_or_default();
    let info = store(core, state, &wrapped, ttl, path).await?;
    Ok(Response {
        wrap_info: Some(WrapInfo {
            wrapped_accessor,
            ..info
        }),
        ..Default::default()
    })
}

async fn store(core: &Core, state: &Unsealed, wrapped: &Wrapped, ttl: u64, path: &str) -> Result<WrapInfo> {
    if ttl == 0 {
        return Err(CoreError::bad("wrapping TTL must be at least one second"));
    }
    let max = core.config().max_lease_ttl;
    if ttl > max {
        return Err(CoreError::bad(format!(
            "wrapping TTL {ttl}s exceeds the maximum of {max}s"
        )));
    }
    let (token, entry) = state
        .tokens
        .create(NewToken {
            policies: vec![WRAPPING_POLICY.into()],
            display_name: WRAPPING_POLICY.into(),
            num_uses: 1,
            ttl,
            path: path.to_string(),
            renewable: false,
            ..Default::default()
        })
        .await?;
    let bytes = crate::view::to_json(wrapped)?;
    if let Err(e) = core
        .barrier()
        .put(&state.tokens.cubbyhole_path(&entry.id, RESPONSE_KEY), &bytes)
        .await
    {
        state.tokens.revoke_tree(&entry.id).await.ok();
        return Err(e);
    }
    Ok(WrapInfo {
        token: token.expose_secret().to_string(),
        accessor: entry.accessor.clone(),
        ttl,
        creation_time: rfc3339(entry.creation_time),
        creation_path: path.to_string(),
        wrapped_accessor: String::new(),
    })
}

/// The wrapping token a `sys/wrapping/*` request is about: `token` in the body, else the
/// request's own token.
async fn target(state: &Unsealed, data: &Map<String, Value>, caller: &Arc<TokenEntry>) -> Result<Arc<TokenEntry>> {
    let entry = match data.get("token").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        Some(t) => state.tokens.lookup(&SecretString::from(t.to_string())).await?,
        None => Some(caller.clone()),
    };
    entry
        .filter(|e| is_wrapping_token(e))
        .ok_or_else(|| CoreError::bad("wrapping token is not valid or does not exist"))
}

async fn load(core: &Core, state: &Unsealed, entry: &TokenEntry) -> Result<Wrapped> {
    let bytes = core
        .barrier()
        .get(&state.tokens.cubbyhole_path(&entry.id, RESPONSE_KEY))
        .await?
        .ok_or_else(|| CoreError::bad("wrapping token is not valid or does not exist"))?;
    serde_json::from_slice(bytes.expose()).map_err(|_| CoreError::Internal("wrapped response is corrupt".into()))
}

/// Serves `sys/wrapping/{unwrap,lookup,rewrap,wrap}`.
pub(crate) async fn handle(
    core: &Core,
    state: &Unsealed,
    caller: &Arc<TokenEntry>,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
    wrap_requested: bool,
) -> Result<Option<Response>> {
    if !matches!(op, Operation::Create | Operation::Update) {
        return Ok(None);
    }
    Ok(Some(match rel {
        "wrapping/unwrap" => {
            let entry = target(state, data, caller).await?;
            let wrapped = load(core, state, &entry).await?;
            state.tokens.revoke_tree(&entry.id).await?;
            Response {
                data: wrapped.data,
                auth: wrapped.auth,
                lease: wrapped.lease,
                warnings: wrapped.warnings,
                mount_type: wrapped.mount_type,
                ..Default::default()
            }
        }
        "wrapping/lookup" => {
            let entry = target(state, data, caller).await?;
            Response::data(serde_json::json!({
                "creation_path": entry.path,
                "creation_time": rfc3339(entry.creation_time),
                "creation_ttl": entry.creation_ttl,
            }))
        }
        "wrapping/rewrap" => {
            let entry = target(state, data, caller).await?;
            let wrapped = load(core, state, &entry).await?;
            let ttl = entry.creation_ttl.max(1);
            let info = store(core, state, &wrapped, ttl, &entry.path).await?;
            state.tokens.revoke_tree(&entry.id).await?;
            Response {
                wrap_info: Some(info),
                ..Default::default()
            }
        }
        "wrapping/wrap" => {
            if !wrap_requested {
                return Err(CoreError::bad(
                    "wrapping/wrap requires a wrap TTL (X-Vault-Wrap-TTL header)",
                ));
            }
            if data.is_empty() {
                return Err(CoreError::bad("no data provided to wrap"));
            }
            Response::data(Value::Object(data.clone()))
        }
        _ => return Ok(None),
    }))
}

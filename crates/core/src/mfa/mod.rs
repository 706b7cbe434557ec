//! Login MFA: an admin requires a second factor (TOTP) for logins through chosen auth
//! mounts; such a login answers with an `mfa_requirement` instead of a token, and completes
//! through `sys/mfa/validate` with a valid passcode (Vault's login MFA flow).

pub mod enforcement;
pub mod totp;

use crate::mounts::MountEntry;
use crate::request::{Auth, Operation, Response};
use crate::time::now_unix;
use crate::view::View;
use crate::{CoreError, Result};
use dashmap::DashMap;
use serde_json::{Map, Value, json};

/// Barrier prefix of MFA methods, secrets and enforcements.
pub const MFA_PREFIX: &str = "sys/mfa/";
/// How long a login may wait for its second factor.
const PENDING_TTL_SECS: i64 = 300;
/// Failed validations after which a parked login is dropped.
const MAX_FAILURES: u64 = 5;

/// A login waiting for its second factor.
pub struct Pending {
    /// The auth method's result, to mint the token from once validated.
    pub auth: Auth,
    /// The auth mount.
    pub mount: MountEntry,
    /// The login request's path.
    pub path: String,
    /// The entity logging in.
    pub entity_id: String,
    /// Enforcement name → ids of methods of which one must validate.
    pub constraints: Vec<(String, Vec<String>)>,
    created: i64,
    failures: u64,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("mount", &self.mount.path)
            .field("entity_id", &self.entity_id)
            .finish()
    }
}

/// MFA methods, enforcements, and logins in flight.
pub struct MfaStore {
    view: View,
    pending: DashMap<String, Pending>,
    /// Last accepted time step per (method, entity): a passcode is accepted once.
    last_step: DashMap<(String, String), u64>,
}

impl std::fmt::Debug for MfaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaStore")
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl MfaStore {
    /// Opens the store.
    pub fn new(view: View) -> Self {
        MfaStore {
            view,
            pending: DashMap::new(),
            last_step: DashMap::new(),
        }
    }

    /// The constraints a login must satisfy (empty = no MFA needed).
    pub async fn constraints_for(
        &self,
        mount: &MountEntry,
        entity_id: &str,
        groups: &[String],
    ) -> Result<Vec<(String, Vec<String>)>> {
        let all = enforcement::all(&self.view).await?;
        Ok(all
            .into_iter()
            .filter(|e| e.applies(&mount.accessor, &mount.kind, entity_id, groups))
            .map(|e| (e.name, e.mfa_method_ids))
            .collect())
    }

    /// A pending login for `auth` through `mount`.
    pub fn pending(
        auth: Auth,
        mount: MountEntry,
        path: String,
        entity_id: String,
        constraints: Vec<(String, Vec<String>)>,
    ) -> Pending {
        Pending {
            auth,
            mount,
            path,
            entity_id,
            constraints,
            created: now_unix(),
            failures: 0,
        }
    }

    /// Parks a login and returns the `auth` block with its `mfa_requirement`.
    pub async fn require(&self, pending: Pending) -> Result<Auth> {
        if pending.entity_id.is_empty() {
            return Err(CoreError::bad(
                "login MFA needs an identity entity, and this login produced none",
            ));
        }
        self.pending.retain(|_, p| now_unix() - p.created < PENDING_TTL_SECS);
        let id = uuid::Uuid::new_v4().to_string();
        let mut constraints = Map::new();
        for (name, methods) in &pending.constraints {
            let any: Vec<Value> = methods
                .iter()
                .map(|m| json!({ "type": "totp", "id": m, "uses_passcode": true }))
                .collect();
            constraints.insert(name.clone(), json!({ "any": any }));
        }
        let auth = Auth {
            mfa_requirement: Some(json!({ "mfa_request_id": id, "mfa_constraints": constraints })),
            policies: pending.auth.policies.clone(),
            token_policies: pending.auth.policies.clone(),
            ..Default::default()
        };
        self.pending.insert(id, pending);
        Ok(auth)
    }

    /// Checks `sys/mfa/validate`; on success hands back the parked login.
    pub async fn validate(&self, data: &Map<String, Value>) -> Result<Pending> {
        let id = crate::fields::str_field(data, "mfa_request_id")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CoreError::bad("missing mfa_request_id"))?
            .to_string();
        let payload = match data.get("mfa_payload") {
            Some(Value::Object(m)) => m.clone(),
            _ => return Err(CoreError::bad("missing mfa_payload")),
        };
        let (constraints, entity_id) = match self.pending.get(&id) {
            Some(p) if now_unix() - p.created < PENDING_TTL_SECS => (p.constraints.clone(), p.entity_id.clone()),
            _ => {
                self.pending.remove(&id);
                return Err(CoreError::bad("MFA request is invalid or has expired"));
            }
        };
        let now = now_unix() as u64;
        let mut accepted = Vec::new();
        for (name, methods) in &constraints {
            let mut satisfied = false;
            let mut last_error = format!("no passcode given for enforcement \"{name}\"");
            for method_id in methods {
                let Some(code) = passcode(&payload, method_id) else {
                    continue;
                };
                let Some(method) = totp::load(&self.view, method_id).await? else {
                    continue;
                };
                match totp::check(&self.view, &method, &entity_id, &code, now).await {
                    Ok(step) => {
                        let key = (method_id.clone(), entity_id.clone());
                        if self.last_step.get(&key).is_some_and(|last| *last >= step) {
                            last_error = "this TOTP passcode was already used; wait for the next one".into();
                            continue;
                        }
                        accepted.push((key, step));
                        satisfied = true;
                        break;
                    }
                    Err(e) => last_error = e.to_string(),
                }
            }
            if !satisfied {
                return Err(self.fail(&id, last_error));
            }
        }
        for (key, step) in accepted {
            self.last_step.insert(key, step);
        }
        self.pending
            .remove(&id)
            .map(|(_, p)| p)
            .ok_or_else(|| CoreError::bad("MFA request is invalid or has expired"))
    }

    fn fail(&self, id: &str, reason: String) -> CoreError {
        let exhausted = match self.pending.get_mut(id) {
            Some(mut p) => {
                p.failures += 1;
                p.failures >= MAX_FAILURES
            }
            None => true,
        };
        if exhausted {
            self.pending.remove(id);
            return CoreError::bad(format!("{reason}; too many failed attempts, log in again"));
        }
        CoreError::bad(reason)
    }

    /// Serves `identity/mfa/*` (`rel` is relative to `identity/`).
    pub async fn handle(
        &self,
        op: Operation,
        rel: &str,
        data: &Map<String, Value>,
        caller_entity: &str,
    ) -> Result<Response> {
        let write = matches!(op, Operation::Create | Operation::Update);
        let rest = rel.trim_start_matches("mfa/");
        match (rest.trim_end_matches('/'), op) {
            ("method/totp" | "method", Operation::List | Operation::Read) => list_or_404(totp::list(&self.view).await?),
            ("method/totp", _) if write => {
                let id = totp::write(&self.view, None, data).await?;
                Ok(Response::data(json!({ "method_id": id })))
            }
            ("method/totp/generate", _) if write => {
                if caller_entity.is_empty() {
                    return Err(CoreError::bad("the calling token has no entity; use admin-generate"));
                }
                self.generate(data, caller_entity).await
            }
            ("method/totp/admin-generate", _) if write => {
                let entity = field(data, "entity_id")?;
                self.generate(data, &entity).await
            }
            ("method/totp/admin-destroy", _) if write => {
                totp::destroy(&self.view, &field(data, "method_id")?, &field(data, "entity_id")?).await?;
                Ok(Response::empty())
            }
            ("login-enforcement", Operation::List | Operation::Read) => {
                list_or_404(self.view.list("enforcement/").await?)
            }
            (path, _) if path.starts_with("method/totp/") => {
                let id = &path["method/totp/".len()..];
                match op {
                    Operation::Read => {
                        let m = totp::load(&self.view, id)
                            .await?
                            .ok_or_else(|| CoreError::NotFound(String::new()))?;
                        Ok(Response::data(m.to_json()))
                    }
                    Operation::Delete => {
                        totp::delete(&self.view, id).await?;
                        Ok(Response::empty())
                    }
                    _ if write => {
                        totp::write(&self.view, Some(id), data).await?;
                        Ok(Response::empty())
                    }
                    _ => Err(CoreError::UnsupportedOperation),
                }
            }
            (path, _) if path.starts_with("login-enforcement/") => {
                let name = &path["login-enforcement/".len()..];
                match op {
                    Operation::Read => {
                        let e = enforcement::load(&self.view, name)
                            .await?
                            .ok_or_else(|| CoreError::NotFound(String::new()))?;
                        Ok(Response::data(e.to_json()))
                    }
                    Operation::Delete => {
                        enforcement::delete(&self.view, name).await?;
                        Ok(Response::empty())
                    }
                    _ if write => {
                        enforcement::write(&self.view, name, data, &totp::list(&self.view).await?).await?;
                        Ok(Response::empty())
                    }
                    _ => Err(CoreError::UnsupportedOperation),
                }
            }
            _ => Err(CoreError::NoRoute(format!("identity/{rel}"))),
        }
    }

    async fn generate(&self, data: &Map<String, Value>, entity_id: &str) -> Result<Response> {
        let method_id = field(data, "method_id")?;
        let method = totp::load(&self.view, &method_id)
            .await?
            .ok_or_else(|| CoreError::bad(format!("no MFA method with id \"{method_id}\"")))?;
        let out = totp::generate(&self.view, &method, entity_id, entity_id).await?;
        if let Some(warning) = out.get("warning").and_then(Value::as_str) {
            return Ok(Response {
                warnings: vec![warning.to_string()],
                data: Some(Map::new()),
                ..Default::default()
            });
        }
        Ok(Response::data(out))
    }
}

fn field(data: &Map<String, Value>, name: &str) -> Result<String> {
    crate::fields::str_field(data, name)?
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| CoreError::bad(format!("missing {name}")))
}

fn list_or_404(keys: Vec<String>) -> Result<Response> {
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    Ok(Response::list(keys))
}

/// The passcode given for a method: `{"<id>": ["123456"]}` or `{"<id>": "123456"}`.
fn passcode(payload: &Map<String, Value>, method_id: &str) -> Option<String> {
    match payload.get(method_id)? {
        Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_string),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

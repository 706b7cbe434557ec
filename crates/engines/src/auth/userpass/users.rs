//! `users`, `users/<name>`, `users/<name>/password` and `users/<name>/policies`: the user
//! records of a userpass mount. A record holds an Argon2id PHC hash, never the password.

use super::password::{self, Password};
use crate::auth::token_fields::{self, TokenFields, normalize_policies, string_list};
use coffer_core::backend::BackendRequest;
use coffer_core::request::{Operation, Response, ignored_fields_warning};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// Storage prefix of user records.
const PREFIX: &str = "user/";
const USER_FIELDS: &[&str] = &["username", "password"];

/// One user.
#[derive(Clone, Serialize, Deserialize)]
pub struct UserEntry {
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// Settings of the tokens this user logs in to.
    #[serde(flatten)]
    pub token: TokenFields,
}

impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry")
            .field("password_hash", &"[redacted]")
            .field("token", &self.token)
            .finish()
    }
}

/// The stored form of a user name: lowercase, as Vault does.
pub fn normalize(name: &str) -> String {
    name.to_lowercase()
}

/// Checks a user name: letters, digits, `_`, `-` and `.`; not starting with `-`, not starting
/// or ending with `.`. Returns the lowercase form.
pub fn validate(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(CoreError::bad("missing username"));
    }
    let allowed = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !allowed || name.starts_with('-') || name.starts_with('.') || name.ends_with('.') {
        return Err(CoreError::bad(format!(
            "invalid username \"{name}\": use letters, digits, \"_\", \"-\" and \".\"; a username \
             cannot begin with \"-\" nor begin or end with \".\""
        )));
    }
    Ok(normalize(name))
}

/// Reads a user by (already lowercase) name.
pub async fn load(view: &View, name: &str) -> Result<Option<UserEntry>> {
    view.get_json(&format!("{PREFIX}{name}")).await
}

async fn store(view: &View, name: &str, user: &UserEntry) -> Result<()> {
    view.put_json(&format!("{PREFIX}{name}"), user).await
}

/// The password field: required, non-empty, a string.
fn password_field(data: &Map<String, Value>) -> Result<Password> {
    match data.get("password") {
        Some(Value::String(s)) if !s.is_empty() => Ok(Zeroizing::new(s.clone())),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(CoreError::bad("missing password")),
        Some(_) => Err(CoreError::bad("field \"password\" must be a string")),
    }
}

/// `LIST users`.
pub async fn list(view: &View) -> Result<Response> {
    let keys = view.list(PREFIX).await?;
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    Ok(Response::list(keys))
}

/// `users/<name>`: read, create/update, delete. Writes hold `writes`.
pub async fn handle_user(view: &View, writes: &Mutex<()>, req: &BackendRequest<'_>, name: &str) -> Result<Response> {
    let name = validate(name)?;
    match req.operation {
        Operation::Read => {
            let user = load(view, &name)
                .await?
                .ok_or_else(|| CoreError::NotFound(String::new()))?;
            let mut data = Map::new();
            user.token.populate(&mut data);
            Ok(Response::data(Value::Object(data)))
        }
        Operation::Create | Operation::Update => {
            // Hash before taking the lock: hashing is the slow part.
            let new_hash = match req.data.get("password") {
                None | Some(Value::Null) => None,
                Some(_) => Some(password::hash(password_field(req.data)?).await?),
            };
            let _guard = writes.lock().await;
            let existing = load(view, &name).await?;
            let mut token = existing.as_ref().map(|u| u.token.clone()).unwrap_or_default();
            token.update(req.data)?;
            let password_hash = match (new_hash, existing) {
                (Some(hash), _) => hash,
                (None, Some(user)) => user.password_hash,
                (None, None) => return Err(CoreError::bad("missing password")),
            };
            store(view, &name, &UserEntry { password_hash, token }).await?;
            Ok(with_warnings(req.data, &[USER_FIELDS, token_fields::FIELDS].concat()))
        }
        Operation::Delete => {
            let _guard = writes.lock().await;
            view.delete(&format!("{PREFIX}{name}")).await?;
            Ok(Response::empty())
        }
        _ => Err(CoreError::UnsupportedOperation),
    }
}

/// `users/<name>/password`: replaces the password of an existing user.
pub async fn handle_password(
    view: &View,
    writes: &Mutex<()>,
    req: &BackendRequest<'_>,
    name: &str,
) -> Result<Response> {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return Err(CoreError::UnsupportedOperation);
    }
    let name = validate(name)?;
    let hash = password::hash(password_field(req.data)?).await?;
    let _guard = writes.lock().await;
    let mut user = load(view, &name)
        .await?
        .ok_or_else(|| CoreError::bad("username does not exist"))?;
    user.password_hash = hash;
    store(view, &name, &user).await?;
    Ok(with_warnings(req.data, &["username", "password"]))
}

/// `users/<name>/policies`: replaces the token policies of an existing user.
pub async fn handle_policies(
    view: &View,
    writes: &Mutex<()>,
    req: &BackendRequest<'_>,
    name: &str,
) -> Result<Response> {
    if !matches!(req.operation, Operation::Create | Operation::Update) {
        return Err(CoreError::UnsupportedOperation);
    }
    let name = validate(name)?;
    let policies = match string_list(req.data, "token_policies")? {
        Some(p) => p,
        None => string_list(req.data, "policies")?.unwrap_or_default(),
    };
    let _guard = writes.lock().await;
    let mut user = load(view, &name)
        .await?
        .ok_or_else(|| CoreError::bad("username does not exist"))?;
    user.token.token_policies = normalize_policies(policies);
    store(view, &name, &user).await?;
    Ok(with_warnings(req.data, &["username", "policies", "token_policies"]))
}

fn with_warnings(data: &Map<String, Value>, known: &[&str]) -> Response {
    let mut resp = Response::empty();
    resp.warnings.extend(ignored_fields_warning(data, known));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        assert_eq!(validate("Mary.Jane_1-x").unwrap(), "mary.jane_1-x");
        for bad in ["", "-a", ".a", "a.", "a/b", "a b", "ä"] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn debug_hides_the_hash() {
        let u = UserEntry {
            password_hash: "$argon2id$secret".into(),
            token: TokenFields::default(),
        };
        assert!(!format!("{u:?}").contains("argon2id"));
    }
}

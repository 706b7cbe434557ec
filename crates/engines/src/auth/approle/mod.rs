//! The `approle` auth method: roles with a RoleID, and SecretIDs issued against them; `login`
//! exchanges a RoleID and SecretID for a token and is served without one.
//!
//! Storage (all in the mount's view): `hmac_key` (per-mount random key), `role/<name>`,
//! `role_id/<hmac>` (RoleID → role name), `secret_id/<name>/<hmac>` and
//! `accessor/<name>/<accessor>`. SecretIDs exist only as HMAC-SHA256 under `hmac_key`.

pub mod login;
pub mod role;
pub mod secret_id;

use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendFactory, BackendRequest, MountContext};
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use coffer_crypto::SecretBytes;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard, OnceCell};

/// Storage key of the per-mount HMAC key.
const HMAC_KEY: &str = "hmac_key";
/// Number of locks SecretID updates are spread over.
const STRIPES: usize = 64;

/// An approle mount.
pub struct Approle {
    view: View,
    mount_point: String,
    key: OnceCell<SecretBytes>,
    /// Serialises role writes and SecretID creation (so a SecretID never outlives its role).
    role_lock: Mutex<()>,
    /// Serialises reads-then-writes of one SecretID (use counts), by HMAC.
    stripes: Vec<Mutex<()>>,
}

impl std::fmt::Debug for Approle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approle")
            .field("mount_point", &self.mount_point)
            .finish_non_exhaustive()
    }
}

/// Creates an `approle` backend. It takes no mount options.
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| {
        let backend: Arc<dyn Backend> = Arc::new(Approle::new(ctx.view, ctx.mount_point));
        Ok(backend)
    })
}

impl Approle {
    /// An approle backend over `view`.
    pub fn new(view: View, mount_point: impl Into<String>) -> Self {
        Approle {
            view,
            mount_point: mount_point.into(),
            key: OnceCell::new(),
            role_lock: Mutex::new(()),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// The mount's HMAC key, created on first use.
    async fn key(&self) -> Result<&SecretBytes> {
        self.key
            .get_or_try_init(|| async {
                if let Some(key) = self.view.get(HMAC_KEY).await? {
                    return Ok(key);
                }
                let key = coffer_crypto::random_bytes(32);
                self.view.put(HMAC_KEY, &key).await?;
                Ok::<_, CoreError>(SecretBytes::new(key))
            })
            .await
    }

    /// HMAC-SHA256 of `parts` (joined with NUL) under the mount key, in hex.
    pub(crate) async fn mac(&self, parts: &[&str]) -> Result<String> {
        let key = self.key().await?;
        Ok(hex::encode(coffer_crypto::hmac_sha256(
            key.expose(),
            parts.join("\0").as_bytes(),
        )))
    }

    /// The lock guarding the SecretID whose HMAC is `mac`.
    pub(crate) async fn lock_secret(&self, mac: &str) -> MutexGuard<'_, ()> {
        let stripe = mac
            .as_bytes()
            .iter()
            .fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(*b as usize));
        self.stripes[stripe % STRIPES].lock().await
    }

    fn no_route(&self, path: &str) -> CoreError {
        CoreError::NoRoute(format!("{}{path}", self.mount_point))
    }
}

#[async_trait]
impl Backend for Approle {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let path = req.path;
        if path == "login" {
            return login::handle(self, req).await;
        }
        if path == "role" || path == "role/" {
            return match req.operation {
                Operation::List => role::list(&self.view).await,
                _ => Err(CoreError::UnsupportedOperation),
            };
        }
        let Some(rest) = path.strip_prefix("role/") else {
            return Err(self.no_route(path));
        };
        let (name, sub) = match rest.split_once('/') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        let name = role::validate_name(name)?;
        match sub {
            None => role::handle_role(self, req, &name).await,
            Some("role-id") => role::handle_role_id(self, req, &name).await,
            Some("secret-id") => match req.operation {
                Operation::List => secret_id::list(self, &name).await,
                Operation::Create | Operation::Update => secret_id::generate(self, req, &name, false).await,
                _ => Err(CoreError::UnsupportedOperation),
            },
            Some("custom-secret-id") => secret_id::generate(self, req, &name, true).await,
            Some("secret-id/lookup") => secret_id::lookup(self, req, &name).await,
            Some("secret-id/destroy") => secret_id::destroy(self, req, &name).await,
            Some("secret-id-accessor/lookup") => secret_id::lookup_accessor(self, req, &name).await,
            Some("secret-id-accessor/destroy") => secret_id::destroy_accessor(self, req, &name).await,
            Some(_) => Err(self.no_route(path)),
        }
    }

    /// `role/<name>` writes are `create` for a new role and `update` for an existing one.
    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        match req.path.strip_prefix("role/") {
            Some(name) if !name.contains('/') => match role::validate_name(name) {
                Ok(name) => Ok(Some(role::load(&self.view, &name).await?.is_some())),
                Err(_) => Ok(Some(false)),
            },
            _ => Ok(None),
        }
    }

    fn unauthenticated_paths(&self) -> &[&'static str] {
        &["login"]
    }
}

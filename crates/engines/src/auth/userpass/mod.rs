//! The `userpass` auth method: users with a password (stored as an Argon2id hash) and token
//! settings; `login/<name>` is served without a token.
//!
//! Paths: `config` (lockout settings), `users` (LIST), `users/<name>`,
//! `users/<name>/password`, `users/<name>/policies`, `login/<name>`.

pub mod lockout;
pub mod login;
pub mod password;
pub mod users;

use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendFactory, BackendRequest, MountContext};
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use lockout::Lockouts;
use std::sync::Arc;

/// A userpass mount.
#[derive(Debug)]
pub struct Userpass {
    view: View,
    mount_point: String,
    lockouts: Lockouts,
    /// Serialises user record writes (each is a read-modify-write).
    writes: tokio::sync::Mutex<()>,
}

impl Userpass {
    /// A userpass backend storing its users in `view`.
    pub fn new(view: View, mount_point: impl Into<String>) -> Self {
        Userpass {
            view,
            mount_point: mount_point.into(),
            lockouts: Lockouts::default(),
            writes: tokio::sync::Mutex::new(()),
        }
    }
}

/// Creates a `userpass` backend. It takes no mount options.
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| {
        let backend: Arc<dyn Backend> = Arc::new(Userpass::new(ctx.view, ctx.mount_point));
        Ok(backend)
    })
}

#[async_trait]
impl Backend for Userpass {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let view = &self.view;
        let path = req.path;
        if path == "config" {
            return lockout::handle_config(view, req.operation, req.data).await;
        }
        if path == "users" || path == "users/" {
            return match req.operation {
                Operation::List => users::list(view).await,
                _ => Err(CoreError::UnsupportedOperation),
            };
        }
        if let Some(name) = path.strip_prefix("login/") {
            return login::handle(view, &self.lockouts, req, name).await;
        }
        if let Some(rest) = path.strip_prefix("users/") {
            return match rest.split_once('/') {
                None => users::handle_user(view, &self.writes, req, rest).await,
                Some((name, "password")) => users::handle_password(view, &self.writes, req, name).await,
                Some((name, "policies")) => users::handle_policies(view, &self.writes, req, name).await,
                Some(_) => Err(CoreError::NoRoute(format!("{}{path}", self.mount_point))),
            };
        }
        Err(CoreError::NoRoute(format!("{}{path}", self.mount_point)))
    }

    /// `users/<name>` writes are `create` for a new user and `update` for an existing one.
    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        match req.path.strip_prefix("users/") {
            Some(name) if !name.contains('/') => match users::validate(name) {
                Ok(name) => Ok(Some(users::load(&self.view, &name).await?.is_some())),
                Err(_) => Ok(Some(false)),
            },
            _ => Ok(None),
        }
    }

    fn unauthenticated_paths(&self) -> &[&'static str] {
        &["login/*"]
    }
}

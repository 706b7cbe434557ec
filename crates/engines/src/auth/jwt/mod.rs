//! The `jwt` auth method (Vault's JWT/OIDC plugin, JWT part): log in with a signed JSON Web
//! Token checked against static public keys or a JWKS endpoint, then matched against a role.
//!
//! Paths: `config` (read/write), `role/<name>` (CRUD), `role/` (LIST), `login` (no token).
//! One file per path group: [`config`], [`role`], [`login`]; signature and claim checks live in
//! [`verify`] and [`claims`], the JWKS cache in [`jwks`].
//!
//! Not yet: OIDC discovery and the browser OIDC flow (`oidc/auth_url`, `oidc/callback`), and
//! external groups: the values of a role's `groups_claim` are kept in the alias metadata under
//! `groups` until the identity store has group aliases.

pub mod claims;
pub mod config;
pub mod jwks;
pub mod login;
pub mod role;
pub mod verify;

use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendFactory, BackendRequest, MountContext};
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use std::sync::Arc;

/// One mount of the `jwt` (or `oidc`) auth method.
#[derive(Debug)]
pub struct JwtAuth {
    view: View,
    jwks: jwks::JwksCache,
}

impl JwtAuth {
    /// A backend keeping its configuration and roles in `view`.
    pub fn new(view: View) -> Self {
        JwtAuth {
            view,
            jwks: jwks::JwksCache::default(),
        }
    }
}

/// Creates `jwt` backends (also registered as `oidc`).
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| Ok(Arc::new(JwtAuth::new(ctx.view)) as Arc<dyn Backend>))
}

#[async_trait]
impl Backend for JwtAuth {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let path = req.path.trim_end_matches('/');
        match (path, req.operation) {
            ("config", Operation::Read) => config::read(&self.view).await,
            ("config", Operation::Create | Operation::Update) => {
                let resp = config::write(&self.view, req.data).await?;
                self.jwks.clear().await;
                Ok(resp)
            }
            ("login", Operation::Create | Operation::Update) => login::login(self, req).await,
            ("role", Operation::List) => role::list(&self.view).await,
            _ => match path.strip_prefix("role/") {
                Some(name) => role::handle(&self.view, name, req).await,
                None if matches!(path, "config" | "login" | "role") => Err(CoreError::UnsupportedOperation),
                None => Err(CoreError::NoRoute(format!("{}{}", req.mount_point, req.path))),
            },
        }
    }

    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        match req.path.strip_prefix("role/") {
            Some(name) if !name.is_empty() => Ok(Some(role::load(&self.view, name).await?.is_some())),
            _ => Ok(None),
        }
    }

    fn unauthenticated_paths(&self) -> &[&'static str] {
        &["login"]
    }
}

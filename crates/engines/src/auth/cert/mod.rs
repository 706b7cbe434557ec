//! The `cert` auth method (Vault's TLS certificates method): log in with the client
//! certificate presented over mutual TLS, verified against the certificates trusted by
//! `certs/<name>` roles, then matched against the role's allowed names.
//!
//! Paths: `certs/<name>` (CRUD) and `certs/` (LIST) in [`certs`], `config` (minimal) here,
//! `login` (no token) in [`login`]. Not yet: OCSP, CRLs, `required_extensions`.

pub mod certs;
pub mod login;

use crate::kv::fields::{boolean, uint};
use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendFactory, BackendRequest, MountContext};
use coffer_core::request::{Operation, Response, ignored_fields_warning};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// One mount of the `cert` auth method.
#[derive(Debug)]
pub struct CertAuth {
    view: View,
}

/// Creates `cert` backends.
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| Ok(Arc::new(CertAuth { view: ctx.view }) as Arc<dyn Backend>))
}

/// The mount's `config`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CertConfig {
    /// Stored for compatibility (Coffer does not renew against the certificate).
    pub disable_binding: bool,
    /// Copy the login metadata to the identity alias too.
    pub enable_identity_alias_metadata: bool,
    /// Stored for compatibility.
    pub ocsp_cache_size: u64,
    /// Stored for compatibility.
    pub role_cache_size: u64,
}

impl Default for CertConfig {
    fn default() -> Self {
        CertConfig {
            disable_binding: false,
            enable_identity_alias_metadata: false,
            ocsp_cache_size: 100,
            role_cache_size: 200,
        }
    }
}

const CONFIG_FIELDS: &[&str] = &[
    "disable_binding",
    "enable_identity_alias_metadata",
    "ocsp_cache_size",
    "role_cache_size",
];

/// Loads the configuration (defaults before the first write).
pub async fn load_config(view: &View) -> Result<CertConfig> {
    Ok(view.get_json("config").await?.unwrap_or_default())
}

async fn write_config(view: &View, data: &Map<String, Value>) -> Result<Response> {
    let mut cfg = load_config(view).await?;
    if let Some(b) = boolean(data, "disable_binding")? {
        cfg.disable_binding = b;
    }
    if let Some(b) = boolean(data, "enable_identity_alias_metadata")? {
        cfg.enable_identity_alias_metadata = b;
    }
    if let Some(n) = uint(data, "ocsp_cache_size")? {
        cfg.ocsp_cache_size = n;
    }
    if let Some(n) = uint(data, "role_cache_size")? {
        cfg.role_cache_size = n;
    }
    view.put_json("config", &cfg).await?;
    let mut resp = Response::empty();
    resp.warnings.extend(ignored_fields_warning(data, CONFIG_FIELDS));
    Ok(resp)
}

#[async_trait]
impl Backend for CertAuth {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let path = req.path.trim_end_matches('/');
        match (path, req.operation) {
            ("config", Operation::Read) => {
                let cfg = load_config(&self.view).await?;
                Ok(Response::data(json!(cfg)))
            }
            ("config", Operation::Create | Operation::Update) => write_config(&self.view, req.data).await,
            ("login", Operation::Create | Operation::Update) => login::login(&self.view, req).await,
            ("certs", Operation::List) => certs::list(&self.view).await,
            _ => match path.strip_prefix("certs/") {
                Some(name) => certs::handle(&self.view, name, req).await,
                None if matches!(path, "config" | "login" | "certs") => Err(CoreError::UnsupportedOperation),
                None => Err(CoreError::NoRoute(format!("{}{}", req.mount_point, req.path))),
            },
        }
    }

    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        match req.path.strip_prefix("certs/") {
            Some(name) if !name.is_empty() => Ok(Some(certs::load(&self.view, name).await?.is_some())),
            _ => Ok(None),
        }
    }

    fn unauthenticated_paths(&self) -> &[&'static str] {
        &["login"]
    }
}

//! The `cubbyhole` engine: KV version 1 semantics, but every token gets its own private
//! space (`<token id>/` in the mount's view) that no other token, root included, can see.
//! The core deletes a token's space when the token is revoked.

use crate::kv::v1;
use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendFactory, BackendRequest, MountContext};
use coffer_core::request::Response;
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use std::sync::Arc;

/// A cubbyhole mount.
#[derive(Debug, Clone)]
pub struct Cubbyhole {
    view: View,
}

impl Cubbyhole {
    /// A cubbyhole backend over `view`.
    pub fn new(view: View) -> Self {
        Cubbyhole { view }
    }

    /// The calling token's private view.
    fn token_view(&self, req: &BackendRequest<'_>) -> Result<View> {
        let caller = req.caller.ok_or(CoreError::PermissionDenied)?;
        let id = caller.token_id.as_str();
        if id.is_empty() || id.contains('/') || id == ".." {
            return Err(CoreError::PermissionDenied);
        }
        Ok(self.view.sub(&format!("{id}/")))
    }
}

/// Creates a `cubbyhole` backend.
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| Ok(Arc::new(Cubbyhole::new(ctx.view)) as Arc<dyn Backend>))
}

#[async_trait]
impl Backend for Cubbyhole {
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response> {
        let view = self.token_view(req)?;
        v1::handle_on(&view, req).await
    }

    async fn exists(&self, req: &BackendRequest<'_>) -> Result<Option<bool>> {
        let view = self.token_view(req)?;
        v1::exists_on(&view, req.path).await
    }
}

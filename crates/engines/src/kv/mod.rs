//! The `kv` secret engine: version 1 (plain key/value) and version 2 (versioned), chosen
//! by the mount option `version`.

pub mod fields;
pub mod merge;
pub mod v1;
pub mod v2;

use coffer_core::CoreError;
use coffer_core::backend::{Backend, BackendFactory, MountContext};
use std::sync::Arc;

pub use v1::KvV1;
pub use v2::KvV2;

/// Creates a `kv` backend: option `version` `"1"` (the default) or `"2"`.
pub fn factory() -> BackendFactory {
    Arc::new(|ctx: MountContext| {
        let version = ctx.options.get("version").map(|v| v.trim()).unwrap_or("");
        let backend: Arc<dyn Backend> = match version {
            "" | "1" => Arc::new(KvV1::new(ctx.view)),
            "2" => Arc::new(KvV2::new(ctx.view, ctx.mount_point)),
            other => {
                return Err(CoreError::bad(format!(
                    "invalid kv version \"{other}\": the \"version\" option must be \"1\" or \"2\""
                )));
            }
        };
        Ok(backend)
    })
}

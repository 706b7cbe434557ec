//! The `Backend` trait every secret engine and auth method implements, and the registry of
//! engine factories the core instantiates mounts from.

use crate::Result;
use crate::request::{Operation, Response};
use crate::view::View;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Who is making a request, resolved from the token before the backend is called.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// HMAC id of the token (never the token itself); keys per-token state such as cubbyhole.
    pub token_id: String,
    /// Accessor of the token.
    pub accessor: String,
    /// Policies attached to the token.
    pub policies: Vec<String>,
    /// Display name of the token.
    pub display_name: String,
    /// Entity id, empty when the token has none.
    pub entity_id: String,
    /// Whether the token has the root policy.
    pub is_root: bool,
}

/// What a backend sees of a request: the path relative to its mount and the caller.
#[derive(Debug)]
pub struct BackendRequest<'a> {
    /// Operation.
    pub operation: Operation,
    /// Path relative to the mount point (no leading slash; may be empty).
    pub path: &'a str,
    /// Body or query parameters.
    pub data: &'a Map<String, Value>,
    /// The authenticated caller, `None` on unauthenticated paths.
    pub caller: Option<&'a Caller>,
    /// Mount point, with trailing slash (e.g. `secret/`).
    pub mount_point: &'a str,
    /// Request id.
    pub request_id: &'a str,
    /// Accessor of the mount (e.g. `auth_userpass_1a2b3c4d`), for aliases.
    pub mount_accessor: &'a str,
    /// Address of the client, when known (bound CIDRs).
    pub client_addr: Option<std::net::IpAddr>,
    /// DER certificates the client presented over TLS, leaf first (cert auth).
    pub client_certs: &'a [Vec<u8>],
}

impl<'a> BackendRequest<'a> {
    /// A request with no caller, client address or certificates (tests, internal calls).
    pub fn new(operation: Operation, path: &'a str, data: &'a Map<String, Value>, mount_point: &'a str) -> Self {
        BackendRequest {
            operation,
            path,
            data,
            caller: None,
            mount_point,
            request_id: "",
            mount_accessor: "",
            client_addr: None,
            client_certs: &[],
        }
    }

    /// A string field of the body; `None` when absent, error when of another type.
    pub fn str_field(&self, name: &str) -> Result<Option<&'a str>> {
        crate::fields::str_field(self.data, name)
    }
}

/// A secret engine or auth method instance, bound to one mount.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Handles a request routed to this mount.
    async fn handle(&self, req: &BackendRequest<'_>) -> Result<Response>;

    /// Whether the target of a create/update already exists: `Some(true)` makes the ACL check
    /// `update`, `Some(false)` `create`. `None` (the default) means the backend has no
    /// existence check, and the operation is checked as `update` (Vault's behaviour).
    async fn exists(&self, _req: &BackendRequest<'_>) -> Result<Option<bool>> {
        Ok(None)
    }

    /// Whether `op` on `path` only reads: nothing is written, no lease, token or credential
    /// is created. The core then writes the request's audit entry while the backend runs
    /// (the response still waits until both entries are on record). Default: `false`.
    fn reads_only(&self, _op: Operation, _path: &str) -> bool {
        false
    }

    /// Paths (relative, with optional trailing `*`) served without a token, e.g. login.
    /// A response from such a path that carries `auth` is a login: the core mints the token.
    fn unauthenticated_paths(&self) -> &[&'static str] {
        &[]
    }
}

/// Everything a backend is created with.
#[derive(Debug, Clone)]
pub struct MountContext {
    /// The encrypted storage slice of this mount (`logical/<uuid>/`).
    pub view: View,
    /// Mount point with trailing slash.
    pub mount_point: String,
    /// Mount type as registered (`kv`, `cubbyhole`, …).
    pub kind: String,
    /// Mount options (`options` in sys/mounts; e.g. `version` for kv).
    pub options: HashMap<String, String>,
}

/// Creates a backend for a mount. Errors reject the mount request (bad options).
pub type BackendFactory = Arc<dyn Fn(MountContext) -> Result<Arc<dyn Backend>> + Send + Sync>;

/// Engine types the core can mount, by type name.
#[derive(Clone, Default)]
pub struct Registry {
    factories: HashMap<String, BackendFactory>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a factory for a type name; a later registration of the same name replaces it.
    pub fn register(&mut self, kind: &str, factory: BackendFactory) {
        self.factories.insert(kind.to_string(), factory);
    }

    /// The factory for a type, if registered.
    pub fn get(&self, kind: &str) -> Option<&BackendFactory> {
        self.factories.get(kind)
    }

    /// Registered type names, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<_> = self.factories.keys().cloned().collect();
        kinds.sort();
        kinds
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("kinds", &self.kinds()).finish()
    }
}

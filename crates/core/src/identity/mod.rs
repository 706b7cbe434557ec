//! Identity: entities (one person or service), their aliases (one per login method) and
//! groups. A token's effective policies are its own plus its entity's and groups'.

use crate::request::{AliasInfo, Operation, Response};
use crate::view::View;
use crate::{CoreError, Result};
use serde_json::{Map, Value};

/// Barrier prefix of the identity store.
pub const IDENTITY_PREFIX: &str = "sys/identity/";

/// Entities, aliases and groups.
pub struct IdentityStore {
    view: View,
}

impl std::fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStore").finish()
    }
}

impl IdentityStore {
    /// Opens the store.
    pub fn new(view: View) -> Self {
        IdentityStore { view }
    }

    /// The entity for a login through mount `mount_accessor` as `alias` (created on first
    /// login); returns its id.
    pub async fn entity_for_login(&self, mount_accessor: &str, mount_type: &str, alias: &AliasInfo) -> Result<String> {
        let _ = (&self.view, mount_accessor, mount_type, alias);
        Ok(String::new())
    }

    /// Policies an entity gets from itself and its groups.
    pub async fn policies_for_entity(&self, entity_id: &str) -> Result<Vec<String>> {
        let _ = entity_id;
        Ok(Vec::new())
    }

    /// Serves `identity/*`.
    pub async fn handle(&self, op: Operation, rel: &str, data: &Map<String, Value>) -> Result<Response> {
        let _ = (op, data);
        Err(CoreError::NoRoute(format!("identity/{rel}")))
    }
}

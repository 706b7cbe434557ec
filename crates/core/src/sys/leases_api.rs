//! `sys/leases/*` and the legacy `sys/renew`, `sys/revoke`, `sys/revoke-prefix`,
//! `sys/revoke-force`: served by the expiration manager (`crate::expiration::api`).

use crate::Result;
use crate::core::Unsealed;
use crate::request::{Operation, Response};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Serves a lease path; `None` when `rel` is not one.
pub(super) async fn handle(
    state: &Arc<Unsealed>,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    crate::expiration::api::handle(&state.expiration, op, rel, data).await
}

//! `sys/metrics`: request counters, latency histograms and state gauges, as Prometheus text
//! (`?format=prometheus`) or Vault's go-metrics JSON (no format, or `format=json`).

use crate::core::{Core, Unsealed};
use crate::metrics::{Gauges, PROMETHEUS_CONTENT_TYPE};
use crate::request::{Operation, Response};
use crate::{CoreError, Result};
use serde_json::{Map, Value};
use std::sync::Arc;

pub(super) fn handle(
    core: &Core,
    state: &Arc<Unsealed>,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    if rel != "metrics" {
        return Ok(None);
    }
    if op != Operation::Read {
        return Err(CoreError::UnsupportedOperation);
    }
    let gauges = gauges(core, state);
    let metrics = &core.0.metrics;
    Ok(Some(match crate::fields::str_field(data, "format")?.unwrap_or("") {
        "" | "json" => Response::raw(200, metrics.json(&gauges)),
        "prometheus" => Response::text(200, PROMETHEUS_CONTENT_TYPE, metrics.prometheus(&gauges)),
        other => return Err(CoreError::bad(format!("unknown metrics format \"{other}\""))),
    }))
}

/// Values read from the live state at scrape time (each one cheap: counters and lengths).
fn gauges(core: &Core, state: &Unsealed) -> Gauges {
    let table = state.mounts.load();
    let auth_mounts = table.routes().filter(|r| r.entry.is_auth()).count();
    Gauges {
        unsealed: !core.is_sealed(),
        leases: state.expiration.scheduled(),
        auth_mounts,
        logical_mounts: table.routes().count() - auth_mounts,
        audit: state.audit.lag(),
    }
}

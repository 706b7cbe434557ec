//! The lease endpoints under `sys/`, as Vault serves them: `leases/lookup` (and `LIST
//! leases/lookup/<prefix>`), `leases/renew`, `leases/revoke`, `leases/revoke-prefix/<prefix>`,
//! `leases/revoke-force/<prefix>`, `leases/tidy`, and the legacy `renew`, `revoke`,
//! `revoke-prefix/<prefix>`, `revoke-force/<prefix>`.
//!
//! Sudo on `leases/lookup/`, `leases/revoke-prefix/`, `leases/revoke-force/`, `revoke-prefix/`
//! and `revoke-force/` is checked by the caller (`sys::needs_sudo`).

use super::ExpirationManager;
use crate::duration::parse_field;
use crate::request::{LeaseInfo, Operation, Response};
use crate::time::now_unix;
use crate::{CoreError, Result};
use serde_json::{Map, Value};

/// What a lease path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Lookup,
    Renew,
    Revoke,
    RevokePrefix,
    RevokeForce,
    Tidy,
}

/// Splits `rel` (a path under `sys/`) into the lease action and the rest of the URL, if it is
/// one of the lease paths.
fn parse(rel: &str) -> Option<(Action, Option<&str>)> {
    let (modern, rest) = match rel.strip_prefix("leases/") {
        Some(rest) => (true, rest),
        None => (false, rel),
    };
    let (name, arg) = match rest.split_once('/') {
        Some((name, arg)) => (name, Some(arg)),
        None => (rest, None),
    };
    let action = match name {
        "lookup" if modern => Action::Lookup,
        "tidy" if modern && arg.is_none() => Action::Tidy,
        "renew" => Action::Renew,
        "revoke" => Action::Revoke,
        "revoke-prefix" => Action::RevokePrefix,
        "revoke-force" => Action::RevokeForce,
        _ => return None,
    };
    Some((action, arg.filter(|a| !a.is_empty())))
}

/// The lease id from the URL, else from the body field `field`.
fn id_from<'a>(arg: Option<&'a str>, data: &'a Map<String, Value>, field: &str) -> Result<&'a str> {
    match arg {
        Some(id) => Ok(id),
        None => match data.get(field) {
            Some(Value::String(id)) if !id.is_empty() => Ok(id),
            _ => Err(CoreError::bad(format!("{field} must be specified"))),
        },
    }
}

/// Serves a lease path under `sys/` (`rel` without `sys/`); `None` when `rel` is not one.
pub async fn handle(
    exp: &ExpirationManager,
    op: Operation,
    rel: &str,
    data: &Map<String, Value>,
) -> Result<Option<Response>> {
    let Some((action, arg)) = parse(rel) else {
        return Ok(None);
    };
    let write = matches!(op, Operation::Create | Operation::Update);
    let resp = match (action, op) {
        (Action::Lookup, Operation::List) => {
            let keys = exp.list(arg.unwrap_or("")).await?;
            if keys.is_empty() {
                return Err(CoreError::NotFound(String::new()));
            }
            Response::list(keys)
        }
        (Action::Lookup, _) if write && arg.is_none() => {
            let id = id_from(None, data, "lease_id")?;
            let lease = exp.lookup(id).await?.ok_or_else(|| CoreError::bad("invalid lease"))?;
            Response::data(lease.lookup_data(now_unix()))
        }
        (Action::Renew, _) if write => {
            let id = id_from(arg, data, "lease_id")?;
            let increment = parse_field(data, "increment")?;
            let renewal = exp.renew(id, increment).await?;
            let mut resp = Response {
                lease: Some(LeaseInfo {
                    lease_id: renewal.lease.id.clone(),
                    lease_duration: renewal.ttl,
                    renewable: renewal.lease.renewable,
                }),
                status: Some(200),
                ..Default::default()
            };
            if renewal.capped {
                resp.warnings
                    .push("TTL of the lease was capped by its maximum TTL".to_string());
            }
            resp
        }
        (Action::Revoke, _) if write => {
            exp.revoke(id_from(arg, data, "lease_id")?).await?;
            Response::empty()
        }
        (Action::RevokePrefix | Action::RevokeForce, _) if write => {
            let prefix = id_from(arg, data, "prefix")?;
            let force = action == Action::RevokeForce;
            let count = exp.revoke_prefix(prefix, force).await?;
            tracing::info!(%prefix, force, count, "leases revoked by prefix");
            Response::empty()
        }
        (Action::Tidy, _) if write => {
            exp.tidy().await?;
            Response {
                status: Some(202),
                warnings: vec![
                    "Tidy operation successfully started. Any information from the operation will be printed to the server logs."
                        .to_string(),
                ],
                ..Default::default()
            }
        }
        _ => return Err(CoreError::UnsupportedOperation),
    };
    Ok(Some(resp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modern_and_legacy_paths() {
        assert_eq!(parse("leases/lookup"), Some((Action::Lookup, None)));
        assert_eq!(
            parse("leases/lookup/auth/token/create/"),
            Some((Action::Lookup, Some("auth/token/create/")))
        );
        assert_eq!(parse("leases/lookup/"), Some((Action::Lookup, None)));
        assert_eq!(parse("leases/renew/a/b"), Some((Action::Renew, Some("a/b"))));
        assert_eq!(parse("renew"), Some((Action::Renew, None)));
        assert_eq!(parse("revoke/x/1"), Some((Action::Revoke, Some("x/1"))));
        assert_eq!(parse("revoke-prefix/x"), Some((Action::RevokePrefix, Some("x"))));
        assert_eq!(parse("leases/revoke-force/x"), Some((Action::RevokeForce, Some("x"))));
        assert_eq!(parse("leases/tidy"), Some((Action::Tidy, None)));
        assert_eq!(parse("lookup"), None, "only under leases/");
        assert_eq!(parse("tidy"), None);
        assert_eq!(parse("mounts"), None);
        assert_eq!(parse("leases/count"), None);
    }
}

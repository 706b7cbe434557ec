//! `coffer lease lookup|renew|revoke` over `sys/leases/*`, and `coffer unwrap` over
//! `sys/wrapping/unwrap`.

use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err, print_field, secret_field};
use crate::args::{parse_duration_secs, sanitize_path};

/// Lease subcommands.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// Show a lease's issue time, expiry and TTL.
    Lookup(LookupArgs),
    /// Extend a lease: `lease renew [-increment=1h] LEASE_ID`.
    Renew(RenewArgs),
    /// Revoke a lease, or with `-prefix` every lease under a prefix.
    Revoke(RevokeArgs),
}

/// `lease lookup LEASE_ID`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Lease id.
    lease_id: String,
}

/// `lease renew` flags.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Requested extension (e.g. `1h`); the server may grant less.
    #[arg(long)]
    increment: Option<String>,
    /// Print only this field.
    #[arg(long)]
    field: Option<String>,
    /// Lease id.
    lease_id: String,
}

/// `lease revoke` flags.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Treat the id as a prefix: revoke every lease under it.
    #[arg(long)]
    prefix: bool,
    /// Forget the leases even if the engine fails to revoke the secrets (needs -prefix).
    #[arg(long, short = 'f')]
    force: bool,
    /// Wait for the revocation instead of queueing it.
    #[arg(long)]
    sync: bool,
    /// Lease id (or prefix).
    lease_id: String,
}

/// `unwrap [TOKEN]`.
#[derive(Debug, Args)]
pub struct UnwrapArgs {
    /// Print only this field.
    #[arg(long)]
    field: Option<String>,
    /// Wrapping token; the current token when omitted.
    token: Option<String>,
}

/// Runs one lease subcommand.
pub async fn run(ctx: &Ctx, cmd: LeaseCommand) -> CmdResult {
    match cmd {
        LeaseCommand::Lookup(a) => {
            let id = lease_id(&a.lease_id)?;
            let answer = ctx
                .client
                .write("sys/leases/lookup", &json!({ "lease_id": id }))
                .await
                .map_err(api_err("Error looking up lease"))?
                .ok_or_else(|| CliError::failed("Error looking up lease: empty answer"))?;
            ctx.secret(&answer);
            Ok(EXIT_OK)
        }
        LeaseCommand::Renew(a) => {
            let body = renew_body(&a)?;
            let answer = ctx
                .client
                .write("sys/leases/renew", &body)
                .await
                .map_err(api_err("Error renewing lease"))?
                .ok_or_else(|| CliError::failed("Error renewing lease: empty answer"))?;
            if let Some(field) = &a.field {
                return print_field(ctx, secret_field(&answer, field), field);
            }
            ctx.secret(&answer);
            Ok(EXIT_OK)
        }
        LeaseCommand::Revoke(a) => {
            let (path, body, message) = revoke_request(&a)?;
            if a.force {
                eprintln!(
                    "Warning! Force-removing leases can cause Coffer to become out of sync with \
                     secrets engines!"
                );
            }
            ctx.client
                .write(&path, &body)
                .await
                .map_err(api_err("Error revoking lease"))?;
            ctx.success(&message);
            Ok(EXIT_OK)
        }
    }
}

fn lease_id(raw: &str) -> Result<String, CliError> {
    let id = sanitize_path(raw);
    if id.is_empty() {
        return Err(CliError::usage("a lease id is required"));
    }
    Ok(id)
}

/// The `sys/leases/renew` body: the lease id and, if given, the increment in seconds.
pub fn renew_body(a: &RenewArgs) -> Result<Value, CliError> {
    let mut body = Map::new();
    body.insert("lease_id".into(), json!(lease_id(&a.lease_id)?));
    if let Some(inc) = &a.increment {
        body.insert(
            "increment".into(),
            json!(parse_duration_secs(inc).map_err(CliError::usage)?),
        );
    }
    Ok(Value::Object(body))
}

/// Path, body and success message of a revocation.
pub fn revoke_request(a: &RevokeArgs) -> Result<(String, Value, String), CliError> {
    let id = lease_id(&a.lease_id)?;
    let body = if a.sync { json!({ "sync": true }) } else { json!({}) };
    Ok(match (a.prefix, a.force) {
        (_, true) if !a.prefix => return Err(CliError::usage("-force requires -prefix")),
        (true, true) => (
            format!("sys/leases/revoke-force/{id}"),
            json!({}),
            format!("Success! Force revoked any leases with prefix: {id}"),
        ),
        (true, false) => (
            format!("sys/leases/revoke-prefix/{id}"),
            body,
            format!("Success! Revoked any leases with prefix: {id}"),
        ),
        (false, _) => {
            let mut body = body;
            body["lease_id"] = json!(id);
            (
                "sys/leases/revoke".to_string(),
                body,
                format!("Success! Revoked lease: {id}"),
            )
        }
    })
}

/// Runs `unwrap`: the wrapping token (when given) is the request's token, so no other
/// token or policy is needed, and it is never sent twice.
pub async fn unwrap(ctx: &Ctx, a: UnwrapArgs) -> CmdResult {
    let mut client = ctx.client.clone();
    if let Some(t) = a.token.as_deref().map(str::trim) {
        if t.is_empty() {
            return Err(CliError::usage("the wrapping token is empty"));
        }
        client.set_token(Some(SecretString::from(t.to_string())));
    } else if !client.has_token() {
        return Err(CliError::usage("no wrapping token given and no token configured"));
    }
    let answer = client
        .post("sys/wrapping/unwrap", &json!({}))
        .await
        .map_err(api_err("Error unwrapping"))?;
    let Some(secret) = answer.filter(|s| !s.is_empty() || s.auth.is_some() || s.wrap_info.is_some()) else {
        ctx.success("Successfully unwrapped. There was no data in the wrapped secret.");
        return Ok(EXIT_OK);
    };
    if let Some(field) = &a.field {
        return print_field(ctx, secret_field(&secret, field), field);
    }
    ctx.secret(&secret);
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Revoke {
        #[command(flatten)]
        a: RevokeArgs,
    }

    #[derive(Parser)]
    struct Renew {
        #[command(flatten)]
        a: RenewArgs,
    }

    fn revoke(args: &[&str]) -> Result<(String, Value, String), CliError> {
        let w = Revoke::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap();
        revoke_request(&w.a)
    }

    #[test]
    fn revoke_paths() {
        let (p, b, m) = revoke(&["db/creds/ro/abc"]).unwrap();
        assert_eq!(
            (p.as_str(), b),
            ("sys/leases/revoke", json!({"lease_id": "db/creds/ro/abc"}))
        );
        assert_eq!(m, "Success! Revoked lease: db/creds/ro/abc");
        let (p, b, _) = revoke(&["--prefix", "--sync", "/db/creds/"]).unwrap();
        assert_eq!(
            (p.as_str(), b),
            ("sys/leases/revoke-prefix/db/creds", json!({"sync": true}))
        );
        let (p, _, m) = revoke(&["--prefix", "-f", "db/creds"]).unwrap();
        assert_eq!(p, "sys/leases/revoke-force/db/creds");
        assert!(m.starts_with("Success! Force revoked"));
        assert!(revoke(&["--force", "db/creds"]).is_err());
        assert!(revoke(&["/"]).is_err());
    }

    #[test]
    fn renew_increment_in_seconds() {
        let w = Renew::try_parse_from(["x", "--increment=1h", "kv/lease/1"]).unwrap();
        assert_eq!(
            renew_body(&w.a).unwrap(),
            json!({"lease_id": "kv/lease/1", "increment": 3600})
        );
        let w = Renew::try_parse_from(["x", "kv/lease/1"]).unwrap();
        assert_eq!(renew_body(&w.a).unwrap(), json!({"lease_id": "kv/lease/1"}));
        let w = Renew::try_parse_from(["x", "--increment=later", "l"]).unwrap();
        assert!(renew_body(&w.a).is_err());
    }
}

//! `coffer token create|lookup|renew|revoke|capabilities` over `auth/token/*`.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err, print_field, secret_field};
use crate::args::{parse_duration_secs, parse_pairs};
use crate::format::{self, Format};

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token (a child of the current one unless `-orphan`).
    Create(CreateArgs),
    /// Show a token's properties (the current token when TOKEN is omitted).
    Lookup(LookupArgs),
    /// Renew a token's lease (the current token when TOKEN is omitted).
    Renew(RenewArgs),
    /// Revoke a token and, unless `-mode=orphan`, its children.
    Revoke(RevokeArgs),
    /// Show a token's capabilities on a path: `capabilities [TOKEN] PATH`.
    Capabilities(CapabilitiesArgs),
}

/// `token create` flags.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Policy to attach; repeatable or comma separated.
    #[arg(long = "policy", value_delimiter = ',')]
    policies: Vec<String>,
    /// Initial TTL (e.g. `1h`).
    #[arg(long)]
    ttl: Option<String>,
    /// Hard limit on the token's life, renewals included.
    #[arg(long)]
    explicit_max_ttl: Option<String>,
    /// Renewal period: a periodic token never expires while renewed.
    #[arg(long)]
    period: Option<String>,
    /// Number of uses before the token is revoked (0 = unlimited).
    #[arg(long)]
    use_limit: Option<u64>,
    /// Whether the token may be renewed (`-renewable=false` to forbid).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    renewable: Option<bool>,
    /// Create a token with no parent.
    #[arg(long)]
    orphan: bool,
    /// Do not attach the `default` policy.
    #[arg(long)]
    no_default_policy: bool,
    /// Display name.
    #[arg(long)]
    display_name: Option<String>,
    /// Metadata `k=v`, repeatable.
    #[arg(long)]
    metadata: Vec<String>,
    /// Token role to create against.
    #[arg(long)]
    role: Option<String>,
    /// `service` or `batch`.
    #[arg(long = "type")]
    token_type: Option<String>,
    /// Print only this field (e.g. `-field=token`).
    #[arg(long)]
    field: Option<String>,
}

/// `token lookup` flags.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Treat the argument as an accessor.
    #[arg(long)]
    accessor: bool,
    /// Token (or accessor) to look up.
    token: Option<String>,
    /// Print only this field.
    #[arg(long)]
    field: Option<String>,
}

/// `token renew` flags.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Requested extension (e.g. `1h`); the server decides.
    #[arg(long)]
    increment: Option<String>,
    /// Token to renew.
    token: Option<String>,
    /// Print only this field.
    #[arg(long)]
    field: Option<String>,
}

/// `token revoke` flags.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Revoke the current token.
    #[arg(long = "self")]
    self_: bool,
    /// Treat the argument as an accessor.
    #[arg(long)]
    accessor: bool,
    /// `orphan` revokes only the token and keeps its children.
    #[arg(long, value_parser = ["orphan", "path"])]
    mode: Option<String>,
    /// Token (or accessor) to revoke.
    token: Option<String>,
}

/// `token capabilities [TOKEN] PATH`.
#[derive(Debug, Args)]
pub struct CapabilitiesArgs {
    /// `[TOKEN] PATH`.
    #[arg(num_args = 1..=2, required = true)]
    args: Vec<String>,
}

/// Runs one token subcommand.
pub async fn run(ctx: &Ctx, cmd: TokenCommand) -> CmdResult {
    match cmd {
        TokenCommand::Create(a) => create(ctx, a).await,
        TokenCommand::Lookup(a) => {
            let (path, body) = match (&a.token, a.accessor) {
                (None, false) => ("auth/token/lookup-self".to_string(), None),
                (Some(t), false) => ("auth/token/lookup".to_string(), Some(json!({ "token": t }))),
                (Some(t), true) => ("auth/token/lookup-accessor".to_string(), Some(json!({ "accessor": t }))),
                (None, true) => return Err(CliError::usage("-accessor needs an accessor argument")),
            };
            let answer = match body {
                None => ctx.client.read(&path).await,
                Some(b) => ctx.client.post(&path, &b).await,
            }
            .map_err(api_err("Error looking up token"))?
            .ok_or_else(|| CliError::failed("Error looking up token: empty answer"))?;
            show(ctx, &answer, a.field.as_deref())
        }
        TokenCommand::Renew(a) => {
            let mut body = Map::new();
            if let Some(inc) = &a.increment {
                body.insert(
                    "increment".into(),
                    json!(parse_duration_secs(inc).map_err(CliError::usage)?),
                );
            }
            let path = match &a.token {
                None => "auth/token/renew-self",
                Some(t) => {
                    body.insert("token".into(), json!(t));
                    "auth/token/renew"
                }
            };
            let answer = ctx
                .client
                .post(path, &Value::Object(body))
                .await
                .map_err(api_err("Error renewing token"))?
                .ok_or_else(|| CliError::failed("Error renewing token: empty answer"))?;
            show(ctx, &answer, a.field.as_deref())
        }
        TokenCommand::Revoke(a) => revoke(ctx, a).await,
        TokenCommand::Capabilities(a) => capabilities(ctx, a).await,
    }
}

fn show(ctx: &Ctx, secret: &coffer_client::Secret, field: Option<&str>) -> CmdResult {
    if let Some(field) = field {
        return print_field(ctx, secret_field(secret, field), field);
    }
    ctx.secret(secret);
    Ok(EXIT_OK)
}

/// The `auth/token/create` body from the flags (only what was given).
pub fn create_body(a: &CreateArgs) -> Result<Map<String, Value>, CliError> {
    let mut body = Map::new();
    if !a.policies.is_empty() {
        body.insert("policies".into(), json!(a.policies));
    }
    for (key, val) in [
        ("ttl", &a.ttl),
        ("explicit_max_ttl", &a.explicit_max_ttl),
        ("period", &a.period),
    ] {
        if let Some(v) = val {
            parse_duration_secs(v).map_err(CliError::usage)?;
            body.insert(key.into(), json!(v));
        }
    }
    if let Some(n) = a.use_limit {
        body.insert("num_uses".into(), json!(n));
    }
    body.insert("renewable".into(), json!(a.renewable.unwrap_or(true)));
    if a.orphan {
        body.insert("no_parent".into(), json!(true));
    }
    if a.no_default_policy {
        body.insert("no_default_policy".into(), json!(true));
    }
    if let Some(d) = &a.display_name {
        body.insert("display_name".into(), json!(d));
    }
    if !a.metadata.is_empty() {
        body.insert(
            "meta".into(),
            Value::Object(parse_pairs(&a.metadata, "metadata").map_err(CliError::usage)?),
        );
    }
    if let Some(t) = &a.token_type {
        body.insert("type".into(), json!(t));
    }
    Ok(body)
}

async fn create(ctx: &Ctx, a: CreateArgs) -> CmdResult {
    let body = create_body(&a)?;
    let path = match (&a.role, a.orphan) {
        (Some(role), _) => format!("auth/token/create/{role}"),
        (None, true) => "auth/token/create-orphan".to_string(),
        (None, false) => "auth/token/create".to_string(),
    };
    let answer = ctx
        .client
        .post(&path, &Value::Object(body))
        .await
        .map_err(api_err("Error creating token"))?
        .ok_or_else(|| CliError::failed("Error creating token: empty answer"))?;
    show(ctx, &answer, a.field.as_deref())
}

async fn revoke(ctx: &Ctx, a: RevokeArgs) -> CmdResult {
    let (path, body) = match (a.self_, &a.token, a.accessor, a.mode.as_deref()) {
        (true, None, false, None) => ("auth/token/revoke-self", json!({})),
        (true, _, _, _) => return Err(CliError::usage("-self takes no token, -accessor or -mode")),
        (false, None, _, _) => return Err(CliError::usage("a token (or -self) is required")),
        (false, Some(t), true, None) => ("auth/token/revoke-accessor", json!({ "accessor": t })),
        (false, Some(_), true, Some(_)) => return Err(CliError::usage("-mode cannot be used with -accessor")),
        (false, Some(t), false, Some("orphan")) => ("auth/token/revoke-orphan", json!({ "token": t })),
        (false, Some(t), false, _) => ("auth/token/revoke", json!({ "token": t })),
    };
    ctx.client
        .post(path, &body)
        .await
        .map_err(api_err("Error revoking token"))?;
    ctx.success("Success! Revoked token (if it existed)");
    Ok(EXIT_OK)
}

async fn capabilities(ctx: &Ctx, a: CapabilitiesArgs) -> CmdResult {
    let (path, body, target) = match a.args.as_slice() {
        [p] => ("sys/capabilities-self", json!({ "paths": [p] }), p.clone()),
        [t, p] => ("sys/capabilities", json!({ "token": t, "paths": [p] }), p.clone()),
        _ => return Err(CliError::usage("usage: coffer token capabilities [TOKEN] PATH")),
    };
    let answer = ctx
        .client
        .post(path, &body)
        .await
        .map_err(api_err("Error listing capabilities"))?
        .ok_or_else(|| CliError::failed("Error listing capabilities: empty answer"))?;
    let caps = capability_list(&answer, &target);
    match ctx.format {
        Format::Json => ctx.out(&format::json_pretty(&json!(caps))),
        Format::Table => ctx.line(&caps.join(", ")),
    }
    Ok(EXIT_OK)
}

/// Capabilities from a `sys/capabilities*` answer: the path's own key, else `capabilities`;
/// sorted as Vault prints them.
pub fn capability_list(answer: &coffer_client::Secret, path: &str) -> Vec<String> {
    let src = answer
        .data
        .clone()
        .unwrap_or_else(|| answer.raw.as_object().cloned().unwrap_or_default());
    let list = src
        .get(path)
        .or_else(|| src.get("capabilities"))
        .and_then(Value::as_array);
    let mut caps: Vec<String> = list
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    caps.sort();
    caps
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        a: CreateArgs,
    }

    fn body(args: &[&str]) -> Value {
        let w = Wrap::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap();
        Value::Object(create_body(&w.a).unwrap())
    }

    #[test]
    fn create_body_maps_flags() {
        assert_eq!(body(&[]), json!({"renewable": true}));
        assert_eq!(
            body(&[
                "--policy=a,b",
                "--policy",
                "c",
                "--ttl=1h",
                "--use-limit=3",
                "--renewable=false",
                "--orphan",
                "--metadata",
                "user=bob",
                "--display-name=ci"
            ]),
            json!({"policies": ["a", "b", "c"], "ttl": "1h", "num_uses": 3, "renewable": false,
                   "no_parent": true, "meta": {"user": "bob"}, "display_name": "ci"})
        );
        let w = Wrap::try_parse_from(["x", "--ttl=soon"]).unwrap();
        assert!(create_body(&w.a).is_err());
    }

    #[test]
    fn capabilities_from_either_key() {
        let s = coffer_client::Secret::from_value(
            json!({"data": {"secret/x": ["update", "read"], "capabilities": ["update", "read"]}}),
        )
        .unwrap();
        assert_eq!(capability_list(&s, "secret/x"), ["read", "update"]);
        let s = coffer_client::Secret::from_value(json!({"capabilities": ["deny"]})).unwrap();
        assert_eq!(capability_list(&s, "p"), ["deny"]);
    }
}

//! `coffer auth enable|disable|list|tune`: the auth method table at `sys/auth`.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err};
use crate::args::{ensure_trailing_slash, parse_duration_secs, parse_pairs, sanitize_path};
use crate::format::{self, Format};

/// Auth method subcommands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Enable an auth method: `auth enable [-path=P] TYPE`.
    Enable(EnableArgs),
    /// Disable the auth method at PATH (its tokens are revoked).
    Disable(PathArg),
    /// List enabled auth methods.
    List(ListArgs),
    /// Change an auth method's TTLs, description or token type.
    Tune(TuneArgs),
}

/// An auth mount path.
#[derive(Debug, Args)]
pub struct PathArg {
    /// Mount path, e.g. `userpass/`.
    path: String,
}

/// `auth enable` flags.
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Mount path (defaults to the type).
    #[arg(long)]
    path: Option<String>,
    /// Human description.
    #[arg(long)]
    description: Option<String>,
    /// Default lease TTL of tokens issued here (e.g. `1h`).
    #[arg(long)]
    default_lease_ttl: Option<String>,
    /// Maximum lease TTL of tokens issued here.
    #[arg(long)]
    max_lease_ttl: Option<String>,
    /// `unauth` to show the method on the login page, `hidden` otherwise.
    #[arg(long)]
    listing_visibility: Option<String>,
    /// Method options `k=v`, repeatable.
    #[arg(long = "options")]
    options: Vec<String>,
    /// Enable only on this cluster (not replicated).
    #[arg(long)]
    local: bool,
    /// Auth method type, e.g. `userpass`, `approle`, `jwt`, `cert`.
    method_type: String,
}

/// `auth list` flags.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show TTLs, token type, options and more.
    #[arg(long)]
    detailed: bool,
}

/// `auth tune` flags.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// New default lease TTL.
    #[arg(long)]
    default_lease_ttl: Option<String>,
    /// New maximum lease TTL.
    #[arg(long)]
    max_lease_ttl: Option<String>,
    /// New description.
    #[arg(long)]
    description: Option<String>,
    /// `unauth` or `hidden`.
    #[arg(long)]
    listing_visibility: Option<String>,
    /// Token type issued: `default-service`, `default-batch`, `service` or `batch`.
    #[arg(long)]
    token_type: Option<String>,
    /// Mount path.
    path: String,
}

/// Runs one auth subcommand.
pub async fn run(ctx: &Ctx, cmd: AuthCommand) -> CmdResult {
    match cmd {
        AuthCommand::Enable(a) => {
            let (path, body) = enable_request(&a)?;
            ctx.client
                .post(&format!("sys/auth/{}", path.trim_end_matches('/')), &body)
                .await
                .map_err(api_err(format!("Error enabling {} auth", a.method_type)))?;
            ctx.success(&format!(
                "Success! Enabled {} auth method at: {path}",
                a.method_type.trim()
            ));
            Ok(EXIT_OK)
        }
        AuthCommand::Disable(a) => {
            let path = ensure_trailing_slash(&sanitize_path(&a.path));
            ctx.client
                .delete(&format!("sys/auth/{}", path.trim_end_matches('/')))
                .await
                .map_err(api_err(format!("Error disabling auth method at {path}")))?;
            ctx.success(&format!("Success! Disabled the auth method (if it existed) at: {path}"));
            Ok(EXIT_OK)
        }
        AuthCommand::List(a) => {
            let answer = ctx
                .client
                .read("sys/auth")
                .await
                .map_err(api_err("Error listing enabled authentications"))?;
            if ctx.wrapped(answer.as_ref()) {
                return Ok(EXIT_OK);
            }
            let methods = answer.map(|s| super::secrets::mounts_of(&s)).unwrap_or_default();
            match ctx.format {
                Format::Json => ctx.out(&format::json_pretty(&Value::Object(methods))),
                Format::Table => ctx.out(&auth_table(&methods, a.detailed)),
            }
            Ok(EXIT_OK)
        }
        AuthCommand::Tune(a) => {
            let path = ensure_trailing_slash(&sanitize_path(&a.path));
            let body = tune_body(&a)?;
            ctx.client
                .post(&format!("sys/auth/{path}tune"), &body)
                .await
                .map_err(api_err(format!("Error tuning auth method {path}")))?;
            ctx.success(&format!("Success! Tuned the auth method at: {path}"));
            Ok(EXIT_OK)
        }
    }
}

fn ttl_field(body: &mut Map<String, Value>, key: &str, value: &Option<String>) -> Result<(), CliError> {
    if let Some(v) = value {
        parse_duration_secs(v).map_err(CliError::usage)?;
        body.insert(key.into(), json!(v));
    }
    Ok(())
}

/// Mount path (with trailing slash) and `sys/auth/<path>` body for `auth enable`.
pub fn enable_request(a: &EnableArgs) -> Result<(String, Value), CliError> {
    let kind = a.method_type.trim().to_string();
    if kind.is_empty() {
        return Err(CliError::usage("an auth method type is required"));
    }
    let path = ensure_trailing_slash(&sanitize_path(a.path.as_deref().unwrap_or(&kind)));
    if path == "/" {
        return Err(CliError::usage("-path must not be empty"));
    }
    let mut config = Map::new();
    ttl_field(&mut config, "default_lease_ttl", &a.default_lease_ttl)?;
    ttl_field(&mut config, "max_lease_ttl", &a.max_lease_ttl)?;
    if let Some(v) = &a.listing_visibility {
        config.insert("listing_visibility".into(), json!(v));
    }
    let mut body = json!({
        "type": kind,
        "description": a.description.clone().unwrap_or_default(),
        "config": config,
        "local": a.local,
    });
    let options = parse_pairs(&a.options, "options").map_err(CliError::usage)?;
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    Ok((path, body))
}

/// The `sys/auth/<path>/tune` body: only what was given.
pub fn tune_body(a: &TuneArgs) -> Result<Value, CliError> {
    let mut body = Map::new();
    ttl_field(&mut body, "default_lease_ttl", &a.default_lease_ttl)?;
    ttl_field(&mut body, "max_lease_ttl", &a.max_lease_ttl)?;
    for (key, value) in [
        ("description", &a.description),
        ("listing_visibility", &a.listing_visibility),
        ("token_type", &a.token_type),
    ] {
        if let Some(v) = value {
            body.insert(key.into(), json!(v));
        }
    }
    if body.is_empty() {
        return Err(CliError::usage("nothing to tune: give at least one flag"));
    }
    Ok(Value::Object(body))
}

fn ttl_cell(v: Option<&Value>) -> String {
    match v.and_then(Value::as_i64) {
        None | Some(0) => "system".into(),
        Some(n) => format::human_duration(n),
    }
}

/// The auth method table, sorted by path; `detailed` adds TTLs, token type and more.
pub fn auth_table(methods: &Map<String, Value>, detailed: bool) -> String {
    let mut paths: Vec<&String> = methods.keys().collect();
    paths.sort();
    let s = |m: &Value, k: &str| m.get(k).map(format::cell).unwrap_or_default();
    let header: &[&str] = if detailed {
        &[
            "Path",
            "Plugin",
            "Accessor",
            "Default TTL",
            "Max TTL",
            "Token Type",
            "Replication",
            "Seal Wrap",
            "Options",
            "Description",
            "UUID",
        ]
    } else {
        &["Path", "Type", "Accessor", "Description"]
    };
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for p in paths {
        let m = &methods[p];
        rows.push(if detailed {
            let cfg = m.get("config").cloned().unwrap_or(Value::Null);
            let local = m.get("local").and_then(Value::as_bool).unwrap_or(false);
            vec![
                p.clone(),
                s(m, "type"),
                s(m, "accessor"),
                ttl_cell(cfg.get("default_lease_ttl")),
                ttl_cell(cfg.get("max_lease_ttl")),
                cfg.get("token_type").map(format::cell).unwrap_or_default(),
                if local { "local" } else { "replicated" }.into(),
                m.get("seal_wrap").and_then(Value::as_bool).unwrap_or(false).to_string(),
                m.get("options")
                    .filter(|o| !o.is_null())
                    .map(format::cell)
                    .unwrap_or_default(),
                s(m, "description"),
                s(m, "uuid"),
            ]
        } else {
            vec![p.clone(), s(m, "type"), s(m, "accessor"), s(m, "description")]
        });
    }
    format::columns(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Enable {
        #[command(flatten)]
        a: EnableArgs,
    }

    #[derive(Parser)]
    struct Tune {
        #[command(flatten)]
        a: TuneArgs,
    }

    #[test]
    fn enable_body_and_default_path() {
        let w = Enable::try_parse_from(["x", "userpass"]).unwrap();
        let (p, b) = enable_request(&w.a).unwrap();
        assert_eq!(p, "userpass/");
        assert_eq!(
            b,
            json!({"type": "userpass", "description": "", "config": {}, "local": false})
        );
        let w = Enable::try_parse_from([
            "x",
            "--path=/corp/",
            "--description=staff",
            "--max-lease-ttl=8h",
            "--options=k=v",
            "approle",
        ])
        .unwrap();
        let (p, b) = enable_request(&w.a).unwrap();
        assert_eq!(p, "corp/");
        assert_eq!(b["config"], json!({"max_lease_ttl": "8h"}));
        assert_eq!(b["options"], json!({"k": "v"}));
        assert_eq!(b["description"], "staff");
        let w = Enable::try_parse_from(["x", "--default-lease-ttl=soon", "userpass"]).unwrap();
        assert_eq!(enable_request(&w.a).unwrap_err().code, super::super::EXIT_USAGE);
    }

    #[test]
    fn tune_body_only_has_given_flags() {
        let w = Tune::try_parse_from(["x", "--max-lease-ttl=30m", "--token-type=batch", "userpass"]).unwrap();
        assert_eq!(
            tune_body(&w.a).unwrap(),
            json!({"max_lease_ttl": "30m", "token_type": "batch"})
        );
        let w = Tune::try_parse_from(["x", "userpass"]).unwrap();
        assert!(tune_body(&w.a).is_err());
    }

    #[test]
    fn auth_table_rows() {
        let methods = json!({
            "userpass/": {"type": "userpass", "accessor": "auth_userpass_1", "description": "",
                          "config": {"default_lease_ttl": 3600, "token_type": "default-service"}},
            "token/": {"type": "token", "accessor": "auth_token_2", "description": "token based credentials", "options": null}
        });
        let t = auth_table(methods.as_object().unwrap(), false);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Path         Type        Accessor           Description");
        assert_eq!(
            lines[2],
            "token/       token       auth_token_2       token based credentials"
        );
        assert_eq!(lines[3], "userpass/    userpass    auth_userpass_1    n/a");
        let d = auth_table(methods.as_object().unwrap(), true);
        assert!(
            d.contains("Token Type") && d.contains("1h") && d.contains("default-service"),
            "{d}"
        );
    }
}

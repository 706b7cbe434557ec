//! `coffer secrets enable|disable|list|tune`: the mount table at `sys/mounts`.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err};
use crate::args::{ensure_trailing_slash, parse_duration_secs, parse_pairs, sanitize_path};
use crate::format::{self, Format};

/// Secrets engine subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Mount a secrets engine: `secrets enable [-path=P] TYPE` (`kv-v2` = kv version 2).
    Enable(EnableArgs),
    /// Unmount the engine at PATH (its data is deleted).
    Disable(PathArg),
    /// List mounted engines.
    List(ListArgs),
    /// Change a mount's TTLs or description.
    Tune(TuneArgs),
}

/// A mount path.
#[derive(Debug, Args)]
pub struct PathArg {
    /// Mount path.
    path: String,
}

/// `secrets enable` flags.
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Mount path (defaults to the type).
    #[arg(long)]
    path: Option<String>,
    /// KV version (`-version=2`), sent as `options.version`.
    #[arg(long)]
    version: Option<u32>,
    /// Human description.
    #[arg(long)]
    description: Option<String>,
    /// Default lease TTL (e.g. `1h`).
    #[arg(long)]
    default_lease_ttl: Option<String>,
    /// Maximum lease TTL.
    #[arg(long)]
    max_lease_ttl: Option<String>,
    /// Engine options `k=v`, repeatable.
    #[arg(long = "options")]
    options: Vec<String>,
    /// Mount only on this cluster (not replicated).
    #[arg(long)]
    local: bool,
    /// Engine type, e.g. `kv`, `kv-v2`, `transit`.
    engine_type: String,
}

/// `secrets list` flags.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show TTLs, options and more.
    #[arg(long)]
    detailed: bool,
}

/// `secrets tune` flags.
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
    /// Mount path.
    path: String,
}

/// Runs one secrets subcommand.
pub async fn run(ctx: &Ctx, cmd: SecretsCommand) -> CmdResult {
    match cmd {
        SecretsCommand::Enable(a) => {
            let (path, body) = enable_request(&a)?;
            ctx.client
                .post(&format!("sys/mounts/{path}"), &body)
                .await
                .map_err(api_err(format!("Error enabling {}", a.engine_type)))?;
            let kind = body["type"].as_str().unwrap_or_default().to_string();
            ctx.success(&format!("Success! Enabled the {kind} secrets engine at: {path}"));
            Ok(EXIT_OK)
        }
        SecretsCommand::Disable(a) => {
            let path = ensure_trailing_slash(&sanitize_path(&a.path));
            ctx.client
                .delete(&format!("sys/mounts/{path}"))
                .await
                .map_err(api_err(format!("Error disabling secrets engine at {path}")))?;
            ctx.success(&format!(
                "Success! Disabled the secrets engine (if it existed) at: {path}"
            ));
            Ok(EXIT_OK)
        }
        SecretsCommand::List(a) => {
            let answer = ctx
                .client
                .read("sys/mounts")
                .await
                .map_err(api_err("Error listing secrets engines"))?;
            if ctx.wrapped(answer.as_ref()) {
                return Ok(EXIT_OK);
            }
            let mounts = answer.map(|s| mounts_of(&s)).unwrap_or_default();
            match ctx.format {
                Format::Json => ctx.out(&format::json_pretty(&Value::Object(mounts))),
                Format::Table => ctx.out(&mounts_table(&mounts, a.detailed)),
            }
            Ok(EXIT_OK)
        }
        SecretsCommand::Tune(a) => {
            let path = ensure_trailing_slash(&sanitize_path(&a.path));
            let mut body = Map::new();
            ttl_field(&mut body, "default_lease_ttl", &a.default_lease_ttl)?;
            ttl_field(&mut body, "max_lease_ttl", &a.max_lease_ttl)?;
            if let Some(d) = &a.description {
                body.insert("description".into(), json!(d));
            }
            ctx.client
                .post(&format!("sys/mounts/{path}tune"), &Value::Object(body))
                .await
                .map_err(api_err(format!("Error tuning secrets engine {path}")))?;
            ctx.success(&format!("Success! Tuned the secrets engine at: {path}"));
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

/// Mount path (with trailing slash) and `sys/mounts/<path>` body for `secrets enable`,
/// with Vault's `kv-v2` shorthand (type `kv`, `options.version = "2"`, path `kv-v2/`).
pub fn enable_request(a: &EnableArgs) -> Result<(String, Value), CliError> {
    let mut kind = a.engine_type.trim().to_string();
    let path = ensure_trailing_slash(&sanitize_path(a.path.as_deref().unwrap_or(&kind)));
    let mut options = parse_pairs(&a.options, "options").map_err(CliError::usage)?;
    if let Some(v) = a.version {
        options.insert("version".into(), json!(v.to_string()));
    }
    if kind == "kv-v2" {
        kind = "kv".into();
        options.insert("version".into(), json!("2"));
    }
    let mut config = Map::new();
    ttl_field(&mut config, "default_lease_ttl", &a.default_lease_ttl)?;
    ttl_field(&mut config, "max_lease_ttl", &a.max_lease_ttl)?;
    let mut body = json!({ "type": kind, "config": config, "local": a.local });
    if let Some(d) = &a.description {
        body["description"] = json!(d);
    }
    if !options.is_empty() {
        body["options"] = Value::Object(options);
    }
    Ok((path, body))
}

/// The mount map of a `sys/mounts` answer: `data`, or the top-level mount entries.
pub fn mounts_of(s: &coffer_client::Secret) -> Map<String, Value> {
    if let Some(d) = &s.data {
        return d.clone();
    }
    s.raw
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.get("type").is_some())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn ttl_cell(v: Option<&Value>) -> String {
    match v.and_then(Value::as_i64) {
        None | Some(0) => "system".into(),
        Some(n) => format::human_duration(n),
    }
}

/// The mount table, sorted by path; `detailed` adds TTLs, options and ids.
pub fn mounts_table(mounts: &Map<String, Value>, detailed: bool) -> String {
    let mut paths: Vec<&String> = mounts.keys().collect();
    paths.sort();
    let s = |m: &Value, k: &str| m.get(k).map(format::cell).unwrap_or_default();
    let header: &[&str] = if detailed {
        &[
            "Path",
            "Plugin",
            "Accessor",
            "Default TTL",
            "Max TTL",
            "Force No Cache",
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
        let m = &mounts[p];
        rows.push(if detailed {
            let cfg = m.get("config").cloned().unwrap_or(Value::Null);
            let replication = if m.get("local").and_then(Value::as_bool).unwrap_or(false) {
                "local"
            } else {
                "replicated"
            };
            vec![
                p.clone(),
                s(m, "type"),
                s(m, "accessor"),
                ttl_cell(cfg.get("default_lease_ttl")),
                ttl_cell(cfg.get("max_lease_ttl")),
                cfg.get("force_no_cache")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    .to_string(),
                replication.into(),
                m.get("seal_wrap").and_then(Value::as_bool).unwrap_or(false).to_string(),
                s(m, "options"),
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
    struct Wrap {
        #[command(flatten)]
        a: EnableArgs,
    }

    fn req(args: &[&str]) -> (String, Value) {
        let w = Wrap::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap();
        enable_request(&w.a).unwrap()
    }

    #[test]
    fn kv_v2_shorthand_and_flags() {
        let (p, b) = req(&["kv-v2"]);
        assert_eq!(p, "kv-v2/");
        assert_eq!(
            b,
            json!({"type": "kv", "config": {}, "local": false, "options": {"version": "2"}})
        );
        let (p, b) = req(&[
            "--path=secret",
            "--version=2",
            "--max-lease-ttl=1h",
            "--description=d",
            "kv",
        ]);
        assert_eq!(p, "secret/");
        assert_eq!(b["options"], json!({"version": "2"}));
        assert_eq!(b["config"], json!({"max_lease_ttl": "1h"}));
        assert_eq!(b["description"], "d");
        let (p, b) = req(&["transit"]);
        assert_eq!(p, "transit/");
        assert!(b.get("options").is_none());
    }

    #[test]
    fn mount_table_rows() {
        let mounts = json!({
            "sys/": {"type": "system", "accessor": "system_1", "description": "system endpoints"},
            "secret/": {"type": "kv", "accessor": "kv_2", "description": "", "options": {"version": "2"},
                        "config": {"default_lease_ttl": 0, "max_lease_ttl": 3600}}
        });
        let t = mounts_table(mounts.as_object().unwrap(), false);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Path       Type      Accessor    Description");
        assert_eq!(lines[1], "----       ----      --------    -----------");
        assert_eq!(lines[2], "secret/    kv        kv_2        n/a");
        let d = mounts_table(mounts.as_object().unwrap(), true);
        assert!(
            d.contains("system ") && d.contains("1h") && d.contains("map[version:2]"),
            "{d}"
        );
    }

    #[test]
    fn mounts_from_data_or_top_level() {
        let s = coffer_client::Secret::from_value(json!({"secret/": {"type": "kv"}, "request_id": "x"})).unwrap();
        assert_eq!(mounts_of(&s).len(), 1);
    }
}

//! `coffer audit enable|disable|list` (the devices at `sys/audit`) and `coffer audit verify`,
//! which checks the hash chain of audit log files offline, in rotation order.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

use super::{CliError, CmdResult, Ctx, EXIT_ERROR, EXIT_OK, EXIT_USAGE, api_err};
use crate::args::{ensure_trailing_slash, parse_pairs, sanitize_path};
use crate::format::{self, Format};

/// Audit device subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Enable a device: `audit enable [-path=P] TYPE [K=V…]` (file_path=…, address=…, facility=…).
    Enable(EnableArgs),
    /// Disable the device at PATH.
    Disable(PathArg),
    /// List enabled devices.
    List(ListArgs),
    /// Check the hash chain of audit log files (oldest first): exit 0 intact, 1 tampered,
    /// 2 unreadable.
    Verify(VerifyArgs),
}

/// `audit enable` flags.
#[derive(Debug, Args)]
pub struct EnableArgs {
    /// Device path (defaults to the type).
    #[arg(long)]
    path: Option<String>,
    /// Human description.
    #[arg(long)]
    description: Option<String>,
    /// Local to this cluster (not replicated).
    #[arg(long)]
    local: bool,
    /// Device type: file, socket or syslog.
    device_type: String,
    /// Device options `key=value`.
    options: Vec<String>,
}

/// A device path.
#[derive(Debug, Args)]
pub struct PathArg {
    /// Device path.
    path: String,
}

/// `audit list` flags.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show options and replication.
    #[arg(long)]
    detailed: bool,
}

/// `audit verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Log files in rotation order, oldest first; each must continue the one before.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs one audit subcommand.
pub async fn run(ctx: &Ctx, cmd: AuditCommand) -> CmdResult {
    match cmd {
        AuditCommand::Enable(a) => {
            let kind = a.device_type.trim().to_string();
            let path = ensure_trailing_slash(&sanitize_path(a.path.as_deref().unwrap_or(&kind)));
            let options = parse_pairs(&a.options, "options").map_err(CliError::usage)?;
            let mut body = json!({ "type": kind, "local": a.local, "options": options });
            if let Some(d) = &a.description {
                body["description"] = json!(d);
            }
            ctx.client
                .post(&format!("sys/audit/{path}"), &body)
                .await
                .map_err(api_err(format!("Error enabling audit device {path}")))?;
            ctx.success(&format!("Success! Enabled the {kind} audit device at: {path}"));
            Ok(EXIT_OK)
        }
        AuditCommand::Disable(a) => {
            let path = ensure_trailing_slash(&sanitize_path(&a.path));
            ctx.client
                .delete(&format!("sys/audit/{path}"))
                .await
                .map_err(api_err(format!("Error disabling audit device {path}")))?;
            ctx.success(&format!(
                "Success! Disabled audit device (if it was enabled) at: {path}"
            ));
            Ok(EXIT_OK)
        }
        AuditCommand::List(a) => {
            let answer = ctx
                .client
                .read("sys/audit")
                .await
                .map_err(api_err("Error listing audit devices"))?;
            let devices = answer.map(|s| devices_of(&s.raw, s.data.as_ref())).unwrap_or_default();
            match ctx.format {
                Format::Json => ctx.out(&format::json_pretty(&Value::Object(devices))),
                Format::Table if devices.is_empty() => ctx.line("No audit devices are enabled."),
                Format::Table => ctx.out(&devices_table(&devices, a.detailed)),
            }
            Ok(EXIT_OK)
        }
        AuditCommand::Verify(a) => Ok(verify_files(ctx, &a.files)),
    }
}

/// The device map of a `sys/audit` answer: `data`, or the top-level entries with a `type`.
fn devices_of(raw: &Value, data: Option<&Map<String, Value>>) -> Map<String, Value> {
    if let Some(d) = data {
        return d.clone();
    }
    raw.as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.get("type").is_some())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn devices_table(devices: &Map<String, Value>, detailed: bool) -> String {
    let s = |m: &Value, k: &str| m.get(k).map(format::cell).unwrap_or_default();
    let mut paths: Vec<&String> = devices.keys().collect();
    paths.sort();
    let header: &[&str] = if detailed {
        &["Path", "Type", "Description", "Replication", "Options"]
    } else {
        &["Path", "Type", "Description"]
    };
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for p in paths {
        let m = &devices[p];
        let mut row = vec![p.clone(), s(m, "type"), s(m, "description")];
        if detailed {
            let local = m.get("local").and_then(Value::as_bool).unwrap_or(false);
            row.push(if local { "local" } else { "replicated" }.into());
            row.push(s(m, "options"));
        }
        rows.push(row);
    }
    format::columns(&rows)
}

/// Verifies files in order, each continuing the previous one's chain. Returns the exit code.
fn verify_files(ctx: &Ctx, files: &[PathBuf]) -> u8 {
    let mut expected: Option<String> = None;
    let mut results = Vec::new();
    let mut code = EXIT_OK;
    for file in files {
        let shown = file.display().to_string();
        let report = std::fs::File::open(file).and_then(|f| coffer_core::audit::verify(f, expected.as_deref()));
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                eprintln!("Error reading {shown}: {e}");
                return EXIT_USAGE;
            }
        };
        for gap in &report.gaps {
            eprintln!(
                "Warning: {shown}:{}: the server dropped {} entries here (audit spool overflow)",
                gap.line, gap.dropped
            );
        }
        let status = match &report.problem {
            None => format!(
                "{shown}: intact ({} lines, seq {}..{})",
                report.lines,
                opt(report.first_seq),
                opt(report.last_seq)
            ),
            Some(p) => format!("{shown}:{}: TAMPERED: {}", p.line, p.message),
        };
        results.push(json!({
            "file": shown,
            "intact": report.problem.is_none(),
            "lines": report.lines,
            "first_seq": report.first_seq,
            "last_seq": report.last_seq,
            "gaps": report.gaps.iter().map(|g| json!({"line": g.line, "dropped": g.dropped})).collect::<Vec<_>>(),
            "problem": report.problem.as_ref().map(|p| json!({"line": p.line, "kind": format!("{:?}", p.kind).to_lowercase(), "message": p.message})),
        }));
        if ctx.format == Format::Table {
            ctx.line(&status);
        }
        if report.problem.is_some() {
            code = EXIT_ERROR;
            break;
        }
        expected = report.last_hash;
    }
    if ctx.format == Format::Json {
        ctx.out(&format::json_pretty(&Value::Array(results)));
    }
    code
}

fn opt(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "-".into())
}

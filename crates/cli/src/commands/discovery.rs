//! `coffer discovery list`: the server's inventory of hardcoded secrets (`coffer/discovery/`),
//! and [`report`], which posts a scan's findings to it (`coffer scan --report-to-server`, and
//! always with `--onboard`). Only fingerprints, places and references are sent, never values.

use std::collections::HashMap;

use clap::{Args, Subcommand};
use coffer_client::Client;
use coffer_scan::Finding;
use serde_json::{Value, json};

use super::{CliError, CmdResult, Ctx, EXIT_OK, api_err};
use crate::format::{self, Format};

/// Where the inventory is mounted by default.
pub const DEFAULT_MOUNT: &str = "coffer/discovery";
/// Findings per request.
const CHUNK: usize = 1000;

/// `coffer discovery …`.
#[derive(Debug, Subcommand)]
pub enum DiscoveryCommand {
    /// List every finding of the inventory: rule, places, first/last seen, onboarded.
    List(ListArgs),
}

/// Arguments of `coffer discovery list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Mount of the discovery inventory.
    #[arg(long, default_value = DEFAULT_MOUNT)]
    mount: String,
}

/// The JSON sent for one finding: no secret, only where it is and what replaced it.
pub fn finding_json(f: &Finding, reference: Option<&String>) -> Value {
    let mut v = json!({
        "fingerprint": f.fingerprint,
        "rule_id": f.rule_id,
        "kind": f.kind,
        "path": f.path,
        "line": f.line,
    });
    if let Some(c) = &f.commit {
        v["commit"] = json!(c.id);
    }
    if let Some(r) = reference {
        v["reference"] = json!(r);
    }
    v
}

/// Posts findings to the inventory at `mount`; `references` maps fingerprints of onboarded
/// findings to their reference. Returns how many were sent.
pub async fn report(
    client: &Client,
    mount: &str,
    findings: &[Finding],
    references: &HashMap<String, String>,
) -> Result<usize, CliError> {
    let path = format!("{}/findings", mount.trim_matches('/'));
    for chunk in findings.chunks(CHUNK) {
        let list: Vec<Value> = chunk
            .iter()
            .map(|f| finding_json(f, references.get(&f.fingerprint)))
            .collect();
        client
            .write(&path, &json!({ "findings": list }))
            .await
            .map_err(api_err(format!("Error reporting findings to {path}")))?;
    }
    Ok(findings.len())
}

/// One line of the table.
fn row(fp: &str, rec: &Value) -> Vec<String> {
    let s = |k: &str| rec.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let locations = rec
        .get("locations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let first = locations
        .first()
        .map(|l| format!("{}:{}", l["path"].as_str().unwrap_or(""), l["line"]))
        .unwrap_or_default();
    let place = match locations.len() {
        0 | 1 => first,
        n => format!("{first} (+{})", n - 1),
    };
    let onboarded = rec.get("onboarded").and_then(Value::as_bool).unwrap_or(false);
    vec![
        fp.chars().take(12).collect(),
        s("rule_id"),
        s("kind"),
        place,
        s("last_seen"),
        if onboarded { "yes".into() } else { "no".into() },
        s("reference"),
    ]
}

/// Renders records as an aligned table.
fn table(entries: &[(String, Value)]) -> String {
    let mut rows = vec![
        [
            "FINGERPRINT",
            "RULE",
            "KIND",
            "LOCATION",
            "LAST SEEN",
            "ONBOARDED",
            "REFERENCE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(entries.iter().map(|(fp, rec)| row(fp, rec)));
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Runs `coffer discovery …`.
pub async fn run(ctx: &Ctx, cmd: DiscoveryCommand) -> CmdResult {
    let DiscoveryCommand::List(args) = cmd;
    let path = format!("{}/findings", args.mount.trim_matches('/'));
    let answer = ctx
        .client
        .list(&path)
        .await
        .map_err(api_err(format!("Error listing {path}")))?;
    let data = answer.and_then(|s| s.data).unwrap_or_default();
    let keys: Vec<String> = data
        .get("keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let info = data.get("key_info").cloned().unwrap_or(Value::Null);
    let entries: Vec<(String, Value)> = keys.iter().map(|k| (k.clone(), info[k].clone())).collect();
    match ctx.format {
        Format::Json => {
            let list: Vec<Value> = entries
                .iter()
                .map(|(fp, rec)| {
                    let mut rec = rec.clone();
                    rec["fingerprint"] = json!(fp);
                    rec
                })
                .collect();
            ctx.out(&format::json_pretty(&Value::Array(list)));
        }
        Format::Table if entries.is_empty() => ctx.line("No findings in the inventory."),
        Format::Table => ctx.out(&table(&entries)),
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_places_and_onboarding() {
        let rec = json!({"rule_id": "github-pat", "kind": "api-key", "last_seen": "2026-01-01T00:00:00Z",
            "locations": [{"path": ".env", "line": 2}, {"path": "b", "line": 3}], "onboarded": true,
            "reference": "coffer://secret/x#value"});
        let t = table(&[("0123456789abcdef".into(), rec)]);
        assert!(t.starts_with("FINGERPRINT"), "{t}");
        assert!(t.contains("0123456789ab  github-pat"), "{t}");
        assert!(
            t.contains(".env:2 (+1)") && t.contains("yes") && t.contains("coffer://secret/x#value"),
            "{t}"
        );
    }
}

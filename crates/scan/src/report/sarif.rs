//! SARIF 2.1.0 output: one run of the `coffer-scan` driver, its rules, one result per finding
//! with a stable `partialFingerprints["coffer/v1"]`, skipped files as notifications.
//!
//! Built with `serde_json` rather than `serde-sarif`: the subset we emit is small, and the
//! generated types of the full schema cost more compile time than this file.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Finding;
use crate::walk::Skipped;

/// The schema URI written in `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders findings as a SARIF 2.1.0 log.
pub fn sarif(findings: &[Finding], skipped: &[Skipped]) -> String {
    let mut rules: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        rules.entry(f.rule_id.as_str()).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rule_list: Vec<Value> = rules
        .values()
        .map(|f| {
            json!({
                "id": f.rule_id,
                "name": f.rule_id,
                "shortDescription": { "text": f.description },
                "properties": { "kind": f.kind },
            })
        })
        .collect();
    let results: Vec<Value> = findings.iter().map(|f| result(f, index[f.rule_id.as_str()])).collect();
    let notifications: Vec<Value> = skipped
        .iter()
        .map(|s| {
            json!({
                "level": "note",
                "message": { "text": format!("skipped {}: {}", s.path, s.reason) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(&s.path) } } }],
            })
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "coffer-scan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/coffer/coffer",
                "rules": rule_list,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let mut text = format!("{} found: {}", f.description, f.secret.redacted());
    if let Some(k) = &f.key_name {
        text.push_str(&format!(" (assigned to {k})"));
    }
    if let Some((id, _)) = &f.related {
        text.push_str(&format!(", with {id}"));
    }
    let mut r = json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&f.path) },
                "region": { "startLine": f.line, "startColumn": f.column, "endLine": f.end_line },
            }
        }],
        "partialFingerprints": { "coffer/v1": f.fingerprint },
        "properties": { "kind": f.kind },
    });
    if let Some(c) = &f.commit {
        r["properties"]["commit"] = json!(c);
    }
    r
}

/// A relative URI reference for a path: `/`-separated, reserved bytes percent-encoded.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

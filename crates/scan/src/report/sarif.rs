//! SARIF 2.1.0 output: one run of the `coffer-scan` driver, its rules, one result per finding
//! with a stable `partialFingerprints["coffer/v1"]`, skipped files as notifications.
//!
//! Built with `serde_json` rather than `serde-sarif`: the subset we emit is small, and the
//! generated types of the full schema cost more compile time than this file.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::Finding;
use crate::walk::Skipped;

/// The schema URI written in `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders findings as a SARIF 2.1.0 log.
///
/// Results and notifications are serialized one at a time into the output, never collected
/// into one `serde_json::Value` tree first: a log of thousands of findings would otherwise
/// hold several times its own size in memory at the end of a scan. The structs below list
/// their fields in sorted order, the order `serde_json::Value` maps print in.
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
    let log = Log {
        schema: SCHEMA,
        runs: [Run {
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: Lazy(skipped, notification),
            }],
            results: Lazy(findings, |f: &Finding| result(f, index[f.rule_id.as_str()])),
            tool: Tool {
                driver: json!({
                    "name": "coffer-scan",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/coffer/coffer",
                    "rules": rule_list,
                }),
            },
        }],
        version: "2.1.0",
    };
    super::to_pretty(&log, findings.len() * 900 + skipped.len() * 300, "")
}

/// The SARIF log, `runs` holding one run.
#[derive(Serialize)]
struct Log<N: Serialize, R: Serialize> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<N, R>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct Run<N: Serialize, R: Serialize> {
    invocations: [Invocation<N>; 1],
    results: R,
    tool: Tool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<N: Serialize> {
    execution_successful: bool,
    tool_execution_notifications: N,
}

#[derive(Serialize)]
struct Tool {
    driver: Value,
}

/// A sequence serialized by converting one item at a time.
pub(super) struct Lazy<'a, T, F>(pub(super) &'a [T], pub(super) F);

impl<T, F: Fn(&T) -> Value> Serialize for Lazy<'_, T, F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(&self.1))
    }
}

fn notification(s: &Skipped) -> Value {
    json!({
        "level": "note",
        "message": { "text": format!("skipped {}: {}", s.path, s.reason) },
        "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(&s.path) } } }],
    })
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

/// A relative URI reference for a path: `/`-separated, reserved bytes percent-encoded. A `:`
/// in the first segment is encoded too (RFC 3986 §4.2): `build:prod.env` would otherwise read
/// as a URI with the scheme `build`.
pub fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let first_slash = path.find('/').unwrap_or(path.len());
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b"-._~/@!$&'()*+,;=".contains(&b) || (b == b':' && i > first_slash) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

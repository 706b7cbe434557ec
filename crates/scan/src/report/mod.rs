//! Reports: a readable table (default), JSON and SARIF 2.1.0. Secrets are shown redacted
//! (first four characters) unless JSON output is explicitly asked to show them.

mod sarif;
mod table;

use serde_json::{Value, json};

use crate::Finding;
use crate::walk::Skipped;

pub use sarif::sarif;
pub use table::table;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns and a summary line.
    Table,
    /// A JSON array of finding objects.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            other => Err(format!("unknown format {other:?}: use table, json or sarif")),
        }
    }
}

/// How much the scan covered (for the table's summary line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
}

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// Findings, in the order to show them.
    pub findings: &'a [Finding],
    /// Files that were not scanned.
    pub skipped: &'a [Skipped],
    /// Coverage, when known.
    pub stats: Option<Stats>,
    /// Include full secret values (JSON only; off by default).
    pub show_secrets: bool,
}

impl Report<'_> {
    /// The report in `format`, ending with a newline.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => table(self.findings, self.skipped, self.stats),
            Format::Json => json(self.findings, self.show_secrets),
            Format::Sarif => sarif(self.findings, self.skipped),
        }
    }
}

/// One finding as a JSON object.
pub fn finding_json(f: &Finding, show_secret: bool) -> Value {
    let mut v = json!({
        "rule_id": f.rule_id,
        "description": f.description,
        "kind": f.kind,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "secret_redacted": f.secret.redacted(),
        "key_name": f.key_name,
        "fingerprint": f.fingerprint,
        "commit": f.commit,
        "related_rule": f.related.as_ref().map(|(id, _)| id),
    });
    if show_secret {
        v["secret"] = json!(f.secret.expose());
        if let Some((_, related)) = &f.related {
            v["related_secret"] = json!(related.expose());
        }
    }
    v
}

/// The JSON report: an array of finding objects (serialized one at a time, see [`sarif`]).
pub fn json(findings: &[Finding], show_secrets: bool) -> String {
    let list = sarif::Lazy(findings, |f: &Finding| finding_json(f, show_secrets));
    to_pretty(&list, findings.len() * 600, "[]")
}

/// `value` as pretty-printed JSON (`fallback` if it cannot be serialized) and a newline;
/// `estimate` is the expected length.
fn to_pretty(value: &impl serde::Serialize, estimate: usize, fallback: &str) -> String {
    let mut out = Vec::with_capacity(estimate + 1024);
    if serde_json::to_writer_pretty(&mut out, value).is_err() {
        out.clear();
        out.extend_from_slice(fallback.as_bytes());
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests;

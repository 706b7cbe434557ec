//! The human-readable table: RULE, FILE:LINE, SECRET (redacted), KEY, then a summary line.

use std::collections::BTreeSet;

use super::Stats;
use crate::Finding;
use crate::walk::Skipped;

/// Renders findings as aligned columns followed by a summary line.
pub fn table(findings: &[Finding], skipped: &[Skipped], stats: Option<Stats>) -> String {
    let mut rows: Vec<[String; 4]> = vec![["RULE", "FILE:LINE", "SECRET", "KEY"].map(String::from)];
    for f in findings {
        let mut place = format!("{}:{}", f.path, f.line);
        if let Some(c) = &f.commit {
            place = format!("{}@{place}", &c.id[..c.id.len().min(8)]);
        }
        rows.push([
            f.rule_id.clone(),
            place,
            f.secret.redacted(),
            f.key_name.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut out = String::new();
    if !findings.is_empty() {
        let widths: Vec<usize> = (0..4)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i == 3 {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    let files: BTreeSet<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    out.push_str(&if findings.is_empty() {
        "No secrets found".to_string()
    } else {
        format!(
            "{} in {}",
            plural(findings.len(), "finding"),
            plural(files.len(), "file")
        )
    });
    if let Some(s) = stats {
        out.push_str(&format!(
            " ({} scanned, {:.1} MB",
            plural(usize::try_from(s.files).unwrap_or(usize::MAX), "file"),
            s.bytes as f64 / 1e6
        ));
        if !skipped.is_empty() {
            out.push_str(&format!(", {} skipped", skipped.len()));
        }
        out.push(')');
    }
    out.push('\n');
    out
}

//! Baselines: the fingerprints of accepted findings, so a scan reports only what is new.
//!
//! Written as `{"version": 1, "fingerprints": [...]}`; a plain array of fingerprints or the
//! array of a `--format json` report are read as well.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::{Finding, ScanError};

/// A set of accepted finding fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// The baseline accepting exactly these findings.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        Baseline {
            fingerprints: findings.iter().map(|f| f.fingerprint.clone()).collect(),
        }
    }

    /// Parses a baseline file's text.
    pub fn parse(text: &str) -> Result<Baseline, ScanError> {
        let bad = |why: &str| ScanError::Parse(format!("baseline: {why}"));
        let value: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let list = match &value {
            Value::Array(items) => items,
            Value::Object(o) => o
                .get("fingerprints")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("expected a \"fingerprints\" array"))?,
            _ => return Err(bad("expected an object or an array")),
        };
        let mut fingerprints = BTreeSet::new();
        for item in list {
            let fp = match item {
                Value::String(s) => s.as_str(),
                Value::Object(o) => o
                    .get("fingerprint")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("an entry has no \"fingerprint\""))?,
                _ => return Err(bad("entries must be fingerprints or finding objects")),
            };
            fingerprints.insert(fp.to_string());
        }
        Ok(Baseline { fingerprints })
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScanError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Baseline::parse(&text)
    }

    /// The file format (pretty JSON, sorted).
    pub fn to_json(&self) -> String {
        let v = serde_json::json!({ "version": 1, "fingerprints": self.fingerprints });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Writes the baseline file.
    pub fn write(&self, path: &Path) -> Result<(), ScanError> {
        std::fs::write(path, self.to_json()).map_err(|source| ScanError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// True when the finding with this fingerprint is accepted.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// The findings that are not in the baseline.
    pub fn new_findings(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| !self.contains(&f.fingerprint))
            .collect()
    }

    /// Number of accepted fingerprints.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// True when nothing is accepted.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

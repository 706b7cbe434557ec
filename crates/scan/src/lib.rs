//! Secret discovery: finds credentials in files, stdin and git history.
//!
//! Rules are data (`rules/*.toml`, embedded; user rule files add or override). The engine runs
//! one Aho-Corasick prefilter over every rule's keywords, then confirms only the candidate
//! windows with each rule's regex, validates checksums where a format has one, and drops
//! placeholders, documented examples and other known non-secrets. Depends on nothing else in
//! Coffer but `coffer-crypto` (to recognise Coffer's own tokens).

#![deny(missing_docs)]

pub mod baseline;
mod caches;
pub mod config;
mod context;
mod engine;
mod filters;
pub mod git;
pub mod report;
pub mod rewrite;
mod rules;
pub mod ssh;
pub mod validate;
pub mod walk;

pub use baseline::Baseline;
pub use config::{Allowlist, Config};
pub use engine::{ScanOptions, Scanner, fingerprint};
pub use rules::{Rule, RuleSet};
pub use validate::Validator;

use serde::Serialize;

/// Everything that can go wrong while loading rules, configuration or scanning.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rule is malformed (names the rule and what is wrong).
    #[error("rule {id:?}: {message}")]
    Rule {
        /// Rule id (or its position when it has none).
        id: String,
        /// What is wrong with it.
        message: String,
    },
    /// A rules, config or baseline file could not be parsed.
    #[error("{0}")]
    Parse(String),
    /// A path could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The requested feature is not available in this build.
    #[error("{0}")]
    Unsupported(String),
    /// A git repository could not be opened or read (or a history option is invalid).
    #[error("git: {0}")]
    Git(String),
}

/// Where a finding was found in git history.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommitInfo {
    /// Commit id (hex).
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Commit date, RFC 3339.
    pub date: String,
}

/// A secret value. `Debug` never prints it; reports show `redacted()`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }

    /// The value itself (for onboarding only; never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first four characters and `…` (what reports show).
    pub fn redacted(&self) -> String {
        let prefix: String = self.0.chars().take(4).collect();
        format!("{prefix}…")
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// One detected secret.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Rule id, e.g. `github-pat`.
    pub rule_id: String,
    /// Human description of the rule.
    pub description: String,
    /// Secret type (e.g. `api-key`, `password`, `private-key`), stored as metadata on onboarding.
    pub kind: String,
    /// File path as given/walked (relative to the scan root where possible; `-` for stdin).
    pub path: String,
    /// 1-based line of the secret's first character.
    pub line: usize,
    /// 1-based column (in characters) of the secret's first character.
    pub column: usize,
    /// 1-based line of the secret's last character.
    pub end_line: usize,
    /// The secret.
    pub secret: SecretValue,
    /// Name the secret is assigned to in its context (`DB_PASSWORD`, a YAML key), if known.
    pub key_name: Option<String>,
    /// Stable id: hex SHA-256 of rule id, path and secret (same secret, same place → same id).
    pub fingerprint: String,
    /// Git commit, for history scans.
    pub commit: Option<CommitInfo>,
    /// A companion value reported with this one (e.g. the AWS access key id of a secret key):
    /// (rule id, value).
    pub related: Option<(String, SecretValue)>,
}

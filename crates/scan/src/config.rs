//! The per-project configuration file `.coffer-scan.toml`: allowlisted paths, rules and
//! value regexes, and extra or overriding rules.
//!
//! ```toml
//! extend_default = true          # false: only the rules below
//! [allowlist]
//! paths = ["tests/fixtures/**", "**/*.snap"]
//! rules = ["generic-password"]
//! regexes = ["^dev-only-"]
//! [[rules]]
//! id = "acme-token"
//! # … the rule format of rules/*.toml
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::{Rule, RuleSet, ScanError};

/// What never gets reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// Glob patterns of paths (relative to the scan root) not to scan.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Rule ids not to report.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Regexes: a secret matching any of them is not reported.
    #[serde(default)]
    pub regexes: Vec<String>,
}

/// A parsed `.coffer-scan.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Keep the built-in rules (default) and add/override with `rules`.
    #[serde(default = "yes")]
    pub extend_default: bool,
    /// Suppressions.
    #[serde(default)]
    pub allowlist: Allowlist,
    /// Extra or overriding rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Config {
            extend_default: true,
            allowlist: Allowlist::default(),
            rules: Vec::new(),
        }
    }
}

impl Config {
    /// The file name looked for in the scan root.
    pub const FILE_NAME: &'static str = ".coffer-scan.toml";

    /// Parses a configuration.
    pub fn from_toml(text: &str) -> Result<Config, ScanError> {
        toml::from_str(text).map_err(|e| ScanError::Parse(format!("{}: {e}", Config::FILE_NAME)))
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Config, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScanError::Io {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ScanError::Parse(format!("{}: {e}", path.display())))
    }

    /// `root/.coffer-scan.toml` when `root` is a directory holding one.
    pub fn find(root: &Path) -> Result<Option<Config>, ScanError> {
        let path = root.join(Config::FILE_NAME);
        if root.is_dir() && path.is_file() {
            Config::load(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The rules to scan with: built-in (unless `extend_default = false`) merged with these.
    pub fn rule_set(&self) -> Result<RuleSet, ScanError> {
        let base = if self.extend_default {
            RuleSet::builtin()
        } else {
            RuleSet::default()
        };
        Ok(base.merge(RuleSet::from_rules(self.rules.clone())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_allowlist_and_rules() {
        let c = Config::from_toml(
            r#"
extend_default = false
[allowlist]
paths = ["fixtures/**"]
rules = ["generic-password"]
regexes = ["^dev-"]
[[rules]]
id = "acme-token"
description = "ACME token"
kind = "token"
keywords = ["acme_"]
regex = 'acme_[a-z0-9]{16}'
"#,
        )
        .unwrap();
        assert_eq!(c.allowlist.paths, ["fixtures/**"]);
        let set = c.rule_set().unwrap();
        assert_eq!(set.len(), 1);
        assert!(Config::default().rule_set().unwrap().len() > 1);
        assert!(Config::from_toml("[allowlist]\npathz = []").is_err());
    }
}

//! The onboarding plan: which secrets to store where, and what happens at each place a
//! secret was found. Findings with the same value become one stored secret (one path, one
//! reference), however many files hold it. Building a plan reads files but changes nothing;
//! the caller stores the secrets, then writes [`Plan::file_changes`].

use std::collections::{BTreeMap, HashMap, HashSet};

use super::patch::{self, LiteralEdit};
use super::reference::{Reference, sanitize_path, sanitize_segment};
use super::{FileKind, Located, locate, replace_spans, secret_offset};
use crate::{Finding, SecretValue};

/// Where secrets go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// KV mount (`secret`).
    pub mount: String,
    /// Path prefix inside the mount (`discovered`).
    pub prefix: String,
    /// Name of the scanned repository (the scan root's directory name).
    pub repo: String,
}

/// What onboarding does at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// The value is replaced in place by the reference.
    Rewrite,
    /// A `<file>.coffer.patch` suggestion is written; the file is left alone.
    Patch,
    /// The secret is stored; the file is left alone (history, partial values, unknown formats).
    StoreOnly,
}

impl Action {
    /// `rewrite`, `patch` or `store-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Rewrite => "rewrite",
            Action::Patch => "patch",
            Action::StoreOnly => "store-only",
        }
    }
}

/// One place a planned secret was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLocation {
    /// File path as the scanner reported it.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What happens there.
    pub action: Action,
    /// Bytes of the file replaced by the reference (rewrite and patch).
    span: Option<(usize, usize)>,
}

/// One secret to store.
#[derive(Debug, Clone)]
pub struct PlannedSecret {
    /// Path inside the mount (`discovered/<repo>/<file>/<name>`).
    pub path: String,
    /// Field of the secret's data holding the value.
    pub field: String,
    /// The value to store (decoded as the application reads it).
    pub value: SecretValue,
    /// Secret type of the first finding.
    pub kind: String,
    /// Rule of the first finding.
    pub rule_id: String,
    /// Fingerprints of every finding with this value.
    pub fingerprints: Vec<String>,
    /// Every place it was found, in file order.
    pub locations: Vec<PlannedLocation>,
}

const MAX_META: usize = 500;

fn bounded(mut s: String) -> String {
    if s.len() > MAX_META {
        let mut cut = MAX_META;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl PlannedSecret {
    /// The reference that replaces the value (`coffer://<mount>/<path>#<field>`).
    pub fn reference(&self, mount: &str) -> Reference {
        Reference {
            path: format!("{}/{}", sanitize_path(mount), self.path),
            field: self.field.clone(),
        }
    }

    /// KV v2 `custom_metadata`: kind, rule_id, found_in (`path:line, …`), fingerprint.
    pub fn custom_metadata(&self) -> BTreeMap<String, String> {
        let found_in = self
            .locations
            .iter()
            .map(|l| format!("{}:{}", l.path, l.line))
            .collect::<Vec<_>>();
        BTreeMap::from([
            ("kind".to_string(), bounded(self.kind.clone())),
            ("rule_id".to_string(), bounded(self.rule_id.clone())),
            ("found_in".to_string(), bounded(found_in.join(", "))),
            (
                "fingerprint".to_string(),
                bounded(self.fingerprints.first().cloned().unwrap_or_default()),
            ),
        ])
    }
}

/// The whole onboarding plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// KV mount the secrets go to.
    pub mount: String,
    /// The secrets, one per distinct value.
    pub secrets: Vec<PlannedSecret>,
    files: BTreeMap<String, (FileKind, String)>,
}

/// A file to write once the secrets are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path to write (the config file itself, or `<source>.coffer.patch`), as reported.
    pub path: String,
    /// Its new content.
    pub content: String,
    /// `Rewrite` or `Patch`.
    pub action: Action,
}

/// Where and how the finding's secret sits in its file: (action, span, value to store).
fn place(
    f: &Finding,
    files: &mut BTreeMap<String, (FileKind, String)>,
    read: &mut dyn FnMut(&str) -> Option<String>,
) -> (Action, Option<(usize, usize)>, String) {
    let exposed = f.secret.expose();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| exposed.strip_prefix(*q)?.strip_suffix(*q));
    let secret = unquoted.filter(|s| !s.is_empty()).unwrap_or(exposed).to_string();
    let kind = FileKind::detect(&f.path);
    if f.commit.is_some() || kind == FileKind::Other {
        return (Action::StoreOnly, None, secret);
    }
    if !files.contains_key(&f.path) {
        match read(&f.path) {
            Some(content) => files.insert(f.path.clone(), (kind, content)),
            None => return (Action::StoreOnly, None, secret),
        };
    }
    let content = &files[&f.path].1;
    let Some(offset) = secret_offset(content, f.line, f.column, &secret) else {
        return (Action::StoreOnly, None, secret);
    };
    if kind == FileKind::Source {
        return (Action::Patch, Some((offset, offset + secret.len())), secret);
    }
    match locate(kind, content, offset, &secret) {
        Located::Whole(e) => (Action::Rewrite, Some((e.start, e.end)), e.value),
        Located::Partial | Located::Unsupported => (Action::StoreOnly, None, secret),
    }
}

impl Plan {
    /// Plans the onboarding of `findings`; `read` returns a reported file's text (`None`
    /// when it cannot be read or is not UTF-8: its findings are then stored only).
    pub fn build(findings: &[Finding], opts: &PlanOptions, read: &mut dyn FnMut(&str) -> Option<String>) -> Plan {
        let mut sorted: Vec<&Finding> = findings.iter().collect();
        sorted.sort_by(|a, b| {
            (a.commit.is_some(), &a.path, a.line, a.column).cmp(&(b.commit.is_some(), &b.path, b.line, b.column))
        });
        let mut files = BTreeMap::new();
        let mut secrets: Vec<PlannedSecret> = Vec::new();
        let mut by_value: HashMap<String, usize> = HashMap::new();
        let mut used_paths: HashSet<String> = HashSet::new();
        for f in sorted {
            let (action, span, value) = place(f, &mut files, read);
            let idx = match by_value.get(&value) {
                Some(&i) => i,
                None => {
                    let name = sanitize_segment(f.key_name.as_deref().filter(|k| !k.is_empty()).unwrap_or(&f.rule_id));
                    let base = [
                        sanitize_path(&opts.prefix),
                        sanitize_segment(&opts.repo),
                        sanitize_path(&f.path),
                        name,
                    ]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("/");
                    let mut path = base.clone();
                    let mut n = 2;
                    while !used_paths.insert(path.clone()) {
                        path = format!("{base}-{n}");
                        n += 1;
                    }
                    secrets.push(PlannedSecret {
                        path,
                        field: "value".into(),
                        value: SecretValue::new(value.clone()),
                        kind: f.kind.clone(),
                        rule_id: f.rule_id.clone(),
                        fingerprints: Vec::new(),
                        locations: Vec::new(),
                    });
                    by_value.insert(value, secrets.len() - 1);
                    secrets.len() - 1
                }
            };
            let s = &mut secrets[idx];
            s.fingerprints.push(f.fingerprint.clone());
            let dup = s
                .locations
                .iter()
                .any(|l| l.path == f.path && l.line == f.line && l.span == span && span.is_some());
            if !dup {
                s.locations.push(PlannedLocation {
                    path: f.path.clone(),
                    line: f.line,
                    action,
                    span,
                });
            }
        }
        Plan {
            mount: sanitize_path(&opts.mount),
            secrets,
            files,
        }
    }

    /// Moves secret `idx` to another path (when the planned one holds a different value).
    pub fn set_path(&mut self, idx: usize, path: String) {
        self.secrets[idx].path = path;
    }

    /// Reference of every finding's fingerprint.
    pub fn references(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for s in &self.secrets {
            let r = s.reference(&self.mount).to_string();
            for fp in &s.fingerprints {
                out.insert(fp.clone(), r.clone());
            }
        }
        out
    }

    /// The files to write: rewritten config files and patch suggestions, by path.
    pub fn file_changes(&self) -> Vec<FileChange> {
        let mut spans: BTreeMap<&str, Vec<(usize, usize, String, Action)>> = BTreeMap::new();
        for s in &self.secrets {
            let r = s.reference(&self.mount).to_string();
            for l in &s.locations {
                if let (Some((a, b)), Action::Rewrite | Action::Patch) = (l.span, l.action) {
                    spans.entry(&l.path).or_default().push((a, b, r.clone(), l.action));
                }
            }
        }
        let mut out = Vec::new();
        for (path, edits) in spans {
            let Some((_, content)) = self.files.get(path) else {
                continue;
            };
            if edits[0].3 == Action::Rewrite {
                let list: Vec<(usize, usize, String)> = edits.into_iter().map(|(a, b, r, _)| (a, b, r)).collect();
                out.push(FileChange {
                    path: path.to_string(),
                    content: replace_spans(content, &list),
                    action: Action::Rewrite,
                });
            } else {
                let list: Vec<LiteralEdit> = edits
                    .into_iter()
                    .map(|(start, end, reference, _)| LiteralEdit { start, end, reference })
                    .collect();
                if let Some(diff) = patch::unified(path, content, &list) {
                    out.push(FileChange {
                        path: format!("{path}.coffer.patch"),
                        content: diff,
                        action: Action::Patch,
                    });
                }
            }
        }
        out
    }

    /// Every location, as a table: `LOCATION  REFERENCE  ACTION  VALUE` (value redacted).
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "LOCATION".to_string(),
            "REFERENCE".into(),
            "ACTION".into(),
            "VALUE".into(),
        ]];
        for s in &self.secrets {
            let r = s.reference(&self.mount).to_string();
            for l in &s.locations {
                rows.push([
                    format!("{}:{}", l.path, l.line),
                    r.clone(),
                    l.action.as_str().into(),
                    s.value.redacted(),
                ]);
            }
        }
        let widths: Vec<usize> = (0..4)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in rows {
            let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

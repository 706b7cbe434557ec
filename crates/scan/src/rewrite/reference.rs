//! `coffer://<mount>/<path>#<field>` references: what onboarding writes where a secret was,
//! and what `coffer run` / `coffer inject` resolve at run time.
//!
//! A reference holds only characters that need no quoting or escaping in any configuration
//! format (`[A-Za-z0-9_.-/]` in the path, `[A-Za-z0-9_.-]` in the field), so a rewriter can
//! drop it between the existing quotes of a value unchanged.

use std::fmt;

/// The scheme every reference starts with.
pub const SCHEME: &str = "coffer://";

/// A parsed reference to one field of a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Logical path of the secret, mount included (`secret/discovered/app/.env/TOKEN`).
    pub path: String,
    /// Field of the secret's data (`value`).
    pub field: String,
}

/// Why a string is not a valid reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Does not start with `coffer://`.
    #[error("not a coffer:// reference")]
    Scheme,
    /// No `#field` part.
    #[error("reference has no #field")]
    NoField,
    /// Path empty, with empty, `.` or `..` segments, or with characters outside `[A-Za-z0-9_.-/]`.
    #[error("invalid secret path in reference")]
    Path,
    /// Field empty or with characters outside `[A-Za-z0-9_.-]`.
    #[error("invalid field in reference")]
    Field,
}

/// Whether `c` may appear in a reference path segment or field.
pub fn is_ref_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Replaces every character outside `[A-Za-z0-9_.-]` with `_`; `""`, `.` and `..` become `_`.
pub fn sanitize_segment(s: &str) -> String {
    let out: String = s.chars().map(|c| if is_ref_char(c) { c } else { '_' }).collect();
    if out.is_empty() || out == "." || out == ".." {
        "_".to_string()
    } else {
        out
    }
}

/// Sanitises every segment of a slash-separated path, dropping empty segments.
pub fn sanitize_path(s: &str) -> String {
    s.split(['/', '\\'])
        .filter(|seg| !seg.is_empty())
        .map(sanitize_segment)
        .collect::<Vec<_>>()
        .join("/")
}

fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.chars().all(is_ref_char))
}

fn valid_field(field: &str) -> bool {
    !field.is_empty() && field.chars().all(is_ref_char)
}

impl Reference {
    /// A reference to `field` of the secret at `path` (mount included); validated.
    pub fn new(path: impl Into<String>, field: impl Into<String>) -> Result<Reference, ReferenceError> {
        let path = path.into().trim_matches('/').to_string();
        let field = field.into();
        if !valid_path(&path) {
            return Err(ReferenceError::Path);
        }
        if !valid_field(&field) {
            return Err(ReferenceError::Field);
        }
        Ok(Reference { path, field })
    }

    /// Parses a whole string as a reference (surrounding whitespace is ignored).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let rest = s.trim().strip_prefix(SCHEME).ok_or(ReferenceError::Scheme)?;
        let (path, field) = rest.rsplit_once('#').ok_or(ReferenceError::NoField)?;
        Reference::new(path, field)
    }

    /// Every reference inside a text, with its byte range. A reference ends at the first
    /// character that cannot belong to its field; a trailing `.` (end of a sentence) is left out.
    pub fn find_all(text: &str) -> Vec<(std::ops::Range<usize>, Reference)> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(pos) = text[from..].find(SCHEME) {
            let start = from + pos;
            let body = start + SCHEME.len();
            let path_end = body
                + text[body..]
                    .find(|c: char| !(is_ref_char(c) || c == '/'))
                    .unwrap_or(text.len() - body);
            from = path_end.max(body + 1).min(text.len());
            if !text[path_end..].starts_with('#') {
                continue;
            }
            let field_start = path_end + 1;
            let mut field_end = field_start
                + text[field_start..]
                    .find(|c: char| !is_ref_char(c))
                    .unwrap_or(text.len() - field_start);
            while field_end > field_start && text[..field_end].ends_with('.') {
                field_end -= 1;
            }
            if let Ok(r) = Reference::new(&text[body..path_end], &text[field_start..field_end]) {
                out.push((start..field_end, r));
                from = field_end.max(from);
            }
        }
        out
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}#{}", self.path, self.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let r = Reference::parse("coffer://secret/discovered/app/.env/TOKEN#value").unwrap();
        assert_eq!(r.path, "secret/discovered/app/.env/TOKEN");
        assert_eq!(r.field, "value");
        assert_eq!(r.to_string(), "coffer://secret/discovered/app/.env/TOKEN#value");
        assert_eq!(Reference::parse("  coffer://kv/a#b \n").unwrap().path, "kv/a");
    }

    #[test]
    fn parse_rejects_bad_references() {
        assert_eq!(Reference::parse("vault://x#y"), Err(ReferenceError::Scheme));
        assert_eq!(Reference::parse("coffer://secret/x"), Err(ReferenceError::NoField));
        assert_eq!(Reference::parse("coffer://#f"), Err(ReferenceError::Path));
        assert_eq!(Reference::parse("coffer://a/../b#f"), Err(ReferenceError::Path));
        assert_eq!(Reference::parse("coffer://a//b#f"), Err(ReferenceError::Path));
        assert_eq!(Reference::parse("coffer://a b#f"), Err(ReferenceError::Path));
        assert_eq!(Reference::parse("coffer://a/b#"), Err(ReferenceError::Field));
        assert_eq!(Reference::parse("coffer://a/b#f g"), Err(ReferenceError::Field));
    }

    #[test]
    fn sanitizes_names() {
        assert_eq!(sanitize_segment("db password!"), "db_password_");
        assert_eq!(sanitize_segment(".."), "_");
        assert_eq!(sanitize_segment(""), "_");
        assert_eq!(sanitize_segment(".env"), ".env");
        assert_eq!(
            sanitize_path("config/../app settings.yaml"),
            "config/_/app_settings.yaml"
        );
    }

    #[test]
    fn finds_references_in_text() {
        let text = "url: \"coffer://secret/a/b#pw\" and coffer://kv/x#token. not coffer://bad and coffer://s/y#z";
        let found = Reference::find_all(text);
        let refs: Vec<String> = found.iter().map(|(_, r)| r.to_string()).collect();
        assert_eq!(
            refs,
            ["coffer://secret/a/b#pw", "coffer://kv/x#token", "coffer://s/y#z"]
        );
        let (range, _) = &found[0];
        assert_eq!(&text[range.clone()], "coffer://secret/a/b#pw");
        assert_eq!(&text[found[1].0.clone()], "coffer://kv/x#token");
    }
}

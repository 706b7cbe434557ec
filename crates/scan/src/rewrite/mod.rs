//! In-place rewriting of configuration files: a found secret's value becomes a
//! `coffer://<mount>/<path>#<field>` reference, and nothing else in the file changes — not
//! the quoting, the comments, the indentation or the line endings.
//!
//! Each format module lists the file's values as [`Entry`]s: the byte range of the value as
//! written (inside its quotes) and its decoded value. Onboarding finds the entry holding a
//! finding, checks that the secret is the whole value, and splices the reference into that
//! range. Source code is never edited: [`patch`] writes a suggestion instead. [`plan`] turns
//! findings into the list of secrets to store and files to change; [`atomic`] writes files.

pub mod atomic;
pub mod env;
pub mod ini;
pub mod patch;
pub mod plan;
pub mod properties;
pub mod reference;
pub mod scalar;
pub mod strings;
pub mod yaml;

pub use reference::Reference;

/// One value of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Name the value is assigned to (dotted for nested keys, sections included).
    pub key: String,
    /// First byte of the value as written (after an opening quote).
    pub start: usize,
    /// One past its last byte (before a closing quote).
    pub end: usize,
    /// The value as an application reads it (escapes decoded, continuations joined).
    pub value: String,
}

/// How onboarding treats a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `.env`, `.env.*`, `*.env`.
    Env,
    /// `*.yaml`, `*.yml`.
    Yaml,
    /// `*.json`.
    Json,
    /// `*.toml`.
    Toml,
    /// `*.properties`.
    Properties,
    /// `*.ini`, `*.cfg`.
    Ini,
    /// Terraform variables: `*.tfvars`, `*.auto.tfvars`.
    Tfvars,
    /// Program source: gets a patch suggestion, never an edit.
    Source,
    /// Anything else: the secret is stored, the file left alone.
    Other,
}

const SOURCE_EXTS: &[&str] = &[
    "py", "rb", "js", "mjs", "cjs", "ts", "jsx", "tsx", "go", "rs", "java", "kt", "kts", "scala", "swift", "c", "h",
    "cc", "cpp", "hpp", "cs", "php", "pl", "sh", "bash", "zsh", "ps1", "lua", "sql", "r", "groovy", "dart", "ex",
    "exs", "erl", "clj", "hs", "vue", "svelte", "tf",
];

impl FileKind {
    /// The kind of a file, by its name.
    pub fn detect(path: &str) -> FileKind {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
        if name.ends_with(".coffer.patch") {
            return FileKind::Other;
        }
        if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            return FileKind::Env;
        }
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "yaml" | "yml" => FileKind::Yaml,
            "json" => FileKind::Json,
            "toml" => FileKind::Toml,
            "properties" => FileKind::Properties,
            "ini" | "cfg" => FileKind::Ini,
            "tfvars" => FileKind::Tfvars,
            e if SOURCE_EXTS.contains(&e) => FileKind::Source,
            _ => FileKind::Other,
        }
    }

    /// Whether values of this kind are rewritten in place.
    pub fn is_config(self) -> bool {
        !matches!(self, FileKind::Source | FileKind::Other)
    }

    /// Every value of a file of this kind (empty for source and other files).
    pub fn entries(self, content: &str) -> Vec<Entry> {
        match self {
            FileKind::Env => env::entries(content),
            FileKind::Yaml => yaml::entries(content),
            FileKind::Json => strings::entries(content, strings::Syntax::Json),
            FileKind::Toml => strings::entries(content, strings::Syntax::Toml),
            FileKind::Tfvars => strings::entries(content, strings::Syntax::Hcl),
            FileKind::Properties => properties::entries(content),
            FileKind::Ini => ini::entries(content),
            FileKind::Source | FileKind::Other => Vec::new(),
        }
    }
}

/// Byte offset of a 1-based (line, column in characters) position.
pub fn offset_of(content: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line.max(1) {
        start = content[start..].find('\n').map(|i| start + i + 1)?;
    }
    let mut chars = content[start..].char_indices();
    let skip = column.max(1) - 1;
    let at = if skip == 0 {
        Some(0)
    } else {
        chars.nth(skip).map(|(i, _)| i)
    };
    at.map(|i| start + i)
}

/// Where the secret of a finding starts in the file: at its reported position if the bytes
/// there are the secret, else its first occurrence from the start of the reported line.
pub fn secret_offset(content: &str, line: usize, column: usize, secret: &str) -> Option<usize> {
    if secret.is_empty() {
        return None;
    }
    if let Some(at) = offset_of(content, line, column).filter(|&at| content[at..].starts_with(secret)) {
        return Some(at);
    }
    let line_start = offset_of(content, line, 1)?;
    content[line_start..].find(secret).map(|i| line_start + i)
}

/// What a secret is to the value that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// The secret is the whole value: `entry.start..entry.end` can become a reference, and
    /// `entry.value` (decoded) is what to store.
    Whole(Entry),
    /// The secret is part of a longer value (a URI, a connection string): left as it is.
    Partial,
    /// No value of the file holds it (or the format is not understood).
    Unsupported,
}

/// Finds the value holding the secret that starts at byte `offset`.
pub fn locate(kind: FileKind, content: &str, offset: usize, secret: &str) -> Located {
    let end = offset + secret.len();
    let entries = kind.entries(content);
    let Some(entry) = entries
        .into_iter()
        .find(|e| e.start <= offset && end <= e.end.max(e.start))
    else {
        return Located::Unsupported;
    };
    let raw = &content[entry.start..entry.end];
    let whole = entry.value == secret
        || raw == secret
        || (!entry.value.trim().is_empty() && entry.value.trim_end_matches(['\r', '\n']) == secret);
    if whole { Located::Whole(entry) } else { Located::Partial }
}

/// Replaces byte ranges (non-overlapping, any order) with new text; everything else is kept.
pub fn replace_spans(content: &str, spans: &[(usize, usize, String)]) -> String {
    let mut sorted: Vec<&(usize, usize, String)> = spans.iter().collect();
    sorted.sort_by_key(|(s, _, _)| *s);
    let mut out = String::with_capacity(content.len());
    let mut pos = 0;
    for (start, end, text) in sorted {
        if *start < pos {
            continue;
        }
        out.push_str(&content[pos..*start]);
        out.push_str(text);
        pos = *end;
    }
    out.push_str(&content[pos..]);
    out
}

/// Test helper: rewrites the value holding `secret` to `reference` and returns the file.
#[cfg(test)]
pub(crate) fn rewrite_one(kind: FileKind, content: &str, secret: &str, reference: &str) -> String {
    let offset = content.find(secret).expect("secret in content");
    match locate(kind, content, offset, secret) {
        Located::Whole(e) => replace_spans(content, &[(e.start, e.end, reference.to_string())]),
        other => panic!("{secret:?} is not a whole value: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_kinds() {
        assert_eq!(FileKind::detect("a/.env"), FileKind::Env);
        assert_eq!(FileKind::detect(".env.production"), FileKind::Env);
        assert_eq!(FileKind::detect("prod.env"), FileKind::Env);
        assert_eq!(FileKind::detect("k8s/app.YML"), FileKind::Yaml);
        assert_eq!(FileKind::detect("x.tfvars"), FileKind::Tfvars);
        assert_eq!(FileKind::detect("x.auto.tfvars"), FileKind::Tfvars);
        assert_eq!(FileKind::detect("x.tfvars.json"), FileKind::Json);
        assert_eq!(FileKind::detect("app.py"), FileKind::Source);
        assert_eq!(FileKind::detect("app.py.coffer.patch"), FileKind::Other);
        assert_eq!(FileKind::detect("README"), FileKind::Other);
    }

    #[test]
    fn offsets_and_locate() {
        let c = "A=1\nTOKEN=\"héllo-secret\"\n";
        let at = offset_of(c, 2, 10).unwrap();
        assert!(c[at..].starts_with("llo"), "{}", &c[at..]);
        assert_eq!(secret_offset(c, 2, 99, "héllo"), Some(11));
        assert_eq!(secret_offset(c, 2, 8, "héllo"), Some(11));
        assert!(matches!(
            locate(FileKind::Env, c, 11, "héllo-secret"),
            Located::Whole(_)
        ));
        assert_eq!(locate(FileKind::Env, c, 11, "héllo"), Located::Partial);
        assert_eq!(locate(FileKind::Env, c, 0, "A"), Located::Unsupported);
        assert_eq!(locate(FileKind::Source, c, 11, "héllo"), Located::Unsupported);
    }

    #[test]
    fn replaces_spans_in_any_order() {
        let out = replace_spans("a=1 b=2", &[(6, 7, "Y".into()), (2, 3, "X".into())]);
        assert_eq!(out, "a=X b=Y");
    }
}

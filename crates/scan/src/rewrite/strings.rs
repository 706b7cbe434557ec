//! Formats whose secrets live in quoted strings: JSON, TOML and Terraform variables (HCL).
//! One lexer walks the file, skipping comments, and lists every string that is a value (not a
//! key) with its escapes decoded.

use super::Entry;
use super::scalar::{Lines, double_quoted, next_line, single_quoted, skip_blanks};

/// Which language the lexer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON: keys are strings followed by `:`.
    Json,
    /// TOML: `#` comments, `'literal'`, `"""multi-line"""` and `'''literal'''` strings.
    Toml,
    /// HCL (`.tfvars`): `#`, `//` and `/* */` comments, `<<EOF` heredocs (skipped).
    Hcl,
}

fn is_bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The key written just before the separator at `sep` (`name =`, `"name":`).
fn key_before(s: &str, sep: usize) -> String {
    let head = s[..sep].trim_end();
    if let Some(stripped) = head.strip_suffix('"')
        && let Some(open) = stripped.rfind('"')
    {
        return stripped[open + 1..].to_string();
    }
    let start = head.rfind(|c: char| !is_bare(c)).map_or(0, |i| i + 1);
    head[start..].to_string()
}

/// A `"""…"""` or `'''…'''` TOML string opening at `open`: (value start, closing index, value).
fn triple(s: &str, open: usize, quote: &str) -> Option<(usize, usize, String)> {
    let body = open + 3;
    let close = body + s[body..].find(quote)?;
    let mut start = body;
    if s[start..].starts_with("\r\n") {
        start += 2;
    } else if s[start..].starts_with('\n') {
        start += 1;
    }
    let raw = &s[start..close];
    let value = if quote == "'''" {
        raw.to_string()
    } else {
        let wrapped = format!("\"{}\"", raw.replace('"', "\\\""));
        double_quoted(&wrapped, 0, Lines::Multi).map_or_else(|| raw.to_string(), |(_, v)| v)
    };
    Some((start, close, value))
}

/// Skips an HCL heredoc whose `<<` is at `at`; returns where scanning continues.
fn skip_heredoc(s: &str, at: usize) -> usize {
    let name_start = if s[at + 2..].starts_with('-') { at + 3 } else { at + 2 };
    let name_end = s[name_start..]
        .find(|c: char| !is_bare(c))
        .map_or(s.len(), |i| name_start + i);
    let name = &s[name_start..name_end];
    if name.is_empty() {
        return at + 2;
    }
    let mut pos = next_line(s, at);
    while pos < s.len() {
        let line_end = next_line(s, pos);
        if s[pos..line_end].trim() == name {
            return line_end;
        }
        pos = line_end;
    }
    s.len()
}

/// Every string value of the file.
pub fn entries(s: &str, syntax: Syntax) -> Vec<Entry> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let (mut depth, mut after_eq, mut last_key) = (0usize, false, String::new());
    let mut i = 0;
    while i < s.len() {
        let c = bytes[i];
        let rest = &s[i..];
        let hash = c == b'#' && syntax != Syntax::Json;
        let slash = syntax == Syntax::Hcl && rest.starts_with("//");
        if hash || slash {
            i = next_line(s, i);
            if depth == 0 {
                after_eq = false;
            }
            continue;
        }
        if syntax == Syntax::Hcl && rest.starts_with("/*") {
            i = rest.find("*/").map_or(s.len(), |j| i + j + 2);
            continue;
        }
        if syntax == Syntax::Hcl && rest.starts_with("<<") {
            i = skip_heredoc(s, i);
            continue;
        }
        let string = match c {
            b'"' if syntax == Syntax::Toml && rest.starts_with("\"\"\"") => triple(s, i, "\"\"\"").map(|r| (r, 3)),
            b'\'' if syntax == Syntax::Toml && rest.starts_with("'''") => triple(s, i, "'''").map(|r| (r, 3)),
            b'"' => double_quoted(s, i, Lines::Single).map(|(c, v)| ((i + 1, c, v), 1)),
            b'\'' if syntax == Syntax::Toml => {
                single_quoted(s, i, false, Lines::Single).map(|(c, v)| ((i + 1, c, v), 1))
            }
            _ => None,
        };
        if let Some(((start, close, value), width)) = string {
            let next = skip_blanks(s, close + width);
            let follow = bytes.get(next).copied();
            let is_key = match syntax {
                Syntax::Json => follow == Some(b':'),
                Syntax::Hcl => matches!(follow, Some(b'=' | b':')),
                Syntax::Toml => matches!(follow, Some(b'=' | b'.')) || (!after_eq && depth == 0),
            };
            if is_key {
                last_key = value;
            } else {
                out.push(Entry {
                    key: last_key.clone(),
                    start,
                    end: close,
                    value,
                });
            }
            i = close + width;
            continue;
        }
        match c {
            b'=' | b':' if syntax != Syntax::Json || c == b':' => {
                if c == b'=' || syntax == Syntax::Hcl {
                    last_key = key_before(s, i);
                }
                after_eq = true;
            }
            b'[' | b'{' if after_eq || syntax != Syntax::Toml => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' if depth == 0 => after_eq = false,
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{FileKind, rewrite_one};
    use super::*;

    const R: &str = "coffer://secret/p#value";

    fn pairs(c: &str, syntax: Syntax) -> Vec<(String, String)> {
        entries(c, syntax).into_iter().map(|e| (e.key, e.value)).collect()
    }

    #[test]
    fn json_with_escapes() {
        let c = "{\n  \"db\": {\"password\": \"p\\\"w\\u0021\", \"port\": 5432},\n  \"list\": [\"a\", \"b\"]\n}\n";
        let want = [("password", "p\"w!"), ("list", "a"), ("list", "b")];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(pairs(c, Syntax::Json), want);
        let out = rewrite_one(FileKind::Json, c, "p\\\"w\\u0021", R);
        assert_eq!(out, c.replace("p\\\"w\\u0021", R));
        let min = "{\"a\":\"tok_one\",\"b\":\"tok_two\"}";
        assert_eq!(
            rewrite_one(FileKind::Json, min, "tok_two", R),
            min.replace("tok_two", R)
        );
    }

    #[test]
    fn toml_strings_and_tables() {
        let c = "# top\n[database]\npassword = \"s3cr\\tet\" # c\nuser = 'admin'\n[\"quoted table\"]\nkeys = [\n  \"k1\",\n  'k2',\n]\nnote = \"\"\"\nline\"\"\"\nport = 1\n";
        let want = [
            ("password", "s3cr\tet"),
            ("user", "admin"),
            ("keys", "k1"),
            ("keys", "k2"),
            ("note", "line"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(pairs(c, Syntax::Toml), want);
        assert_eq!(
            rewrite_one(FileKind::Toml, c, "admin", R),
            c.replace("'admin'", &format!("'{R}'"))
        );
        let out = rewrite_one(FileKind::Toml, c, "s3cr\\tet", R);
        assert_eq!(out, c.replace("s3cr\\tet", R));
    }

    #[test]
    fn tfvars() {
        let c = "// vars\ndb_password = \"hunter2-prod\" # inline\n/* block \"not\" */\ntags = {\n  owner = \"ops\"\n}\npolicy = <<EOT\n\"inside\"\nEOT\napi_key=\"k-123\"\n";
        let want = [("db_password", "hunter2-prod"), ("owner", "ops"), ("api_key", "k-123")];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(pairs(c, Syntax::Hcl), want);
        assert_eq!(
            rewrite_one(FileKind::Tfvars, c, "hunter2-prod", R),
            c.replace("hunter2-prod", R)
        );
        assert_eq!(rewrite_one(FileKind::Tfvars, c, "k-123", R), c.replace("k-123", R));
    }
}

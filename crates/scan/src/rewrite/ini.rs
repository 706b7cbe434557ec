//! INI files: `[section]` headers, `;`/`#` comment lines, `key = value` or `key: value`,
//! inline comments after whitespace, and optionally quoted values. Keys are `section.key`.

use super::Entry;
use super::scalar::{cut_comment, line_end, next_line, skip_blanks};

/// Every `key = value` of an INI file.
pub fn entries(s: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pos = 0;
    while pos < s.len() {
        let eol = line_end(s, pos);
        let at = skip_blanks(s, pos).min(eol);
        let line = &s[at..eol];
        pos = next_line(s, pos);
        if line.is_empty() || line.starts_with([';', '#']) {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            section = rest.split(']').next().unwrap_or("").trim().to_string();
            continue;
        }
        let Some(sep) = line.find(['=', ':']) else { continue };
        let name = line[..sep].trim();
        let key = if section.is_empty() {
            name.to_string()
        } else {
            format!("{section}.{name}")
        };
        let v = skip_blanks(s, at + sep + 1).min(eol);
        let mut end = cut_comment(s, v, eol, &[';', '#']);
        let mut start = v;
        let raw = &s[v..end];
        if raw.len() >= 2
            && (raw.starts_with('"') && raw.ends_with('"') || raw.starts_with('\'') && raw.ends_with('\''))
        {
            start += 1;
            end -= 1;
        } else if raw.starts_with(['"', '\'']) {
            // A quoted value holding `;` or ` #`: the comment cut came too early.
            let q = raw.as_bytes()[0] as char;
            if let Some(close) = s[v + 1..eol].find(q) {
                start = v + 1;
                end = v + 1 + close;
            }
        }
        out.push(Entry {
            key,
            start,
            end,
            value: s[start..end].to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{FileKind, rewrite_one};
    use super::*;

    const R: &str = "coffer://secret/p#value";

    #[test]
    fn sections_quotes_and_comments() {
        let c = "; top\n[database]\npassword = \"p;w #x\" ; note\nuser: admin # who\n\n[api]\nkey=abc123\n";
        let got: Vec<(String, String)> = entries(c).into_iter().map(|e| (e.key, e.value)).collect();
        let want = [
            ("database.password", "p;w #x"),
            ("database.user", "admin"),
            ("api.key", "abc123"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
        assert_eq!(rewrite_one(FileKind::Ini, c, "p;w #x", R), c.replace("p;w #x", R));
        assert_eq!(rewrite_one(FileKind::Ini, c, "abc123", R), c.replace("abc123", R));
        assert_eq!(
            rewrite_one(FileKind::Ini, c, "admin", R),
            c.replace("admin #", &format!("{R} #"))
        );
    }
}

//! YAML, line by line: block mappings and sequences at any depth (`a:\n  b: value`,
//! `- key: value`, `- value`), plain, single- and double-quoted scalars, and literal or folded
//! block scalars (`key: |`). Flow collections (`{a: b}`, `[x]`) are not rewritten.

use super::Entry;
use super::scalar::{Lines, cut_comment, double_quoted, line_end, next_line, single_quoted, skip_blanks};

/// Splits `key: rest` at the key's colon; returns the key and the index just past the colon.
fn split_key(line: &str, from: usize) -> Option<(String, usize)> {
    let s = &line[from..];
    let colon_ok = |i: usize| s[i + 1..].is_empty() || s[i + 1..].starts_with([' ', '\t']);
    if s.starts_with(['"', '\'']) {
        let (close, key) = if s.starts_with('"') {
            double_quoted(s, 0, Lines::Single)?
        } else {
            single_quoted(s, 0, true, Lines::Single)?
        };
        let colon = skip_blanks(s, close + 1);
        return (s[colon..].starts_with(':') && colon_ok(colon)).then(|| (key, from + colon + 1));
    }
    if s.starts_with(['{', '[', '#', '&', '*', '!', '|', '>']) {
        return None;
    }
    let mut search = 0;
    while let Some(i) = s[search..].find(':').map(|i| search + i) {
        if s[..i].contains(" #") {
            return None;
        }
        if colon_ok(i) {
            return Some((s[..i].trim_end().to_string(), from + i + 1));
        }
        search = i + 1;
    }
    None
}

/// Skips `&anchor` and `!tag` properties before a value.
fn skip_properties(s: &str, mut at: usize, eol: usize) -> usize {
    while at < eol && s[at..].starts_with(['&', '!']) {
        at = s[at..eol].find([' ', '\t']).map_or(eol, |i| at + i);
        at = skip_blanks(s, at).min(eol);
    }
    at
}

fn indent_of(s: &str, pos: usize, eol: usize) -> usize {
    s[pos..eol].find(|c| c != ' ').unwrap_or(eol - pos)
}

/// A block scalar (`|`, `>`) whose header is at `v`; content lines are indented more than
/// `parent`. Returns the entry (from the header to the last content byte) and where the next
/// line after the block starts.
fn block_scalar(s: &str, v: usize, parent: usize, key: String) -> (Option<Entry>, usize) {
    let header = &s[v..line_end(s, v)];
    let literal = header.starts_with('|');
    let strip = header.contains('-');
    let mut pos = next_line(s, v);
    let (mut lines, mut indent, mut last_end) = (Vec::new(), None, None);
    while pos < s.len() {
        let eol = line_end(s, pos);
        let ind = indent_of(s, pos, eol);
        let blank = s[pos..eol].trim().is_empty();
        if !blank {
            let block = *indent.get_or_insert(ind);
            if ind <= parent || ind < block {
                break;
            }
            last_end = Some(eol);
        }
        lines.push(if blank { "" } else { &s[pos + indent.unwrap_or(0)..eol] });
        pos = next_line(s, pos);
    }
    let Some(end) = last_end else {
        return (None, pos);
    };
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut value = if literal { lines.join("\n") } else { lines.join(" ") };
    if !strip {
        value.push('\n');
    }
    (
        Some(Entry {
            key,
            start: v,
            end,
            value,
        }),
        pos,
    )
}

/// Every scalar value of a YAML document set, with dotted key paths.
pub fn entries(s: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let eol = line_end(s, pos);
        let indent = indent_of(s, pos, eol);
        let rest = s[pos + indent..eol].trim_end();
        if rest.is_empty() || rest.starts_with(['#', '%']) || rest.starts_with("---") || rest.starts_with("...") {
            pos = next_line(s, pos);
            continue;
        }
        let mut col = pos + indent;
        while s[col..eol].starts_with("- ") || &s[col..eol] == "-" {
            col = skip_blanks(s, col + 1).min(eol);
        }
        let item = col - pos;
        let key = split_key(&s[..eol], col);
        let v = match &key {
            Some((k, after)) => {
                while stack.last().is_some_and(|(i, _)| *i >= item) {
                    stack.pop();
                }
                stack.push((item, k.clone()));
                skip_blanks(s, *after).min(eol)
            }
            None => col,
        };
        let name = stack.iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>().join(".");
        let v = skip_properties(s, v, eol);
        let parent = if key.is_some() { item } else { indent };
        match s.as_bytes().get(v).filter(|_| v < eol) {
            None | Some(b'#' | b'{' | b'[' | b'*') => pos = next_line(s, pos),
            Some(b'|' | b'>') => {
                let (entry, next) = block_scalar(s, v, parent, name);
                out.extend(entry);
                pos = next;
            }
            Some(q @ (b'"' | b'\'')) => {
                let quoted = if *q == b'"' {
                    double_quoted(s, v, Lines::Multi)
                } else {
                    single_quoted(s, v, true, Lines::Multi)
                };
                match quoted {
                    Some((close, value)) => {
                        out.push(Entry {
                            key: name,
                            start: v + 1,
                            end: close,
                            value,
                        });
                        pos = next_line(s, close);
                    }
                    None => pos = next_line(s, pos),
                }
            }
            Some(_) => {
                let end = cut_comment(s, v, eol, &['#']);
                out.push(Entry {
                    key: name,
                    start: v,
                    end,
                    value: s[v..end].to_string(),
                });
                pos = next_line(s, pos);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{FileKind, rewrite_one};
    use super::*;

    const R: &str = "coffer://secret/p#value";

    #[test]
    fn nested_keys_and_styles() {
        let c = "app:\n  db:\n    password: \"p\\u0041ss\" # x\n    user: 'it''s'\n  items:\n    - plain\n    - name: n1\n      token: &t !!str tok\nurl: http://x:1/y\n";
        let got: Vec<(String, String)> = entries(c).into_iter().map(|e| (e.key, e.value)).collect();
        let want = [
            ("app.db.password", "pAss"),
            ("app.db.user", "it's"),
            ("app.items", "plain"),
            ("app.items.name", "n1"),
            ("app.items.token", "tok"),
            ("url", "http://x:1/y"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rewrites_nested_values_byte_exact() {
        let c = "# config\nservices:\n  api:\n    env:\n      - name: TOKEN\n        value: ghp_secretvalue   # keep me\n      - name: OTHER\n        value: 'single'\n    password: \"dq\"\n";
        let out = rewrite_one(FileKind::Yaml, c, "ghp_secretvalue", R);
        assert_eq!(out, c.replace("ghp_secretvalue", R));
        assert_eq!(
            rewrite_one(FileKind::Yaml, c, "single", R),
            c.replace("'single'", &format!("'{R}'"))
        );
        assert_eq!(
            rewrite_one(FileKind::Yaml, c, "dq", R),
            c.replace("\"dq\"", &format!("\"{R}\""))
        );
    }

    #[test]
    fn block_scalars() {
        let c = "key: |\n  -----BEGIN KEY-----\n  abc\n  -----END KEY-----\nnext: 1\n";
        let e = &entries(c)[0];
        assert_eq!(e.value, "-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
        let out = super::super::replace_spans(c, &[(e.start, e.end, R.into())]);
        assert_eq!(out, format!("key: {R}\nnext: 1\n"));
        let folded = entries("k: >-\n  a\n  b\n")[0].value.clone();
        assert_eq!(folded, "a b");
    }
}

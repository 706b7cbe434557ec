//! Java `.properties`: `key=value`, `key: value`, `key value`, `#`/`!` comment lines,
//! backslash escapes (`\t`, `\uXXXX`, `\=`…) and continuation lines ending in `\`. A value
//! spanning continuation lines is replaced as a whole, up to the end of its last line.

use super::Entry;
use super::scalar::{line_end, next_line};

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x0c')
}

/// Whether the line ending at `eol` ends with an odd number of backslashes.
fn continues(s: &str, from: usize, eol: usize) -> bool {
    s.as_bytes()[from..eol]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}

/// Decodes a raw value (continuations joined, escapes resolved).
fn decode(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => {}
            Some('\r' | '\n') => {
                while chars.peek().is_some_and(|c| matches!(c, '\n' | ' ' | '\t' | '\x0c')) {
                    chars.next();
                }
            }
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => {
                        out.push(ch);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => out.push('u'),
                }
            }
            Some(other) => out.push(other),
        }
    }
    out
}

/// Every `key=value` of a properties file.
pub fn entries(s: &str) -> Vec<Entry> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let mut at = pos;
        while at < s.len() && is_blank(bytes[at]) {
            at += 1;
        }
        let eol = line_end(s, pos);
        if at >= eol || matches!(bytes[at], b'#' | b'!') {
            pos = next_line(s, pos);
            continue;
        }
        let mut k = at;
        while k < eol && !matches!(bytes[k], b'=' | b':') && !is_blank(bytes[k]) {
            k += if bytes[k] == b'\\' { 2 } else { 1 };
        }
        let k = k.min(eol);
        let key = decode(&s[at..k]);
        let mut v = k;
        while v < eol && is_blank(bytes[v]) {
            v += 1;
        }
        if v < eol && matches!(bytes[v], b'=' | b':') {
            v += 1;
            while v < eol && is_blank(bytes[v]) {
                v += 1;
            }
        }
        let mut end = eol;
        let mut line = pos;
        while continues(s, line, end) && end < s.len() {
            line = next_line(s, end);
            if line >= s.len() {
                break;
            }
            end = line_end(s, line);
        }
        out.push(Entry {
            key,
            start: v,
            end,
            value: decode(&s[v..end]),
        });
        pos = next_line(s, end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{FileKind, replace_spans, rewrite_one};
    use super::*;

    const R: &str = "coffer://secret/p#value";

    #[test]
    fn parses_separators_escapes_and_continuations() {
        let c = "# c\n! c2\na=1\nb : two\nc three\nd\\=x = y\\u0041\\tz\nlong = first,\\\n    second\nempty=\n";
        let got: Vec<(String, String)> = entries(c).into_iter().map(|e| (e.key, e.value)).collect();
        let want = [
            ("a", "1"),
            ("b", "two"),
            ("c", "three"),
            ("d=x", "yA\tz"),
            ("long", "first,second"),
            ("empty", ""),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rewrites_simple_and_continued_values() {
        let c = "# db\ndb.password = s3cretvalue\ndb.user=app\n";
        assert_eq!(
            rewrite_one(FileKind::Properties, c, "s3cretvalue", R),
            c.replace("s3cretvalue", R)
        );
        let c = "token=abc\\\n      def\nnext=1\n";
        let e = entries(c).remove(0);
        assert_eq!(e.value, "abcdef");
        assert_eq!(
            replace_spans(c, &[(e.start, e.end, R.into())]),
            format!("token={R}\nnext=1\n")
        );
    }
}

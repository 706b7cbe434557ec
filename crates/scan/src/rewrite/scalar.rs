//! Lexing helpers the format rewriters share: line bounds and quoted strings with their
//! escapes decoded, reporting the byte range of the string's inside.

/// How a double-quoted string may continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A newline before the closing quote means the string is malformed (JSON, TOML, HCL).
    Single,
    /// The string may span lines (.env, YAML).
    Multi,
}

/// End of the line holding `from`: the index of its `\n` (or of a `\r` right before it), or
/// the text's length.
pub fn line_end(s: &str, from: usize) -> usize {
    let nl = s[from..].find('\n').map_or(s.len(), |i| from + i);
    if nl > from && s.as_bytes()[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    }
}

/// Index just past the `\n` ending the line holding `from` (or the text's length).
pub fn next_line(s: &str, from: usize) -> usize {
    s[from..].find('\n').map_or(s.len(), |i| from + i + 1)
}

/// Index of the first byte at or after `from` that is not a space or tab.
pub fn skip_blanks(s: &str, from: usize) -> usize {
    s[from..]
        .find(|c: char| c != ' ' && c != '\t')
        .map_or(s.len(), |i| from + i)
}

fn hex_char(s: &str, from: usize, len: usize) -> Option<char> {
    let digits = s.get(from..from + len)?;
    u32::from_str_radix(digits, 16).ok().and_then(char::from_u32)
}

/// Reads the double-quoted string whose opening quote is at `open`. Returns the index of the
/// closing quote and the decoded value. Escapes: `\n \t \r \b \f \0 \a \v \e \" \\ \/ \'`,
/// `\xHH`, `\uHHHH`, `\UHHHHHHHH`; an unknown escape is kept as written.
pub fn double_quoted(s: &str, open: usize, lines: Lines) -> Option<(usize, String)> {
    let mut out = String::new();
    let mut chars = s[open + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        let at = open + 1 + i;
        match c {
            '"' => return Some((at, out)),
            '\n' if lines == Lines::Single => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                let simple = match e {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'v' => Some('\u{b}'),
                    'e' => Some('\u{1b}'),
                    '"' | '\\' | '/' | '\'' => Some(e),
                    _ => None,
                };
                if let Some(ch) = simple {
                    out.push(ch);
                    continue;
                }
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                match (len > 0).then(|| hex_char(s, at + 2, len)).flatten() {
                    Some(ch) => {
                        out.push(ch);
                        for _ in 0..len {
                            chars.next();
                        }
                    }
                    None => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            _ => out.push(c),
        }
    }
    None
}

/// Reads the single-quoted string whose opening quote is at `open`: no escapes, except a
/// doubled quote `''` when `doubled` (YAML). Returns the closing quote's index and the value.
pub fn single_quoted(s: &str, open: usize, doubled: bool, lines: Lines) -> Option<(usize, String)> {
    let mut out = String::new();
    let mut i = open + 1;
    while i < s.len() {
        let c = s[i..].chars().next()?;
        if c == '\'' {
            if doubled && s[i + 1..].starts_with('\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            return Some((i, out));
        }
        if c == '\n' && lines == Lines::Single {
            return None;
        }
        out.push(c);
        i += c.len_utf8();
    }
    None
}

/// Cuts a trailing comment that starts with `marker` after whitespace (or at `from` itself),
/// then trailing whitespace: the end of an unquoted value running from `from` to `end`.
pub fn cut_comment(s: &str, from: usize, end: usize, markers: &[char]) -> usize {
    let bytes = s.as_bytes();
    let mut cut = end;
    for (i, c) in s[from..end].char_indices() {
        let at = from + i;
        if markers.contains(&c) && (at == from || matches!(bytes[at - 1], b' ' | b'\t')) {
            cut = at;
            break;
        }
    }
    while cut > from && matches!(bytes[cut - 1], b' ' | b'\t') {
        cut -= 1;
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quoted_decodes_escapes() {
        let s = r#""a\"b\\c\nd\u0041\x42\q" tail"#;
        let (close, v) = double_quoted(s, 0, Lines::Single).unwrap();
        assert_eq!(&s[close..], "\" tail");
        assert_eq!(v, "a\"b\\c\ndAB\\q");
        assert!(double_quoted("\"a\nb\"", 0, Lines::Single).is_none());
        assert_eq!(double_quoted("\"a\nb\"", 0, Lines::Multi).unwrap().1, "a\nb");
        assert!(double_quoted("\"open", 0, Lines::Multi).is_none());
    }

    #[test]
    fn single_quoted_and_comments() {
        assert_eq!(
            single_quoted("'it''s'", 0, true, Lines::Single).unwrap(),
            (6, "it's".into())
        );
        assert_eq!(single_quoted("'a\\n' x", 0, false, Lines::Single).unwrap().1, "a\\n");
        let s = "value # note";
        assert_eq!(&s[..cut_comment(s, 0, s.len(), &['#'])], "value");
        let s = "a#b  ";
        assert_eq!(&s[..cut_comment(s, 0, s.len(), &['#'])], "a#b");
        assert_eq!(line_end("ab\r\ncd", 0), 2);
        assert_eq!(next_line("ab\r\ncd", 0), 4);
    }
}

//! Reading the text around a match: line bounds, line/column numbers (computed only for
//! findings), the key name a value is assigned to, and inline `coffer:allow` comments.

use memchr::{memchr, memmem, memrchr};

/// Comments that suppress a finding on their line.
const ALLOW_MARKERS: &[&[u8]] = &[b"coffer:allow", b"gitleaks:allow", b"pragma: allowlist secret"];
/// Bytes on each side of a secret searched for an allow comment.
pub(crate) const ALLOW_LIMIT: usize = 4096;

/// Start of the line holding `pos`, looking back at most `limit` bytes.
pub(crate) fn line_start(data: &[u8], pos: usize, limit: usize) -> usize {
    let lo = pos.saturating_sub(limit);
    memrchr(b'\n', &data[lo..pos]).map_or(lo, |i| lo + i + 1)
}

/// End (exclusive, before `\n`) of the line holding `pos`, looking ahead at most `limit` bytes.
pub(crate) fn line_end(data: &[u8], pos: usize, limit: usize) -> usize {
    let hi = (pos + limit).min(data.len());
    memchr(b'\n', &data[pos..hi]).map_or(hi, |i| pos + i)
}

/// Start of the line `n` lines above the one holding `pos`.
pub(crate) fn lines_back(data: &[u8], pos: usize, n: usize, limit: usize) -> usize {
    let floor = pos.saturating_sub(limit);
    let mut start = line_start(data, pos, pos - floor);
    for _ in 0..n {
        if start <= floor || start == 0 {
            break;
        }
        start = line_start(data, start - 1, start - 1 - floor);
    }
    start
}

/// End of the line `n` lines below the one holding `pos`.
pub(crate) fn lines_forward(data: &[u8], pos: usize, n: usize, limit: usize) -> usize {
    let ceil = (pos + limit).min(data.len());
    let mut end = line_end(data, pos, ceil - pos);
    for _ in 0..n {
        if end >= ceil {
            break;
        }
        end = line_end(data, end + 1, ceil - end - 1);
    }
    end
}

/// Turns byte offsets into 1-based (line, column-in-characters), walking forward only: feed
/// offsets in increasing order.
pub(crate) struct LineCounter<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    /// Characters before `data[0]` on its line, while no newline has been passed.
    carry: usize,
}

impl<'a> LineCounter<'a> {
    #[cfg(test)]
    pub(crate) fn new(data: &'a [u8]) -> Self {
        LineCounter::with_origin(data, 1, 0)
    }

    /// A counter for `data` taken from the middle of a text: `data[0]` is on line `line`,
    /// after `column` characters of that line.
    pub(crate) fn with_origin(data: &'a [u8], line: usize, column: usize) -> Self {
        LineCounter {
            data,
            pos: 0,
            line,
            line_start: 0,
            carry: column,
        }
    }

    /// (line, column) of `offset`; `offset` must not be before the previous call's.
    pub(crate) fn locate(&mut self, offset: usize) -> (usize, usize) {
        debug_assert!(offset >= self.pos);
        for i in memchr::memchr_iter(b'\n', &self.data[self.pos..offset]) {
            self.line += 1;
            self.line_start = self.pos + i + 1;
            self.carry = 0;
        }
        self.pos = offset;
        (self.line, 1 + self.carry + chars(&self.data[self.line_start..offset]))
    }
}

/// Characters in UTF-8 `bytes` (bytes that do not continue a character; a character cut at
/// either end counts once overall when the pieces are added up).
pub(crate) fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// True when the line(s) spanning `start..end` carry an allow comment.
pub(crate) fn inline_allowed(data: &[u8], start: usize, end: usize) -> bool {
    let from = line_start(data, start, ALLOW_LIMIT);
    let to = line_end(data, end.min(data.len()), ALLOW_LIMIT);
    let text = &data[from..to];
    ALLOW_MARKERS.iter().any(|m| memmem::find(text, m).is_some())
}

/// The name a value is assigned to, read backwards from the text before it on its line:
/// `DB_PASSWORD=`, `password: `, `"apiKey": "`, `<password>`, `--token `, `:password => '`.
pub(crate) fn key_name_before(before: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(before).ok()?;
    let s = s.trim_end_matches([' ', '\t', '"', '\'', '`']);
    // XML element: `<password>` or `<ns:password>`.
    if let Some(tag) = s.strip_suffix('>') {
        let open = tag.rfind('<')?;
        let name = &tag[open + 1..];
        return is_ident(name).then(|| name.to_string());
    }
    let ops = [":=", "=>", "->", "<-", "=", ":"];
    let (rest, op) = ops
        .iter()
        .find_map(|op| s.strip_suffix(op).map(|r| (r, *op)))
        .or_else(|| flag_name(s).map(|r| (r, " ")))?;
    if op == "=" && rest.ends_with(['!', '=', '<', '>']) {
        return None; // a comparison, not an assignment
    }
    let rest = rest.trim_end_matches([' ', '\t', '"', '\'', '`', ']', ')']);
    let rest = rest.strip_suffix("(string)").unwrap_or(rest).trim_end();
    let start = rest
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let name = rest[start..].trim_start_matches(['-', '.']);
    is_ident(name).then(|| name.to_string())
}

/// `… --password` (the text before the value, spaces trimmed) → `… --password`.
fn flag_name(s: &str) -> Option<&str> {
    let start = s.rfind(' ').map_or(0, |i| i + 1);
    (s[start..].starts_with("--") && s.len() > start + 2).then_some(s)
}

fn is_ident(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name.chars().any(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_from_context() {
        let cases: &[(&str, Option<&str>)] = &[
            ("DB_PASSWORD=", Some("DB_PASSWORD")),
            ("export API_TOKEN=\"", Some("API_TOKEN")),
            ("  password: ", Some("password")),
            ("  \"apiKey\": \"", Some("apiKey")),
            ("<password>", Some("password")),
            ("$db_pass = '", Some("db_pass")),
            ("config.secret_key := \"", Some("config.secret_key")),
            ("mysql --password ", Some("password")),
            ("if token == \"", None),
            ("just some text ", None),
        ];
        for (before, want) in cases {
            assert_eq!(key_name_before(before.as_bytes()).as_deref(), *want, "{before:?}");
        }
    }

    #[test]
    fn lines_and_columns() {
        let data = "ab\ncdé f\n\nxyz".as_bytes();
        let mut lc = LineCounter::new(data);
        assert_eq!(lc.locate(0), (1, 1));
        assert_eq!(lc.locate(4), (2, 2));
        assert_eq!(lc.locate(8), (2, 5)); // after the two-byte é
        assert_eq!(lc.locate(11), (4, 1));
        // From the middle of a line: "dé f" continues line 2 after two characters.
        let mut lc = LineCounter::with_origin(&data[4..], 2, 1);
        assert_eq!(lc.locate(0), (2, 2));
        assert_eq!(lc.locate(4), (2, 5));
        assert_eq!(lc.locate(7), (4, 1));
        assert_eq!(line_start(data, 5, 100), 3);
        assert_eq!(line_end(data, 5, 100), 9);
        assert_eq!(lines_back(data, 11, 2, 100), 3);
        assert_eq!(lines_forward(data, 0, 1, 100), 9);
    }

    #[test]
    fn allow_comments() {
        let data = b"a=1\ntoken = 'abc' # coffer:allow\nb=2\n";
        assert!(inline_allowed(data, 13, 16));
        assert!(!inline_allowed(data, 0, 2));
        assert!(inline_allowed(b"x = 'y' // gitleaks:allow", 5, 6));
        assert!(inline_allowed(b"x = 'y'  # pragma: allowlist secret", 5, 6));
    }
}

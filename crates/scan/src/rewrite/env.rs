//! `.env` files: `[export] KEY=value`, `KEY="double \"quoted\""` (may span lines),
//! `KEY='literal'`, unquoted values ending at ` # comment`. Also the parser `coffer run
//! --env-file` reads.

use super::Entry;
use super::scalar::{Lines, cut_comment, double_quoted, line_end, next_line, single_quoted, skip_blanks};

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Every `KEY=value` of an env file, in order (empty values included).
pub fn entries(content: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < content.len() {
        let eol = line_end(content, pos);
        let mut at = skip_blanks(content, pos);
        if at >= eol || content[at..].starts_with('#') {
            pos = next_line(content, pos);
            continue;
        }
        if let Some(rest) = content[at..eol].strip_prefix("export")
            && rest.starts_with([' ', '\t'])
        {
            at = skip_blanks(content, at + "export".len());
        }
        let key_end = content[at..eol].find(|c: char| !is_key_char(c)).map_or(eol, |i| at + i);
        let eq = skip_blanks(content, key_end);
        if key_end == at || eq >= eol || content.as_bytes()[eq] != b'=' {
            pos = next_line(content, pos);
            continue;
        }
        let key = content[at..key_end].to_string();
        let v = skip_blanks(content, eq + 1).min(eol);
        let quoted = match content.as_bytes().get(v) {
            Some(b'"') if v < eol => double_quoted(content, v, Lines::Multi),
            Some(b'\'') if v < eol => single_quoted(content, v, false, Lines::Multi),
            _ => None,
        };
        match quoted {
            Some((close, value)) => {
                out.push(Entry {
                    key,
                    start: v + 1,
                    end: close,
                    value,
                });
                pos = next_line(content, close);
            }
            None => {
                let end = cut_comment(content, v, eol, &['#']);
                out.push(Entry {
                    key,
                    start: v,
                    end,
                    value: content[v..end].to_string(),
                });
                pos = next_line(content, pos);
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
    fn parses_all_styles() {
        let c = "# c\nexport A=plain # note\nB = \"x\\ny\"\nC='lit\\n'\n\nD=\nE=\"multi\nline\"\nnot a line\n";
        let got: Vec<(String, String)> = entries(c).into_iter().map(|e| (e.key, e.value)).collect();
        let want = [
            ("A", "plain"),
            ("B", "x\ny"),
            ("C", "lit\\n"),
            ("D", ""),
            ("E", "multi\nline"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rewrites_keep_everything_else() {
        let c = "# secrets\r\nexport TOKEN=\"ghp_abc\"  # prod\r\nDB_PASSWORD=hunter2secret # old\r\nK='lit'\r\n";
        assert_eq!(
            rewrite_one(FileKind::Env, c, "ghp_abc", R),
            format!("# secrets\r\nexport TOKEN=\"{R}\"  # prod\r\nDB_PASSWORD=hunter2secret # old\r\nK='lit'\r\n")
        );
        assert_eq!(
            rewrite_one(FileKind::Env, c, "hunter2secret", R),
            format!("# secrets\r\nexport TOKEN=\"ghp_abc\"  # prod\r\nDB_PASSWORD={R} # old\r\nK='lit'\r\n")
        );
        assert_eq!(
            rewrite_one(FileKind::Env, c, "lit", R),
            c.replace("'lit'", &format!("'{R}'"))
        );
    }
}

//! Patch suggestions for source code, which onboarding never edits: a unified diff that
//! replaces each secret literal with its `coffer://` reference and adds a TODO comment above
//! the line saying how to resolve it at run time. `git apply` or `patch -p1` applies it.

use super::scalar::line_end;

/// One change: the secret at bytes `start..end` becomes `reference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralEdit {
    /// First byte of the secret literal.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// The reference written in its place.
    pub reference: String,
}

const CONTEXT: usize = 3;

/// The line comment marker of a source file, by extension.
pub fn comment_marker(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e).to_ascii_lowercase();
    match ext.as_str() {
        "py" | "rb" | "sh" | "bash" | "zsh" | "pl" | "r" | "ps1" | "ex" | "exs" | "tf" => "#",
        "sql" | "lua" | "hs" => "--",
        "erl" => "%",
        "clj" => ";;",
        _ => "//",
    }
}

/// The file's lines, each with its line ending.
fn split_lines(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

/// A unified diff (`a/<path>` → `b/<path>`) applying `edits` to `original`, or `None` when
/// there is nothing to change.
pub fn unified(path: &str, original: &str, edits: &[LiteralEdit]) -> Option<String> {
    let lines = split_lines(original);
    let mut starts = Vec::with_capacity(lines.len());
    let mut at = 0;
    for l in &lines {
        starts.push(at);
        at += l.len();
    }
    let line_of = |byte: usize| starts.partition_point(|&s| s <= byte).saturating_sub(1);
    // New text per changed line (the TODO comment, then the line with references in it).
    let mut changed: std::collections::BTreeMap<usize, String> = Default::default();
    let marker = comment_marker(path);
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.start));
    for e in &sorted {
        let idx = line_of(e.start);
        let line_start = starts[idx];
        let text = changed.entry(idx).or_insert_with(|| lines[idx].to_string());
        let (s, en) = (e.start - line_start, (e.end - line_start).min(text.len()));
        if text.get(s..en).is_some() {
            text.replace_range(s..en, &e.reference);
        }
    }
    if changed.is_empty() {
        return None;
    }
    for (idx, text) in changed.iter_mut() {
        let indent: String = lines[*idx].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
        let ending = &lines[*idx][line_end(lines[*idx], 0)..];
        let ending = if ending.is_empty() { "\n" } else { ending };
        let todo = format!(
            "{indent}{marker} TODO(coffer): this secret moved to Coffer; read it from the environment and start the app with `coffer run`{ending}"
        );
        text.insert_str(0, &todo);
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let idxs: Vec<usize> = changed.keys().copied().collect();
    let mut i = 0;
    while i < idxs.len() {
        let first = idxs[i].saturating_sub(CONTEXT);
        let mut j = i;
        while j + 1 < idxs.len() && idxs[j + 1] <= idxs[j] + 2 * CONTEXT + 1 {
            j += 1;
        }
        let last = (idxs[j] + CONTEXT).min(lines.len() - 1);
        let (mut body, mut old_n, mut new_n) = (String::new(), 0, 0);
        for (n, line) in lines.iter().enumerate().take(last + 1).skip(first) {
            match changed.get(&n) {
                Some(new) => {
                    push_line(&mut body, '-', line);
                    old_n += 1;
                    for l in split_lines(new) {
                        push_line(&mut body, '+', l);
                        new_n += 1;
                    }
                }
                None => {
                    push_line(&mut body, ' ', line);
                    old_n += 1;
                    new_n += 1;
                }
            }
        }
        let new_start = first + 1 + i;
        out.push_str(&format!("@@ -{},{old_n} +{},{new_n} @@\n", first + 1, new_start));
        out.push_str(&body);
        i = j + 1;
    }
    Some(out)
}

fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_replaces_literal_and_adds_todo() {
        let src = "import os\n\nAPI_KEY = \"ghp_secret\"\nprint(API_KEY)\n";
        let start = src.find("ghp_secret").unwrap();
        let edit = LiteralEdit {
            start,
            end: start + 10,
            reference: "coffer://secret/a#value".into(),
        };
        let diff = unified("app.py", src, &[edit]).unwrap();
        assert!(
            diff.starts_with("--- a/app.py\n+++ b/app.py\n@@ -1,4 +1,5 @@\n"),
            "{diff}"
        );
        assert!(diff.contains("-API_KEY = \"ghp_secret\"\n"), "{diff}");
        assert!(diff.contains("+# TODO(coffer):"), "{diff}");
        assert!(diff.contains("+API_KEY = \"coffer://secret/a#value\"\n"), "{diff}");
        assert!(diff.contains(" print(API_KEY)\n"), "{diff}");
        assert_eq!(unified("a.py", src, &[]), None);
        assert_eq!(comment_marker("x.go"), "//");
    }

    #[test]
    fn separate_hunks_track_added_lines() {
        let mut src = String::new();
        for i in 0..20 {
            src.push_str(&format!("line{i} = \"s{i}\"\n"));
        }
        let edit = |n: usize| {
            let at = src.find(&format!("\"s{n}\"")).unwrap() + 1;
            LiteralEdit {
                start: at,
                end: at + 1 + n.to_string().len(),
                reference: "R".into(),
            }
        };
        let diff = unified("x.rb", &src, &[edit(2), edit(15)]).unwrap();
        assert!(diff.contains("@@ -1,6 +1,7 @@"), "{diff}");
        assert!(diff.contains("@@ -13,7 +14,8 @@"), "{diff}");
    }
}

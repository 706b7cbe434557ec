//! Walker tests over a temporary tree.

use super::*;
use crate::ScanOptions;

const GH: &str = "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";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join(".aws")).unwrap();
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::create_dir_all(p.join(".git/objects")).unwrap();
    std::fs::write(p.join(".env"), format!("GITHUB_TOKEN={GH}\n")).unwrap();
    std::fs::write(p.join(".gitignore"), "ignored.txt\n").unwrap();
    std::fs::write(p.join("ignored.txt"), format!("t={GH}\n")).unwrap();
    std::fs::write(p.join("src/main.rs"), format!("fn main() {{}}\n// {GH}\n")).unwrap();
    std::fs::write(p.join(".git/config"), format!("t={GH}\n")).unwrap();
    let mut binary = format!("t={GH}").into_bytes();
    binary.insert(0, 0);
    std::fs::write(p.join("blob.dat2"), binary).unwrap();
    std::fs::write(p.join("logo.png"), format!("t={GH}")).unwrap();
    let mut big = "x\n".repeat(20_000);
    big.push_str(&format!("t={GH}\n"));
    std::fs::write(p.join("big.txt"), big).unwrap();
    let mut min = "a".repeat(20_000);
    min.push_str(&format!("t={GH}"));
    std::fs::write(p.join("app.js"), min).unwrap();
    dir
}

fn scan(dir: &Path, options: &WalkOptions) -> ScanOutcome {
    let scanner = Scanner::new(crate::rules::tests::test_rules(), ScanOptions::default()).unwrap();
    scan_paths(&scanner, &[dir.to_path_buf()], options, None).unwrap()
}

fn paths(o: &ScanOutcome) -> Vec<&str> {
    o.findings.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn hidden_and_ignored_files_are_scanned_by_default() {
    let dir = tree();
    let small = WalkOptions {
        max_file_size: 30_000,
        threads: 2,
        ..WalkOptions::default()
    };
    let out = scan(dir.path(), &small);
    assert_eq!(paths(&out), [".env", "ignored.txt", "src/main.rs"]);
    let reasons: Vec<(&str, &str)> = out
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("app.js", "minified"),
            ("big.txt", "larger than 30000 bytes"),
            ("blob.dat2", "binary")
        ]
    );
    assert!(out.files >= 4 && out.bytes > 0);
}

#[test]
fn respect_gitignore_skips_ignored() {
    let dir = tree();
    let opts = WalkOptions {
        respect_gitignore: true,
        ..WalkOptions::default()
    };
    let out = scan(dir.path(), &opts);
    assert_eq!(paths(&out), [".env", "big.txt", "src/main.rs"]);
}

#[test]
fn file_root_missing_root_and_progress() {
    let dir = tree();
    let scanner = Scanner::new(crate::rules::tests::test_rules(), ScanOptions::default()).unwrap();
    let file = dir.path().join(".env");
    let seen = AtomicU64::new(0);
    let progress = |b: u64| {
        seen.fetch_add(b, Ordering::Relaxed);
    };
    let out = scan_paths(
        &scanner,
        std::slice::from_ref(&file),
        &WalkOptions::default(),
        Some(&progress),
    )
    .unwrap();
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].path, file.display().to_string());
    assert_eq!(seen.load(Ordering::Relaxed), out.bytes);
    let missing = dir.path().join("nope");
    assert!(matches!(
        scan_paths(&scanner, &[missing], &WalkOptions::default(), None),
        Err(ScanError::Io { .. })
    ));
}

#[test]
fn stdin_reader() {
    let scanner = Scanner::new(crate::rules::tests::test_rules(), ScanOptions::default()).unwrap();
    let out = scan_reader(&scanner, "-", format!("x {GH}").as_bytes()).unwrap();
    assert_eq!(paths(&out), ["-"]);
    let out = scan_reader(&scanner, "-", &b"\0binary"[..]).unwrap();
    assert!(out.findings.is_empty() && out.skipped.len() == 1);
}

/// Filler lines, then `line` placed so that `needle` (in `line`) starts at byte `at`.
fn place(text: &mut String, at: usize, line: &str, needle: &str) {
    let offset = line.find(needle).unwrap();
    while text.len() + 200 < at {
        text.push_str("fn filler() -> u8 { 42 }\n");
    }
    text.push_str(&"y".repeat(at - text.len() - offset - 1));
    text.push('\n');
    text.push_str(line);
    assert_eq!(text.rfind(needle), Some(at));
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

/// About 2.6 MiB with tokens across the first two chunk boundaries (the offsets up to which
/// the first and second pieces handle keyword hits) and a PEM block over the second.
fn big_text(scanner: &Scanner) -> (String, [usize; 2]) {
    let m = scanner.margin();
    let pem = crate::rules::tests::test_rules().get("private-key").unwrap().examples[0].clone();
    let (b1, b2) = (CHUNK + m, 2 * CHUNK + m);
    let mut text = String::new();
    place(&mut text, b1 - 2, &format!("first = \"{GH}\"\n"), "ghp_");
    place(&mut text, b2 - 60, &format!("# é\n{}", pem.trim_start()), "-----BEGIN");
    place(&mut text, b2 + 300, &format!("second {GH}\n"), "ghp_");
    while text.len() < 2 * CHUNK + CHUNK / 2 {
        text.push_str("fn filler() -> u8 { 42 }\n");
    }
    (text, [b1 - 2, b2 + 300])
}

#[test]
fn big_file_is_read_in_chunks_with_whole_file_findings() {
    let scanner = Scanner::new(crate::rules::tests::test_rules(), ScanOptions::default()).unwrap();
    let (text, tokens) = big_text(&scanner);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.txt"), &text).unwrap();
    let out = scan_paths(&scanner, &[dir.path().to_path_buf()], &WalkOptions::default(), None).unwrap();
    let found: Vec<(&str, usize)> = out.findings.iter().map(|f| (f.rule_id.as_str(), f.line)).collect();
    let pem_line = line_of(&text, text.find("-----BEGIN").unwrap());
    assert_eq!(
        found,
        [
            ("github-token", line_of(&text, tokens[0])),
            ("private-key", pem_line),
            ("github-token", line_of(&text, tokens[1])),
        ]
    );
    assert_eq!(out.findings[1].end_line, pem_line + 3);
    assert_eq!(out.findings[2].column, 8);
    assert_eq!(out.bytes, text.len() as u64);
    let whole = scanner.scan_bytes("big.txt", text.as_bytes());
    let key = |f: &Finding| (f.rule_id.clone(), f.line, f.column, f.end_line, f.fingerprint.clone());
    assert_eq!(
        out.findings.iter().map(key).collect::<Vec<_>>(),
        whole.iter().map(key).collect::<Vec<_>>()
    );
    // Standard input is read the same way.
    let out = scan_reader(&scanner, "big.txt", text.as_bytes()).unwrap();
    assert_eq!(
        out.findings.iter().map(key).collect::<Vec<_>>(),
        whole.iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(out.bytes, text.len() as u64);
    let mut binary = b"\0".to_vec();
    binary.extend_from_slice(text.as_bytes());
    let out = scan_reader(&scanner, "-", &binary[..]).unwrap();
    assert!(out.findings.is_empty() && out.skipped.len() == 1 && out.files == 0);
    assert_eq!(out.bytes, binary.len() as u64);
}

#[test]
fn minified_line_after_the_first_chunk() {
    let scanner = Scanner::new(crate::rules::tests::test_rules(), ScanOptions::default()).unwrap();
    let mut text = "var a = 1;\n".repeat(CHUNK / 5);
    text.push_str(&format!("var t = '{GH}';"));
    text.push_str(&"b".repeat(2 * MINIFIED_LINE));
    text.push('\n');
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), &text).unwrap();
    std::fs::write(dir.path().join("app.txt"), &text).unwrap();
    let out = scan_paths(&scanner, &[dir.path().to_path_buf()], &WalkOptions::default(), None).unwrap();
    assert_eq!(paths(&out), ["app.txt"]);
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(
        (out.skipped[0].path.as_str(), out.skipped[0].reason.as_str()),
        ("app.js", "minified")
    );
}

#[test]
fn long_lines_are_measured_across_pieces() {
    let mut line = 0;
    assert!(!long_line(&mut line, &[b'a'; 10_000]));
    assert!(!long_line(&mut line, b"bbbb\ncc"));
    assert_eq!(line, 2);
    assert!(!long_line(&mut line, &[b'd'; MINIFIED_LINE - 2]));
    assert!(long_line(&mut line, b"e"));
    let mut line = MINIFIED_LINE - 1;
    assert!(long_line(&mut line, b"ff\n"));
}

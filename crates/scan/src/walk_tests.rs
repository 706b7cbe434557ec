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

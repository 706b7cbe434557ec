//! Scans a directory with the built-in rules and prints counts (for quick throughput and
//! memory measurements: `cargo build --profile bench --example walk`).

use coffer_scan::walk::{WalkOptions, scan_paths};
use coffer_scan::{RuleSet, ScanOptions, Scanner};

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let scanner = Scanner::new(RuleSet::builtin(), ScanOptions::default()).expect("rules");
    let out = scan_paths(&scanner, &[root.into()], &WalkOptions::default(), None).expect("scan");
    if std::env::var_os("SHOW").is_some() {
        for f in &out.findings {
            println!(
                "{} {}:{} {} {:?}",
                f.rule_id,
                f.path,
                f.line,
                f.secret.redacted(),
                f.key_name
            );
        }
    }
    println!(
        "files {} bytes {} findings {} skipped {}",
        out.files,
        out.bytes,
        out.findings.len(),
        out.skipped.len()
    );
}

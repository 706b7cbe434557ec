//! Engine throughput on realistic code: about 4 MB of third-party Rust/TOML/Markdown from
//! cargo's registry cache (falling back to synthetic code) with a few planted secrets.
//! Reports MB/s on one core for `Scanner::scan_bytes`.

use std::path::{Path, PathBuf};

use coffer_scan::{RuleSet, ScanOptions, Scanner};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TARGET: usize = 4 << 20;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| ["rs", "toml", "md", "json", "yml", "yaml"].contains(&&*e.to_string_lossy()))
        {
            out.push(p);
        }
    }
}

/// Real code from the registry cache, in a stable order, up to `TARGET` bytes.
fn corpus() -> Vec<u8> {
    let mut data = Vec::with_capacity(TARGET + 4096);
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    {
        let src = home.join("registry/src");
        let mut files = Vec::new();
        if let Ok(indexes) = std::fs::read_dir(&src) {
            for index in indexes.flatten() {
                for name in [
                    "regex-syntax",
                    "serde",
                    "aho-corasick",
                    "toml",
                    "ignore",
                    "clap_builder",
                    "tokio",
                ] {
                    if let Ok(crates) = std::fs::read_dir(index.path()) {
                        for c in crates.flatten() {
                            if c.file_name().to_string_lossy().starts_with(&format!("{name}-")) {
                                collect(&c.path(), &mut files);
                            }
                        }
                    }
                }
            }
        }
        for f in files {
            if data.len() >= TARGET {
                break;
            }
            if let Ok(bytes) = std::fs::read(&f) {
                data.extend_from_slice(&bytes);
            }
        }
    }
    let filler = b"fn handler(req: &Request) -> Result<Response, Error> {\n    let token = req.header(\"x-token\")?;\n    Ok(Response::ok())\n}\n";
    while data.len() < TARGET {
        data.extend_from_slice(filler);
    }
    let secrets = [
        "GITHUB_TOKEN=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\n",
        "aws_access_key_id = AKIA5WKH7DNSIPZZ7FK4\naws_secret_access_key = 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\n",
        "DB_PASSWORD=Tr0ub4dor&3x\n",
    ];
    let step = data.len() / (secrets.len() + 1);
    for (i, s) in secrets.iter().enumerate() {
        let at = step * (i + 1);
        let at = at + data[at..].iter().position(|&b| b == b'\n').unwrap_or(0) + 1;
        data.splice(at..at, s.bytes());
    }
    data
}

fn bench(c: &mut Criterion) {
    let data = corpus();
    let scanner = Scanner::new(RuleSet::builtin(), ScanOptions::default()).expect("builtin rules");
    let found = scanner.scan_bytes("corpus", &data);
    assert!(found.len() >= 4, "planted secrets found: {}", found.len());
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);
    group.bench_function("scan_bytes/registry-code", |b| {
        b.iter(|| scanner.scan_bytes("corpus", &data))
    });
    group.finish();
    c.bench_function("scanner_new/builtin", |b| {
        b.iter(|| Scanner::new(RuleSet::builtin(), ScanOptions::default()).expect("rules"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Benchmark: SSH inventory over a generated 1,000,000-line `authorized_keys` file (ed25519,
//! RSA-3072 and ECDSA keys drawn from a pool of 50,000, half with options, all with comments).
//! Throughput is reported in lines per second.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LINES: u64 = 1_000_000;
const DISTINCT_KEYS: usize = 50_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn blob(fields: &[&[u8]]) -> String {
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    STANDARD.encode(out)
}

/// `keytype base64` for key `i` of the pool.
fn key(rng: &mut Rng, i: usize) -> String {
    match i % 10 {
        0..=5 => format!("ssh-ed25519 {}", blob(&[b"ssh-ed25519", &rng.bytes(32)])),
        6..=8 => {
            let mut n = rng.bytes(385);
            n[0] = 0;
            n[1] |= 0x80;
            format!("ssh-rsa {}", blob(&[b"ssh-rsa", &[1, 0, 1], &n]))
        }
        _ => {
            let mut point = rng.bytes(65);
            point[0] = 4;
            format!(
                "ecdsa-sha2-nistp256 {}",
                blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &point])
            )
        }
    }
}

fn generate() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorized_keys");
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let pool: Vec<String> = (0..DISTINCT_KEYS).map(|i| key(&mut rng, i)).collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for line in 0..LINES {
        let k = &pool[(rng.next() % DISTINCT_KEYS as u64) as usize];
        let options = match line % 4 {
            0 => "",
            1 => "from=\"10.0.0.0/8,192.168.0.0/16\",no-pty ",
            2 => "command=\"/usr/local/bin/backup --host \\\"db-3, primary\\\"\",no-port-forwarding,no-X11-forwarding ",
            _ => "restrict,pty ",
        };
        writeln!(out, "{options}{k} user{}@host{}.example.com", line % 977, line % 131).unwrap();
    }
    out.flush().unwrap();
    (dir, path)
}

fn bench(c: &mut Criterion) {
    let (_dir, path) = generate();
    let paths = [path];
    let mut group = c.benchmark_group("ssh_inventory");
    group.throughput(Throughput::Elements(LINES));
    group.sample_size(10);
    group.bench_function("authorized_keys_1m_lines", |b| {
        b.iter(|| {
            let inv = coffer_scan::ssh::inventory(&paths).unwrap();
            assert_eq!(inv.authorized_keys.len() as u64, LINES);
            inv
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

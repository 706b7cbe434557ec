//! Fuzz body for the audit chain verifier: `coffer_core::audit::verify`.
//!
//! Random bytes almost never form a hash chain, so the input is a small program that builds
//! the file to verify, one input line per output line:
//!
//! * `S<json>`: a genuine chained line: the next `seq`, the hash of the line written before,
//!   then the fields of the JSON object `<json>` (as the server's `ChainState::stamp` does);
//! * `N<digits> <json>`: the same with the given `seq` (any `u64`);
//! * `#prev <hash>` / `#prev-genesis` as the first input line: the `expected_prev` argument
//!   (otherwise `None`);
//! * anything else: written as it is (forged, edited or foreign lines).
//!
//! This file is shared: the fuzz target calls [`run`], and `crates/core/tests/audit_fuzz_corpus.rs`
//! includes it with `#[path]` to replay the corpus under `cargo test`. It may use only
//! `coffer_core`, `coffer_crypto`, `hex`, `serde`, `serde_json` and std.

use coffer_core::audit::{GENESIS_HASH, verify};

/// Runs one input. Panics (a finding) when the verifier panics or breaks an invariant.
pub fn run(data: &[u8]) {
    let mut ops: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if ops.len() > 1 && ops.last().is_some_and(|l| l.is_empty()) {
        ops.pop(); // a final newline ends the last line; it does not add an empty one
    }
    let expected_prev: Option<String> = match ops.first() {
        Some(first) if first.starts_with(b"#prev-genesis") => {
            ops.remove(0);
            Some(GENESIS_HASH.to_string())
        }
        Some(first) if first.starts_with(b"#prev ") => {
            let hash = String::from_utf8_lossy(&first[6..]).into_owned();
            ops.remove(0);
            Some(hash)
        }
        _ => None,
    };

    let mut file: Vec<Vec<u8>> = Vec::new();
    let mut last_seq: u64 = 0;
    let mut prev_hash = expected_prev.clone().unwrap_or_else(|| GENESIS_HASH.to_string());
    for op in &ops {
        let line = match op.first() {
            Some(b'S') => stamp(last_seq.wrapping_add(1), &prev_hash, &op[1..]),
            Some(b'N') => {
                let digits = op[1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let Some(seq) = std::str::from_utf8(&op[1..1 + digits])
                    .ok()
                    .and_then(|d| d.parse::<u64>().ok())
                else {
                    return;
                };
                stamp(seq, &prev_hash, op[1 + digits..].trim_ascii_start())
            }
            _ => op.to_vec(),
        };
        if let Ok(head) = serde_json::from_slice::<Head>(&line) {
            last_seq = head.seq;
        }
        prev_hash = line_hash(&line);
        file.push(line);
    }

    let mut bytes = file.join(&b'\n');
    if !file.is_empty() {
        bytes.push(b'\n');
    }
    let report = verify(&bytes[..], expected_prev.as_deref()).expect("reading a slice cannot fail");
    let total = file.len() as u64;
    let linked = linked_prefix(&file, expected_prev.as_deref());

    // The verifier agrees with a direct reading of the chain rule on where the chain breaks.
    assert_eq!(
        report.lines, linked,
        "verify found {} intact lines, the chain rule {linked} (of {total}); problem: {:?}",
        report.lines, report.problem
    );
    assert_eq!(report.is_intact(), linked == total, "{:?}", report.problem);
    match &report.problem {
        None => {
            assert_eq!(report.last_hash, file.last().map(|l| line_hash(l)));
        }
        Some(problem) => {
            // The break is blamed on the line that fails to link or on the one before it.
            assert!(
                problem.line == linked + 1 || (problem.line == linked && linked > 0),
                "problem at line {} but the chain breaks after line {linked}: {}",
                problem.line,
                problem.message
            );
            assert!(!problem.message.is_empty());
        }
    }
    assert!(
        report.gaps.iter().all(|g| g.line <= report.lines),
        "gap reported past the intact lines: {:?}",
        report.gaps
    );

    // Rotation: a file that verifies whole also verifies as two files, the second continuing
    // from the first's `last_hash`.
    if report.is_intact() && file.len() >= 2 {
        let cut = 1 + data.len() % (file.len() - 1);
        let mut first = file[..cut].join(&b'\n');
        first.push(b'\n');
        let mut second = file[cut..].join(&b'\n');
        second.push(b'\n');
        let a = verify(&first[..], expected_prev.as_deref()).expect("slice");
        assert!(a.is_intact(), "first part of an intact file broken: {:?}", a.problem);
        assert_eq!(a.lines, cut as u64);
        let b = verify(&second[..], a.last_hash.as_deref()).expect("slice");
        assert!(b.is_intact(), "second part of an intact file broken: {:?}", b.problem);
        assert_eq!(b.last_hash, report.last_hash);
    }
}

/// The chain fields, read independently of the verifier (same shape as the server's `Head`).
#[derive(serde::Deserialize)]
struct Head {
    seq: u64,
    prev_hash: String,
    #[serde(rename = "type", default)]
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    dropped: u64,
}

fn line_hash(line: &[u8]) -> String {
    hex::encode(coffer_crypto::sha256(line))
}

/// How many lines, from the first, link up: each is a chained entry whose `seq` is one more
/// than its predecessor's and whose `prev_hash` is its predecessor's hash (the first line's
/// `prev_hash` must equal `expected_prev` when given; its `seq` is free).
fn linked_prefix(file: &[Vec<u8>], expected_prev: Option<&str>) -> u64 {
    let mut prev: Option<(u64, String)> = None;
    let mut n = 0;
    for line in file {
        let Ok(head) = serde_json::from_slice::<Head>(line) else {
            break;
        };
        let ok = match &prev {
            None => expected_prev.is_none_or(|e| head.prev_hash == e),
            Some((seq, hash)) => seq.checked_add(1) == Some(head.seq) && head.prev_hash == *hash,
        };
        if !ok {
            break;
        }
        prev = Some((head.seq, line_hash(line)));
        n += 1;
    }
    n
}

/// A chained line as `ChainState::stamp` writes it (without the newline).
fn stamp(seq: u64, prev_hash: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{{\"seq\":{seq},\"prev_hash\":\"{prev_hash}\"").into_bytes();
    match body.strip_prefix(b"{") {
        Some(b"}") | None => out.push(b'}'),
        Some(rest) => {
            out.push(b',');
            out.extend_from_slice(rest);
        }
    }
    out
}

//! Checking a device's chain: every line must carry the next `seq` and the hash of the line
//! before it. The first line that breaks the chain is reported with what most likely
//! happened to it (edited, deleted, inserted, reordered). Rotated files are checked in order
//! by passing each file's `last_hash` as the next one's `expected_prev`.
//!
//! The chain protects every line but the last of the newest file: nothing follows it yet.

use super::chain::{Head, line_hash};
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

/// What was found wrong with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The line's content changed (or it is not a chained entry at all).
    Edited,
    /// Entries are missing before the line.
    Deleted,
    /// The line does not belong to the chain.
    Inserted,
    /// The line is in the wrong place.
    Reordered,
    /// The file does not continue the one given before it.
    Discontinuous,
}

/// The first break in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: u64,
    /// What happened.
    pub kind: ProblemKind,
    /// A sentence for the operator.
    pub message: String,
}

/// A gap marker: entries the server dropped because a device's spool overflowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Line of the marker.
    pub line: u64,
    /// Entries lost there.
    pub dropped: u64,
}

/// The result of `verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Lines read and found intact.
    pub lines: u64,
    /// `seq` of the first line.
    pub first_seq: Option<u64>,
    /// `seq` of the last intact line.
    pub last_seq: Option<u64>,
    /// Hash of the last intact line: the next rotated file's `expected_prev`.
    pub last_hash: Option<String>,
    /// Gap markers met (data the server knowingly lost; not tampering).
    pub gaps: Vec<Gap>,
    /// The first break in the chain; `None` when intact.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether no tampering was found.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

struct Line {
    no: u64,
    hash: String,
    head: Option<Head>,
}

impl Line {
    fn seq(&self) -> u64 {
        self.head.as_ref().map_or(0, |h| h.seq)
    }

    fn prev(&self) -> &str {
        self.head.as_ref().map_or("", |h| h.prev_hash.as_str())
    }
}

fn links(a: &Line, b: &Line) -> bool {
    // `checked_add`: a forged `seq` of u64::MAX must not overflow (fuzz/regressions/audit_verify).
    a.head.is_some() && b.head.is_some() && a.seq().checked_add(1) == Some(b.seq()) && b.prev() == a.hash
}

/// Checks one file's chain. `expected_prev` is the hash the first line must continue from
/// (the previous rotated file's `last_hash`); `None` accepts any start.
pub fn verify<R: Read>(reader: R, expected_prev: Option<&str>) -> io::Result<VerifyReport> {
    let mut lines = BufReader::new(reader).split(b'\n').enumerate().map(|(i, r)| {
        r.map(|bytes| Line {
            no: i as u64 + 1,
            hash: line_hash(&bytes),
            head: serde_json::from_slice::<Head>(&bytes).ok(),
        })
    });
    let mut window: VecDeque<Line> = VecDeque::new();
    let mut report = VerifyReport::default();
    let mut prev: Option<Line> = None;
    let mut prev2: Option<String> = None;
    loop {
        while window.len() < 2 {
            match lines.next() {
                Some(line) => window.push_back(line?),
                None => break,
            }
        }
        let Some(cur) = window.pop_front() else { break };
        let ok = match &prev {
            Some(p) => links(p, &cur),
            None => cur.head.is_some() && expected_prev.is_none_or(|e| cur.prev() == e),
        };
        if !ok {
            let next = window.front();
            report.problem = Some(match &prev {
                None => diagnose_start(&cur, next, expected_prev.unwrap_or_default()),
                Some(p) => diagnose(p, prev2.as_deref(), &cur, next),
            });
            break;
        }
        if let Some(h) = &cur.head
            && h.kind == "gap"
        {
            report.gaps.push(Gap {
                line: cur.no,
                dropped: h.dropped,
            });
        }
        report.lines = cur.no;
        report.first_seq.get_or_insert(cur.seq());
        report.last_seq = Some(cur.seq());
        report.last_hash = Some(cur.hash.clone());
        prev2 = prev.map(|p| p.hash).or_else(|| expected_prev.map(str::to_string));
        prev = Some(cur);
    }
    Ok(report)
}

fn problem(line: u64, kind: ProblemKind, message: String) -> Problem {
    Problem { line, kind, message }
}

/// The first line of a file does not continue from `expected`.
fn diagnose_start(cur: &Line, next: Option<&Line>, expected: &str) -> Problem {
    let next_starts = next.is_some_and(|n| n.head.is_some() && n.prev() == expected);
    let n = cur.no;
    match (&cur.head, next_starts) {
        (_, true) => problem(
            n,
            ProblemKind::Inserted,
            format!(
                "line {n} was inserted: the chain continues from the previous file at line {}",
                n + 1
            ),
        ),
        (None, false) => problem(
            n,
            ProblemKind::Edited,
            format!("line {n} is not a chained audit entry: it was edited or corrupted"),
        ),
        (Some(h), false) => problem(
            n,
            ProblemKind::Discontinuous,
            format!(
                "line {n} (seq {}) does not continue the previous file: entries are missing between the files, or the files are out of order",
                h.seq
            ),
        ),
    }
}

/// `cur` does not follow `p`, the last intact line (`prev2` is the hash of the line before it).
fn diagnose(p: &Line, prev2: Option<&str>, cur: &Line, next: Option<&Line>) -> Problem {
    let n = cur.no;
    if cur.head.is_none() {
        return if next.is_some_and(|x| links(p, x)) {
            problem(
                n,
                ProblemKind::Inserted,
                format!(
                    "line {n} was inserted: it is not a chained entry, and line {} continues the chain from line {}",
                    n + 1,
                    p.no
                ),
            )
        } else {
            problem(
                n,
                ProblemKind::Edited,
                format!("line {n} is not a chained audit entry: it was edited or corrupted"),
            )
        };
    }
    let seq = cur.seq();
    let Some(want) = p.seq().checked_add(1) else {
        return problem(
            n,
            ProblemKind::Inserted,
            format!(
                "line {n} cannot continue the chain: line {} already has the largest possible seq",
                p.no
            ),
        );
    };
    if next.is_some_and(|x| links(p, x)) {
        return if seq > want {
            problem(
                n,
                ProblemKind::Reordered,
                format!(
                    "line {n} (seq {seq}) is out of order: seq {want} follows it at line {} (lines swapped or moved)",
                    n + 1
                ),
            )
        } else {
            problem(
                n,
                ProblemKind::Inserted,
                format!(
                    "line {n} (seq {seq}) was inserted: line {} continues the chain from line {}",
                    n + 1,
                    p.no
                ),
            )
        };
    }
    if seq == want {
        return problem(
            p.no,
            ProblemKind::Edited,
            format!(
                "line {} was edited: its hash no longer matches the prev_hash recorded in line {n}",
                p.no
            ),
        );
    }
    if seq > want {
        return if next.is_none_or(|x| links(cur, x)) {
            let missing = if seq - want == 1 {
                format!("seq {want} is")
            } else {
                format!("seq {want}..{} are", seq - 1)
            };
            problem(
                n,
                ProblemKind::Deleted,
                format!("line {n}: {missing} missing before it (deleted after line {})", p.no),
            )
        } else if cur.prev() == p.hash {
            problem(
                n,
                ProblemKind::Edited,
                format!("line {n} was edited: its seq was changed from {want} to {seq}"),
            )
        } else {
            problem(
                n,
                ProblemKind::Reordered,
                format!(
                    "line {n} (seq {seq}) is out of order: seq {want} was expected after line {}",
                    p.no
                ),
            )
        };
    }
    if seq == p.seq() && prev2 == Some(cur.prev()) && next.is_some_and(|x| links(cur, x)) {
        return problem(
            p.no,
            ProblemKind::Inserted,
            format!(
                "line {} was inserted: line {n} holds the genuine seq {seq} and the chain continues from it",
                p.no
            ),
        );
    }
    problem(
        n,
        ProblemKind::Reordered,
        format!(
            "line {n} (seq {seq}) is out of order: it comes after seq {} (line {})",
            p.seq(),
            p.no
        ),
    )
}

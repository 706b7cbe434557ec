//! The spool: entries a device has not recorded yet (it failed or fell behind), kept in order
//! in memory and mirrored to a file so a restart still delivers them. Bounded: past its size
//! the oldest entries are dropped and counted; the count is written to the log as a gap
//! marker that `verify` reports.
//!
//! File layout: a fixed-size head line `#head <consumed> <gap>` (updated in place), then one
//! entry per line. `consumed` lines after the head were already written or dropped; the file
//! is compacted once the dead part outweighs the live one.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

const HEAD_LEN: usize = 48;

/// The bounded, file-backed queue of one device.
pub(crate) struct Spool {
    /// Entries dropped just before the first queued one (not yet reported in the log).
    gap: u64,
    entries: VecDeque<Vec<u8>>,
    bytes: usize,
    max_bytes: usize,
    dropped_total: u64,
    /// Entries ever removed from the front (written or dropped): the index of the first one.
    removed: u64,
    disk: Option<Disk>,
}

struct Disk {
    path: PathBuf,
    file: Option<File>,
    len: u64,
    consumed: u64,
    dead_bytes: u64,
}

fn head(consumed: u64, gap: u64) -> Vec<u8> {
    let mut line = format!("#head {consumed:020} {gap:020}").into_bytes();
    line.resize(HEAD_LEN - 1, b' ');
    line.push(b'\n');
    line
}

impl Spool {
    /// Opens the spool at `path` (loading what a previous run left), or a memory-only spool.
    pub fn open(path: Option<PathBuf>, max_bytes: usize) -> Spool {
        let mut spool = Spool {
            gap: 0,
            entries: VecDeque::new(),
            bytes: 0,
            max_bytes: max_bytes.max(1),
            dropped_total: 0,
            removed: 0,
            disk: None,
        };
        let Some(path) = path else { return spool };
        let mut consumed = 0;
        if let Ok(file) = File::open(&path) {
            let mut lines = BufReader::new(file).split(b'\n').map_while(io::Result::ok);
            let gap;
            (consumed, gap) = lines
                .next()
                .and_then(|h| {
                    let h = String::from_utf8(h).ok()?;
                    let mut parts = h.strip_prefix("#head ")?.split_whitespace();
                    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
                })
                .unwrap_or((0u64, 0u64));
            spool.gap = gap;
            for line in lines.skip(consumed as usize).filter(|l| !l.is_empty()) {
                spool.bytes += line.len();
                spool.entries.push_back(line);
            }
            if !spool.is_empty() {
                tracing::info!(path = %path.display(), entries = spool.entries.len(), "audit spool loaded");
            }
        }
        let file = OpenOptions::new().read(true).write(true).open(&path).ok();
        let len = file.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len());
        spool.disk = Some(Disk {
            path,
            file,
            len,
            consumed,
            dead_bytes: 0,
        });
        if spool.is_empty() {
            spool.rewrite();
        }
        spool
    }

    /// Entries waiting.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Whether nothing waits (no entry and no gap to report).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.gap == 0
    }

    /// Entries dropped since start because the spool was full.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// Appends entries, dropping the oldest while over the size bound.
    pub fn push(&mut self, bodies: impl IntoIterator<Item = Vec<u8>>) {
        let mut appended: Vec<u8> = Vec::new();
        let mut dropped = 0u64;
        for body in bodies {
            appended.extend_from_slice(&body);
            appended.push(b'\n');
            self.bytes += body.len();
            self.entries.push_back(body);
            while self.bytes > self.max_bytes && self.entries.len() > 1 {
                if let Some(old) = self.entries.pop_front() {
                    self.bytes -= old.len();
                    self.gap += 1;
                    self.dropped_total += 1;
                    self.removed += 1;
                    dropped += 1;
                    if let Some(d) = &mut self.disk {
                        d.dead_bytes += old.len() as u64 + 1;
                    }
                }
            }
        }
        self.append(&appended);
        if dropped > 0 {
            self.consume(dropped);
        }
    }

    /// A batch to write: the index of its first entry, the gap to report before it, and up to
    /// `max` entries (`max_bytes` in all, at least one). Nothing is removed.
    pub fn peek(&self, max: usize, max_bytes: usize) -> (u64, u64, Vec<Vec<u8>>) {
        let mut total = 0;
        let entries = self
            .entries
            .iter()
            .take(max)
            .take_while(|e| {
                total += e.len();
                total <= max_bytes || total == e.len()
            })
            .cloned()
            .collect();
        (self.removed, self.gap, entries)
    }

    /// Removes a written batch (as `peek` described it). Entries of it that were dropped
    /// meanwhile (the spool overflowed while it was being written) no longer count as a gap.
    pub fn pop(&mut self, start: u64, gap_reported: u64, n: usize) {
        let already = self.removed.saturating_sub(start).min(n as u64);
        self.gap = self.gap.saturating_sub(gap_reported + already);
        let mut dead = 0;
        for _ in already..n as u64 {
            if let Some(body) = self.entries.pop_front() {
                self.bytes -= body.len();
                self.removed += 1;
                dead += body.len() as u64 + 1;
            }
        }
        if let Some(d) = &mut self.disk {
            d.dead_bytes += dead;
        }
        self.consume(n as u64 - already);
    }

    /// Marks `n` more lines of the file consumed; compacts or removes the file when worth it.
    fn consume(&mut self, n: u64) {
        let live = self.bytes as u64 + self.entries.len() as u64;
        let (gap, empty) = (self.gap, self.is_empty());
        let compact = match &mut self.disk {
            None => return,
            Some(d) => {
                d.consumed += n;
                empty || (d.dead_bytes > live && d.dead_bytes > 1 << 20)
            }
        };
        if compact {
            self.rewrite();
            return;
        }
        if let Some(d) = &mut self.disk
            && let Some(f) = &d.file
            && let Err(e) = f.write_all_at(&head(d.consumed, gap), 0)
        {
            tracing::warn!(path = %d.path.display(), error = %e, "cannot update the audit spool file");
            d.file = None;
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let reopen = match &mut self.disk {
            None => return,
            Some(d) => match &d.file {
                None => true,
                Some(f) => match f.write_all_at(bytes, d.len) {
                    Ok(()) => {
                        d.len += bytes.len() as u64;
                        false
                    }
                    Err(e) => {
                        tracing::warn!(path = %d.path.display(), error = %e, "cannot append to the audit spool file");
                        true
                    }
                },
            },
        };
        if reopen {
            // Rebuild the file from memory (first use, or after an error).
            self.rewrite();
        }
    }

    /// Writes the live queue to a fresh file (or removes the file when nothing waits).
    fn rewrite(&mut self) {
        let empty = self.is_empty();
        let Some(d) = &mut self.disk else { return };
        d.file = None;
        d.consumed = 0;
        d.dead_bytes = 0;
        d.len = 0;
        if empty {
            let _ = std::fs::remove_file(&d.path);
            return;
        }
        let mut buf = head(0, self.gap);
        for body in &self.entries {
            buf.extend_from_slice(body);
            buf.push(b'\n');
        }
        let tmp = d.path.with_extension("spool.tmp");
        let result = std::fs::write(&tmp, &buf)
            .and_then(|()| std::fs::rename(&tmp, &d.path))
            .and_then(|()| OpenOptions::new().read(true).write(true).open(&d.path));
        match result {
            Ok(f) => {
                d.file = Some(f);
                d.len = buf.len() as u64;
            }
            Err(e) => {
                tracing::warn!(path = %d.path.display(), error = %e, "audit spool file unavailable; spooling in memory")
            }
        }
    }

    /// Deletes the spool file (the device was disabled).
    pub fn discard(&mut self) {
        if !self.entries.is_empty() {
            tracing::warn!(
                entries = self.entries.len(),
                "audit device disabled with undelivered entries"
            );
        }
        self.entries.clear();
        self.bytes = 0;
        self.gap = 0;
        if let Some(d) = &mut self.disk {
            d.file = None;
            let _ = std::fs::remove_file(&d.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_with_gap_and_reloaded_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.spool");
        let mut spool = Spool::open(Some(path.clone()), 10);
        spool.push([b"aaaa".to_vec(), b"bbbb".to_vec()]);
        assert_eq!(spool.len(), 2);
        spool.push([b"cccc".to_vec()]);
        assert_eq!((spool.len(), spool.dropped_total()), (2, 1));
        let (start, gap, entries) = spool.peek(10, 1000);
        assert_eq!(
            (start, gap, entries.clone()),
            (1, 1, vec![b"bbbb".to_vec(), b"cccc".to_vec()])
        );
        assert_eq!(Spool::open(Some(path.clone()), 10).peek(10, 1000), (0, 1, entries));
        spool.pop(start, gap, 1);
        assert_eq!(spool.peek(10, 1000), (2, 0, vec![b"cccc".to_vec()]));
        assert_eq!(
            Spool::open(Some(path.clone()), 10).peek(10, 1000),
            (0, 0, vec![b"cccc".to_vec()])
        );
        // Overflow while a batch is being written: the written entry is not reported as lost.
        let (start, gap, _) = spool.peek(10, 1000);
        spool.push([b"dddd".to_vec(), b"eeee".to_vec()]);
        assert_eq!(spool.peek(10, 1000).1, 1);
        spool.pop(start, gap, 1);
        assert_eq!(spool.peek(10, 1000), (3, 0, vec![b"dddd".to_vec(), b"eeee".to_vec()]));
        spool.pop(3, 0, 2);
        assert!(spool.is_empty());
        assert!(!path.exists());
    }
}

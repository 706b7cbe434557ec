//! The blob worker pool: a bounded channel of blob ids from the walk to one scanning thread per
//! core, each reading blobs through its own thread-local repository handle.

use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use gix::ObjectId;

use super::{MAX_BLOB_SIZE, git_err};
use crate::Scanner;
use crate::{CommitInfo, Finding, ScanError};

/// Blobs waiting in the channel at most; the walk blocks beyond this.
const QUEUE: usize = 256;

/// One blob to scan.
pub(super) struct Job {
    pub blob: ObjectId,
    pub path: String,
    pub commit: Option<Arc<CommitInfo>>,
}

/// Runs `produce` on this thread, scanning every job it sends on worker threads; returns all
/// findings in the order their jobs were sent (then by line).
pub(super) fn run(
    repo: &gix::ThreadSafeRepository,
    scanner: &Scanner,
    produce: impl FnOnce(&mut dyn FnMut(Job) -> Result<(), ScanError>) -> Result<(), ScanError>,
) -> Result<Vec<Finding>, ScanError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = sync_channel::<(usize, Job)>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let (produced, results) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = Arc::clone(&rx);
                scope.spawn(move || work(repo, scanner, &rx))
            })
            .collect();
        let mut seq = 0usize;
        let produced = produce(&mut |job| {
            seq += 1;
            tx.send((seq, job))
                .map_err(|_| ScanError::Git("blob workers stopped".into()))
        });
        drop(tx);
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ScanError::Git("a blob worker panicked".into())))
            })
            .collect();
        (produced, results)
    });
    scanner.release_caches();
    produced?;
    let mut all = Vec::new();
    for result in results {
        all.extend(result?);
    }
    all.sort_by_key(|(seq, f)| (*seq, f.line, f.column));
    Ok(all.into_iter().map(|(_, f)| f).collect())
}

/// A worker: scans jobs until the channel closes. After an error it keeps draining the channel
/// (so the walk never blocks) and reports the first error.
fn work(
    repo: &gix::ThreadSafeRepository,
    scanner: &Scanner,
    rx: &Mutex<Receiver<(usize, Job)>>,
) -> Result<Vec<(usize, Finding)>, ScanError> {
    let repo = repo.to_thread_local();
    let mut found = Vec::new();
    let mut error = None;
    loop {
        let next = rx
            .lock()
            .map_err(|_| ScanError::Git("blob queue poisoned".into()))?
            .recv();
        let Ok((seq, job)) = next else { break };
        if error.is_some() {
            continue;
        }
        match scan_blob(&repo, scanner, &job) {
            Ok(findings) => found.extend(findings.into_iter().map(|f| (seq, f))),
            Err(e) => error = Some(e),
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

fn scan_blob(repo: &gix::Repository, scanner: &Scanner, job: &Job) -> Result<Vec<Finding>, ScanError> {
    if crate::walk::skip_by_name(std::path::Path::new(&job.path)) {
        return Ok(Vec::new());
    }
    let header = repo.find_header(job.blob).map_err(git_err)?;
    if header.size() > MAX_BLOB_SIZE {
        return Ok(Vec::new());
    }
    let blob = repo.find_object(job.blob).map_err(git_err)?;
    if is_binary(&blob.data) {
        return Ok(Vec::new());
    }
    let mut findings = scanner.scan_bytes(&job.path, &blob.data);
    if let Some(commit) = &job.commit {
        for f in &mut findings {
            f.commit = Some(CommitInfo::clone(commit));
        }
    }
    Ok(findings)
}

/// A NUL byte in the first 8 KiB means binary (as the file walker decides).
fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8 * 1024)].contains(&0)
}

//! Git scanning: every blob in a repository's history (each scanned once, attributed to the
//! oldest commit that introduced it) and the staged content of the index, for pre-commit.
//!
//! The walk runs on the calling thread and feeds blob ids through a bounded channel to a pool
//! of workers, each with its own thread-local repository handle; a worker loads one blob at a
//! time, so memory stays bounded however large the history is.

mod date;
mod pool;
mod walk;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};

use crate::Scanner;
use crate::{CommitInfo, Finding, ScanError};

pub use date::{format_rfc3339, parse_since};

/// Blobs larger than this are skipped, as the file walker skips large files.
pub const MAX_BLOB_SIZE: u64 = 10 * 1024 * 1024;

/// What part of history to scan.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Only commits committed at or after this date (RFC 3339 or `YYYY-MM-DD`).
    pub since: Option<String>,
    /// Only commits reachable from this branch (or any revision); default: every ref.
    pub branch: Option<String>,
}

pub(crate) fn git_err(e: impl std::fmt::Display) -> ScanError {
    ScanError::Git(e.to_string())
}

fn open(repo: &Path) -> Result<gix::Repository, ScanError> {
    let mut repo = gix::discover(repo).map_err(|e| ScanError::Git(format!("{}: {e}", repo.display())))?;
    repo.object_cache_size_if_unset(8 * 1024 * 1024);
    Ok(repo)
}

/// Scans every blob reachable from every ref (or from `opts.branch`), optionally only the
/// changes of commits at or after `opts.since`. Each commit's tree is compared with its first
/// parent's (a root commit contributes its whole tree); each distinct blob is scanned once and
/// its findings carry the oldest commit that introduced it (`Finding::commit`).
pub fn scan_history(repo: &Path, scanner: &Scanner, opts: &HistoryOptions) -> Result<Vec<Finding>, ScanError> {
    let since = opts
        .since
        .as_deref()
        .map(parse_since)
        .transpose()
        .map_err(ScanError::Git)?;
    let repo = open(repo)?;
    let tips = walk::tips(&repo, opts.branch.as_deref())?;
    let commits = walk::ordered_commits(&repo, &tips, since)?;
    let sync_repo = repo.clone().into_sync();

    pool::run(&sync_repo, scanner, |send| {
        let mut seen_blobs: HashSet<ObjectId> = HashSet::new();
        // Skipping already-visited trees is only sound when every ancestor was visited too.
        let mut seen_trees: HashSet<ObjectId> = HashSet::new();
        let mut diff = walk::TreeDiff {
            repo: &repo,
            seen_trees: since.is_none().then_some(&mut seen_trees),
        };
        for walked in &commits {
            let commit = repo.find_commit(walked.id).map_err(git_err)?;
            let tree = commit.tree_id().map_err(git_err)?.detach();
            let parent_tree = match walked.first_parent {
                Some(parent) => Some(
                    repo.find_commit(parent)
                        .map_err(git_err)?
                        .tree_id()
                        .map_err(git_err)?
                        .detach(),
                ),
                None => None,
            };
            let mut info: Option<Arc<CommitInfo>> = None;
            diff.diff(parent_tree, tree, &mut |blob, path| {
                if !seen_blobs.insert(blob) {
                    return Ok(());
                }
                let info = match &info {
                    Some(info) => info.clone(),
                    None => info.insert(Arc::new(commit_info(&commit)?)).clone(),
                };
                send(pool::Job {
                    blob,
                    path: path.to_str_lossy().into_owned(),
                    commit: Some(info),
                })
            })?;
        }
        Ok(())
    })
}

fn commit_info(commit: &gix::Commit<'_>) -> Result<CommitInfo, ScanError> {
    let author = commit.author().map_err(git_err)?.trim();
    let time = author.time().map_err(git_err)?;
    Ok(CommitInfo {
        id: commit.id.to_string(),
        author: author.name.to_str_lossy().into_owned(),
        email: author.email.to_str_lossy().into_owned(),
        date: format_rfc3339(time.seconds, time.offset),
    })
}

/// Scans the blobs staged in the index that differ from `HEAD` (every staged blob when there is
/// no commit yet): what `git commit` would add. Findings have no commit.
pub fn scan_staged(repo: &Path, scanner: &Scanner) -> Result<Vec<Finding>, ScanError> {
    let repo = open(repo)?;
    let index = repo.index_or_empty().map_err(git_err)?;
    let mut head: HashMap<BString, ObjectId> = HashMap::new();
    if let Ok(tree) = repo.head_tree_id() {
        let mut diff = walk::TreeDiff {
            repo: &repo,
            seen_trees: None,
        };
        diff.diff(None, tree.detach(), &mut |blob, path| {
            head.insert(path.to_owned(), blob);
            Ok(())
        })?;
    }
    let sync_repo = repo.clone().into_sync();
    pool::run(&sync_repo, scanner, |send| {
        let mut seen = HashSet::new();
        for entry in index.entries() {
            let is_file = matches!(
                entry.mode,
                gix::index::entry::Mode::FILE | gix::index::entry::Mode::FILE_EXECUTABLE
            );
            let path = entry.path(&index);
            if !is_file || head.get(path) == Some(&entry.id) || !seen.insert((entry.id, path)) {
                continue;
            }
            send(pool::Job {
                blob: entry.id,
                path: path.to_str_lossy().into_owned(),
                commit: None,
            })?;
        }
        Ok(())
    })
}

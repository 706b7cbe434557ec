//! The history walk: which commits to visit (every ref or one branch, optionally since a date),
//! in parents-before-children order, and which blobs each commit's tree introduces relative to
//! its first parent.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};

use super::git_err;
use crate::ScanError;

/// A commit chosen for scanning: id, first parent and committer time.
pub(super) struct WalkedCommit {
    pub id: ObjectId,
    pub first_parent: Option<ObjectId>,
}

/// The commits the walk starts from: every reference (branches, tags, remotes, stash, notes —
/// whatever peels to a commit) plus `HEAD`, or just `branch` when given.
pub(super) fn tips(repo: &gix::Repository, branch: Option<&str>) -> Result<Vec<ObjectId>, ScanError> {
    if let Some(branch) = branch {
        let id = repo
            .rev_parse_single(branch)
            .map_err(|e| ScanError::Git(format!("unknown branch or revision {branch:?}: {e}")))?;
        let commit = id
            .object()
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| ScanError::Git(format!("{branch:?} does not name a commit: {e}")))?;
        return Ok(vec![commit.id]);
    }
    let mut tips = HashSet::new();
    if let Ok(head) = repo.head_commit() {
        tips.insert(head.id);
    }
    let platform = repo.references().map_err(git_err)?;
    for reference in platform.all().map_err(git_err)? {
        let Ok(mut reference) = reference else { continue };
        // Refs to trees or blobs (and broken refs) hold no commits; skip them.
        if let Ok(commit) = reference.peel_to_commit() {
            tips.insert(commit.id);
        }
    }
    let mut tips: Vec<_> = tips.into_iter().collect();
    tips.sort();
    Ok(tips)
}

/// Every commit reachable from `tips` (committed at or after `since`, if given), ordered so
/// that a commit always comes after its parents and otherwise oldest first.
pub(super) fn ordered_commits(
    repo: &gix::Repository,
    tips: &[ObjectId],
    since: Option<i64>,
) -> Result<Vec<WalkedCommit>, ScanError> {
    use gix::revision::walk::Sorting;
    use gix::traverse::commit::simple::CommitTimeOrder;
    let sorting = match since {
        Some(seconds) => Sorting::ByCommitTimeCutoff {
            order: CommitTimeOrder::NewestFirst,
            seconds,
        },
        None => Sorting::ByCommitTime(CommitTimeOrder::NewestFirst),
    };
    let walk = repo
        .rev_walk(tips.iter().copied())
        .sorting(sorting)
        .all()
        .map_err(git_err)?;
    // Newest first from the walk; remember each commit's parents for the topological pass.
    let mut infos = Vec::new();
    for info in walk {
        let info = info.map_err(git_err)?;
        infos.push((info.id, info.parent_ids.to_vec()));
    }
    infos.reverse();
    let index: HashMap<ObjectId, usize> = infos.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
    // Iterative depth-first post-order: parents (within the walked set) before children.
    let mut emitted = vec![false; infos.len()];
    let mut order = Vec::with_capacity(infos.len());
    let mut stack: Vec<(usize, bool)> = Vec::new();
    for start in 0..infos.len() {
        stack.push((start, false));
        while let Some((i, expanded)) = stack.pop() {
            if emitted[i] {
                continue;
            }
            if expanded {
                emitted[i] = true;
                let (id, parents) = &infos[i];
                order.push(WalkedCommit {
                    id: *id,
                    first_parent: parents.first().copied(),
                });
                continue;
            }
            stack.push((i, true));
            for parent in infos[i].1.iter().rev() {
                if let Some(&p) = index.get(parent).filter(|&&p| !emitted[p]) {
                    stack.push((p, false));
                }
            }
        }
    }
    Ok(order)
}

/// One tree entry, owned so the tree's buffer can be released before recursing.
struct Entry {
    name: Vec<u8>,
    mode: gix::object::tree::EntryMode,
    id: ObjectId,
}

fn read_tree(repo: &gix::Repository, id: ObjectId) -> Result<Vec<Entry>, ScanError> {
    let object = repo.find_object(id).map_err(git_err)?;
    let iter = gix::objs::TreeRefIter::from_bytes(&object.data, repo.object_hash());
    let mut entries = Vec::new();
    for entry in iter {
        let entry = entry.map_err(git_err)?;
        entries.push(Entry {
            name: entry.filename.to_vec(),
            mode: entry.mode,
            id: entry.oid.to_owned(),
        });
    }
    Ok(entries)
}

/// Finds the blobs of `new` that are not at the same path in `old` (all of them when `old` is
/// `None`), skipping subtrees equal to the old ones and, when `seen_trees` is given, subtrees
/// already visited in an earlier commit. Calls `emit(blob id, path)`.
pub(super) struct TreeDiff<'a> {
    pub repo: &'a gix::Repository,
    pub seen_trees: Option<&'a mut HashSet<ObjectId>>,
}

impl TreeDiff<'_> {
    /// Diffs `new` against `old`; see the type's documentation.
    pub fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        emit: &mut dyn FnMut(ObjectId, &BStr) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        let mut prefix = Vec::new();
        self.diff_at(old, new, &mut prefix, emit)
    }

    fn diff_at(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        prefix: &mut Vec<u8>,
        emit: &mut dyn FnMut(ObjectId, &BStr) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        if old == Some(new) {
            return Ok(());
        }
        if let Some(seen) = self.seen_trees.as_deref_mut()
            && !seen.insert(new)
        {
            return Ok(());
        }
        let old_entries = match old {
            Some(old) => read_tree(self.repo, old)?,
            None => Vec::new(),
        };
        let old_by_name: HashMap<&[u8], &Entry> = old_entries.iter().map(|e| (e.name.as_slice(), e)).collect();
        for entry in read_tree(self.repo, new)? {
            let before = old_by_name.get(entry.name.as_slice());
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(&entry.name);
            if entry.mode.is_tree() {
                let old_tree = before.filter(|b| b.mode.is_tree()).map(|b| b.id);
                self.diff_at(old_tree, entry.id, prefix, emit)?;
            } else if entry.mode.is_blob() && before.is_none_or(|b| b.id != entry.id) {
                emit(entry.id, prefix.as_bstr())?;
            }
            prefix.truncate(len);
        }
        Ok(())
    }
}

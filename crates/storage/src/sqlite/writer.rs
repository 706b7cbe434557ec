//! The SQLite writer thread: drains queued write requests, commits them as one group, and
//! acknowledges each caller only once its writes are durable.

use super::sqlite_error;
use crate::keys::prefix_end;
use crate::{Op, StorageError};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Most requests committed in one transaction.
const MAX_GROUP: usize = 1024;

/// One caller's writes (applied atomically) and where to report the outcome.
struct Request {
    ops: Vec<Op>,
    done: oneshot::Sender<Result<(), StorageError>>,
}

/// Handle to the writer thread; dropping it lets the thread finish the queue and stop.
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub(super) fn start(conn: Connection) -> std::io::Result<Writer> {
        let (queue, requests) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("coffer-sqlite-writer".to_owned())
            .spawn(move || run(conn, requests))?;
        Ok(Writer {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `ops` and waits until they are committed (or have failed).
    pub(super) async fn submit(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        let stopped = || StorageError::Backend("the SQLite writer has stopped".to_owned());
        let (done, outcome) = oneshot::channel();
        self.queue
            .as_ref()
            .ok_or_else(stopped)?
            .send(Request { ops, done })
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take()); // the thread drains what is queued, then sees the hang-up
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the SQLite writer thread panicked");
        }
    }
}

fn run(mut conn: Connection, requests: mpsc::Receiver<Request>) {
    while let Ok(first) = requests.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group);
    }
    tracing::debug!("SQLite writer stopped");
}

/// Commits `group` in one transaction; if that fails, retries each request in its own
/// transaction so one bad request cannot fail the others. Nobody is told "written" unless
/// their transaction committed.
fn commit_group(conn: &mut Connection, group: Vec<Request>) {
    if group.len() > 1 {
        match apply(conn, group.iter().map(|r| r.ops.as_slice())) {
            Ok(()) => {
                for request in group {
                    let _ = request.done.send(Ok(()));
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, size = group.len(), "group commit failed; retrying one by one");
            }
        }
    }
    for request in group {
        let outcome = apply(conn, std::iter::once(request.ops.as_slice())).map_err(sqlite_error);
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "SQLite write failed");
        }
        let _ = request.done.send(outcome);
    }
}

fn apply<'a>(conn: &mut Connection, batches: impl Iterator<Item = &'a [Op]>) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for ops in batches {
        for op in ops {
            apply_op(&tx, op)?;
        }
    }
    tx.commit()
}

fn apply_op(tx: &Transaction<'_>, op: &Op) -> rusqlite::Result<()> {
    match op {
        Op::Put { key, value } => {
            tx.prepare_cached(
                "INSERT INTO kv (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(rusqlite::params![key, value])?;
        }
        Op::Delete { key } => {
            tx.prepare_cached("DELETE FROM kv WHERE key = ?1")?.execute([key])?;
        }
        Op::DeletePrefix { prefix } => match prefix_end(prefix) {
            Some(end) => {
                tx.prepare_cached("DELETE FROM kv WHERE key >= ?1 AND key < ?2")?
                    .execute([prefix, &end])?;
            }
            None => {
                tx.prepare_cached("DELETE FROM kv WHERE key >= ?1")?.execute([prefix])?;
            }
        },
    }
    Ok(())
}

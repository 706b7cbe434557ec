//! Embedded SQLite backend: one file in WAL mode, one table, one writer thread with group
//! commit, and a small pool of read-only connections used inline by callers.
//!
//! Schema: `kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID`. Keys compare with
//! SQLite's `BINARY` collation, i.e. UTF-8 byte order, the same order as Rust's `str`.

mod writer;

use crate::keys::{Child, check_key, check_ops, child, prefix_end};
use crate::{Op, Physical, StorageError};
use async_trait::async_trait;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long a connection waits for a lock held by another connection (or process).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A `Physical` backend on one SQLite file.
///
/// Writes are queued to a dedicated writer thread, which commits everything queued in one
/// transaction (one fsync per group). Reads run on the caller's thread. Several backends
/// (or processes) may open the same file; each sees the others' committed writes.
pub struct SqliteBackend {
    path: PathBuf,
    writer: writer::Writer,
    readers: Readers,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteBackend {
    /// Opens (creating it and its parent directories if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteBackend, StorageError> {
        let open_err = |e: &dyn std::fmt::Display| StorageError::Open(format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_err(&e))?;
        }
        let conn = open_writer_connection(path).map_err(|e| open_err(&e))?;
        let writer = writer::Writer::start(conn).map_err(|e| open_err(&e))?;
        let readers = Readers::open(path).map_err(|e| open_err(&e))?;
        tracing::debug!(path = %path.display(), "opened SQLite storage");
        Ok(SqliteBackend {
            path: path.to_owned(),
            writer,
            readers,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_writer_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "SQLite refused WAL mode");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;")?;
    Ok(conn)
}

/// Read-only connections; a caller takes a free one, or waits for one when all are busy.
struct Readers {
    slots: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    fn open(path: &Path) -> rusqlite::Result<Readers> {
        let count = std::thread::available_parallelism().map_or(4, |n| n.get() + 2).min(16);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let slots = (0..count)
            .map(|_| {
                let conn = Connection::open_with_flags(path, flags)?;
                conn.busy_timeout(BUSY_TIMEOUT)?;
                Ok(Mutex::new(conn))
            })
            .collect::<rusqlite::Result<_>>()?;
        Ok(Readers {
            slots,
            next: AtomicUsize::new(0),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R, StorageError> {
        if let Some(conn) = self.slots.iter().find_map(|slot| slot.try_lock()) {
            return f(&conn).map_err(sqlite_error);
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let conn = self.slots[i].lock();
        f(&conn).map_err(sqlite_error)
    }
}

pub(crate) fn sqlite_error(e: rusqlite::Error) -> StorageError {
    StorageError::Backend(format!("sqlite: {e}"))
}

/// Lists the children of `prefix`, skipping every key of a sub-directory once it is seen:
/// one range query per run of leaves, plus one per sub-directory.
fn list_conn(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<String>> {
    let end = prefix_end(prefix);
    let tx = conn.unchecked_transaction()?; // one snapshot for all the range queries
    let mut out = Vec::new();
    let mut from = prefix.to_owned();
    loop {
        let mut stmt = match end {
            Some(_) => tx.prepare_cached("SELECT key FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key")?,
            None => tx.prepare_cached("SELECT key FROM kv WHERE key >= ?1 ORDER BY key")?,
        };
        let mut rows = match &end {
            Some(end) => stmt.query(rusqlite::params![from, end])?,
            None => stmt.query(rusqlite::params![from])?,
        };
        let mut resume = None;
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            if !key.starts_with(prefix) {
                break; // only possible without an upper bound; defensive
            }
            match child(prefix, &key) {
                Child::Itself => {}
                Child::Leaf(name) => out.push(name.to_owned()),
                Child::Dir { dir, resume: next } => {
                    out.push(dir.to_owned());
                    resume = Some(next);
                    break;
                }
            }
        }
        drop(rows);
        drop(stmt);
        match resume {
            Some(next) => from = next,
            None => break,
        }
    }
    tx.finish()?;
    Ok(out)
}

#[async_trait]
impl Physical for SqliteBackend {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        self.readers.with(|conn| {
            conn.prepare_cached("SELECT value FROM kv WHERE key = ?1")?
                .query_row([key], |row| row.get(0))
                .optional()
        })
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        check_key(key)?;
        self.writer
            .submit(vec![Op::Put {
                key: key.to_owned(),
                value,
            }])
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        self.writer.submit(vec![Op::Delete { key: key.to_owned() }]).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        check_key(prefix)?;
        self.readers.with(|conn| list_conn(conn, prefix))
    }

    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        check_ops(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        self.writer.submit(ops).await
    }
}

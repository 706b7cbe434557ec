//! Runs the `Physical` conformance suite against every backend, bare and behind the cache.

use async_trait::async_trait;
use coffer_storage::{CachedPhysical, DynPhysical, MemoryBackend, Op, Physical, SqliteBackend, StorageError};
use std::sync::Arc;
use tempfile::TempDir;

/// A SQLite backend on a file in a temporary directory that lives as long as the backend.
struct TempSqlite {
    backend: SqliteBackend,
    _dir: TempDir,
}

#[async_trait]
impl Physical for TempSqlite {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.backend.get(key).await
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.backend.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.backend.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.backend.list(prefix).await
    }
    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        self.backend.batch(ops).await
    }
}

fn memory() -> DynPhysical {
    Arc::new(MemoryBackend::new())
}

fn sqlite() -> DynPhysical {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = SqliteBackend::open(&dir.path().join("coffer.db")).expect("open sqlite");
    Arc::new(TempSqlite { backend, _dir: dir })
}

fn cached(inner: DynPhysical, capacity: usize) -> DynPhysical {
    Arc::new(CachedPhysical::new(inner, capacity))
}

mod memory {
    coffer_storage::physical_conformance_tests!(super::memory());
}

mod sqlite {
    coffer_storage::physical_conformance_tests!(super::sqlite());
}

mod cached_memory {
    coffer_storage::physical_conformance_tests!(super::cached(super::memory(), 10_000));
}

mod cached_sqlite {
    coffer_storage::physical_conformance_tests!(super::cached(super::sqlite(), 10_000));
}

/// A cache far smaller than the working set: evictions must not break anything.
mod tiny_cache_memory {
    coffer_storage::physical_conformance_tests!(super::cached(super::memory(), 4));
}

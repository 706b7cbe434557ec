//! Physical storage: the `Physical` trait and its backends (memory, SQLite).
//!
//! Backends only ever see ciphertext: everything above them goes through the core's barrier.
//! Keys are `/`-separated paths with no leading slash. One conformance suite
//! (`conformance`) runs against every backend.

#![deny(missing_docs)]

use async_trait::async_trait;
use std::sync::Arc;

pub mod cache;
pub mod conformance;
mod keys;
pub mod memory;
pub mod sqlite;

pub use cache::CachedPhysical;
pub use keys::{check_key, check_ops};
pub use memory::MemoryBackend;
pub use sqlite::SqliteBackend;

/// Errors from a storage backend. Messages never contain stored values.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The backend's underlying store failed (I/O, SQLite, …).
    #[error("{0}")]
    Backend(String),
    /// The store could not be opened.
    #[error("cannot open storage: {0}")]
    Open(String),
}

/// One operation inside an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Write `value` at `key`.
    Put {
        /// Key.
        key: String,
        /// Value (ciphertext).
        value: Vec<u8>,
    },
    /// Delete `key` (no error if absent).
    Delete {
        /// Key.
        key: String,
    },
    /// Delete every key starting with `prefix` (used to drop a mount's data).
    DeletePrefix {
        /// Prefix.
        prefix: String,
    },
}

/// A key-value store of opaque bytes.
///
/// Every backend rejects keys (and prefixes) containing a NUL byte with
/// `StorageError::Backend("invalid key")`; a batch is checked whole before any of it applies.
#[async_trait]
pub trait Physical: Send + Sync + 'static {
    /// Reads a value.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Writes a value; durable when it returns.
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError>;
    /// Deletes a value; deleting an absent key succeeds.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
    /// Immediate children of `prefix`, sorted: a key `prefix + "a"` lists as `"a"`, keys under
    /// `prefix + "d/"` list once as `"d/"`. `prefix` is usually empty or ends with `/`.
    /// A key equal to `prefix` itself is not one of its children and is not listed.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
    /// Applies all operations atomically (all or nothing), in order; durable when it returns.
    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError>;
}

/// Shared handle to any backend.
pub type DynPhysical = Arc<dyn Physical>;

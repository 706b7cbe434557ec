//! A read cache in front of any backend, which never serves a value older than the last
//! write that has returned.
//!
//! How staleness is prevented: keys hash onto 64 stripes, each a small mutex around a
//! generation counter. A `get` miss notes its stripe's generation before reading the inner
//! backend, and caches the result only if the generation is unchanged (checked under the
//! stripe mutex). Every write, once the inner backend returns, bumps the generation and drops
//! the cached entry under that same mutex — so a read that raced with a write can never put
//! the old value back. No lock is held across an `.await`, and writers never wait for each
//! other. Writes run in a spawned task so that a caller which gives up waiting cannot skip
//! the invalidation of a write that still lands.

use crate::keys::check_key;
use crate::{DynPhysical, Op, Physical, StorageError};
use async_trait::async_trait;
use parking_lot::{Mutex, MutexGuard};
use quick_cache::sync::Cache;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

/// Number of lock stripes.
const STRIPES: usize = 64;
/// Values larger than this are served but not cached, so `capacity` bounds memory sensibly.
pub const MAX_CACHED_VALUE: usize = 128 * 1024;

/// A `Physical` that caches `get` results (including "absent") in front of another one.
pub struct CachedPhysical {
    shared: Arc<Shared>,
}

struct Shared {
    inner: DynPhysical,
    cache: Cache<String, Option<Vec<u8>>>,
    stripes: Vec<Mutex<u64>>,
    hasher: RandomState,
}

impl std::fmt::Debug for CachedPhysical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedPhysical")
            .field("entries", &self.shared.cache.len())
            .field("capacity", &self.shared.cache.capacity())
            .finish_non_exhaustive()
    }
}

impl CachedPhysical {
    /// Caches up to `capacity` entries in front of `inner`. Writes spawn a task, so they must
    /// be made from within a Tokio runtime.
    pub fn new(inner: DynPhysical, capacity: usize) -> CachedPhysical {
        let shared = Shared {
            inner,
            cache: Cache::new(capacity.max(1)),
            stripes: (0..STRIPES).map(|_| Mutex::new(0)).collect(),
            hasher: RandomState::new(),
        };
        CachedPhysical {
            shared: Arc::new(shared),
        }
    }

    /// Drops the cached entry for `key` (e.g. another node wrote it).
    pub fn invalidate(&self, key: &str) {
        self.shared.invalidate(key);
    }

    /// Drops every cached entry.
    pub fn clear(&self) {
        self.shared.invalidate_prefix("");
    }

    /// Runs a write on the inner backend in its own task, then invalidates what it touched
    /// (also if the write failed, panicked or the runtime shut down mid-way).
    async fn write<Fut>(&self, touched: Touched, write: impl FnOnce(DynPhysical) -> Fut) -> Result<(), StorageError>
    where
        Fut: Future<Output = Result<(), StorageError>> + Send + 'static,
    {
        let guard = Invalidation {
            shared: self.shared.clone(),
            touched,
        };
        let pending = write(self.shared.inner.clone());
        let task = tokio::spawn(async move {
            let outcome = pending.await;
            drop(guard);
            outcome
        });
        task.await
            .map_err(|e| StorageError::Backend(format!("storage write task failed: {e}")))?
    }
}

impl Shared {
    fn stripe(&self, key: &str) -> &Mutex<u64> {
        let hash = self.hasher.hash_one(key);
        &self.stripes[(hash % STRIPES as u64) as usize]
    }

    fn invalidate(&self, key: &str) {
        let mut generation = self.stripe(key).lock();
        *generation += 1;
        self.cache.remove(key);
    }

    /// Invalidates every key starting with `prefix` (all of them for `""`). Holds every stripe
    /// so no in-flight miss can re-insert an entry behind it.
    fn invalidate_prefix(&self, prefix: &str) {
        let mut all: Vec<MutexGuard<'_, u64>> = self.stripes.iter().map(|s| s.lock()).collect();
        for generation in &mut all {
            **generation += 1;
        }
        if prefix.is_empty() {
            self.cache.clear();
        } else {
            self.cache.retain(|key, _| !key.starts_with(prefix));
        }
    }
}

/// What a write touched, to invalidate once it is done.
enum Touched {
    Keys(Vec<String>),
    Prefixes { keys: Vec<String>, prefixes: Vec<String> },
}

impl Touched {
    fn of(ops: &[Op]) -> Touched {
        let mut keys = Vec::new();
        let mut prefixes = Vec::new();
        for op in ops {
            match op {
                Op::Put { key, .. } | Op::Delete { key } => keys.push(key.clone()),
                Op::DeletePrefix { prefix } => prefixes.push(prefix.clone()),
            }
        }
        if prefixes.is_empty() {
            Touched::Keys(keys)
        } else {
            Touched::Prefixes { keys, prefixes }
        }
    }
}

/// Invalidates on drop, so it happens however the write task ends.
struct Invalidation {
    shared: Arc<Shared>,
    touched: Touched,
}

impl Drop for Invalidation {
    fn drop(&mut self) {
        let (keys, prefixes): (&[String], &[String]) = match &self.touched {
            Touched::Keys(keys) => (keys, &[]),
            Touched::Prefixes { keys, prefixes } => (keys, prefixes),
        };
        for key in keys {
            self.shared.invalidate(key);
        }
        for prefix in prefixes {
            self.shared.invalidate_prefix(prefix);
        }
    }
}

#[async_trait]
impl Physical for CachedPhysical {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        if let Some(hit) = self.shared.cache.get(key) {
            return Ok(hit);
        }
        let stripe = self.shared.stripe(key);
        let seen = *stripe.lock();
        let value = self.shared.inner.get(key).await?;
        if value.as_ref().is_none_or(|v| v.len() <= MAX_CACHED_VALUE) {
            let generation = stripe.lock();
            if *generation == seen {
                self.shared.cache.insert(key.to_owned(), value.clone());
            }
        }
        Ok(value)
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        check_key(key)?;
        let key = key.to_owned();
        let touched = Touched::Keys(vec![key.clone()]);
        self.write(touched, move |inner| async move { inner.put(&key, value).await })
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        let key = key.to_owned();
        let touched = Touched::Keys(vec![key.clone()]);
        self.write(touched, move |inner| async move { inner.delete(&key).await })
            .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.shared.inner.list(prefix).await
    }

    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        crate::keys::check_ops(&ops)?;
        let touched = Touched::of(&ops);
        self.write(touched, move |inner| async move { inner.batch(ops).await })
            .await
    }
}

#[cfg(test)]
mod tests;

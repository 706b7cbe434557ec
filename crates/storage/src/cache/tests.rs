//! Deterministic tests of the cache's race handling, with a backend that pauses mid-read.

use super::*;
use crate::MemoryBackend;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// Wraps a memory backend; when armed, a `get` reads its value, then waits for `proceed`
/// before returning it, and a `put` is handed to a background task (as SQLite's writer
/// thread does) that waits for `proceed`, writes, and then signals `landed`.
#[derive(Default)]
struct Gated {
    inner: Arc<MemoryBackend>,
    landed: Arc<Notify>,
    armed_gets: AtomicUsize,
    armed_puts: AtomicUsize,
    read_done: Notify,
    proceed: Arc<Notify>,
    gets: AtomicUsize,
}

#[async_trait]
impl Physical for Gated {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let value = self.inner.get(key).await?;
        if self.armed_gets.swap(0, Ordering::SeqCst) > 0 {
            self.read_done.notify_one();
            self.proceed.notified().await;
        }
        Ok(value)
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        if self.armed_puts.swap(0, Ordering::SeqCst) > 0 {
            let (inner, landed, key) = (self.inner.clone(), self.landed.clone(), key.to_owned());
            let proceed = self.proceed.clone();
            let (done, outcome) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                proceed.notified().await;
                let _ = done.send(inner.put(&key, value).await);
                landed.notify_one();
            });
            return outcome.await.unwrap();
        }
        self.inner.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.inner.list(prefix).await
    }
    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        self.inner.batch(ops).await
    }
}

fn setup() -> (Arc<Gated>, Arc<CachedPhysical>) {
    let gated = Arc::new(Gated::default());
    let cached = Arc::new(CachedPhysical::new(gated.clone(), 100));
    (gated, cached)
}

/// Starts a `get(key)` through the cache that reads the inner value and then pauses.
async fn paused_miss(
    gated: &Arc<Gated>,
    cached: &Arc<CachedPhysical>,
    key: &'static str,
) -> tokio::task::JoinHandle<Option<Vec<u8>>> {
    gated.armed_gets.store(1, Ordering::SeqCst);
    let reader = cached.clone();
    let task = tokio::spawn(async move { reader.get(key).await.unwrap() });
    gated.read_done.notified().await;
    task
}

#[tokio::test(flavor = "multi_thread")]
async fn a_miss_racing_a_put_cannot_cache_the_old_value() {
    let (gated, cached) = setup();
    gated.inner.put("k", b"old".to_vec()).await.unwrap();
    let reader = paused_miss(&gated, &cached, "k").await; // has read "old", not yet cached it
    cached.put("k", b"new".to_vec()).await.unwrap();
    gated.proceed.notify_one();
    assert_eq!(reader.await.unwrap().as_deref(), Some(&b"old"[..]), "concurrent read");
    assert_eq!(
        cached.get("k").await.unwrap().as_deref(),
        Some(&b"new"[..]),
        "stale after put"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_miss_racing_a_delete_or_prefix_delete_cannot_resurrect() {
    let (gated, cached) = setup();
    gated.inner.put("a/k", b"old".to_vec()).await.unwrap();
    let reader = paused_miss(&gated, &cached, "a/k").await;
    cached.delete("a/k").await.unwrap();
    gated.proceed.notify_one();
    reader.await.unwrap();
    assert_eq!(cached.get("a/k").await.unwrap(), None, "deleted value came back");

    gated.inner.put("a/k", b"again".to_vec()).await.unwrap();
    cached.invalidate("a/k");
    let reader = paused_miss(&gated, &cached, "a/k").await;
    cached
        .batch(vec![Op::DeletePrefix { prefix: "a/".into() }])
        .await
        .unwrap();
    gated.proceed.notify_one();
    reader.await.unwrap();
    assert_eq!(
        cached.get("a/k").await.unwrap(),
        None,
        "value came back after DeletePrefix"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_miss_racing_a_remote_invalidation_cannot_cache_the_old_value() {
    let (gated, cached) = setup();
    gated.inner.put("k", b"old".to_vec()).await.unwrap();
    let reader = paused_miss(&gated, &cached, "k").await;
    gated.inner.put("k", b"remote".to_vec()).await.unwrap(); // another node wrote…
    cached.invalidate("k"); // …and notified us
    gated.proceed.notify_one();
    reader.await.unwrap();
    assert_eq!(cached.get("k").await.unwrap().as_deref(), Some(&b"remote"[..]));

    let reader = paused_miss(&gated, &cached, "k2").await;
    gated.inner.put("k2", b"remote".to_vec()).await.unwrap();
    cached.clear();
    gated.proceed.notify_one();
    assert_eq!(reader.await.unwrap(), None);
    assert_eq!(cached.get("k2").await.unwrap().as_deref(), Some(&b"remote"[..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_write_that_lands_still_invalidates() {
    let (gated, cached) = setup();
    cached.put("k", b"old".to_vec()).await.unwrap();
    gated.armed_puts.store(1, Ordering::SeqCst);
    let abandoned = tokio::time::timeout(std::time::Duration::from_millis(20), cached.put("k", b"new".to_vec())).await;
    assert!(abandoned.is_err(), "the put should still be waiting");
    // While the write is in flight, a read caches the old value: allowed, the write has not
    // returned. But once the write lands, the cache must let go of it.
    assert_eq!(cached.get("k").await.unwrap().as_deref(), Some(&b"old"[..]));
    gated.proceed.notify_one();
    gated.landed.notified().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while cached.get("k").await.unwrap().as_deref() != Some(&b"new"[..]) {
        assert!(tokio::time::Instant::now() < deadline, "cache kept the old value");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hits_and_absent_keys_are_served_from_the_cache() {
    let (gated, cached) = setup();
    cached.put("k", b"v".to_vec()).await.unwrap();
    for _ in 0..3 {
        assert_eq!(cached.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(cached.get("absent").await.unwrap(), None);
    }
    assert_eq!(gated.gets.load(Ordering::SeqCst), 2, "one inner read per key");
    cached.invalidate("k");
    cached.get("k").await.unwrap();
    assert_eq!(gated.gets.load(Ordering::SeqCst), 3, "invalidate forces a re-read");
    cached.put("big", vec![7; MAX_CACHED_VALUE + 1]).await.unwrap();
    cached.get("big").await.unwrap();
    cached.get("big").await.unwrap();
    assert_eq!(gated.gets.load(Ordering::SeqCst), 5, "oversized values are not cached");
}

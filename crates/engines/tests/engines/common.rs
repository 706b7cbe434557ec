//! Test harness: a mounted backend over a real barrier, with storage call counters and a
//! switch that makes batches fail (to check that failed writes change nothing).

use async_trait::async_trait;
use coffer_core::backend::{Backend, BackendRequest, Caller, MountContext, Registry};
use coffer_core::barrier::Barrier;
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use coffer_storage::memory::MemoryBackend;
use coffer_storage::{Op, Physical, StorageError};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Physical storage that counts calls and can refuse batches.
pub struct Counting {
    inner: MemoryBackend,
    pub gets: AtomicUsize,
    pub puts: AtomicUsize,
    pub batches: AtomicUsize,
    pub fail_batches: AtomicBool,
}

#[async_trait]
impl Physical for Counting {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.inner.list(prefix).await
    }
    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        if self.fail_batches.load(Ordering::SeqCst) {
            return Err(StorageError::Backend("injected failure".into()));
        }
        self.inner.batch(ops).await
    }
}

impl Counting {
    fn new() -> Self {
        Counting {
            inner: MemoryBackend::new(),
            gets: AtomicUsize::new(0),
            puts: AtomicUsize::new(0),
            batches: AtomicUsize::new(0),
            fail_batches: AtomicBool::new(false),
        }
    }

    /// Zeroes the counters.
    pub fn reset(&self) {
        self.gets.store(0, Ordering::SeqCst);
        self.puts.store(0, Ordering::SeqCst);
        self.batches.store(0, Ordering::SeqCst);
    }
}

/// One mounted engine.
pub struct Mount {
    pub backend: Arc<dyn Backend>,
    pub view: View,
    pub physical: Arc<Counting>,
    pub caller: Option<Caller>,
    pub mount_point: String,
}

fn caller(token_id: &str) -> Caller {
    Caller {
        token_id: token_id.to_string(),
        ..Default::default()
    }
}

/// Mounts `kind` with `options` at `secret/` over fresh storage.
pub fn mount(kind: &str, options: &[(&str, &str)]) -> Result<Mount> {
    let physical = Arc::new(Counting::new());
    let barrier = Arc::new(Barrier::new(physical.clone()));
    barrier.install(coffer_crypto::Keyring::generate());
    let view = View::new(barrier, "logical/test/");
    let mut registry = Registry::new();
    coffer_engines::register_all(&mut registry);
    let factory = registry.get(kind).expect("registered").clone();
    let options: HashMap<String, String> = options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let ctx = MountContext {
        view: view.clone(),
        mount_point: "secret/".into(),
        kind: kind.into(),
        options,
    };
    let backend = factory(ctx)?;
    Ok(Mount {
        backend,
        view,
        physical,
        caller: Some(caller("token-a")),
        mount_point: "secret/".into(),
    })
}

pub fn kv2() -> Mount {
    mount("kv", &[("version", "2")]).expect("kv v2 mounts")
}

pub fn kv1() -> Mount {
    mount("kv", &[]).expect("kv v1 mounts")
}

impl Mount {
    /// Same mount as another token.
    pub fn as_token(&self, token_id: Option<&str>) -> Mount {
        Mount {
            backend: self.backend.clone(),
            view: self.view.clone(),
            physical: self.physical.clone(),
            caller: token_id.map(caller),
            mount_point: self.mount_point.clone(),
        }
    }

    fn request<'a>(&'a self, op: Operation, path: &'a str, data: &'a Map<String, Value>) -> BackendRequest<'a> {
        BackendRequest {
            caller: self.caller.as_ref(),
            ..BackendRequest::new(op, path, data, &self.mount_point)
        }
    }

    /// Calls the backend.
    pub async fn call(&self, op: Operation, path: &str, body: Value) -> Result<Response> {
        let data = match body {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => panic!("test bodies are objects, got {other}"),
        };
        self.backend.handle(&self.request(op, path, &data)).await
    }

    /// The existence check.
    pub async fn exists(&self, op: Operation, path: &str) -> Result<Option<bool>> {
        let data = Map::new();
        self.backend.exists(&self.request(op, path, &data)).await
    }

    /// Calls and expects success; returns the response.
    pub async fn ok(&self, op: Operation, path: &str, body: Value) -> Response {
        match self.call(op, path, body).await {
            Ok(r) => r,
            Err(e) => panic!("{op:?} {path} failed: {e}"),
        }
    }

    /// Calls and expects success with a body; returns `data` as a JSON value.
    pub async fn data(&self, op: Operation, path: &str, body: Value) -> Value {
        let r = self.ok(op, path, body).await;
        assert_eq!(r.status, None, "{op:?} {path} answered status {:?}", r.status);
        Value::Object(r.data.unwrap_or_else(|| panic!("{op:?} {path} returned no data")))
    }

    /// Calls and expects an error.
    pub async fn err(&self, op: Operation, path: &str, body: Value) -> CoreError {
        match self.call(op, path, body).await {
            Ok(r) => panic!("{op:?} {path} should fail, got {r:?}"),
            Err(e) => e,
        }
    }

    /// Calls and expects a 400 whose message contains `needle`.
    pub async fn bad(&self, op: Operation, path: &str, body: Value, needle: &str) {
        match self.err(op, path, body).await {
            CoreError::BadRequest(msg) => assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}"),
            other => panic!("{op:?} {path}: expected 400, got {other:?}"),
        }
    }

    /// Calls and expects a plain 404.
    pub async fn not_found(&self, op: Operation, path: &str, body: Value) {
        match self.err(op, path, body).await {
            CoreError::NotFound(_) => {}
            other => panic!("{op:?} {path}: expected 404, got {other:?}"),
        }
    }

    /// Calls and expects a 404 that carries a body (deleted/destroyed versions).
    pub async fn not_found_body(&self, op: Operation, path: &str, body: Value) -> Value {
        let r = self.ok(op, path, body).await;
        assert_eq!(r.status, Some(404), "{op:?} {path} should answer 404 with a body");
        Value::Object(r.data.expect("404 body"))
    }

    /// Calls and expects 204 (no data, no warnings).
    pub async fn no_content(&self, op: Operation, path: &str, body: Value) {
        let r = self.ok(op, path, body).await;
        assert!(
            r.data.is_none() && r.warnings.is_empty() && r.status.is_none(),
            "expected 204, got {r:?}"
        );
    }

    /// Raw keys stored under a prefix of the mount's view.
    pub async fn stored(&self, prefix: &str) -> Vec<String> {
        self.view.list(prefix).await.expect("list")
    }
}

/// Parses a Vault timestamp into Unix nanoseconds, checking its exact shape.
pub fn parse_time(s: &str) -> i128 {
    assert!(
        s.ends_with('Z') && s.len() >= 20 && &s[10..11] == "T",
        "bad timestamp {s:?}"
    );
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"));
    t.unix_timestamp_nanos()
}

//! In-memory backend: a sorted map behind a lock. For tests and `--dev`; nothing persists.

use crate::keys::{Child, check_key, check_ops, child};
use crate::{Op, Physical, StorageError};
use async_trait::async_trait;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::ops::Bound;

/// A `Physical` backend that keeps everything in a `BTreeMap`.
#[derive(Default)]
pub struct MemoryBackend {
    map: RwLock<BTreeMap<String, Vec<u8>>>,
}

impl std::fmt::Debug for MemoryBackend {
    /// Shows the number of keys, never keys or values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("keys", &self.map.read().len())
            .finish()
    }
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }
}

fn apply(map: &mut BTreeMap<String, Vec<u8>>, op: Op) {
    match op {
        Op::Put { key, value } => {
            map.insert(key, value);
        }
        Op::Delete { key } => {
            map.remove(&key);
        }
        Op::DeletePrefix { prefix } => {
            let doomed: Vec<String> = map
                .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            for key in doomed {
                map.remove(&key);
            }
        }
    }
}

/// `list` over a sorted map, skipping past every key of a sub-directory once it is seen.
fn list_map(map: &BTreeMap<String, Vec<u8>>, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = prefix.to_owned();
    loop {
        let mut resume = None;
        let range = map.range::<str, _>((Bound::Included(from.as_str()), Bound::Unbounded));
        for key in range.map(|(k, _)| k).take_while(|k| k.starts_with(prefix)) {
            match child(prefix, key) {
                Child::Itself => {}
                Child::Leaf(name) => out.push(name.to_owned()),
                Child::Dir { dir, resume: next } => {
                    out.push(dir.to_owned());
                    resume = Some(next);
                    break;
                }
            }
        }
        match resume {
            Some(next) => from = next,
            None => return out,
        }
    }
}

#[async_trait]
impl Physical for MemoryBackend {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        Ok(self.map.read().get(key).cloned())
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        check_key(key)?;
        self.map.write().insert(key.to_owned(), value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        self.map.write().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        check_key(prefix)?;
        Ok(list_map(&self.map.read(), prefix))
    }

    async fn batch(&self, ops: Vec<Op>) -> Result<(), StorageError> {
        check_ops(&ops)?;
        let mut map = self.map.write();
        for op in ops {
            apply(&mut map, op);
        }
        Ok(())
    }
}

//! `View`: an encrypted, prefix-scoped slice of the barrier. Engines get one per mount and
//! cannot reach outside it.

use crate::barrier::{Barrier, BarrierOp};
use crate::{CoreError, Result};
use coffer_crypto::SecretBytes;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

/// One operation of an atomic view batch; keys are relative to the view.
#[derive(Debug)]
pub enum ViewOp {
    /// Write a value.
    Put(String, Vec<u8>),
    /// Delete a key.
    Delete(String),
    /// Delete every key under a relative prefix.
    DeletePrefix(String),
}

/// Prefix-scoped access to the barrier.
#[derive(Clone)]
pub struct View {
    barrier: Arc<Barrier>,
    prefix: String,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View").field("prefix", &self.prefix).finish()
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.contains('\0') || key.split('/').any(|s| s == "..") {
        return Err(CoreError::bad("invalid path"));
    }
    Ok(())
}

impl View {
    /// A view of everything under `prefix` (which should end with `/`).
    pub fn new(barrier: Arc<Barrier>, prefix: impl Into<String>) -> Self {
        View {
            barrier,
            prefix: prefix.into(),
        }
    }

    /// The absolute storage prefix of this view.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A narrower view under `sub` (relative; should end with `/`).
    pub fn sub(&self, sub: &str) -> View {
        View {
            barrier: self.barrier.clone(),
            prefix: format!("{}{}", self.prefix, sub),
        }
    }

    fn abs(&self, key: &str) -> Result<String> {
        check_key(key)?;
        Ok(format!("{}{}", self.prefix, key))
    }

    /// Reads and decrypts a value.
    pub async fn get(&self, key: &str) -> Result<Option<SecretBytes>> {
        self.barrier.get(&self.abs(key)?).await
    }

    /// Encrypts and writes a value.
    pub async fn put(&self, key: &str, value: &[u8]) -> Result<()> {
        self.barrier.put(&self.abs(key)?, value).await
    }

    /// Deletes a value.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.barrier.delete(&self.abs(key)?).await
    }

    /// Immediate children of a relative prefix (`""` for the top), sorted; folders end in `/`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.barrier.list(&self.abs(prefix)?).await
    }

    /// Applies operations atomically.
    pub async fn batch(&self, ops: Vec<ViewOp>) -> Result<()> {
        let ops = ops
            .into_iter()
            .map(|op| {
                Ok(match op {
                    ViewOp::Put(k, v) => BarrierOp::Put(self.abs(&k)?, v),
                    ViewOp::Delete(k) => BarrierOp::Delete(self.abs(&k)?),
                    ViewOp::DeletePrefix(p) => BarrierOp::DeletePrefix(self.abs(&p)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.barrier.batch(ops).await
    }

    /// Deletes everything in this view.
    pub async fn clear(&self) -> Result<()> {
        self.barrier
            .batch(vec![BarrierOp::DeletePrefix(self.prefix.clone())])
            .await
    }

    /// Reads a JSON value.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get(key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(bytes.expose()).map(Some).map_err(|e| {
                CoreError::Internal(format!(
                    "corrupt record at {key} (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            }),
        }
    }

    /// Writes a JSON value.
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.put(key, &to_json(value)?).await
    }
}

/// Serializes a record for storage.
pub fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| CoreError::Internal(format!("cannot encode record: {e}")))
}

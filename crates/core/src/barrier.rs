//! The barrier: every value stored through it is AES-256-GCM sealed under the keyring's
//! active term, with its storage path as associated data. Sealed, it refuses everything.

use crate::{CoreError, Result};
use arc_swap::ArcSwapOption;
use coffer_crypto::{Keyring, SecretBytes};
use coffer_storage::{DynPhysical, Op};
use std::sync::Arc;

/// One operation of an atomic barrier batch (plaintext values; encrypted on apply).
#[derive(Debug)]
pub enum BarrierOp {
    /// Encrypt and write.
    Put(String, Vec<u8>),
    /// Delete one key.
    Delete(String),
    /// Delete every key under a prefix.
    DeletePrefix(String),
}

/// Encrypting layer over physical storage.
pub struct Barrier {
    physical: DynPhysical,
    keyring: ArcSwapOption<Keyring>,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier").field("sealed", &self.is_sealed()).finish()
    }
}

impl Barrier {
    /// A sealed barrier over `physical`.
    pub fn new(physical: DynPhysical) -> Self {
        Barrier {
            physical,
            keyring: ArcSwapOption::empty(),
        }
    }

    /// The physical store below (for unencrypted bootstrap records such as the seal config).
    pub fn physical(&self) -> &DynPhysical {
        &self.physical
    }

    /// Whether no keyring is loaded.
    pub fn is_sealed(&self) -> bool {
        self.keyring.load().is_none()
    }

    /// Installs a keyring (unseal, or rotation).
    pub fn install(&self, keyring: Keyring) {
        self.keyring.store(Some(Arc::new(keyring)));
    }

    /// Drops the keyring; its key bytes are zeroized once the last reader lets go.
    pub fn seal(&self) {
        self.keyring.store(None);
    }

    /// The current keyring.
    pub fn keyring(&self) -> Result<Arc<Keyring>> {
        self.keyring.load_full().ok_or(CoreError::Sealed)
    }

    /// Reads and decrypts `path`.
    pub async fn get(&self, path: &str) -> Result<Option<SecretBytes>> {
        let keyring = self.keyring()?;
        match self.physical.get(path).await? {
            None => Ok(None),
            Some(sealed) => keyring.decrypt(path.as_bytes(), &sealed).map(Some).map_err(|e| {
                tracing::error!(path, error = %e, "stored value failed to decrypt");
                CoreError::Crypto(e)
            }),
        }
    }

    /// Encrypts and writes `value` at `path`.
    pub async fn put(&self, path: &str, value: &[u8]) -> Result<()> {
        let sealed = self.keyring()?.encrypt(path.as_bytes(), value);
        Ok(self.physical.put(path, sealed).await?)
    }

    /// Deletes `path`.
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.keyring()?;
        Ok(self.physical.delete(path).await?)
    }

    /// Immediate children under `prefix` (see `Physical::list`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.keyring()?;
        Ok(self.physical.list(prefix).await?)
    }

    /// Applies all operations atomically.
    pub async fn batch(&self, ops: Vec<BarrierOp>) -> Result<()> {
        let keyring = self.keyring()?;
        let ops = ops
            .into_iter()
            .map(|op| match op {
                BarrierOp::Put(key, value) => {
                    let value = keyring.encrypt(key.as_bytes(), &value);
                    Op::Put { key, value }
                }
                BarrierOp::Delete(key) => Op::Delete { key },
                BarrierOp::DeletePrefix(prefix) => Op::DeletePrefix { prefix },
            })
            .collect();
        Ok(self.physical.batch(ops).await?)
    }
}

//! The seal: Shamir shares of the unseal key, which decrypts the root key, which decrypts the
//! keyring. Bootstrap records live in physical storage outside the barrier.

use crate::{CoreError, Result};
use coffer_crypto::{Key256, Keyring, SecretBytes, aead, shamir};
use coffer_storage::{DynPhysical, Op};
use serde::{Deserialize, Serialize};

/// Physical path of the seal configuration (plaintext; not secret).
pub const SEAL_CONFIG_PATH: &str = "core/seal-config";
/// Physical path of the root key, sealed by the unseal key.
pub const ROOT_KEY_PATH: &str = "core/root-key";
/// Physical path of the keyring, sealed by the root key.
pub const KEYRING_PATH: &str = "core/keyring";

/// Shamir parameters, stored at init.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealConfig {
    /// Number of shares.
    pub secret_shares: u8,
    /// Shares needed to unseal.
    pub secret_threshold: u8,
}

/// Unseal shares submitted so far.
#[derive(Default)]
pub struct UnsealProgress {
    /// Shares received (deduplicated).
    pub shares: Vec<SecretBytes>,
    /// Nonce of this unseal attempt.
    pub nonce: String,
}

impl std::fmt::Debug for UnsealProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnsealProgress")
            .field("progress", &self.shares.len())
            .finish()
    }
}

/// Reads the seal config; `None` = not initialised.
pub async fn load_config(physical: &DynPhysical) -> Result<Option<SealConfig>> {
    match physical.get(SEAL_CONFIG_PATH).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| CoreError::Internal("seal configuration is corrupt".into())),
    }
}

/// Material produced at initialisation.
pub struct InitMaterial {
    /// The unseal key shares handed to operators.
    pub shares: Vec<SecretBytes>,
    /// The root key (kept while unsealed, for keyring rotation).
    pub root_key: Key256,
    /// The first keyring.
    pub keyring: Keyring,
}

/// Generates keys, persists the sealed root key and keyring (not yet the seal config: the
/// caller writes it last, so an interrupted init is not mistaken for a finished one).
pub async fn generate(physical: &DynPhysical, config: &SealConfig) -> Result<InitMaterial> {
    let unseal_key = Key256::generate();
    let root_key = Key256::generate();
    let keyring = Keyring::generate();
    let shares = shamir::split(unseal_key.as_bytes(), config.secret_shares, config.secret_threshold)?;
    let sealed_root = aead::seal(&unseal_key, ROOT_KEY_PATH.as_bytes(), root_key.as_bytes());
    let sealed_keyring = aead::seal(&root_key, KEYRING_PATH.as_bytes(), keyring.to_bytes().expose());
    physical
        .batch(vec![
            Op::Put {
                key: ROOT_KEY_PATH.into(),
                value: sealed_root,
            },
            Op::Put {
                key: KEYRING_PATH.into(),
                value: sealed_keyring,
            },
        ])
        .await?;
    Ok(InitMaterial {
        shares,
        root_key,
        keyring,
    })
}

/// Writes the seal config: from here on the server counts as initialised.
pub async fn write_config(physical: &DynPhysical, config: &SealConfig) -> Result<()> {
    let bytes = serde_json::to_vec(config).map_err(|e| CoreError::Internal(e.to_string()))?;
    Ok(physical.put(SEAL_CONFIG_PATH, bytes).await?)
}

/// Recovers root key and keyring from enough shares. Wrong shares fail authentication.
pub async fn open(physical: &DynPhysical, shares: &[SecretBytes]) -> Result<(Key256, Keyring)> {
    let parts: Vec<&[u8]> = shares.iter().map(|s| s.expose()).collect();
    let unseal_key = Key256::from_slice(shamir::combine(&parts)?.expose())
        .map_err(|_| CoreError::bad("unseal failed: the key shares do not form a valid unseal key"))?;
    let sealed_root = physical
        .get(ROOT_KEY_PATH)
        .await?
        .ok_or_else(|| CoreError::Internal("root key is missing from storage".into()))?;
    let root_key = aead::open(&unseal_key, ROOT_KEY_PATH.as_bytes(), &sealed_root)
        .map_err(|_| CoreError::bad("unseal failed: the key shares do not form a valid unseal key"))?;
    let root_key = Key256::from_slice(root_key.expose())?;
    let keyring = load_keyring(physical, &root_key).await?;
    Ok((root_key, keyring))
}

async fn load_keyring(physical: &DynPhysical, root_key: &Key256) -> Result<Keyring> {
    let sealed = physical
        .get(KEYRING_PATH)
        .await?
        .ok_or_else(|| CoreError::Internal("keyring is missing from storage".into()))?;
    let bytes = aead::open(root_key, KEYRING_PATH.as_bytes(), &sealed)?;
    Ok(Keyring::from_bytes(bytes.expose())?)
}

/// Persists a rotated keyring under the root key.
pub async fn store_keyring(physical: &DynPhysical, root_key: &Key256, keyring: &Keyring) -> Result<()> {
    let sealed = aead::seal(root_key, KEYRING_PATH.as_bytes(), keyring.to_bytes().expose());
    Ok(physical.put(KEYRING_PATH, sealed).await?)
}

/// Decodes an unseal key given as base64 or hex (Vault accepts both).
pub fn decode_key(key: &str) -> Result<SecretBytes> {
    use base64::Engine;
    let key = key.trim();
    if let Ok(bytes) = hex::decode(key) {
        return Ok(SecretBytes::new(bytes));
    }
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .map(SecretBytes::new)
        .map_err(|_| CoreError::bad("'key' must be a valid hex or base64 string"))
}

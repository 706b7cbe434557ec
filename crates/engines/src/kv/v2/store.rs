//! KV v2 records and their storage layout.
//!
//! Layout inside the mount's view:
//! - `config`: the mount-wide [`Config`].
//! - `meta/<key>`: one [`KeyMeta`] per secret, holding the metadata of every kept version
//!   (at most `max_versions` entries).
//! - `ver/<n>/<key>`: the data of version `n` (the version number comes first so that no
//!   key's records can be mistaken for another key's, whatever `/` the keys contain).
//!
//! Reading the latest version costs two reads (metadata, then data). Every write of a
//! request goes into one atomic batch: the new metadata, the new version's data, and the
//! deletion of versions trimmed past `max_versions`.

use super::clock;
use coffer_core::duration::format_seconds;
use coffer_core::view::{View, ViewOp, to_json};
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// Versions kept per key when neither the key nor the mount sets `max_versions`.
pub const DEFAULT_MAX_VERSIONS: u32 = 10;

const LOCK_STRIPES: usize = 64;

/// Mount-wide settings (`<mount>/config`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Versions to keep per key; 0 means the default (10).
    pub max_versions: u32,
    /// Whether every write must carry `options.cas`.
    pub cas_required: bool,
    /// Seconds after which new versions read as deleted; 0 unset, negative disables it for
    /// every key.
    pub delete_version_after: i64,
}

impl Config {
    /// The body of a config read.
    pub fn to_json(&self) -> Value {
        json!({
            "max_versions": self.max_versions,
            "cas_required": self.cas_required,
            "delete_version_after": format_seconds(self.delete_version_after),
        })
    }
}

/// Metadata of one version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VersionMeta {
    /// When the version was written (Unix nanoseconds).
    pub created_time: i64,
    /// When the version is (or was) deleted; a time in the future is a scheduled deletion.
    pub deletion_time: Option<i64>,
    /// Whether the data was destroyed for good.
    pub destroyed: bool,
}

impl VersionMeta {
    /// Whether the version reads as deleted at `now`.
    pub fn is_deleted(&self, now: i64) -> bool {
        self.deletion_time.is_some_and(|t| t <= now)
    }

    /// Whether the version's data can be read at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        !self.destroyed && !self.is_deleted(now)
    }
}

/// Metadata of one secret: settings and the kept versions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyMeta {
    /// Latest version number (0 before the first write).
    pub current_version: u64,
    /// Vault's sliding-window marker: 0 until versions have been trimmed, then the oldest
    /// kept version.
    pub oldest_version: u64,
    /// Per-key `max_versions` (0 = use the mount's).
    pub max_versions: u32,
    /// Per-key `cas_required`.
    pub cas_required: bool,
    /// Per-key `delete_version_after` in seconds (0 = unset).
    pub delete_version_after: i64,
    /// User key/value pairs; `None` prints as `null`.
    pub custom_metadata: Option<BTreeMap<String, String>>,
    /// When the metadata was created.
    pub created_time: Option<i64>,
    /// When the last version was written.
    pub updated_time: Option<i64>,
    /// Kept versions by number.
    pub versions: BTreeMap<u64, VersionMeta>,
}

impl KeyMeta {
    /// `custom_metadata` as JSON: `null` when unset or empty (as Vault stores it).
    pub fn custom_metadata_json(&self) -> Value {
        match &self.custom_metadata {
            Some(m) if !m.is_empty() => json!(m),
            _ => Value::Null,
        }
    }

    /// The per-version metadata object used by data reads and writes.
    pub fn version_json(&self, number: u64, vm: &VersionMeta) -> Map<String, Value> {
        let value = json!({
            "version": number,
            "created_time": clock::format(Some(vm.created_time)),
            "deletion_time": clock::format(vm.deletion_time),
            "destroyed": vm.destroyed,
            "custom_metadata": self.custom_metadata_json(),
        });
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// Appends a version and slides the window of kept versions. Returns the numbers of the
    /// versions dropped from the metadata, whose data must be deleted.
    pub fn add_version(&mut self, created: i64, deletion: Option<i64>, config_max: u32) -> Vec<u64> {
        self.current_version += 1;
        self.versions.insert(
            self.current_version,
            VersionMeta {
                created_time: created,
                deletion_time: deletion,
                destroyed: false,
            },
        );
        self.updated_time = Some(created);
        self.created_time.get_or_insert(created);
        // Vault keeps the larger of the key's and the mount's setting.
        let max = match self.max_versions.max(config_max) {
            0 => DEFAULT_MAX_VERSIONS,
            m => m,
        };
        let mut removed = Vec::new();
        if self.current_version - self.oldest_version >= u64::from(max) {
            let last_to_delete = self.current_version - u64::from(max);
            let doomed: Vec<u64> = self.versions.range(..=last_to_delete).map(|(n, _)| *n).collect();
            for n in doomed {
                self.versions.remove(&n);
                removed.push(n);
            }
            self.oldest_version = last_to_delete + 1;
        }
        removed
    }

    /// When a version created at `created` is to be deleted: `created` plus the smaller
    /// non-zero `delete_version_after` of the mount and the key, unless the mount disables it.
    pub fn deletion_time(&self, config: &Config, created: i64) -> Option<i64> {
        if config.delete_version_after < 0 {
            return None;
        }
        let after = match (config.delete_version_after, self.delete_version_after) {
            (0, 0) => return None,
            (0, key) => key,
            (mount, 0) => mount,
            (mount, key) => mount.min(key),
        };
        Some(clock::add_secs(created, after))
    }

    /// The body of a metadata read.
    pub fn to_json(&self) -> Value {
        let versions: Map<String, Value> = self
            .versions
            .iter()
            .map(|(n, vm)| {
                let v = json!({
                    "created_time": clock::format(Some(vm.created_time)),
                    "deletion_time": clock::format(vm.deletion_time),
                    "destroyed": vm.destroyed,
                });
                (n.to_string(), v)
            })
            .collect();
        json!({
            "versions": versions,
            "current_version": self.current_version,
            "oldest_version": self.oldest_version,
            "created_time": clock::format(self.created_time),
            "updated_time": clock::format(self.updated_time),
            "max_versions": self.max_versions,
            "cas_required": self.cas_required,
            "delete_version_after": format_seconds(self.delete_version_after),
            "custom_metadata": self.custom_metadata_json(),
        })
    }
}

/// Storage access for a KV v2 mount, with per-key write locks.
#[derive(Clone)]
pub struct Store {
    view: View,
    locks: Arc<Vec<Mutex<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("view", &self.view).finish()
    }
}

/// Storage key of the mount config.
pub const CONFIG_KEY: &str = "config";
/// Storage prefix of the key metadata records.
pub const META_PREFIX: &str = "meta/";

/// Storage key of a secret's metadata.
pub fn meta_key(key: &str) -> String {
    format!("{META_PREFIX}{key}")
}

/// Storage key of one version's data.
pub fn version_key(key: &str, version: u64) -> String {
    format!("ver/{version}/{key}")
}

impl Store {
    /// A store over a mount's view.
    pub fn new(view: View) -> Self {
        let locks = (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect();
        Store {
            view,
            locks: Arc::new(locks),
        }
    }

    /// The underlying view.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Serialises writers of one key (within this node).
    pub async fn lock(&self, key: &str) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        self.locks[(h.finish() as usize) % LOCK_STRIPES].lock().await
    }

    /// The mount config (defaults when never written).
    pub async fn config(&self) -> Result<Config> {
        Ok(self.view.get_json(CONFIG_KEY).await?.unwrap_or_default())
    }

    /// Writes the mount config.
    pub async fn put_config(&self, config: &Config) -> Result<()> {
        self.view.put_json(CONFIG_KEY, config).await
    }

    /// A secret's metadata, if any.
    pub async fn meta(&self, key: &str) -> Result<Option<KeyMeta>> {
        self.view.get_json(&meta_key(key)).await
    }

    /// The data of one version, if stored.
    pub async fn version_data(&self, key: &str, version: u64) -> Result<Option<Map<String, Value>>> {
        self.view.get_json(&version_key(key, version)).await
    }

    /// A batch operation writing a secret's metadata.
    pub fn put_meta_op(key: &str, meta: &KeyMeta) -> Result<ViewOp> {
        Ok(ViewOp::Put(meta_key(key), to_json(meta)?))
    }

    /// Applies operations atomically.
    pub async fn commit(&self, ops: Vec<ViewOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.view.batch(ops).await
    }
}

/// The 404 answer for a version that is deleted, destroyed or gone, carrying `body`.
pub fn not_found_with(body: Map<String, Value>) -> coffer_core::request::Response {
    coffer_core::request::Response {
        status: Some(404),
        data: Some(body),
        ..Default::default()
    }
}

/// A plain 404.
pub fn not_found() -> CoreError {
    CoreError::NotFound(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides_like_vault() {
        let mut m = KeyMeta::default();
        for i in 1..=10 {
            assert!(m.add_version(i, None, 0).is_empty());
        }
        // At the 10th version Vault moves oldest_version to 1 (deleting "version 0").
        assert_eq!(m.oldest_version, 1);
        assert_eq!(m.versions.len(), 10);
        assert_eq!(m.add_version(11, None, 0), vec![1]);
        assert_eq!(m.oldest_version, 2);
        m.max_versions = 3;
        assert_eq!(m.add_version(12, None, 0), (2..=9).collect::<Vec<_>>());
        assert_eq!(m.versions.keys().copied().collect::<Vec<_>>(), vec![10, 11, 12]);
    }

    #[test]
    fn deletion_time_takes_smaller_nonzero() {
        let mut m = KeyMeta::default();
        let mut c = Config::default();
        assert_eq!(m.deletion_time(&c, 0), None);
        c.delete_version_after = 10;
        assert_eq!(m.deletion_time(&c, 0), Some(10_000_000_000));
        m.delete_version_after = 5;
        assert_eq!(m.deletion_time(&c, 0), Some(5_000_000_000));
        c.delete_version_after = 0;
        assert_eq!(m.deletion_time(&c, 0), Some(5_000_000_000));
        c.delete_version_after = -1;
        assert_eq!(m.deletion_time(&c, 0), None);
    }
}

//! The mount table: which backend serves which path prefix, persisted through the barrier,
//! and longest-prefix routing over it (lock-free reads through `ArcSwap`).

use crate::backend::Backend;
use crate::view::View;
use crate::{CoreError, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Barrier path of the persisted mount table.
pub const MOUNT_TABLE_PATH: &str = "core/mounts";
/// Type of the built-in `sys/` mount.
pub const SYSTEM_KIND: &str = "system";
/// Type of the built-in `auth/token/` mount.
pub const TOKEN_KIND: &str = "token";
/// Type of the built-in `coffer/discovery/` mount (the scanner's inventory).
pub const DISCOVERY_KIND: &str = "discovery";
/// Type of the built-in `identity/` mount.
pub const IDENTITY_KIND: &str = "identity";
/// Type of the built-in `cubbyhole/` mount.
pub const CUBBYHOLE_KIND: &str = "cubbyhole";

/// Lease TTL settings of a mount (seconds; 0 = system default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MountConfig {
    /// Default lease TTL.
    pub default_lease_ttl: u64,
    /// Maximum lease TTL.
    pub max_lease_ttl: u64,
    /// Request fields audit devices log as they are instead of HMAC'd.
    #[serde(default)]
    pub audit_non_hmac_request_keys: Vec<String>,
    /// Response fields audit devices log as they are instead of HMAC'd.
    #[serde(default)]
    pub audit_non_hmac_response_keys: Vec<String>,
}

/// One persisted mount.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MountEntry {
    /// Mount point with trailing slash, e.g. `secret/` or `auth/token/`.
    pub path: String,
    /// Backend type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free-text description.
    pub description: String,
    /// Storage id: data lives under `logical/<uuid>/`.
    pub uuid: String,
    /// Accessor, e.g. `kv_1a2b3c4d`.
    pub accessor: String,
    /// TTL settings.
    pub config: MountConfig,
    /// Backend options (e.g. kv `version`).
    pub options: HashMap<String, String>,
    /// Whether the mount is local to this cluster.
    pub local: bool,
    /// Seal wrapping (accepted and reported; every value is already sealed by the barrier).
    pub seal_wrap: bool,
}

impl MountEntry {
    /// A new entry with fresh uuid and accessor.
    pub fn new(path: &str, kind: &str, description: &str) -> Self {
        let uuid = uuid::Uuid::new_v4().to_string();
        let auth = if path.starts_with("auth/") { "auth_" } else { "" };
        let accessor = format!("{auth}{}_{}", kind.replace('-', "_"), &uuid[..8]);
        MountEntry {
            path: path.to_string(),
            kind: kind.to_string(),
            description: description.to_string(),
            uuid,
            accessor,
            config: MountConfig::default(),
            options: HashMap::new(),
            local: false,
            seal_wrap: false,
        }
    }

    /// Storage prefix of the mount's view.
    pub fn storage_prefix(&self) -> String {
        format!("logical/{}/", self.uuid)
    }

    /// Whether this is an auth mount (`auth/...`).
    pub fn is_auth(&self) -> bool {
        self.path.starts_with("auth/")
    }
}

/// A mounted entry with its live backend.
pub struct Route {
    /// The persisted entry.
    pub entry: MountEntry,
    /// The backend; `None` for mounts the core serves itself (`sys/`, `auth/token/`).
    pub backend: Option<Arc<dyn Backend>>,
    /// The mount's storage view.
    pub view: View,
}

/// All mounts, keyed by mount point. Immutable: changes build a new table.
#[derive(Default, Clone)]
pub struct MountTable {
    routes: HashMap<String, Arc<Route>>,
    /// Longest mount point, bounding the prefixes tried per lookup.
    max_depth: usize,
}

impl MountTable {
    /// Builds a table from routes.
    pub fn new(routes: Vec<Arc<Route>>) -> Self {
        let max_depth = routes
            .iter()
            .map(|r| r.entry.path.matches('/').count())
            .max()
            .unwrap_or(0);
        MountTable {
            routes: routes.into_iter().map(|r| (r.entry.path.clone(), r)).collect(),
            max_depth,
        }
    }

    /// Longest-prefix match of a request path; returns the route and the path relative to it.
    /// `secret` (no slash) matches mount `secret/`. Work is bounded by the path's segments.
    pub fn route<'p>(&self, path: &'p str) -> Option<(Arc<Route>, &'p str)> {
        let mut best: Option<(Arc<Route>, &'p str)> = None;
        let mut depth = 0;
        for (i, c) in path.char_indices() {
            if c == '/' {
                depth += 1;
                if let Some(route) = self.routes.get(&path[..=i]) {
                    best = Some((route.clone(), &path[i + 1..]));
                }
                if depth >= self.max_depth {
                    break;
                }
            }
        }
        if best.is_none() || !path.ends_with('/') {
            // The whole path may name a mount without its trailing slash.
            let mut with_slash = String::with_capacity(path.len() + 1);
            with_slash.push_str(path);
            with_slash.push('/');
            if let Some(route) = self.routes.get(&with_slash) {
                return Some((route.clone(), ""));
            }
        }
        best
    }

    /// The route mounted exactly at `path` (with trailing slash).
    pub fn get(&self, path: &str) -> Option<&Arc<Route>> {
        self.routes.get(path)
    }

    /// The first mount of a type.
    pub fn by_kind(&self, kind: &str) -> Option<&Arc<Route>> {
        self.routes.values().find(|r| r.entry.kind == kind)
    }

    /// All entries sorted by path.
    pub fn entries(&self) -> Vec<&MountEntry> {
        let sorted: BTreeMap<_, _> = self.routes.iter().map(|(k, v)| (k, &v.entry)).collect();
        sorted.into_values().collect()
    }

    /// All routes.
    pub fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.routes.values()
    }

    /// Error unless `path` can be mounted: no overlap with any existing mount.
    pub fn check_free(&self, path: &str) -> Result<()> {
        for existing in self.routes.keys() {
            if existing.starts_with(path) || path.starts_with(existing.as_str()) {
                return Err(CoreError::bad(format!("path is already in use at {existing}")));
            }
        }
        Ok(())
    }
}

/// Normalises a user-given mount path: trims slashes, adds one trailing slash, validates.
pub fn normalize_path(path: &str) -> Result<String> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Err(CoreError::bad("mount path cannot be empty"));
    }
    if trimmed.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || trimmed.chars().any(|c| c.is_control() || c == '*' || c == '+')
    {
        return Err(CoreError::bad(format!("invalid mount path \"{trimmed}\"")));
    }
    Ok(format!("{trimmed}/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::barrier::Barrier;
    use coffer_storage::memory::MemoryBackend;

    fn table(paths: &[&str]) -> MountTable {
        let barrier = Arc::new(Barrier::new(Arc::new(MemoryBackend::new())));
        MountTable::new(
            paths
                .iter()
                .map(|p| {
                    let entry = MountEntry::new(p, "kv", "");
                    let view = View::new(barrier.clone(), entry.storage_prefix());
                    Arc::new(Route {
                        entry,
                        backend: None,
                        view,
                    })
                })
                .collect(),
        )
    }

    #[test]
    fn longest_prefix_wins() {
        let t = table(&["secret/", "secret/team/", "auth/token/"]);
        let (r, rel) = t.route("secret/data/x").unwrap();
        assert_eq!((r.entry.path.as_str(), rel), ("secret/", "data/x"));
        let (r, rel) = t.route("secret/team/data/x").unwrap();
        assert_eq!((r.entry.path.as_str(), rel), ("secret/team/", "data/x"));
        let (r, rel) = t.route("secret").unwrap();
        assert_eq!((r.entry.path.as_str(), rel), ("secret/", ""));
        let (r, rel) = t.route("auth/token/lookup-self").unwrap();
        assert_eq!((r.entry.path.as_str(), rel), ("auth/token/", "lookup-self"));
        assert!(t.route("secrets/x").is_none());
        assert!(t.route("auth/tok").is_none());
    }

    #[test]
    fn overlap_is_refused() {
        let t = table(&["secret/"]);
        assert!(t.check_free("secret/inner/").is_err());
        assert!(t.check_free("sec/").is_ok());
        let t = table(&["a/b/"]);
        assert!(t.check_free("a/").is_err());
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize_path("/kv/").unwrap(), "kv/");
        assert_eq!(normalize_path("team/kv").unwrap(), "team/kv/");
        for bad in ["", "/", "a//b", "a/../b", "a*", "a\0b"] {
            assert!(normalize_path(bad).is_err(), "{bad:?}");
        }
    }
}

//! KV path resolution as Vault's CLI does it: ask `sys/internal/ui/mounts/<path>` for the
//! mount and its KV version, then insert `data/`, `metadata/`, `delete/`… after the mount
//! for version 2.

use coffer_client::Secret;
use serde_json::Value;

use super::{CliError, Ctx};
use crate::args::sanitize_path;

/// What the mount preflight said about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvMount {
    /// Mount path with a trailing slash (`secret/`), empty when the server did not say.
    pub mount_path: String,
    /// KV version: 1 or 2.
    pub version: u8,
}

/// A resolved KV path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvPath {
    /// The mount.
    pub mount: KvMount,
    /// Mount plus secret path, without any API prefix (`secret/foo`).
    pub partial: String,
}

impl KvPath {
    /// True for KV version 2.
    pub fn v2(&self) -> bool {
        self.mount.version == 2
    }

    /// The API path for an operation: `prefix` (`data`, `metadata`, …) is inserted after the
    /// mount on KV v2; on v1 the partial path is used as it is.
    pub fn api(&self, prefix: &str) -> String {
        if self.v2() {
            add_prefix(&self.partial, &self.mount.mount_path, prefix)
        } else {
            self.partial.clone()
        }
    }
}

/// The path to send to the preflight: the `-mount` value when given, else the path argument.
pub fn preflight_target(path_arg: &str, mount_flag: Option<&str>) -> String {
    match mount_flag {
        Some(m) => sanitize_path(m),
        None => sanitize_path(path_arg),
    }
}

/// Combines the preflight answer with the arguments into the secret's partial path.
pub fn resolve(path_arg: &str, mount_flag: Option<&str>, mount: KvMount) -> KvPath {
    let path = sanitize_path(path_arg);
    let partial = match mount_flag {
        Some(flag) => {
            let base = if mount.mount_path.is_empty() {
                sanitize_path(flag)
            } else {
                mount.mount_path.clone()
            };
            join(&[&base, &path])
        }
        None => path,
    };
    KvPath { mount, partial }
}

/// Reads the preflight answer (`data.path`, `data.options.version`). No answer (404, an
/// older server) means KV v1 with an unknown mount, as in Vault's CLI.
pub fn mount_from_preflight(answer: Option<&Secret>) -> KvMount {
    let data = answer.and_then(|s| s.data.as_ref());
    let mount_path = data
        .and_then(|d| d.get("path"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let version = match data.and_then(|d| d.get("options")).and_then(|o| o.get("version")) {
        Some(Value::String(v)) if v == "2" => 2,
        Some(Value::Number(n)) if n.as_u64() == Some(2) => 2,
        _ => 1,
    };
    KvMount { mount_path, version }
}

/// Vault's `addPrefixToKVPath`: `secret/foo` under mount `secret/` with `data` becomes
/// `secret/data/foo`; the mount itself becomes `secret/data`. When the path does not start
/// with the mount, leading mount segments are dropped until it does.
pub fn add_prefix(path: &str, mount_path: &str, prefix: &str) -> String {
    let trimmed = mount_path.trim_end_matches('/');
    if path == mount_path || path == trimmed {
        return join(&[trimmed, prefix]);
    }
    let mut mount = mount_path.to_string();
    let suffix = loop {
        if mount.is_empty() {
            break path.to_string();
        }
        if let Some(rest) = path.strip_prefix(mount.as_str()) {
            break rest.to_string();
        }
        mount = match mount.trim_end_matches('/').split_once('/') {
            Some((_, rest)) => format!("{rest}/"),
            None => String::new(),
        };
    };
    join(&[&mount, prefix, &suffix])
}

/// Joins path parts with single slashes, dropping empty parts and a trailing slash.
pub fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .flat_map(|p| p.split('/'))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs the preflight against the server (unwrapped) and resolves the path.
pub async fn lookup(ctx: &Ctx, path_arg: &str, mount_flag: Option<&str>) -> Result<KvPath, CliError> {
    let target = preflight_target(path_arg, mount_flag);
    if target.is_empty() {
        return Err(CliError::usage("a KV path is required"));
    }
    // The preflight is never wrapped (as in Vault's CLI): only the command's own request is.
    let mut client = ctx.client.clone();
    client.set_wrap_ttl(None).map_err(|e| CliError::usage(e.to_string()))?;
    let answer = client
        .read(&format!("sys/internal/ui/mounts/{target}"))
        .await
        .map_err(|e| match e.status() {
            Some(403) => CliError::failed(format!(
                "preflight capability check returned 403, please ensure client's policies grant access to path \"{target}/\""
            )),
            _ => CliError::failed(format!("Error determining the KV version of {target}: {e}")),
        })?;
    Ok(resolve(path_arg, mount_flag, mount_from_preflight(answer.as_ref())))
}

/// Fails unless the mount is KV v2 (`what` names the feature in the message).
pub fn require_v2(path: &KvPath, what: &str) -> Result<(), CliError> {
    if path.v2() {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "{what} is only supported on KV version 2 mounts"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2(mount: &str) -> KvMount {
        KvMount {
            mount_path: mount.into(),
            version: 2,
        }
    }

    #[test]
    fn prefix_goes_after_the_mount() {
        assert_eq!(add_prefix("secret/foo", "secret/", "data"), "secret/data/foo");
        assert_eq!(add_prefix("secret/a/b", "secret/", "metadata"), "secret/metadata/a/b");
        assert_eq!(add_prefix("secret", "secret/", "metadata"), "secret/metadata");
        assert_eq!(add_prefix("secret/", "secret/", "metadata"), "secret/metadata");
        assert_eq!(add_prefix("team/kv/x", "team/kv/", "data"), "team/kv/data/x");
        // Mount reported with a namespace prefix the path does not carry.
        assert_eq!(add_prefix("kv/x", "ns1/kv/", "data"), "kv/data/x");
        // Nothing in common: prefix at the front.
        assert_eq!(add_prefix("other/x", "secret/", "data"), "data/other/x");
    }

    #[test]
    fn resolves_full_paths_and_mount_flag() {
        let p = resolve("/secret/foo/", None, v2("secret/"));
        assert_eq!(p.partial, "secret/foo");
        assert_eq!(p.api("data"), "secret/data/foo");
        assert_eq!(p.api("destroy"), "secret/destroy/foo");

        let p = resolve("foo/bar", Some("secret"), v2("secret/"));
        assert_eq!(p.partial, "secret/foo/bar");
        assert_eq!(p.api("data"), "secret/data/foo/bar");
        assert_eq!(preflight_target("foo/bar", Some("/secret/")), "secret");
        assert_eq!(preflight_target("/secret/foo", None), "secret/foo");
    }

    #[test]
    fn v1_paths_are_used_as_given() {
        let v1 = KvMount {
            mount_path: "kv/".into(),
            version: 1,
        };
        assert_eq!(resolve("kv/foo", None, v1.clone()).api("data"), "kv/foo");
        assert_eq!(resolve("foo", Some("kv"), v1).api("data"), "kv/foo");
        // Unknown mount (404 preflight) with -mount: fall back to the flag.
        let unknown = KvMount {
            mount_path: String::new(),
            version: 1,
        };
        assert_eq!(resolve("foo", Some("old/"), unknown).api("data"), "old/foo");
    }

    #[test]
    fn reads_preflight_answers() {
        let s = Secret::from_value(json!({"data": {"path": "secret/", "type": "kv", "options": {"version": "2"}}}))
            .unwrap();
        assert_eq!(mount_from_preflight(Some(&s)), v2("secret/"));
        let s = Secret::from_value(json!({"data": {"path": "kv/", "type": "kv", "options": null}})).unwrap();
        assert_eq!(mount_from_preflight(Some(&s)).version, 1);
        let s = Secret::from_value(json!({"data": {"path": "kv/", "options": {"version": "1"}}})).unwrap();
        assert_eq!(mount_from_preflight(Some(&s)).version, 1);
        assert_eq!(
            mount_from_preflight(None),
            KvMount {
                mount_path: String::new(),
                version: 1
            }
        );
    }

    #[test]
    fn joins() {
        assert_eq!(join(&["secret/", "", "/data/", "a//b/"]), "secret/data/a/b");
    }
}

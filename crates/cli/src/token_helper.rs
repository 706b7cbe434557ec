//! The token helper: where the CLI finds its token (`COFFER_TOKEN`, `VAULT_TOKEN`,
//! `~/.coffer-token`, `~/.vault-token`) and how `coffer login` stores one (`~/.coffer-token`,
//! mode 0600 from creation, replaced atomically).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file `coffer login` writes, relative to `HOME`.
pub const TOKEN_FILE: &str = ".coffer-token";
/// Vault's token file, read as a fallback.
const VAULT_TOKEN_FILE: &str = ".vault-token";
/// Variables that override any stored token, in order.
pub const TOKEN_ENV: [&str; 2] = ["COFFER_TOKEN", "VAULT_TOKEN"];

/// The home directory from `HOME`.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// The token: `COFFER_TOKEN`, `VAULT_TOKEN`, then `~/.coffer-token`, then `~/.vault-token`.
pub fn resolve_token(env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Option<String> {
    crate::first_env(env, &TOKEN_ENV).or_else(|| {
        let home = home?;
        [TOKEN_FILE, VAULT_TOKEN_FILE].iter().find_map(|f| {
            let t = std::fs::read_to_string(home.join(f)).ok()?;
            let t = t.trim().to_string();
            (!t.is_empty()).then_some(t)
        })
    })
}

/// Stores `token` in `<home>/.coffer-token`: written to a new temporary file in the same
/// directory (created with mode 0600, never readable by others), flushed to disk, then
/// renamed over the old file, so a reader sees the old token or the new one, never half.
pub fn store_token(home: &Path, token: &str) -> Result<PathBuf, String> {
    let token = token.trim();
    if token.is_empty() || token.contains(['\n', '\r']) {
        return Err("refusing to store an empty or multi-line token".into());
    }
    let target = home.join(TOKEN_FILE);
    let tmp = home.join(format!(
        "{TOKEN_FILE}.tmp-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let write = || -> std::io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(token.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &target)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("error storing the token in {}: {e}", target.display())
    })?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comes_from_env_then_files() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        assert_eq!(resolve_token(&none, Some(dir.path())), None);
        std::fs::write(dir.path().join(".vault-token"), "s.vault\n").unwrap();
        assert_eq!(resolve_token(&none, Some(dir.path())).as_deref(), Some("s.vault"));
        std::fs::write(dir.path().join(".coffer-token"), "s.coffer\n").unwrap();
        assert_eq!(resolve_token(&none, Some(dir.path())).as_deref(), Some("s.coffer"));
        let vault_env = |n: &str| (n == "VAULT_TOKEN").then(|| "s.env".to_string());
        assert_eq!(resolve_token(&vault_env, Some(dir.path())).as_deref(), Some("s.env"));
        let both = |n: &str| Some(format!("s.{n}"));
        assert_eq!(resolve_token(&both, None).as_deref(), Some("s.COFFER_TOKEN"));
    }

    #[test]
    fn stored_token_is_private_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = store_token(dir.path(), "cfs_first\n").unwrap();
        assert_eq!(path, dir.path().join(".coffer-token"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "cfs_first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // An old file readable by everyone is replaced, not rewritten in place.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            store_token(dir.path(), "cfs_second").unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "cfs_second");
        let none = |_: &str| None;
        assert_eq!(resolve_token(&none, Some(dir.path())).as_deref(), Some("cfs_second"));
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [".coffer-token"]);
    }

    #[test]
    fn refuses_bad_tokens_and_reports_the_path_not_the_token() {
        let dir = tempfile::tempdir().unwrap();
        assert!(store_token(dir.path(), "  ").is_err());
        assert!(store_token(dir.path(), "a\nb").is_err());
        let missing = dir.path().join("no-such-dir");
        let err = store_token(&missing, "cfs_hidden").unwrap_err();
        assert!(err.contains("no-such-dir"), "{err}");
        assert!(!err.contains("cfs_hidden"), "{err}");
    }
}

//! SSH key inventory: private keys (flagging unencrypted and weak ones), public keys,
//! `authorized_keys` entries with their options, `known_hosts` entries and host keys, all with
//! SHA-256 fingerprints, cross-referenced so each authorised key shows its owner files — or is
//! flagged as having none.
//!
//! `authorized_keys` files are streamed line by line through one reused buffer (no regex, one
//! base64 decode and one SHA-256 per line), so a million-line file parses in about a second.

mod blob;
mod files;
mod line;
mod private;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::ScanError;

pub use blob::{Fingerprint, KeyInfo};

/// A path shared by many entries (one allocation per file, not per line).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SharedPath(pub Arc<str>);

impl SharedPath {
    fn new(path: &Path) -> Self {
        SharedPath(Arc::from(path.to_string_lossy().as_ref()))
    }
}

impl fmt::Display for SharedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SharedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for SharedPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Why a key is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weakness {
    /// A DSA key (`ssh-dss`): 1024-bit only, disabled by default in OpenSSH.
    Dsa,
    /// An RSA key shorter than 2048 bits.
    ShortRsa,
    /// A private key stored without a passphrase.
    Unencrypted,
}

fn weaknesses(key: Option<&KeyInfo>, unencrypted: bool) -> Vec<Weakness> {
    let mut out = Vec::new();
    if let Some(key) = key {
        let base = key
            .key_type
            .strip_suffix("-cert-v01@openssh.com")
            .unwrap_or(&key.key_type);
        if base == "ssh-dss" {
            out.push(Weakness::Dsa);
        }
        if base == "ssh-rsa" && key.bits.is_some_and(|b| b < 2048) {
            out.push(Weakness::ShortRsa);
        }
    }
    if unencrypted {
        out.push(Weakness::Unencrypted);
    }
    out
}

/// A private key file.
#[derive(Debug, Clone, Serialize)]
pub struct PrivateKey {
    /// The file.
    pub path: SharedPath,
    /// `openssh`, `pem-rsa`, `pem-dsa`, `pem-ec`, `pkcs8` or `pkcs8-encrypted`.
    pub format: &'static str,
    /// The public half (from the file itself, or from `<path>.pub` when the file is encrypted PEM).
    #[serde(flatten)]
    pub key: Option<KeyInfo>,
    /// Whether a passphrase protects it.
    pub encrypted: bool,
    /// Its cipher, when encrypted.
    pub cipher: Option<String>,
    /// Its comment (unencrypted OpenSSH keys), or the `.pub` file's.
    pub comment: Option<String>,
    /// A host key (`ssh_host_*_key`).
    pub host_key: bool,
    /// Why it is flagged (empty when it is not).
    pub weaknesses: Vec<Weakness>,
}

/// A public key file (`*.pub`).
#[derive(Debug, Clone, Serialize)]
pub struct PublicKeyFile {
    /// The file.
    pub path: SharedPath,
    /// The key.
    #[serde(flatten)]
    pub key: KeyInfo,
    /// Its comment.
    pub comment: Option<String>,
    /// A host key (`ssh_host_*_key.pub`).
    pub host_key: bool,
    /// Why it is flagged (empty when it is not).
    pub weaknesses: Vec<Weakness>,
}

/// One `authorized_keys` entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizedKey {
    /// The `authorized_keys` file.
    pub file: SharedPath,
    /// 1-based line.
    pub line: u64,
    /// Its options, one per element as written (`from="10.0.0.0/8"`, `no-pty`).
    pub options: Vec<String>,
    /// The key.
    #[serde(flatten)]
    pub key: KeyInfo,
    /// Its comment.
    pub comment: Option<String>,
    /// Why it is flagged (empty when it is not).
    pub weaknesses: Vec<Weakness>,
}

/// One `known_hosts` entry.
#[derive(Debug, Clone, Serialize)]
pub struct KnownHost {
    /// The `known_hosts` file.
    pub file: SharedPath,
    /// 1-based line.
    pub line: u64,
    /// `cert-authority` or `revoked`, when marked.
    pub marker: Option<String>,
    /// Host patterns as written (or the hashed `|1|…` form).
    pub hosts: String,
    /// The key.
    #[serde(flatten)]
    pub key: KeyInfo,
}

/// A file and line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file.
    pub file: SharedPath,
    /// 1-based line.
    pub line: u64,
}

/// Everything known about one key (by fingerprint): the files that own it and where it is
/// authorised.
#[derive(Debug, Clone, Serialize)]
pub struct KeyUsage {
    /// The fingerprint.
    pub fingerprint: Fingerprint,
    /// Key type.
    pub key_type: String,
    /// Private key files holding it.
    pub private_keys: Vec<SharedPath>,
    /// Public key files holding it.
    pub public_keys: Vec<SharedPath>,
    /// The `authorized_keys` entries that authorise it.
    pub authorized_in: Vec<Location>,
    /// Authorised somewhere, but no private or public key file in the inventory holds it.
    pub unknown_owner: bool,
}

/// A file or line that could not be understood.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// The file.
    pub path: SharedPath,
    /// The line, for line-oriented files.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

/// The result of [`inventory`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct SshInventory {
    /// Private key files.
    pub private_keys: Vec<PrivateKey>,
    /// Public key files.
    pub public_keys: Vec<PublicKeyFile>,
    /// `authorized_keys` entries.
    pub authorized_keys: Vec<AuthorizedKey>,
    /// `known_hosts` entries.
    pub known_hosts: Vec<KnownHost>,
    /// Every key seen, by fingerprint, in order of first appearance, with owners and grants.
    pub keys: Vec<KeyUsage>,
    /// Files and lines that could not be parsed.
    pub problems: Vec<Problem>,
}

impl SshInventory {
    /// Authorised keys that no private or public key file in the inventory holds.
    pub fn unowned(&self) -> impl Iterator<Item = &KeyUsage> {
        self.keys.iter().filter(|k| k.unknown_owner)
    }

    /// Private, public and authorised keys that are flagged, as (location, weaknesses).
    pub fn flagged(&self) -> impl Iterator<Item = (String, &[Weakness])> {
        let private = self
            .private_keys
            .iter()
            .map(|k| (k.path.to_string(), k.weaknesses.as_slice()));
        let public = self
            .public_keys
            .iter()
            .map(|k| (k.path.to_string(), k.weaknesses.as_slice()));
        let authorized = self
            .authorized_keys
            .iter()
            .map(|k| (format!("{}:{}", k.file, k.line), k.weaknesses.as_slice()));
        private.chain(public).chain(authorized).filter(|(_, w)| !w.is_empty())
    }
}

/// Inventories the SSH keys under `paths` (files or directories, hidden files included):
/// private keys, `*.pub` files, `authorized_keys*`, `known_hosts*` and host keys.
pub fn inventory(paths: &[PathBuf]) -> Result<SshInventory, ScanError> {
    let mut inv = SshInventory::default();
    for path in paths {
        files::visit(path, &mut inv)?;
    }
    cross_reference(&mut inv);
    Ok(inv)
}

/// Hashes a [`Fingerprint`] by its first eight bytes: it is already a SHA-256.
#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

fn cross_reference(inv: &mut SshInventory) {
    let mut index: HashMap<Fingerprint, usize, BuildHasherDefault<FingerprintHasher>> = HashMap::default();
    let mut keys: Vec<KeyUsage> = Vec::new();
    let mut usage = |key: &KeyInfo| -> usize {
        *index.entry(key.fingerprint).or_insert_with(|| {
            keys.push(KeyUsage {
                fingerprint: key.fingerprint,
                key_type: key.key_type.to_string(),
                private_keys: Vec::new(),
                public_keys: Vec::new(),
                authorized_in: Vec::new(),
                unknown_owner: false,
            });
            keys.len() - 1
        })
    };
    let mut owned = Vec::new();
    for k in &inv.private_keys {
        if let Some(key) = &k.key {
            owned.push((usage(key), k.path.clone(), true));
        }
    }
    for k in &inv.public_keys {
        owned.push((usage(&k.key), k.path.clone(), false));
    }
    let mut grants = Vec::with_capacity(inv.authorized_keys.len());
    for k in &inv.authorized_keys {
        grants.push((
            usage(&k.key),
            Location {
                file: k.file.clone(),
                line: k.line,
            },
        ));
    }
    for (i, path, private) in owned {
        if private {
            keys[i].private_keys.push(path)
        } else {
            keys[i].public_keys.push(path)
        }
    }
    for (i, location) in grants {
        keys[i].authorized_in.push(location);
    }
    for k in &mut keys {
        k.unknown_owner = !k.authorized_in.is_empty() && k.private_keys.is_empty() && k.public_keys.is_empty();
    }
    inv.keys = keys;
}

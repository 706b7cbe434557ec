//! SSH public key blobs (RFC 4253 wire format): key type names, key sizes and SHA-256
//! fingerprints, the way `ssh-keygen -l` computes them.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::{Serialize, Serializer};

/// A key's SHA-256 fingerprint; displays and serialises as `SHA256:<base64, unpadded>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a public key blob.
    pub fn of_blob(blob: &[u8]) -> Self {
        Fingerprint(coffer_crypto::sha256(blob))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHA256:{}", STANDARD_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a public key is: type name, size in bits (as `ssh-keygen -l` reports it) and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Key type as written in the key, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`.
    pub key_type: Cow<'static, str>,
    /// Size in bits: the RSA modulus or DSA prime length, the curve size otherwise.
    pub bits: Option<u32>,
    /// `SHA256:…` fingerprint of the key blob.
    pub fingerprint: Fingerprint,
}

const KNOWN_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed448",
    "ssh-ed25519-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
];

/// Whether `token` looks like a key type (so a line starting with it has no options).
pub fn is_key_type(token: &[u8]) -> bool {
    token.starts_with(b"ssh-")
        || token.starts_with(b"ecdsa-sha2-")
        || token.starts_with(b"sk-ssh-")
        || token.starts_with(b"sk-ecdsa-")
}

/// The key type name, borrowed from a static table for the known types.
pub fn intern_type(name: &[u8]) -> Cow<'static, str> {
    match KNOWN_TYPES.iter().find(|t| t.as_bytes() == name) {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(String::from_utf8_lossy(name).into_owned()),
    }
}

/// A cursor over SSH wire-format data.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    /// A big-endian `uint32`.
    pub fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    /// A length-prefixed `string` (or `mpint`).
    pub fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        if self.0.len() < len {
            return None;
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(s)
    }

    /// Skips `n` strings.
    pub fn skip(&mut self, n: usize) -> Option<()> {
        for _ in 0..n {
            self.string()?;
        }
        Some(())
    }
}

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
pub fn bit_len(int: &[u8]) -> u32 {
    let int = &int[int.iter().take_while(|b| **b == 0).count()..];
    match int.first() {
        Some(first) => (int.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
        None => 0,
    }
}

/// Parses a public key blob: its type name and size. `None` when the blob is malformed.
pub fn parse_blob(blob: &[u8]) -> Option<KeyInfo> {
    let mut r = Reader(blob);
    let name = r.string()?;
    let base = name.strip_suffix(b"-cert-v01@openssh.com").unwrap_or(name);
    if base.len() != name.len() {
        r.string()?; // certificate nonce
    }
    let bits = match base {
        b"ssh-rsa" => {
            r.string()?; // e
            Some(bit_len(r.string()?))
        }
        b"ssh-dss" => Some(bit_len(r.string()?)),
        b"ssh-ed25519" | b"sk-ssh-ed25519@openssh.com" => Some(256),
        b"ssh-ed448" => Some(448),
        b"ecdsa-sha2-nistp256" | b"sk-ecdsa-sha2-nistp256@openssh.com" => Some(256),
        b"ecdsa-sha2-nistp384" => Some(384),
        b"ecdsa-sha2-nistp521" => Some(521),
        _ => None,
    };
    Some(KeyInfo {
        key_type: intern_type(name),
        bits,
        fingerprint: Fingerprint::of_blob(blob),
    })
}

/// Builds a blob from its fields: the type name then each field as a `string`/`mpint`.
pub fn build_blob(key_type: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + key_type.len() + fields.iter().map(|f| f.len() + 4).sum::<usize>());
    for field in std::iter::once(key_type.as_bytes()).chain(fields.iter().copied()) {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[0, 0x80]), 8);
        assert_eq!(bit_len(&[0x01, 0]), 9);
        let mut modulus = vec![0u8; 129];
        modulus[1] = 0xc1;
        assert_eq!(bit_len(&modulus), 1024);
    }

    #[test]
    fn parses_built_blobs() {
        let mut n = vec![0u8; 257];
        n[1] = 0x80;
        let blob = build_blob("ssh-rsa", &[&[1, 0, 1], &n]);
        let info = parse_blob(&blob).unwrap();
        assert_eq!((info.key_type.as_ref(), info.bits), ("ssh-rsa", Some(2048)));
        assert!(matches!(info.key_type, Cow::Borrowed(_)));
        let blob = build_blob("ssh-ed25519", &[&[7; 32]]);
        assert_eq!(parse_blob(&blob).unwrap().bits, Some(256));
        assert!(parse_blob(&blob[..10]).is_none());
        assert!(format!("{}", Fingerprint::of_blob(&blob)).starts_with("SHA256:"));
        assert_eq!(format!("{}", Fingerprint::of_blob(&blob)).len(), 7 + 43);
    }
}

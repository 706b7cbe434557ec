//! The barrier keyring: numbered key terms, one active for encryption, all kept for decryption.
//!
//! Ciphertext format: `[0x01][term: u32 big-endian][nonce: 12][ciphertext || tag: 16]`.
//! The 5-byte header is authenticated along with the caller's associated data.

use crate::aead::{AeadKey, NONCE_BYTES, TAG_BYTES};
use crate::{CryptoError, Key256, SecretBytes};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Version byte that starts every keyring ciphertext.
const CIPHERTEXT_VERSION: u8 = 0x01;
/// Length of `[version][term]`.
const HEADER_BYTES: usize = 5;
/// Version byte that starts a serialized keyring.
const ENCODING_VERSION: u8 = 0x01;
/// Length of one serialized term: term (4) + install time (8) + key (32).
const TERM_RECORD_BYTES: usize = 4 + 8 + 32;

/// One key term.
#[derive(Clone)]
struct Term {
    key: Key256,
    aead: std::sync::Arc<AeadKey>,
    installed: u64,
}

impl Term {
    fn new(key: Key256, installed: u64) -> Term {
        let aead = std::sync::Arc::new(AeadKey::new(&key));
        Term { key, aead, installed }
    }
}

/// Numbered encryption keys ("terms"). New data is encrypted under the active term; data from
/// any held term decrypts. `Send + Sync`: share it through an `Arc`.
#[derive(Clone)]
pub struct Keyring {
    terms: BTreeMap<u32, Term>,
    active: u32,
}

impl Keyring {
    /// A new keyring holding one fresh random key as term 1, active.
    pub fn generate() -> Keyring {
        let mut terms = BTreeMap::new();
        terms.insert(1, Term::new(Key256::generate(), now()));
        Keyring { terms, active: 1 }
    }

    /// A copy of this keyring with a new random key as term `max + 1`, made active.
    /// Older terms are kept so existing data still decrypts.
    ///
    /// # Panics
    /// If the keyring already holds term `u32::MAX` (four billion rotations).
    pub fn rotate(&self) -> Keyring {
        let max = self.terms.keys().next_back().copied().unwrap_or(0);
        let next = max.checked_add(1).expect("keyring term numbers are exhausted");
        let mut terms = self.terms.clone();
        terms.insert(next, Term::new(Key256::generate(), now()));
        Keyring { terms, active: next }
    }

    /// The term new data is encrypted under.
    pub fn active_term(&self) -> u32 {
        self.active
    }

    /// When `term` was installed (unix seconds), if this keyring holds it.
    pub fn install_time(&self, term: u32) -> Option<u64> {
        self.terms.get(&term).map(|t| t.installed)
    }

    /// All terms held, ascending.
    pub fn terms(&self) -> Vec<u32> {
        self.terms.keys().copied().collect()
    }

    /// Encrypts under the active term, binding `aad` (the storage path).
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let term = &self.terms[&self.active];
        let header = header(self.active);
        let mut out = Vec::with_capacity(HEADER_BYTES + NONCE_BYTES + plaintext.len() + TAG_BYTES);
        out.extend_from_slice(&header);
        term.aead.seal_into(&full_aad(&header, aad), plaintext, &mut out);
        out
    }

    /// Decrypts data made by [`Keyring::encrypt`] under any term this keyring holds.
    ///
    /// `Format` for a short value or unknown version, `UnknownTerm` for a term not held,
    /// `Authentication` if the value was altered or stored under another `aad`.
    pub fn decrypt(&self, aad: &[u8], data: &[u8]) -> Result<SecretBytes, CryptoError> {
        let term_no = term_of(data)?;
        let term = self.terms.get(&term_no).ok_or(CryptoError::UnknownTerm(term_no))?;
        let (header, sealed) = data.split_at(HEADER_BYTES);
        term.aead.open(&full_aad(header, aad), sealed)
    }

    /// Serializes the keyring (all keys included): keep the result sealed.
    ///
    /// Layout: `[0x01][active u32][count u32]` then per term, ascending,
    /// `[term u32][installed u64][key 32]`, all integers big-endian.
    pub fn to_bytes(&self) -> SecretBytes {
        let mut out = Vec::with_capacity(9 + self.terms.len() * TERM_RECORD_BYTES);
        out.push(ENCODING_VERSION);
        out.extend_from_slice(&self.active.to_be_bytes());
        let count = u32::try_from(self.terms.len()).expect("fewer than 2^32 terms");
        out.extend_from_slice(&count.to_be_bytes());
        for (number, term) in &self.terms {
            out.extend_from_slice(&number.to_be_bytes());
            out.extend_from_slice(&term.installed.to_be_bytes());
            out.extend_from_slice(term.key.as_bytes());
        }
        SecretBytes::new(out)
    }

    /// Decodes [`Keyring::to_bytes`]; `CryptoError::Malformed` on any inconsistency.
    pub fn from_bytes(bytes: &[u8]) -> Result<Keyring, CryptoError> {
        let malformed = |why: &str| CryptoError::Malformed(format!("keyring: {why}"));
        if bytes.len() < 9 {
            return Err(malformed("too short"));
        }
        if bytes[0] != ENCODING_VERSION {
            return Err(malformed("unknown encoding version"));
        }
        let active = u32::from_be_bytes(bytes[1..5].try_into().expect("4 bytes"));
        let count = u32::from_be_bytes(bytes[5..9].try_into().expect("4 bytes")) as usize;
        let body = &bytes[9..];
        if count == 0 || body.len() != count.saturating_mul(TERM_RECORD_BYTES) {
            return Err(malformed("wrong length for its term count"));
        }
        let mut terms = BTreeMap::new();
        for record in body.chunks_exact(TERM_RECORD_BYTES) {
            let number = u32::from_be_bytes(record[0..4].try_into().expect("4 bytes"));
            let installed = u64::from_be_bytes(record[4..12].try_into().expect("8 bytes"));
            let key = Key256::from_slice(&record[12..44])?;
            if terms.insert(number, Term::new(key, installed)).is_some() {
                return Err(malformed("duplicate term"));
            }
        }
        if !terms.contains_key(&active) {
            return Err(malformed("active term missing"));
        }
        Ok(Keyring { terms, active })
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("terms", &self.terms())
            .field("keys", &"[REDACTED]")
            .finish()
    }
}

/// The term a keyring ciphertext was encrypted under, read from its header.
///
/// `CryptoError::Format` if `data` is too short or has an unknown version byte.
pub fn term_of(data: &[u8]) -> Result<u32, CryptoError> {
    if data.len() < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || data[0] != CIPHERTEXT_VERSION {
        return Err(CryptoError::Format);
    }
    Ok(u32::from_be_bytes(data[1..5].try_into().expect("4 bytes")))
}

fn header(term: u32) -> [u8; HEADER_BYTES] {
    let t = term.to_be_bytes();
    [CIPHERTEXT_VERSION, t[0], t[1], t[2], t[3]]
}

/// Associated data actually authenticated: the fixed-length header, then the caller's aad.
fn full_aad(header: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + aad.len());
    out.extend_from_slice(header);
    out.extend_from_slice(aad);
    out
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn keyring_is_send_and_sync() {
        assert_send_sync::<Keyring>();
        assert_send_sync::<std::sync::Arc<Keyring>>();
    }

    #[test]
    fn encrypt_decrypt_and_format() {
        let ring = Keyring::generate();
        assert_eq!(ring.active_term(), 1);
        assert_eq!(ring.terms(), vec![1]);
        assert!(ring.install_time(1).unwrap() > 1_600_000_000);
        assert_eq!(ring.install_time(2), None);
        let data = ring.encrypt(b"secret/a", b"value");
        assert_eq!(data[0], 0x01);
        assert_eq!(&data[1..5], &1u32.to_be_bytes());
        assert_eq!(data.len(), 5 + 12 + 5 + 16);
        assert_eq!(term_of(&data).unwrap(), 1);
        assert_eq!(ring.decrypt(b"secret/a", &data).unwrap().expose(), b"value");
    }

    #[test]
    fn flipped_byte_fails_authentication() {
        let ring = Keyring::generate();
        let data = ring.encrypt(b"p", b"value");
        for i in 5..data.len() {
            let mut bad = data.clone();
            bad[i] ^= 0x80;
            assert!(
                matches!(ring.decrypt(b"p", &bad), Err(CryptoError::Authentication)),
                "byte {i}"
            );
        }
    }

    #[test]
    fn other_path_fails_authentication() {
        let ring = Keyring::generate();
        let data = ring.encrypt(b"secret/a", b"value");
        assert!(matches!(
            ring.decrypt(b"secret/b", &data),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn bad_header_errors() {
        let ring = Keyring::generate();
        let mut data = ring.encrypt(b"p", b"value");
        assert!(matches!(ring.decrypt(b"p", &data[..20]), Err(CryptoError::Format)));
        data[4] = 9; // term 9
        assert!(matches!(ring.decrypt(b"p", &data), Err(CryptoError::UnknownTerm(9))));
        data[0] = 0x02;
        assert!(matches!(ring.decrypt(b"p", &data), Err(CryptoError::Format)));
        assert!(matches!(term_of(&data), Err(CryptoError::Format)));
    }

    #[test]
    fn rotated_away_term_still_decrypts() {
        let ring = Keyring::generate();
        let old = ring.encrypt(b"p", b"old");
        let rotated = ring.rotate().rotate();
        assert_eq!(rotated.active_term(), 3);
        assert_eq!(rotated.terms(), vec![1, 2, 3]);
        assert_eq!(ring.active_term(), 1, "rotate returns a copy");
        assert_eq!(rotated.decrypt(b"p", &old).unwrap().expose(), b"old");
        let new = rotated.encrypt(b"p", b"new");
        assert_eq!(term_of(&new).unwrap(), 3);
        assert!(matches!(ring.decrypt(b"p", &new), Err(CryptoError::UnknownTerm(3))));
    }

    #[test]
    fn bytes_round_trip() {
        let ring = Keyring::generate().rotate();
        let data = ring.encrypt(b"p", b"v");
        let old = Keyring::from_bytes(ring.to_bytes().expose()).unwrap().rotate();
        let back = Keyring::from_bytes(ring.to_bytes().expose()).unwrap();
        assert_eq!(back.terms(), vec![1, 2]);
        assert_eq!(back.active_term(), 2);
        assert_eq!(back.install_time(1), ring.install_time(1));
        assert_eq!(back.decrypt(b"p", &data).unwrap().expose(), b"v");
        assert_eq!(old.decrypt(b"p", &data).unwrap().expose(), b"v");
        assert_eq!(back.to_bytes(), ring.to_bytes());
    }

    #[test]
    fn malformed_bytes_are_rejected() {
        let good = Keyring::generate().to_bytes().expose().to_vec();
        assert!(Keyring::from_bytes(&[]).is_err());
        assert!(Keyring::from_bytes(&good[..good.len() - 1]).is_err());
        let mut extra = good.clone();
        extra.push(0);
        assert!(Keyring::from_bytes(&extra).is_err());
        let mut version = good.clone();
        version[0] = 9;
        assert!(Keyring::from_bytes(&version).is_err());
        let mut active = good.clone();
        active[4] = 7;
        assert!(matches!(Keyring::from_bytes(&active), Err(CryptoError::Malformed(_))));
        let mut zero = good[..9].to_vec();
        zero[5..9].copy_from_slice(&0u32.to_be_bytes());
        assert!(Keyring::from_bytes(&zero).is_err());
        let mut dup = good.clone();
        dup.extend_from_slice(&good[9..]);
        dup[5..9].copy_from_slice(&2u32.to_be_bytes());
        assert!(Keyring::from_bytes(&dup).is_err());
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let ring = Keyring::from_bytes(&{
            let mut b = vec![1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
            b.extend_from_slice(&[0; 8]);
            b.extend_from_slice(&[0xEE; 32]);
            b
        })
        .unwrap();
        let shown = format!("{ring:?} {ring:#?}");
        assert!(shown.contains("[REDACTED]"));
        assert!(
            !shown.contains("238") && !shown.to_lowercase().contains("ee"),
            "{shown}"
        );
    }
}

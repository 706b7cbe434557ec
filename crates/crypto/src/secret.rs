//! Types that hold secret bytes: zeroized on drop, redacted in `Debug`, compared in constant time.

use crate::CryptoError;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A byte buffer holding secret material (plaintext, key material, Shamir shares).
///
/// The buffer is zeroized when dropped, `Debug` prints `[REDACTED]`, and equality is checked
/// in constant time (only the length may leak).
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are zeroized when the value is dropped.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The secret bytes. Do not copy them into a buffer that is not zeroized.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes::new(bytes)
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes([REDACTED])")
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &SecretBytes) -> bool {
        crate::mac::ct_eq(self.expose(), other.expose())
    }
}

impl Eq for SecretBytes {}

/// A 256-bit symmetric key (AES-256-GCM, HMAC-SHA256). Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key256([u8; 32]);

impl Key256 {
    /// A fresh key from the system CSPRNG.
    pub fn generate() -> Key256 {
        let mut key = Key256([0u8; 32]);
        fill_random(&mut key.0);
        key
    }

    /// A key from exactly 32 bytes; `CryptoError::Malformed` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Key256, CryptoError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::Malformed(format!("a key must be 32 bytes, got {}", bytes.len())))?;
        Ok(Key256(array))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Key256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key256([REDACTED])")
    }
}

impl PartialEq for Key256 {
    fn eq(&self, other: &Key256) -> bool {
        crate::mac::ct_eq(&self.0, &other.0)
    }
}

impl Eq for Key256 {}

/// `n` bytes from the system CSPRNG (aws-lc-rs).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    fill_random(&mut out);
    out
}

/// Fills `buf` from the system CSPRNG.
///
/// # Panics
/// If the operating system's random source fails, which leaves no safe way to continue.
pub(crate) fn fill_random(buf: &mut [u8]) {
    aws_lc_rs::rand::fill(buf).expect("the system random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = SecretBytes::new(b"hunter2-very-secret".to_vec());
        let shown = format!("{secret:?} {secret:#?}");
        assert!(shown.contains("[REDACTED]"));
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("104")); // no byte values either ('h' = 104)

        let key = Key256::from_slice(&[0xAB; 32]).unwrap();
        let shown = format!("{key:?} {key:#?}");
        assert!(shown.contains("[REDACTED]"));
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab")); // 0xAB = 171
    }

    #[test]
    fn secret_bytes_accessors_and_eq() {
        let a = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(a.expose(), &[1, 2, 3]);
        assert_eq!(a.len(), 3);
        assert!(!a.is_empty());
        assert!(SecretBytes::new(Vec::new()).is_empty());
        assert_eq!(a, a.clone());
        assert_ne!(a, SecretBytes::new(vec![1, 2, 4]));
        assert_ne!(a, SecretBytes::new(vec![1, 2]));
    }

    #[test]
    fn key_from_slice_checks_length() {
        assert!(Key256::from_slice(&[0; 31]).is_err());
        assert!(Key256::from_slice(&[0; 33]).is_err());
        let key = Key256::from_slice(&[7; 32]).unwrap();
        assert_eq!(key.as_bytes(), &[7; 32]);
    }

    #[test]
    fn generated_keys_differ() {
        let a = Key256::generate();
        let b = Key256::generate();
        assert_ne!(a, b);
        assert_ne!(a.as_bytes(), &[0u8; 32]);
        assert_eq!(random_bytes(17).len(), 17);
        assert_ne!(random_bytes(32), random_bytes(32));
    }
}

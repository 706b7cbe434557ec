//! AES-256-GCM sealing with a random 96-bit nonce: `nonce || ciphertext || tag`.

use crate::{CryptoError, Key256, SecretBytes};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

/// Length of the random nonce that starts every sealed value.
pub const NONCE_BYTES: usize = NONCE_LEN;
/// Length of the authentication tag that ends every sealed value.
pub const TAG_BYTES: usize = 16;

/// Encrypts and authenticates `plaintext`, binding `aad` (e.g. the storage path).
///
/// Returns `nonce (12 random bytes) || ciphertext || tag (16 bytes)`.
pub fn seal(key: &Key256, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(NONCE_BYTES + plaintext.len() + TAG_BYTES);
    AeadKey::new(key).seal_into(aad, plaintext, &mut out);
    out
}

/// Decrypts a value made by [`seal`] with the same `key` and `aad`.
///
/// `CryptoError::Format` if `sealed` is too short to hold a nonce and a tag;
/// `CryptoError::Authentication` if it was altered or the key or `aad` differ.
pub fn open(key: &Key256, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
    AeadKey::new(key).open(aad, sealed)
}

/// An expanded AES-256-GCM key, reusable across calls and threads.
pub(crate) struct AeadKey(LessSafeKey);

impl AeadKey {
    pub(crate) fn new(key: &Key256) -> AeadKey {
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes()).expect("AES-256-GCM accepts any 32-byte key");
        AeadKey(LessSafeKey::new(unbound))
    }

    /// Appends `nonce || ciphertext || tag` to `out`.
    pub(crate) fn seal_into(&self, aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) {
        let mut nonce = [0u8; NONCE_BYTES];
        crate::secret::fill_random(&mut nonce);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out[start..])
            .expect("AES-256-GCM sealing fails only for inputs larger than 64 GiB");
        out.extend_from_slice(tag.as_ref());
    }

    /// Opens `nonce || ciphertext || tag`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        if sealed.len() < NONCE_BYTES + TAG_BYTES {
            return Err(CryptoError::Format);
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Format)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain_len = self
            .0
            .open_in_place(nonce, Aad::from(aad), buf.as_mut_slice())
            .map_err(|_| CryptoError::Authentication)?
            .len();
        buf.truncate(plain_len);
        let plain = std::mem::take(&mut *buf);
        Ok(SecretBytes::new(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let key = Key256::generate();
        let sealed = seal(&key, b"secret/foo", b"hello");
        assert_eq!(sealed.len(), NONCE_BYTES + 5 + TAG_BYTES);
        assert_eq!(open(&key, b"secret/foo", &sealed).unwrap().expose(), b"hello");
        let empty = seal(&key, b"", b"");
        assert!(open(&key, b"", &empty).unwrap().is_empty());
    }

    #[test]
    fn nonces_are_fresh() {
        let key = Key256::generate();
        assert_ne!(seal(&key, b"a", b"same"), seal(&key, b"a", b"same"));
    }

    #[test]
    fn any_flipped_byte_fails_authentication() {
        let key = Key256::generate();
        let sealed = seal(&key, b"p", b"some plaintext");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                matches!(open(&key, b"p", &bad), Err(CryptoError::Authentication)),
                "flipping byte {i} was not detected"
            );
        }
    }

    #[test]
    fn other_aad_or_key_fails() {
        let key = Key256::generate();
        let sealed = seal(&key, b"secret/a", b"v");
        assert!(matches!(
            open(&key, b"secret/b", &sealed),
            Err(CryptoError::Authentication)
        ));
        let other = Key256::generate();
        assert!(matches!(
            open(&other, b"secret/a", &sealed),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn short_input_is_format_error() {
        let key = Key256::generate();
        assert!(matches!(open(&key, b"", &[0u8; 27]), Err(CryptoError::Format)));
        let sealed = seal(&key, b"", b"x");
        assert!(matches!(
            open(&key, b"", &sealed[..sealed.len() - 1]),
            Err(CryptoError::Authentication)
        ));
    }
}

//! Coffer's cryptography: AEAD, keyring, Shamir split/combine, HMAC, token format. No I/O.
//!
//! One crypto stack: aws-lc-rs. Key material lives in types that zeroize on drop and whose
//! `Debug` prints `[REDACTED]`.

#![deny(missing_docs)]

pub mod aead;
pub mod keyring;
pub mod mac;
pub mod secret;
pub mod shamir;
pub mod token;

pub use aead::{open, seal};
pub use keyring::{Keyring, term_of};
pub use mac::{HmacKey, ct_eq, hmac_sha256, sha256};
pub use secret::{Key256, SecretBytes, random_bytes};
pub use shamir::{combine, split};
pub use token::{BATCH_TOKEN_PREFIX, SERVICE_TOKEN_PREFIX};

/// Errors from cryptographic operations. Never carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Ciphertext failed authentication: altered, truncated, or stored under another path.
    #[error("value failed authentication: it was altered, truncated or moved from another path")]
    Authentication,
    /// Ciphertext names a keyring term that the keyring does not hold.
    #[error("value was encrypted under keyring term {0}, which this keyring does not hold")]
    UnknownTerm(u32),
    /// Ciphertext has an unknown format version or is too short.
    #[error("value is not in a known ciphertext format")]
    Format,
    /// Shamir parameters or shares are invalid.
    #[error("{0}")]
    Shamir(String),
    /// A serialized keyring or key could not be decoded.
    #[error("malformed key material: {0}")]
    Malformed(String),
}

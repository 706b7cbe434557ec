//! Password hashing for userpass: Argon2id in PHC string format, run on the blocking pool so
//! the async reactor never stalls on a deliberately slow hash.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use coffer_core::{CoreError, Result};
use zeroize::Zeroizing;

/// A password as received, wiped from memory when dropped.
pub type Password = Zeroizing<String>;

/// An Argon2id hash of a random password nobody knows, with the same parameters as
/// [`hasher`]. Logins for unknown users verify against it, so they cost the same time as a
/// wrong password for a real user.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$6fTo4vyCpjUMixm6pqtjAw$WKSqLeDNbZ8jHGgCH6epVfaXP92HtFfJnBkjFy1+qXU";

/// The one hasher configuration: Argon2id, version 0x13, OWASP's minimum parameters
/// (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

fn join_error(e: tokio::task::JoinError) -> CoreError {
    CoreError::Internal(format!("password hashing task failed: {e}"))
}

/// Hashes a password with a fresh random salt; returns the PHC string.
pub async fn hash(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(join_error)?
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&coffer_crypto::random_bytes(16))
        .map_err(|e| CoreError::Internal(format!("cannot encode salt: {e}")))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("cannot hash password: {e}")))
}

/// Whether `password` matches the PHC string `stored`. With `None` (unknown user) the
/// password is checked against a dummy hash and the answer is always `false`, after the same
/// amount of work.
pub async fn verify(password: Password, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let matches = verify_blocking(&password, &phc)?;
        Ok(known && matches)
    })
    .await
    .map_err(join_error)?
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|_| CoreError::Internal("a stored password hash is malformed".into()))?;
    Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let a = hash(Zeroizing::new("correct horse".into())).await.unwrap();
        let b = hash(Zeroizing::new("correct horse".into())).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salts are random");
        assert!(!a.contains("correct horse"));
        assert!(
            verify(Zeroizing::new("correct horse".into()), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(Zeroizing::new("wrong".into()), Some(a)).await.unwrap());
        assert!(!verify(Zeroizing::new("anything".into()), None).await.unwrap());
    }

    #[test]
    fn dummy_hash_has_the_hasher_parameters() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("dummy hash parses");
        let fresh = hash_blocking("x").unwrap();
        let fresh = PasswordHash::new(&fresh).unwrap();
        assert_eq!(dummy.algorithm, fresh.algorithm);
        assert_eq!(dummy.version, fresh.version);
        assert_eq!(dummy.params, fresh.params);
        assert_eq!(dummy.hash.map(|h| h.len()), fresh.hash.map(|h| h.len()));
    }
}

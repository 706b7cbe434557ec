//! TLS material read from disk: the CA bundle to trust and the client identity (certificate
//! and key) for mutual TLS, e.g. for the `cert` auth method.

use std::path::Path;

use zeroize::Zeroizing;

use crate::ClientError;

/// The certificates of a PEM CA bundle; an error when the file is unreadable or holds none.
pub(crate) fn ca_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let pem = std::fs::read(path)
        .map_err(|e| ClientError::Config(format!("cannot read CA certificate {}: {e}", path.display())))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| ClientError::Config(format!("invalid CA certificate {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ClientError::Config(format!(
            "no certificate found in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// A client identity from a PEM certificate (chain) file and a PEM private key file
/// (PKCS#8, PKCS#1 or SEC1). The key bytes are wiped from memory once reqwest has parsed
/// them; errors name the files, never their content.
pub(crate) fn identity(cert: &Path, key: &Path) -> Result<reqwest::Identity, ClientError> {
    let read = |path: &Path, what: &str| {
        std::fs::read(path)
            .map(Zeroizing::new)
            .map_err(|e| ClientError::Config(format!("cannot read client {what} {}: {e}", path.display())))
    };
    let cert_pem = read(cert, "certificate")?;
    let key_pem = read(key, "key")?;
    if !contains(&cert_pem, b"-----BEGIN CERTIFICATE-----") {
        return Err(ClientError::Config(format!(
            "no PEM certificate found in {}",
            cert.display()
        )));
    }
    if !contains(&key_pem, b"PRIVATE KEY-----") {
        return Err(ClientError::Config(format!(
            "no PEM private key found in {}",
            key.display()
        )));
    }
    let mut both = Zeroizing::new(Vec::with_capacity(cert_pem.len() + key_pem.len() + 1));
    both.extend_from_slice(&cert_pem);
    both.push(b'\n');
    both.extend_from_slice(&key_pem);
    reqwest::Identity::from_pem(&both).map_err(|e| {
        ClientError::Config(format!(
            "invalid client certificate {} or key {}: {e}",
            cert.display(),
            key.display()
        ))
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

//! Keys from a JSON Web Key Set URL: fetched on first use, cached, refetched when a token
//! names a `kid` the cache lacks (at most once per [`MIN_REFETCH`]) or when the cache is older
//! than [`MAX_AGE`]. Concurrent logins share one fetch (the cache lock is held across it).

use super::config::JwtConfig;
use super::verify::VerifyKey;
use coffer_core::{CoreError, Result};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{AlgorithmFamily, DecodingKey};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Minimum time between two fetches caused by unknown key ids.
pub const MIN_REFETCH: Duration = Duration::from_secs(2);
/// Age after which the cached set is fetched again on the next login.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// Largest JWKS document accepted.
const MAX_BODY: usize = 1 << 20;
/// Time limit of one fetch.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Cached {
    url: String,
    ca: String,
    keys: Vec<VerifyKey>,
    fetched: Instant,
}

/// The per-mount cache of JWKS keys.
#[derive(Debug, Default)]
pub struct JwksCache {
    state: Mutex<Option<Cached>>,
}

/// Parses the CA bundle of `jwks_ca_pem`.
pub fn parse_ca(pem: &str) -> Result<Vec<reqwest::Certificate>> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|_| CoreError::bad("could not parse \"jwks_ca_pem\": expected PEM certificates"))?;
    if certs.is_empty() {
        return Err(CoreError::bad("could not parse \"jwks_ca_pem\": no certificate found"));
    }
    Ok(certs)
}

fn key_from_jwk(value: &Value) -> Option<VerifyKey> {
    let jwk: Jwk = serde_json::from_value(value.clone()).ok()?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
        AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
        AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
        _ => return None,
    };
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(VerifyKey {
        kid: jwk.common.key_id.clone(),
        family,
        key,
    })
}

/// Fetches and parses a key set. Keys of unsupported types (and encryption keys) are skipped.
/// Errors say what failed, never what the server sent.
pub async fn fetch(url: &str, ca_pem: &str) -> std::result::Result<Vec<VerifyKey>, String> {
    let mut builder = reqwest::Client::builder().timeout(TIMEOUT).no_proxy();
    if !ca_pem.is_empty() {
        let certs = parse_ca(ca_pem).map_err(|e| e.to_string())?;
        builder = builder.tls_certs_only(certs);
    }
    let client = builder
        .build()
        .map_err(|_| "cannot build the HTTP client".to_string())?;
    let mut resp = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("request failed: {}", describe(&e)))?;
    if !resp.status().is_success() {
        return Err(format!("the JWKS endpoint answered HTTP {}", resp.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("reading the response failed: {}", describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("the JWKS document is larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let doc: Value = serde_json::from_slice(&body).map_err(|_| "the JWKS document is not JSON".to_string())?;
    let Some(Value::Array(entries)) = doc.get("keys") else {
        return Err("the JWKS document has no \"keys\" array".into());
    };
    let keys: Vec<VerifyKey> = entries.iter().filter_map(key_from_jwk).collect();
    if keys.is_empty() {
        return Err("the JWKS document holds no usable signing key".into());
    }
    Ok(keys)
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "bad response body"
    } else {
        "transport error"
    }
}

impl JwksCache {
    /// Forgets the cached keys (after a configuration change).
    pub async fn clear(&self) {
        *self.state.lock().await = None;
    }

    /// Keys that may have signed a token with key id `kid` (all keys when it names none).
    /// Fetch failures are server-side problems: 500 with the reason, never token content.
    pub async fn keys_for(&self, cfg: &JwtConfig, kid: Option<&str>) -> Result<Vec<VerifyKey>> {
        let mut state = self.state.lock().await;
        let stale = match &*state {
            None => true,
            Some(c) => c.url != cfg.jwks_url || c.ca != cfg.jwks_ca_pem || c.fetched.elapsed() > MAX_AGE,
        };
        let unknown_kid = |c: &Cached| kid.is_some_and(|k| !c.keys.iter().any(|key| key.kid.as_deref() == Some(k)));
        let refetch = stale
            || state
                .as_ref()
                .is_some_and(|c| unknown_kid(c) && c.fetched.elapsed() >= MIN_REFETCH);
        if refetch {
            let keys = fetch(&cfg.jwks_url, &cfg.jwks_ca_pem).await.map_err(|e| {
                tracing::warn!(url = %cfg.jwks_url, error = %e, "JWKS fetch failed");
                CoreError::Internal(format!("error fetching JWKS from {}: {e}", cfg.jwks_url))
            })?;
            *state = Some(Cached {
                url: cfg.jwks_url.clone(),
                ca: cfg.jwks_ca_pem.clone(),
                keys,
                fetched: Instant::now(),
            });
        }
        let cached = state.as_ref().expect("filled above");
        Ok(match kid {
            None => cached.keys.clone(),
            Some(k) => cached
                .keys
                .iter()
                .filter(|key| key.kid.as_deref() == Some(k))
                .cloned()
                .collect(),
        })
    }
}

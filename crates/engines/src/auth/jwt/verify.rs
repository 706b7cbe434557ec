//! Signature checks: public keys from PEM (keys or certificates), the token header, and the
//! verification of a compact JWS against candidate keys. Claims are checked in `claims`.
//!
//! Only asymmetric algorithms are accepted: `none` and the HMAC family never are, whatever the
//! configuration says. No error message here ever holds token or key material.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::str::FromStr;
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519};
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo, X509Certificate};

/// Signing algorithms a configuration may allow (the default is all of them).
pub const SUPPORTED_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// A public key a token may be signed with.
#[derive(Clone)]
pub struct VerifyKey {
    /// Key id (`kid`) for JWKS keys; `None` for static keys.
    pub kid: Option<String>,
    /// Which algorithms the key can verify.
    pub family: AlgorithmFamily,
    /// The key.
    pub key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

fn key_from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<(AlgorithmFamily, DecodingKey), String> {
    let oid = &spki.algorithm.algorithm;
    let bits = spki.subject_public_key.data.as_ref();
    if *oid == OID_PKCS1_RSAENCRYPTION {
        Ok((AlgorithmFamily::Rsa, DecodingKey::from_rsa_der(bits)))
    } else if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
        Ok((AlgorithmFamily::Ec, DecodingKey::from_ec_der(bits)))
    } else if *oid == OID_SIG_ED25519 {
        Ok((AlgorithmFamily::Ed, DecodingKey::from_ed_der(bits)))
    } else {
        Err("unsupported public key type (expected RSA, ECDSA or Ed25519)".into())
    }
}

/// Parses every PEM block of `pem`: `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`.
pub fn parse_pem_keys(pem: &str) -> Result<Vec<VerifyKey>, String> {
    let mut keys = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|_| "invalid PEM data".to_string())?;
        let (family, key) = match block.label.as_str() {
            "PUBLIC KEY" => {
                let (_, spki) =
                    SubjectPublicKeyInfo::from_der(&block.contents).map_err(|_| "invalid public key".to_string())?;
                key_from_spki(&spki)?
            }
            "RSA PUBLIC KEY" => (AlgorithmFamily::Rsa, DecodingKey::from_rsa_der(&block.contents)),
            "CERTIFICATE" => {
                let (_, cert) =
                    X509Certificate::from_der(&block.contents).map_err(|_| "invalid certificate".to_string())?;
                key_from_spki(cert.public_key())?
            }
            other => {
                return Err(format!(
                    "unexpected PEM block \"{other}\": expected a public key or certificate"
                ));
            }
        };
        keys.push(VerifyKey { kid: None, family, key });
    }
    if keys.is_empty() {
        return Err("no PEM-encoded public key found".into());
    }
    Ok(keys)
}

/// The parts of a token header that select the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    /// `alg`, checked against the allowed list.
    pub alg: Algorithm,
    /// `kid`, if any.
    pub kid: Option<String>,
}

/// Reads the header of a compact JWS and checks its algorithm against `allowed`.
pub fn header(token: &str, allowed: &[String]) -> Result<TokenHeader, String> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("malformed token: expected three dot-separated parts".into());
    };
    let head = URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .map_err(|_| "malformed token header".to_string())?;
    let head: Map<String, Value> = serde_json::from_slice(&head).map_err(|_| "malformed token header".to_string())?;
    let alg = match head.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        _ => return Err("token header has no \"alg\"".into()),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err("unsigned tokens (alg \"none\") are not accepted".into());
    }
    if !allowed.iter().any(|a| a == alg) {
        return Err(format!(
            "signing algorithm \"{alg}\" is not allowed (allowed: {})",
            allowed.join(", ")
        ));
    }
    let alg = Algorithm::from_str(alg).map_err(|_| format!("unsupported signing algorithm \"{alg}\""))?;
    let kid = match head.get("kid") {
        Some(Value::String(k)) => Some(k.clone()),
        _ => None,
    };
    Ok(TokenHeader { alg, kid })
}

fn family_of(alg: Algorithm) -> AlgorithmFamily {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => AlgorithmFamily::Hmac,
        Algorithm::ES256 | Algorithm::ES384 => AlgorithmFamily::Ec,
        Algorithm::EdDSA => AlgorithmFamily::Ed,
        _ => AlgorithmFamily::Rsa,
    }
}

/// Verifies the signature of `token` (algorithm `alg`) with the first of `keys` that
/// accepts it, and returns its claims. Time, audience and issuer are *not* checked here.
pub fn verify_signature(token: &str, alg: Algorithm, keys: &[VerifyKey]) -> Result<Map<String, Value>, String> {
    let family = family_of(alg);
    if family == AlgorithmFamily::Hmac {
        return Err("symmetric (HMAC) signatures are not accepted".into());
    }
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    for key in keys.iter().filter(|k| k.family == family) {
        match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) => match e.kind() {
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                    return Err("malformed token".into());
                }
                _ => continue,
            },
        }
    }
    Err("no known key successfully validated the token signature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn headers_refuse_none_and_disallowed_algorithms() {
        let all: Vec<String> = SUPPORTED_ALGS.iter().map(|s| s.to_string()).collect();
        let none = format!("{}.{}.", enc(r#"{"alg":"none"}"#), enc("{}"));
        assert!(header(&none, &all).unwrap_err().contains("\"none\""));
        let hs = format!("{}.{}.sig", enc(r#"{"alg":"HS256"}"#), enc("{}"));
        assert!(header(&hs, &all).unwrap_err().contains("not allowed"));
        let rs = format!("{}.{}.sig", enc(r#"{"alg":"RS256","kid":"k1"}"#), enc("{}"));
        let h = header(&rs, &all).unwrap();
        assert_eq!((h.alg, h.kid.as_deref()), (Algorithm::RS256, Some("k1")));
        assert!(header(&rs, &["ES256".to_string()]).is_err());
        assert!(header("a.b", &all).is_err());
        assert!(header("!!.b.c", &all).is_err());
    }

    #[test]
    fn pem_parsing_rejects_garbage() {
        assert!(parse_pem_keys("not a pem").is_err());
        assert!(parse_pem_keys("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
    }
}

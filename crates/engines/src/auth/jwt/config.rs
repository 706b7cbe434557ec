//! `auth/<mount>/config`: where signing keys come from (static PEM keys or a JWKS URL), the
//! issuer every token must name, the default role and the accepted signing algorithms.

use super::verify::{self, SUPPORTED_ALGS};
use crate::auth::token_fields::string_list;
use coffer_core::request::{Response, ignored_fields_warning};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Storage key of the configuration inside the mount's view.
const KEY: &str = "config";

/// Fields `config` accepts. The OIDC ones are accepted only empty (not supported yet).
const FIELDS: &[&str] = &[
    "jwt_validation_pubkeys",
    "jwks_url",
    "jwks_ca_pem",
    "bound_issuer",
    "default_role",
    "jwt_supported_algs",
    "oidc_discovery_url",
    "oidc_discovery_ca_pem",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_response_mode",
    "oidc_response_types",
    "namespace_in_state",
    "provider_config",
];

/// The stored configuration of a `jwt` mount.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct JwtConfig {
    /// PEM public keys (or certificates) that may sign tokens.
    #[serde(default)]
    pub jwt_validation_pubkeys: Vec<String>,
    /// URL of a JSON Web Key Set that holds the signing keys.
    #[serde(default)]
    pub jwks_url: String,
    /// CA certificates (PEM) for the TLS connection to `jwks_url`; system roots when empty.
    #[serde(default)]
    pub jwks_ca_pem: String,
    /// Required value of the `iss` claim, when set.
    #[serde(default)]
    pub bound_issuer: String,
    /// Role used by logins that name none.
    #[serde(default)]
    pub default_role: String,
    /// Accepted `alg` header values; empty means every supported asymmetric algorithm.
    #[serde(default)]
    pub jwt_supported_algs: Vec<String>,
}

impl JwtConfig {
    /// The accepted algorithms, defaults applied.
    pub fn algorithms(&self) -> Vec<String> {
        if self.jwt_supported_algs.is_empty() {
            SUPPORTED_ALGS.iter().map(|a| a.to_string()).collect()
        } else {
            self.jwt_supported_algs.clone()
        }
    }
}

/// Loads the configuration, `None` before the first write.
pub async fn load(view: &View) -> Result<Option<JwtConfig>> {
    view.get_json(KEY).await
}

/// `GET config`: 404 before the first write, as Vault.
pub async fn read(view: &View) -> Result<Response> {
    let Some(cfg) = load(view).await? else {
        return Err(CoreError::NotFound(String::new()));
    };
    Ok(Response::data(json!({
        "jwt_validation_pubkeys": cfg.jwt_validation_pubkeys,
        "jwks_url": cfg.jwks_url,
        "jwks_ca_pem": cfg.jwks_ca_pem,
        "jwks_pairs": [],
        "bound_issuer": cfg.bound_issuer,
        "default_role": cfg.default_role,
        "jwt_supported_algs": cfg.jwt_supported_algs,
        "oidc_discovery_url": "",
        "oidc_discovery_ca_pem": "",
        "oidc_client_id": "",
        "oidc_response_mode": "",
        "oidc_response_types": [],
        "namespace_in_state": true,
        "provider_config": {},
    })))
}

fn string(data: &Map<String, Value>, name: &str) -> Result<String> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(CoreError::bad(format!("field \"{name}\" must be a string"))),
    }
}

/// Builds and checks a configuration from a request body (a write replaces the whole
/// configuration, as in Vault).
pub fn parse(data: &Map<String, Value>) -> Result<JwtConfig> {
    for oidc in ["oidc_discovery_url", "oidc_client_id", "oidc_client_secret"] {
        if !string(data, oidc)?.is_empty() {
            return Err(CoreError::bad(format!(
                "\"{oidc}\" is not supported yet: configure \"jwks_url\" or \"jwt_validation_pubkeys\""
            )));
        }
    }
    let cfg = JwtConfig {
        jwt_validation_pubkeys: string_list(data, "jwt_validation_pubkeys")?.unwrap_or_default(),
        jwks_url: string(data, "jwks_url")?,
        jwks_ca_pem: string(data, "jwks_ca_pem")?,
        bound_issuer: string(data, "bound_issuer")?,
        default_role: string(data, "default_role")?,
        jwt_supported_algs: string_list(data, "jwt_supported_algs")?.unwrap_or_default(),
    };
    let sources = usize::from(!cfg.jwt_validation_pubkeys.is_empty()) + usize::from(!cfg.jwks_url.is_empty());
    if sources != 1 {
        return Err(CoreError::bad(
            "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set",
        ));
    }
    for (i, pem) in cfg.jwt_validation_pubkeys.iter().enumerate() {
        verify::parse_pem_keys(pem).map_err(|e| CoreError::bad(format!("error parsing public key {}: {e}", i + 1)))?;
    }
    if !cfg.jwks_url.is_empty() {
        let url = reqwest::Url::parse(&cfg.jwks_url)
            .map_err(|_| CoreError::bad("\"jwks_url\" must be an absolute http or https URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CoreError::bad("\"jwks_url\" must be an absolute http or https URL"));
        }
    } else if !cfg.jwks_ca_pem.is_empty() {
        return Err(CoreError::bad("\"jwks_ca_pem\" requires \"jwks_url\""));
    }
    if !cfg.jwks_ca_pem.is_empty() {
        super::jwks::parse_ca(&cfg.jwks_ca_pem)?;
    }
    for alg in &cfg.jwt_supported_algs {
        if !SUPPORTED_ALGS.contains(&alg.as_str()) {
            return Err(CoreError::bad(format!(
                "invalid jwt_supported_algs: \"{alg}\" is not one of {}",
                SUPPORTED_ALGS.join(", ")
            )));
        }
    }
    Ok(cfg)
}

/// `POST config`: checks the keys (and, for a JWKS URL, that the set can be fetched), then
/// stores the configuration.
pub async fn write(view: &View, data: &Map<String, Value>) -> Result<Response> {
    let cfg = parse(data)?;
    if !cfg.jwks_url.is_empty() {
        super::jwks::fetch(&cfg.jwks_url, &cfg.jwks_ca_pem)
            .await
            .map_err(|e| CoreError::bad(format!("error checking jwks URL: {e}")))?;
    }
    view.put_json(KEY, &cfg).await?;
    let mut resp = Response::empty();
    resp.warnings.extend(ignored_fields_warning(data, FIELDS));
    Ok(resp)
}

//! Typed HTTP client for Coffer's (Vault-compatible) API.
//!
//! [`Client`] speaks Vault's wire format: `X-Vault-Token`, the `LIST` method, the JSON
//! envelope ([`Secret`]) and `{"errors": [...]}` ([`ClientError::Api`]). Generic
//! `read`/`write`/`patch`/`delete`/`list` cover any path; [`sys`] adds typed helpers for
//! the seal and init endpoints, whose bodies are not enveloped.

mod error;
mod secret;
pub mod sys;
mod tls;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub use error::ClientError;
pub use secret::{Auth, Secret, WrapInfo};

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server address, e.g. `http://127.0.0.1:8200`.
    pub address: String,
    /// Token sent as `X-Vault-Token`.
    pub token: Option<SecretString>,
    /// PEM file with the CA certificate(s) to trust instead of the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the server's certificate (testing only).
    pub tls_skip_verify: bool,
    /// PEM file with the client certificate for mutual TLS (with `client_key`).
    pub client_cert: Option<PathBuf>,
    /// PEM file with the private key of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Response-wrapping TTL sent as `X-Vault-Wrap-TTL` on every request (e.g. `300`, `5m`).
    pub wrap_ttl: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl ClientConfig {
    /// A config for `address` and `token` with TLS defaults and a 60 s timeout.
    pub fn new(address: impl Into<String>, token: Option<SecretString>) -> ClientConfig {
        ClientConfig {
            address: address.into(),
            token,
            ca_cert: None,
            tls_skip_verify: false,
            client_cert: None,
            client_key: None,
            wrap_ttl: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// An async client for one server. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    address: String,
    token: Option<SecretString>,
    wrap_ttl: Option<HeaderValue>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("wrap_ttl", &self.wrap_ttl)
            .finish_non_exhaustive()
    }
}

/// Checks a wrap TTL (digits, optionally with Go duration units) and makes it a header value.
fn wrap_ttl_header(ttl: &str) -> Result<HeaderValue, ClientError> {
    let ttl = ttl.trim();
    let ok = !ttl.is_empty()
        && ttl.starts_with(|c: char| c.is_ascii_digit())
        && ttl.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    let bad = || ClientError::Config(format!("invalid wrap TTL {ttl:?}: use seconds or units like 30s, 5m"));
    if !ok {
        return Err(bad());
    }
    HeaderValue::from_str(ttl).map_err(|_| bad())
}

/// The request body, if any.
enum Body<'a> {
    None,
    Json(&'a Value),
    MergePatch(&'a Value),
}

impl Client {
    /// A client for `address` with an optional token and default TLS settings.
    pub fn new(address: &str, token: Option<SecretString>) -> Result<Client, ClientError> {
        Client::from_config(ClientConfig::new(address, token))
    }

    /// A client from a full [`ClientConfig`].
    pub fn from_config(config: ClientConfig) -> Result<Client, ClientError> {
        let address = config.address.trim().trim_end_matches('/').to_string();
        let base = Url::parse(&address)
            .map_err(|e| ClientError::Config(format!("invalid server address {address:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ClientError::Config(format!(
                "invalid server address {address:?}: expected http://host:port or https://host:port"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(5));
        if let Some(path) = &config.ca_cert {
            builder = builder.tls_certs_only(tls::ca_certs(path)?);
        }
        match (&config.client_cert, &config.client_key) {
            (Some(cert), Some(key)) => builder = builder.identity(tls::identity(cert, key)?),
            (None, None) => {}
            _ => {
                return Err(ClientError::Config(
                    "a client certificate needs both a certificate and a key file".into(),
                ));
            }
        }
        if config.tls_skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot build HTTP client: {e}")))?;
        let wrap_ttl = config.wrap_ttl.as_deref().map(wrap_ttl_header).transpose()?;
        Ok(Client {
            http,
            base,
            address,
            token: config.token,
            wrap_ttl,
        })
    }

    /// The server address this client talks to (no trailing slash).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Replaces the token used for later requests.
    pub fn set_token(&mut self, token: Option<SecretString>) {
        self.token = token;
    }

    /// Sets (or, with `None`, clears) the response-wrapping TTL sent as `X-Vault-Wrap-TTL`.
    pub fn set_wrap_ttl(&mut self, ttl: Option<&str>) -> Result<(), ClientError> {
        self.wrap_ttl = ttl.map(wrap_ttl_header).transpose()?;
        Ok(())
    }

    /// Whether responses are requested wrapped.
    pub fn wraps(&self) -> bool {
        self.wrap_ttl.is_some()
    }

    /// `GET /v1/<path>`. A 404 without data or warnings is `Ok(None)`, as in Vault's client.
    pub async fn read(&self, path: &str) -> Result<Option<Secret>, ClientError> {
        self.read_with_query(path, &[]).await
    }

    /// `GET /v1/<path>?k=v…` (e.g. `version=2` for KV v2). 404 handling as [`Client::read`].
    pub async fn read_with_query(&self, path: &str, query: &[(String, String)]) -> Result<Option<Secret>, ClientError> {
        self.secret_request(Method::GET, path, query, Body::None, true).await
    }

    /// `PUT /v1/<path>` with a JSON body. 204 is `Ok(None)`.
    pub async fn write(&self, path: &str, body: &Value) -> Result<Option<Secret>, ClientError> {
        self.secret_request(Method::PUT, path, &[], Body::Json(body), false)
            .await
    }

    /// `POST /v1/<path>` with a JSON body (some endpoints only document POST).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Option<Secret>, ClientError> {
        self.secret_request(Method::POST, path, &[], Body::Json(body), false)
            .await
    }

    /// `PATCH /v1/<path>` with `Content-Type: application/merge-patch+json`.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Option<Secret>, ClientError> {
        self.secret_request(Method::PATCH, path, &[], Body::MergePatch(body), false)
            .await
    }

    /// `DELETE /v1/<path>`.
    pub async fn delete(&self, path: &str) -> Result<Option<Secret>, ClientError> {
        self.delete_with_query(path, &[]).await
    }

    /// `DELETE /v1/<path>?k=v…`.
    pub async fn delete_with_query(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Option<Secret>, ClientError> {
        self.secret_request(Method::DELETE, path, query, Body::None, false)
            .await
    }

    /// `LIST /v1/<path>`. A 404 without data or warnings is `Ok(None)`.
    pub async fn list(&self, path: &str) -> Result<Option<Secret>, ClientError> {
        let list = Method::from_bytes(b"LIST").expect("LIST is a valid method token");
        self.secret_request(list, path, &[], Body::None, true).await
    }

    /// The URL for an API path (`<address>/v1/<path>`), percent-encoded.
    pub fn url_for(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let prefix = self.base.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}/v1/{}", path.trim_start_matches('/')));
        url
    }

    /// Sends one request; returns status and body bytes, or a transport error.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Body<'_>,
    ) -> Result<(StatusCode, Url, Vec<u8>), ClientError> {
        let url = self.url_for(path);
        let mut req = self.http.request(method, url.clone()).header("X-Vault-Request", "true");
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(ttl) = &self.wrap_ttl {
            req = req.header("X-Vault-Wrap-TTL", ttl.clone());
        }
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(token.expose_secret())
                .map_err(|_| ClientError::Config("the token contains characters not allowed in a header".into()))?;
            value.set_sensitive(true);
            req = req.header("X-Vault-Token", value);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::MergePatch(v) => req
                .header(CONTENT_TYPE, "application/merge-patch+json")
                .body(serde_json::to_vec(v).map_err(|e| ClientError::Config(e.to_string()))?),
        };
        let resp = req.send().await.map_err(|e| self.transport(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.transport(&e))?;
        Ok((status, url, bytes.to_vec()))
    }

    fn transport(&self, e: &reqwest::Error) -> ClientError {
        ClientError::Http {
            address: self.address.clone(),
            message: error::describe_transport(e),
        }
    }

    /// Sends a request whose answer is an envelope.
    async fn secret_request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Body<'_>,
        not_found_is_none: bool,
    ) -> Result<Option<Secret>, ClientError> {
        let method_name = method.as_str().to_string();
        let (status, url, bytes) = self.send(method, path, query, body).await?;
        if status == StatusCode::NOT_FOUND && not_found_is_none {
            // Vault answers 404 with data for e.g. a deleted KV v2 version: keep it.
            return Ok(serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| Secret::from_value(v).ok())
                .filter(|s| !s.is_empty()));
        }
        if !status.is_success() {
            return Err(ClientError::Api {
                method: method_name,
                url: url.to_string(),
                status: status.as_u16(),
                errors: error::errors_from_body(&bytes),
            });
        }
        if status == StatusCode::NO_CONTENT || bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let raw: Value = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        Secret::from_value(raw).map(Some).map_err(|e| ClientError::Decode {
            url: url.to_string(),
            message: e.to_string(),
        })
    }

    /// Sends a request whose answer is plain JSON (not an envelope). Statuses in `accept`
    /// are returned like 2xx (e.g. `sys/health` answers 503 when sealed).
    async fn raw_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        accept: &[u16],
    ) -> Result<(u16, Value), ClientError> {
        let method_name = method.as_str().to_string();
        let body = body.map_or(Body::None, Body::Json);
        let (status, url, bytes) = self.send(method, path, &[], body).await?;
        if !status.is_success() && !accept.contains(&status.as_u16()) {
            return Err(ClientError::Api {
                method: method_name,
                url: url.to_string(),
                status: status.as_u16(),
                errors: error::errors_from_body(&bytes),
            });
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok((status.as_u16(), Value::Null));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        Ok((status.as_u16(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install_provider() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }

    #[test]
    fn builds_urls_under_v1() {
        install_provider();
        let c = Client::new("http://127.0.0.1:8200/", None).unwrap();
        assert_eq!(c.address(), "http://127.0.0.1:8200");
        assert_eq!(
            c.url_for("secret/data/x").as_str(),
            "http://127.0.0.1:8200/v1/secret/data/x"
        );
        assert_eq!(c.url_for("/sys/health").as_str(), "http://127.0.0.1:8200/v1/sys/health");
        // A '?' in a path is a path character, never a query injection.
        assert_eq!(c.url_for("a?b").as_str(), "http://127.0.0.1:8200/v1/a%3Fb");
    }

    #[test]
    fn rejects_bad_addresses() {
        install_provider();
        assert!(matches!(
            Client::new("127.0.0.1:8200", None),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(Client::new("ftp://x", None), Err(ClientError::Config(_))));
    }

    #[test]
    fn debug_hides_the_token() {
        install_provider();
        let c = Client::new("http://x:1", Some(SecretString::from("s.topsecret"))).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("topsecret"), "{dbg}");
        assert!(dbg.contains("[redacted]"));
    }

    #[tokio::test]
    async fn connection_refused_names_the_address() {
        install_provider();
        let c = Client::new("http://127.0.0.1:1", Some(SecretString::from("s.topsecret"))).unwrap();
        let err = c.read("secret/x").await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ClientError::Http { .. }), "{err:?}");
        assert!(text.contains("http://127.0.0.1:1"), "{text}");
        assert!(!text.contains("topsecret"), "{text}");
        assert!(!format!("{err:?}").contains("topsecret"));
    }
}

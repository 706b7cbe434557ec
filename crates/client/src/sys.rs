//! Typed helpers for `sys/` endpoints whose bodies are plain JSON, not the envelope:
//! seal status, init, unseal, seal, health.

use std::fmt;

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Client, ClientError};

/// `GET sys/seal-status` (also the answer of `sys/unseal`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SealStatus {
    /// Seal type, e.g. `shamir`.
    #[serde(rename = "type")]
    pub seal_type: String,
    /// Whether the server has been initialised.
    pub initialized: bool,
    /// Whether the server is sealed.
    pub sealed: bool,
    /// Unseal threshold.
    pub t: u32,
    /// Number of key shares.
    pub n: u32,
    /// Shares supplied so far in the current unseal attempt.
    pub progress: u32,
    /// Nonce of the current unseal attempt.
    pub nonce: String,
    /// Server version.
    pub version: String,
    /// Server build date.
    pub build_date: String,
    /// Whether a seal migration is in progress.
    pub migration: bool,
    /// Cluster name (once unsealed).
    pub cluster_name: String,
    /// Cluster id (once unsealed).
    pub cluster_id: String,
    /// Whether the seal uses recovery keys.
    pub recovery_seal: bool,
    /// Storage backend type.
    pub storage_type: String,
    /// The body as received.
    #[serde(skip)]
    pub raw: Value,
}

/// `PUT sys/init` answer. Holds the unseal keys and root token: `Debug` redacts them.
#[derive(Debug, Clone)]
pub struct InitResponse {
    /// Unseal key shares, hex encoded.
    pub keys: Vec<SecretString>,
    /// Unseal key shares, base64 encoded.
    pub keys_base64: Vec<SecretString>,
    /// The initial root token.
    pub root_token: SecretString,
}

#[derive(Deserialize)]
struct InitWire {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    keys_base64: Vec<String>,
    #[serde(default)]
    root_token: String,
}

/// `GET sys/health` answer with the HTTP status (200 active, 429 standby, 501
/// uninitialised, 503 sealed, …).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Health {
    /// HTTP status of the health answer.
    #[serde(skip)]
    pub status: u16,
    /// Whether the server has been initialised.
    pub initialized: bool,
    /// Whether the server is sealed.
    pub sealed: bool,
    /// Whether this node is a standby.
    pub standby: bool,
    /// Server version.
    pub version: String,
    /// Server time, seconds since the epoch.
    pub server_time_utc: i64,
    /// Cluster name.
    pub cluster_name: String,
    /// Cluster id.
    pub cluster_id: String,
    /// The body as received.
    #[serde(skip)]
    pub raw: Value,
}

fn decode<T: for<'de> Deserialize<'de>>(client: &Client, path: &str, v: &Value) -> Result<T, ClientError> {
    T::deserialize(v).map_err(|e| ClientError::Decode {
        url: client.url_for(path).to_string(),
        message: e.to_string(),
    })
}

impl Client {
    /// `GET sys/seal-status`.
    pub async fn sys_seal_status(&self) -> Result<SealStatus, ClientError> {
        let (_, raw) = self.raw_request(Method::GET, "sys/seal-status", None, &[]).await?;
        let mut status: SealStatus = decode(self, "sys/seal-status", &raw)?;
        status.raw = raw;
        Ok(status)
    }

    /// `PUT sys/init` with Shamir `shares` and `threshold`.
    pub async fn sys_init(&self, shares: u32, threshold: u32) -> Result<InitResponse, ClientError> {
        let body = json!({"secret_shares": shares, "secret_threshold": threshold});
        let (_, raw) = self.raw_request(Method::PUT, "sys/init", Some(&body), &[]).await?;
        let wire: InitWire = decode(self, "sys/init", &raw)?;
        Ok(InitResponse {
            keys: wire.keys.into_iter().map(SecretString::from).collect(),
            keys_base64: wire.keys_base64.into_iter().map(SecretString::from).collect(),
            root_token: SecretString::from(wire.root_token),
        })
    }

    /// `PUT sys/unseal` with one key share; returns the new seal status.
    pub async fn sys_unseal(&self, key: &SecretString) -> Result<SealStatus, ClientError> {
        use secrecy::ExposeSecret;
        let body = json!({"key": key.expose_secret()});
        self.unseal_body(&body).await
    }

    /// `PUT sys/unseal` with `reset: true`: forgets the shares given so far.
    pub async fn sys_unseal_reset(&self) -> Result<SealStatus, ClientError> {
        self.unseal_body(&json!({"reset": true})).await
    }

    async fn unseal_body(&self, body: &Value) -> Result<SealStatus, ClientError> {
        let (_, raw) = self.raw_request(Method::PUT, "sys/unseal", Some(body), &[]).await?;
        let mut status: SealStatus = decode(self, "sys/unseal", &raw)?;
        status.raw = raw;
        Ok(status)
    }

    /// `PUT sys/seal`.
    pub async fn sys_seal(&self) -> Result<(), ClientError> {
        self.raw_request(Method::PUT, "sys/seal", None, &[]).await.map(|_| ())
    }

    /// `GET sys/health`; sealed/standby/uninitialised answers are returned, not errors.
    pub async fn sys_health(&self) -> Result<Health, ClientError> {
        let accept = [429, 472, 473, 501, 503];
        let (status, raw) = self.raw_request(Method::GET, "sys/health", None, &accept).await?;
        let mut health: Health = decode(self, "sys/health", &raw)?;
        health.status = status;
        health.raw = raw;
        Ok(health)
    }
}

impl fmt::Display for SealStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.sealed { "sealed" } else { "unsealed" };
        write!(f, "{state} ({}/{} shares, threshold {})", self.progress, self.n, self.t)
    }
}

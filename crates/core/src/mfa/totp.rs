//! TOTP MFA methods (`identity/mfa/method/totp`): method settings, per-entity secrets, QR
//! enrolment, and passcode checks with replay protection.

use crate::fields::{str_field, u64_field};
use crate::view::View;
use crate::{CoreError, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use totp_rs::{Algorithm, Builder, Totp};

/// A TOTP method's settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TotpMethod {
    /// Method id (uuid).
    pub id: String,
    /// Optional unique name.
    pub name: String,
    /// Issuer shown by authenticator apps.
    pub issuer: String,
    /// Step length in seconds.
    pub period: u64,
    /// Secret length in bytes.
    pub key_size: u64,
    /// QR code size in pixels (0 = no QR code).
    pub qr_size: u64,
    /// SHA1, SHA256 or SHA512.
    pub algorithm: String,
    /// 6 or 8.
    pub digits: u64,
    /// Steps of clock skew accepted on either side (0 or 1).
    pub skew: u64,
    /// Failed validations allowed per login before it is abandoned.
    pub max_validation_attempts: u64,
}

impl TotpMethod {
    fn defaults(id: String) -> Self {
        TotpMethod {
            id,
            name: String::new(),
            issuer: String::new(),
            period: 30,
            key_size: 20,
            qr_size: 200,
            algorithm: "SHA1".into(),
            digits: 6,
            skew: 1,
            max_validation_attempts: 5,
        }
    }

    /// Applies request fields, validating them.
    pub fn apply(&mut self, data: &Map<String, Value>) -> Result<()> {
        if let Some(v) = str_field(data, "issuer")? {
            self.issuer = v.to_string();
        }
        if let Some(v) = str_field(data, "method_name")?.or(str_field(data, "name")?) {
            self.name = v.to_string();
        }
        if let Some(period) = crate::duration::parse_field(data, "period")? {
            self.period = period;
        }
        for (field, slot) in [
            ("key_size", &mut self.key_size),
            ("qr_size", &mut self.qr_size),
            ("digits", &mut self.digits),
            ("skew", &mut self.skew),
            ("max_validation_attempts", &mut self.max_validation_attempts),
        ] {
            if let Some(v) = u64_field(data, field)? {
                *slot = v;
            }
        }
        if let Some(a) = str_field(data, "algorithm")? {
            self.algorithm = a.to_uppercase();
        }
        if self.issuer.is_empty() {
            return Err(CoreError::bad("issuer is required"));
        }
        if !(6..=8).contains(&self.digits) || self.digits == 7 {
            return Err(CoreError::bad("digits must be 6 or 8"));
        }
        if self.skew > 1 {
            return Err(CoreError::bad("skew must be 0 or 1"));
        }
        if self.period == 0 || self.key_size < 16 || self.key_size > 64 {
            return Err(CoreError::bad(
                "period must be positive and key_size between 16 and 64 bytes",
            ));
        }
        if self.max_validation_attempts == 0 {
            self.max_validation_attempts = 5;
        }
        algorithm(&self.algorithm)?;
        Ok(())
    }

    /// The JSON Vault shows for a method.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "type": "totp", "issuer": self.issuer, "period": self.period,
            "key_size": self.key_size, "qr_size": self.qr_size, "algorithm": self.algorithm,
            "digits": self.digits, "skew": self.skew, "max_validation_attempts": self.max_validation_attempts,
            "mount_accessor": "", "namespace_id": "root", "namespace_path": "",
        })
    }

    fn totp(&self, secret: Vec<u8>, account: &str) -> Result<Totp> {
        Builder::new()
            .with_algorithm(algorithm(&self.algorithm)?)
            .with_digits(self.digits as u8)
            .with_skew(self.skew as u16)
            .with_step_duration(self.period)
            .with_secret(secret)
            .with_account_name(account)
            .with_issuer(Some(self.issuer.as_str()))
            .build()
            .map_err(|e| CoreError::Internal(format!("TOTP settings rejected: {e}")))
    }
}

fn algorithm(name: &str) -> Result<Algorithm> {
    match name {
        "SHA1" => Ok(Algorithm::SHA1),
        "SHA256" => Ok(Algorithm::SHA256),
        "SHA512" => Ok(Algorithm::SHA512),
        other => Err(CoreError::bad(format!(
            "unsupported algorithm \"{other}\" (SHA1, SHA256, SHA512)"
        ))),
    }
}

fn method_key(id: &str) -> String {
    format!("method/totp/{id}")
}

fn secret_key(method_id: &str, entity_id: &str) -> String {
    format!("secret/{method_id}/{entity_id}")
}

/// Reads a method.
pub async fn load(view: &View, id: &str) -> Result<Option<TotpMethod>> {
    if id.is_empty() || id.contains('/') {
        return Ok(None);
    }
    view.get_json(&method_key(id)).await
}

/// Creates (no id) or updates a method; returns its id.
pub async fn write(view: &View, id: Option<&str>, data: &Map<String, Value>) -> Result<String> {
    let mut method = match id {
        Some(id) => load(view, id)
            .await?
            .ok_or_else(|| CoreError::bad(format!("no MFA method with id \"{id}\"")))?,
        None => TotpMethod::defaults(uuid::Uuid::new_v4().to_string()),
    };
    method.apply(data)?;
    view.put_json(&method_key(&method.id), &method).await?;
    Ok(method.id)
}

/// Ids of all methods.
pub async fn list(view: &View) -> Result<Vec<String>> {
    view.list("method/totp/").await
}

/// Deletes a method and every entity's secret for it.
pub async fn delete(view: &View, id: &str) -> Result<()> {
    view.batch(vec![
        crate::view::ViewOp::Delete(method_key(id)),
        crate::view::ViewOp::DeletePrefix(format!("secret/{id}/")),
    ])
    .await
}

/// Generates a secret for an entity; returns `{barcode, url}` (barcode: base64 PNG), or a
/// warning when the entity already has one.
pub async fn generate(view: &View, method: &TotpMethod, entity_id: &str, account: &str) -> Result<Value> {
    if view.get(&secret_key(&method.id, entity_id)).await?.is_some() {
        return Ok(json!({ "warning": "Entity already has a secret for MFA method" }));
    }
    let secret = coffer_crypto::random_bytes(method.key_size as usize);
    let totp = method.totp(secret.clone(), account)?;
    let url = totp
        .to_url()
        .map_err(|e| CoreError::Internal(format!("cannot build otpauth URL: {e}")))?;
    let barcode = if method.qr_size == 0 {
        String::new()
    } else {
        let png = totp
            .to_qr_png()
            .map_err(|e| CoreError::Internal(format!("cannot render QR code: {e}")))?;
        base64::engine::general_purpose::STANDARD.encode(png)
    };
    view.put(&secret_key(&method.id, entity_id), &secret).await?;
    Ok(json!({ "barcode": barcode, "url": url }))
}

/// Removes an entity's secret.
pub async fn destroy(view: &View, method_id: &str, entity_id: &str) -> Result<()> {
    view.delete(&secret_key(method_id, entity_id)).await
}

/// The time step a passcode matches for an entity, or an error that says why not.
pub async fn check(view: &View, method: &TotpMethod, entity_id: &str, passcode: &str, now: u64) -> Result<u64> {
    let secret = view
        .get(&secret_key(&method.id, entity_id))
        .await?
        .ok_or_else(|| CoreError::bad("the entity has no TOTP secret for this method; generate one first"))?;
    let totp = method.totp(secret.expose().to_vec(), "")?;
    let passcode = passcode.trim();
    if passcode.len() != method.digits as usize || !passcode.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CoreError::bad("invalid TOTP passcode format"));
    }
    totp.check(passcode, now)
        .ok_or_else(|| CoreError::bad("failed to validate TOTP passcode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated() {
        let mut m = TotpMethod::defaults("x".into());
        let ok = json!({"issuer": "Coffer", "digits": 8, "period": "60s"});
        m.apply(ok.as_object().unwrap()).unwrap();
        assert_eq!((m.digits, m.period), (8, 60));
        for bad in [
            json!({"digits": 7}),
            json!({"algorithm": "MD5"}),
            json!({"skew": 3}),
            json!({"issuer": ""}),
        ] {
            let mut m = TotpMethod::defaults("x".into());
            m.issuer = "Coffer".into();
            assert!(m.apply(bad.as_object().unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_codes_check_within_skew() {
        let mut m = TotpMethod::defaults("x".into());
        m.issuer = "Coffer".into();
        let totp = m.totp(vec![7u8; 20], "alice").unwrap();
        let now = 1_800_000_000;
        let code = totp.generate(now).to_string();
        assert!(totp.check(&code, now + 30).is_some(), "one step of skew");
        assert!(totp.check(&code, now + 120).is_none());
        assert!(totp.to_url().unwrap().starts_with("otpauth://totp/"));
    }
}

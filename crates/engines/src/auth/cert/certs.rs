//! `auth/<mount>/certs/<name>` (read, create/update, delete) and `certs/` (LIST): a trusted
//! certificate (a CA, or a leaf trusted as itself), the names a client certificate must carry,
//! and the settings of the tokens a login through it gets.

use crate::auth::token_fields::{self, TokenFields, string_list};
use coffer_core::backend::BackendRequest;
use coffer_core::request::{Operation, Response, ignored_fields_warning};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Storage prefix of roles inside the mount's view.
const PREFIX: &str = "cert/";

const FIELDS: &[&str] = &[
    "name",
    "certificate",
    "display_name",
    "allowed_names",
    "allowed_common_names",
    "allowed_dns_sans",
    "allowed_email_sans",
    "allowed_uri_sans",
    "allowed_organizational_units",
    "required_extensions",
    "allowed_metadata_extensions",
    "ocsp_enabled",
];

/// A trusted certificate and its constraints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CertRole {
    /// PEM certificates trusted by this role.
    pub certificate: String,
    /// Display name of the tokens (defaults to the role name).
    pub display_name: String,
    /// Deprecated: globs matched against the CN and the DNS and email SANs.
    pub allowed_names: Vec<String>,
    /// Globs for the subject common name.
    pub allowed_common_names: Vec<String>,
    /// Globs for DNS SANs.
    pub allowed_dns_sans: Vec<String>,
    /// Globs for email SANs.
    pub allowed_email_sans: Vec<String>,
    /// Globs for URI SANs.
    pub allowed_uri_sans: Vec<String>,
    /// Globs for the subject's organizational units.
    pub allowed_organizational_units: Vec<String>,
    /// Settings of the tokens this role grants.
    pub token: TokenFields,
}

/// DER certificates of a PEM bundle; each must parse as X.509 and serve as a trust anchor.
pub fn parse_certificates(pem: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|_| "invalid PEM data".to_string())?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        X509Certificate::from_der(&block.contents).map_err(|_| "invalid certificate".to_string())?;
        let der = pki_types::CertificateDer::from(block.contents.as_slice());
        webpki::anchor_from_trusted_cert(&der)
            .map_err(|_| "certificate cannot be used as a trust anchor".to_string())?;
        out.push(block.contents);
    }
    if out.is_empty() {
        return Err("no PEM certificate found".into());
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<&str> {
    if name.is_empty() || name.contains('/') {
        return Err(CoreError::bad("invalid certificate role name"));
    }
    Ok(name)
}

/// Loads a role.
pub async fn load(view: &View, name: &str) -> Result<Option<CertRole>> {
    if name.is_empty() || name.contains('/') {
        return Ok(None);
    }
    view.get_json(&format!("{PREFIX}{name}")).await
}

/// Names of all roles, sorted.
pub async fn names(view: &View) -> Result<Vec<String>> {
    Ok(view
        .list(PREFIX)
        .await?
        .into_iter()
        .filter(|k| !k.ends_with('/'))
        .collect())
}

/// `LIST certs/`.
pub async fn list(view: &View) -> Result<Response> {
    let keys = names(view).await?;
    if keys.is_empty() {
        return Err(CoreError::NotFound(String::new()));
    }
    Ok(Response::list(keys))
}

/// Serves `certs/<name>`.
pub async fn handle(view: &View, name: &str, req: &BackendRequest<'_>) -> Result<Response> {
    let name = check_name(name)?;
    match req.operation {
        Operation::Read => match load(view, name).await? {
            Some(role) => Ok(Response::data(to_data(&role))),
            None => Err(CoreError::NotFound(String::new())),
        },
        Operation::Create | Operation::Update => {
            let existing = load(view, name).await?;
            let role = update(existing.unwrap_or_default(), name, req.data)?;
            view.put_json(&format!("{PREFIX}{name}"), &role).await?;
            let mut resp = Response::empty();
            let known: Vec<&str> = FIELDS.iter().chain(token_fields::FIELDS).copied().collect();
            resp.warnings.extend(ignored_fields_warning(req.data, &known));
            Ok(resp)
        }
        Operation::Delete => {
            view.delete(&format!("{PREFIX}{name}")).await?;
            Ok(Response::empty())
        }
        Operation::List => list(view).await,
        Operation::Patch => Err(CoreError::UnsupportedOperation),
    }
}

/// Applies a create/update body (absent fields keep their value) and checks the result.
pub fn update(mut role: CertRole, name: &str, data: &Map<String, Value>) -> Result<CertRole> {
    match data.get("certificate") {
        None | Some(Value::Null) => {}
        Some(Value::String(pem)) => {
            parse_certificates(pem).map_err(|e| CoreError::bad(format!("failed to parse certificate: {e}")))?;
            role.certificate = pem.clone();
        }
        Some(_) => return Err(CoreError::bad("field \"certificate\" must be a string")),
    }
    if role.certificate.is_empty() {
        return Err(CoreError::bad("must specify certificate"));
    }
    match data.get("display_name") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => role.display_name = s.trim().to_string(),
        Some(_) => return Err(CoreError::bad("field \"display_name\" must be a string")),
    }
    if role.display_name.is_empty() {
        role.display_name = name.to_string();
    }
    for (field, key) in [
        (&mut role.allowed_names, "allowed_names"),
        (&mut role.allowed_common_names, "allowed_common_names"),
        (&mut role.allowed_dns_sans, "allowed_dns_sans"),
        (&mut role.allowed_email_sans, "allowed_email_sans"),
        (&mut role.allowed_uri_sans, "allowed_uri_sans"),
        (&mut role.allowed_organizational_units, "allowed_organizational_units"),
    ] {
        if let Some(v) = string_list(data, key)? {
            *field = v;
        }
    }
    if string_list(data, "required_extensions")?.is_some_and(|v| !v.is_empty()) {
        return Err(CoreError::bad("\"required_extensions\" is not supported yet"));
    }
    if matches!(data.get("ocsp_enabled"), Some(Value::Bool(true))) {
        return Err(CoreError::bad("\"ocsp_enabled\" is not supported yet"));
    }
    role.token.update(data)?;
    Ok(role)
}

/// The read shape of a role.
pub fn to_data(role: &CertRole) -> Value {
    let mut out = json!({
        "certificate": role.certificate,
        "display_name": role.display_name,
        "allowed_names": role.allowed_names,
        "allowed_common_names": role.allowed_common_names,
        "allowed_dns_sans": role.allowed_dns_sans,
        "allowed_email_sans": role.allowed_email_sans,
        "allowed_uri_sans": role.allowed_uri_sans,
        "allowed_organizational_units": role.allowed_organizational_units,
        "required_extensions": [],
        "allowed_metadata_extensions": [],
        "ocsp_enabled": false,
    });
    let map = out.as_object_mut().expect("object literal");
    role.token.populate(map);
    if !role.token.token_policies.is_empty() {
        map.insert("policies".into(), json!(role.token.token_policies));
    }
    out
}

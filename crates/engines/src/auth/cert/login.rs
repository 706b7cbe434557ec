//! `auth/<mount>/login` {name?}: verifies the client's TLS certificate (`client_certs[0]`,
//! intermediates after it) against each role's trusted certificates with rustls-webpki
//! (client-auth usage, validity at the current time), then the role's allowed names.
//!
//! As Vault: the alias name is the subject common name; metadata holds `cert_name`,
//! `common_name`, `serial_number` (decimal), `subject_key_id` and `authority_key_id` (hex with
//! colons); the alias gets the metadata too when `enable_identity_alias_metadata` is set.

use super::certs::{self, CertRole};
use crate::auth::jwt::claims::glob_match;
use coffer_core::backend::BackendRequest;
use coffer_core::request::{AliasInfo, Auth, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use pki_types::{CertificateDer, UnixTime};
use serde_json::{Map, Value};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a role did not accept the certificate, most specific last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refusal {
    Untrusted,
    WrongUsage,
    NotYetValid,
    Expired,
    Cidr,
    Names,
}

impl Refusal {
    fn message(self) -> &'static str {
        match self {
            Refusal::Untrusted => "the certificate is not signed by a trusted certificate",
            Refusal::WrongUsage => "the certificate is not valid for client authentication",
            Refusal::NotYetValid => "the certificate is not valid yet",
            Refusal::Expired => "the certificate has expired",
            Refusal::Cidr => "the client address is not allowed by the role's bound CIDRs",
            Refusal::Names => "the certificate's names are not allowed by any matching role",
        }
    }
}

fn hex_colons(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// What the constraints and the metadata need from the client certificate.
struct Names {
    common_name: String,
    ous: Vec<String>,
    dns: Vec<String>,
    emails: Vec<String>,
    uris: Vec<String>,
    serial: String,
    skid: String,
    akid: String,
}

fn names_of(cert: &X509Certificate<'_>) -> Names {
    let text = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| -> Vec<String> {
        it.filter_map(|a| a.as_str().ok().map(str::to_string)).collect()
    };
    let mut names = Names {
        common_name: text(&mut cert.subject().iter_common_name())
            .into_iter()
            .next()
            .unwrap_or_default(),
        ous: text(&mut cert.subject().iter_organizational_unit()),
        dns: Vec::new(),
        emails: Vec::new(),
        uris: Vec::new(),
        serial: cert.tbs_certificate.serial.to_string(),
        skid: String::new(),
        akid: String::new(),
    };
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(s) => names.dns.push(s.to_string()),
                        GeneralName::RFC822Name(s) => names.emails.push(s.to_string()),
                        GeneralName::URI(s) => names.uris.push(s.to_string()),
                        _ => {}
                    }
                }
            }
            ParsedExtension::SubjectKeyIdentifier(kid) => names.skid = hex_colons(kid.0),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                if let Some(kid) = &aki.key_identifier {
                    names.akid = hex_colons(kid.0);
                }
            }
            _ => {}
        }
    }
    names
}

/// An empty pattern list allows everything; otherwise one value must match one pattern.
fn allowed(patterns: &[String], values: &[String]) -> bool {
    patterns.is_empty() || values.iter().any(|v| patterns.iter().any(|p| glob_match(p, v)))
}

fn names_allowed(role: &CertRole, n: &Names) -> bool {
    let cn = std::slice::from_ref(&n.common_name);
    let any_name: Vec<String> = cn.iter().chain(&n.dns).chain(&n.emails).cloned().collect();
    allowed(&role.allowed_names, &any_name)
        && allowed(&role.allowed_common_names, cn)
        && allowed(&role.allowed_dns_sans, &n.dns)
        && allowed(&role.allowed_email_sans, &n.emails)
        && allowed(&role.allowed_uri_sans, &n.uris)
        && allowed(&role.allowed_organizational_units, &n.ous)
}

/// Verifies the chain against one trusted certificate.
fn verify_chain(trusted: &[u8], chain: &[Vec<u8>], leaf: &X509Certificate<'_>) -> std::result::Result<(), Refusal> {
    if trusted == chain[0].as_slice() {
        // A leaf trusted as itself: same bytes, still within its validity period.
        let now = x509_parser::time::ASN1Time::now();
        let validity = leaf.validity();
        return if now < validity.not_before {
            Err(Refusal::NotYetValid)
        } else if now > validity.not_after {
            Err(Refusal::Expired)
        } else {
            Ok(())
        };
    }
    let anchor_der = CertificateDer::from(trusted);
    let anchor = webpki::anchor_from_trusted_cert(&anchor_der).map_err(|_| Refusal::Untrusted)?;
    let leaf_der = CertificateDer::from(chain[0].as_slice());
    let ee = EndEntityCert::try_from(&leaf_der).map_err(|_| Refusal::Untrusted)?;
    let intermediates: Vec<CertificateDer<'_>> =
        chain[1..].iter().map(|c| CertificateDer::from(c.as_slice())).collect();
    let anchors = [anchor];
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        UnixTime::now(),
        KeyUsage::client_auth(),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::CertExpired { .. } => Refusal::Expired,
        webpki::Error::CertNotValidYet { .. } => Refusal::NotYetValid,
        webpki::Error::RequiredEkuNotFoundContext(_) => Refusal::WrongUsage,
        #[allow(deprecated)]
        webpki::Error::RequiredEkuNotFound => Refusal::WrongUsage,
        _ => Refusal::Untrusted,
    })
}

/// Serves `login`.
pub async fn login(view: &View, req: &BackendRequest<'_>) -> Result<Response> {
    let chain = req.client_certs;
    if chain.is_empty() {
        return Err(CoreError::bad("client certificate must be supplied"));
    }
    let (_, leaf) =
        X509Certificate::from_der(&chain[0]).map_err(|_| CoreError::bad("failed to parse the client certificate"))?;
    let names = names_of(&leaf);
    let role_names = match req.str_field("name")?.unwrap_or_default() {
        "" => certs::names(view).await?,
        one => vec![one.to_string()],
    };
    let mut refusal = Refusal::Untrusted;
    for role_name in &role_names {
        let Some(role) = certs::load(view, role_name).await? else {
            return Err(CoreError::bad(format!("no certificate role named \"{role_name}\"")));
        };
        let trusted = certs::parse_certificates(&role.certificate)
            .map_err(|e| CoreError::Internal(format!("stored certificate of role \"{role_name}\": {e}")))?;
        let outcome = trusted
            .iter()
            .map(|t| verify_chain(t, chain, &leaf))
            .min_by_key(|r| r.is_err())
            .unwrap_or(Err(Refusal::Untrusted));
        let outcome = outcome.and_then(|()| {
            if !coffer_core::cidr::allowed(&role.token.token_bound_cidrs, req.client_addr) {
                Err(Refusal::Cidr)
            } else if !names_allowed(&role, &names) {
                Err(Refusal::Names)
            } else {
                Ok(())
            }
        });
        match outcome {
            Ok(()) => return answer(view, role_name, &role, &names).await,
            Err(r) => refusal = refusal.max(r),
        }
    }
    Err(CoreError::bad(format!(
        "invalid certificate or no client certificate supplied: {}",
        refusal.message()
    )))
}

async fn answer(view: &View, role_name: &str, role: &CertRole, names: &Names) -> Result<Response> {
    let mut metadata = Map::new();
    for (key, value) in [
        ("cert_name", role_name),
        ("common_name", names.common_name.as_str()),
        ("serial_number", names.serial.as_str()),
        ("subject_key_id", names.skid.as_str()),
        ("authority_key_id", names.akid.as_str()),
    ] {
        metadata.insert(key.into(), Value::String(value.to_string()));
    }
    let alias_metadata = if super::load_config(view).await?.enable_identity_alias_metadata {
        metadata.clone()
    } else {
        Map::new()
    };
    let mut auth = Auth {
        metadata: Some(metadata),
        // Vault shows the role's display_name, else the role name.
        display_name: if role.display_name.is_empty() {
            role_name.to_string()
        } else {
            role.display_name.clone()
        },
        alias: Some(AliasInfo {
            name: names.common_name.clone(),
            metadata: alias_metadata,
        }),
        ..Default::default()
    };
    role.token.apply(&mut auth);
    Ok(Response {
        auth: Some(auth),
        ..Default::default()
    })
}

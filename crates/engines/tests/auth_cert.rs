//! Behaviour tests of the `cert` auth method over a real barrier-encrypted `View`: role
//! endpoints, a login with a client certificate issued by a trusted CA (and through an
//! intermediate), and every refusal (none, untrusted, expired, names not allowed, CIDRs).

use coffer_core::backend::{Backend, BackendRequest, MountContext, Registry};
use coffer_core::barrier::Barrier;
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType, SerialNumber,
};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

struct Mount(Arc<dyn Backend>);

fn mount() -> Mount {
    let barrier = Arc::new(Barrier::new(Arc::new(coffer_storage::memory::MemoryBackend::new())));
    barrier.install(coffer_crypto::Keyring::generate());
    let mut registry = Registry::new();
    coffer_engines::register_all(&mut registry);
    let ctx = MountContext {
        view: View::new(barrier, "logical/cert/"),
        mount_point: "auth/cert/".into(),
        kind: "cert".into(),
        options: Default::default(),
    };
    Mount(registry.get("cert").expect("cert registered")(ctx).expect("mounts"))
}

impl Mount {
    async fn call(&self, op: Operation, path: &str, body: Value, certs: &[Vec<u8>]) -> Result<Response> {
        let data: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
        let mut req = BackendRequest::new(op, path, &data, "auth/cert/");
        req.client_addr = Some("127.0.0.1".parse().unwrap());
        req.client_certs = certs;
        self.0.handle(&req).await
    }
    async fn ok(&self, op: Operation, path: &str, body: Value) -> Response {
        self.call(op, path, body, &[])
            .await
            .unwrap_or_else(|e| panic!("{op:?} {path}: {e}"))
    }
    async fn bad(&self, op: Operation, path: &str, body: Value, needle: &str) {
        match self.call(op, path, body, &[]).await {
            Err(CoreError::BadRequest(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("{path}: expected 400 with {needle:?}, got {other:?}"),
        }
    }
    async fn login(&self, name: Option<&str>, chain: &[Vec<u8>]) -> Result<Response> {
        let body = name.map(|n| json!({"name": n})).unwrap_or(json!({}));
        self.call(Operation::Update, "login", body, chain).await
    }
    async fn refused(&self, name: Option<&str>, chain: &[Vec<u8>], needle: &str) {
        match self.login(name, chain).await {
            Err(CoreError::BadRequest(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("login should be refused with {needle:?}, got {other:?}"),
        }
    }
}

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: Vec<u8>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        issuer: Issuer::new(params, key),
    }
}

impl Ca {
    /// A client certificate for `cn` valid from `from` for `days` days.
    fn client(&self, cn: &str, sans: Vec<SanType>, from: OffsetDateTime, days: i64) -> Vec<u8> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, "platform");
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.serial_number = Some(SerialNumber::from(4660u64));
        params.use_authority_key_identifier_extension = true;
        params.not_before = from;
        params.not_after = from + Duration::days(days);
        params.signed_by(&key, &self.issuer).unwrap().der().to_vec()
    }

    /// An intermediate CA signed by this one.
    fn intermediate(&self, name: &str) -> Ca {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }
}

fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().unwrap())
}

fn yesterday() -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::days(1)
}

#[tokio::test]
async fn roles_crud_and_validation() {
    let root = ca("Root");
    let m = mount();
    m.bad(Operation::Update, "certs/web", json!({}), "must specify certificate")
        .await;
    m.bad(
        Operation::Update,
        "certs/web",
        json!({"certificate": "junk"}),
        "failed to parse certificate",
    )
    .await;
    let bad = json!({"certificate": root.pem, "required_extensions": ["1.2.3:x"]});
    m.bad(Operation::Update, "certs/web", bad, "not supported yet").await;
    let body = json!({"certificate": root.pem, "allowed_common_names": "*.corp.test,admin",
        "token_policies": ["web"], "token_ttl": "30m"});
    m.ok(Operation::Update, "certs/web", body).await;
    let read = m.ok(Operation::Read, "certs/web", json!({})).await.data.unwrap();
    assert_eq!(read["certificate"], json!(root.pem));
    assert_eq!(read["display_name"], json!("web"));
    assert_eq!(read["allowed_common_names"], json!(["*.corp.test", "admin"]));
    assert_eq!(
        (read["token_policies"].clone(), read["token_ttl"].clone()),
        (json!(["web"]), json!(1800))
    );
    // An update keeps what it does not name.
    m.ok(Operation::Update, "certs/web", json!({"display_name": "Web"}))
        .await;
    let read = m.ok(Operation::Read, "certs/web", json!({})).await.data.unwrap();
    assert_eq!(
        (read["display_name"].as_str(), read["token_ttl"].as_u64()),
        (Some("Web"), Some(1800))
    );
    m.ok(Operation::Update, "certs/other", json!({"certificate": root.pem}))
        .await;
    let list = m.ok(Operation::List, "certs", json!({})).await.data.unwrap();
    assert_eq!(list["keys"], json!(["other", "web"]));
    m.ok(Operation::Delete, "certs/other", json!({})).await;
    assert!(matches!(
        m.call(Operation::Read, "certs/other", json!({}), &[]).await,
        Err(CoreError::NotFound(_))
    ));
    let cfg = m.ok(Operation::Read, "config", json!({})).await.data.unwrap();
    assert_eq!(cfg["enable_identity_alias_metadata"], json!(false));
    m.ok(
        Operation::Update,
        "config",
        json!({"enable_identity_alias_metadata": true}),
    )
    .await;
    let cfg = m.ok(Operation::Read, "config", json!({})).await.data.unwrap();
    assert_eq!(cfg["enable_identity_alias_metadata"], json!(true));
}

#[tokio::test]
async fn login_with_a_trusted_client_certificate() {
    let root = ca("Root");
    let m = mount();
    let body = json!({"certificate": root.pem, "allowed_common_names": "*.corp.test",
        "allowed_dns_sans": "*.corp.test", "allowed_organizational_units": "platform",
        "token_policies": "web", "token_ttl": 600});
    m.ok(Operation::Update, "certs/web", body).await;
    let leaf = root.client("app.corp.test", vec![dns("app.corp.test")], yesterday(), 30);
    let auth = m
        .login(None, std::slice::from_ref(&leaf))
        .await
        .expect("login")
        .auth
        .expect("auth");
    assert!(auth.client_token.is_empty());
    assert_eq!((auth.policies.clone(), auth.ttl), (vec!["web".to_string()], 600));
    let meta = auth.metadata.expect("metadata");
    assert_eq!(meta["cert_name"], json!("web"));
    assert_eq!(meta["common_name"], json!("app.corp.test"));
    assert_eq!(meta["serial_number"], json!("4660"));
    let hexid = |v: &Value| {
        let s = v.as_str().unwrap();
        !s.is_empty()
            && s.split(':')
                .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()))
    };
    // rcgen writes no subject key id on end-entity certificates: Vault shows "" then.
    assert!(hexid(&meta["authority_key_id"]), "{meta:?}");
    assert!(
        meta["subject_key_id"] == json!("") || hexid(&meta["subject_key_id"]),
        "{meta:?}"
    );
    let alias = auth.alias.expect("alias");
    assert_eq!(alias.name, "app.corp.test");
    assert!(
        alias.metadata.is_empty(),
        "alias metadata only with enable_identity_alias_metadata"
    );
    m.ok(
        Operation::Update,
        "config",
        json!({"enable_identity_alias_metadata": true}),
    )
    .await;
    let auth = m
        .login(Some("web"), &[leaf])
        .await
        .expect("login by name")
        .auth
        .unwrap();
    assert_eq!(auth.alias.unwrap().metadata["cert_name"], json!("web"));
    // A chain through an intermediate the client sends after its certificate.
    let mid = root.intermediate("Issuing CA");
    let leaf = mid.client("svc.corp.test", vec![dns("svc.corp.test")], yesterday(), 30);
    let auth = m
        .login(None, &[leaf, mid.der.clone()])
        .await
        .expect("chain")
        .auth
        .unwrap();
    assert_eq!(auth.alias.unwrap().name, "svc.corp.test");
    // A leaf trusted as itself.
    let pinned = root.client("pinned.corp.test", vec![], yesterday(), 30);
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64_lines(&pinned)
    );
    m.ok(Operation::Update, "certs/pinned", json!({"certificate": pem}))
        .await;
    m.login(Some("pinned"), &[pinned]).await.expect("pinned leaf");
    assert!(!mid.pem.is_empty() && !root.der.is_empty());
}

fn base64_lines(der: &[u8]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    b.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn refusals() {
    let (root, other) = (ca("Root"), ca("Other"));
    let m = mount();
    let body = json!({"certificate": root.pem, "allowed_common_names": "*.corp.test"});
    m.ok(Operation::Update, "certs/web", body).await;
    let good = root.client("app.corp.test", vec![], yesterday(), 30);
    m.refused(None, &[], "client certificate must be supplied").await;
    m.refused(None, &[b"junk".to_vec()], "failed to parse").await;
    let foreign = other.client("app.corp.test", vec![], yesterday(), 30);
    m.refused(None, &[foreign], "not signed by a trusted certificate").await;
    let expired = root.client(
        "app.corp.test",
        vec![],
        OffsetDateTime::now_utc() - Duration::days(10),
        5,
    );
    m.refused(None, &[expired], "has expired").await;
    let future = root.client(
        "app.corp.test",
        vec![],
        OffsetDateTime::now_utc() + Duration::days(2),
        5,
    );
    m.refused(None, &[future], "not valid yet").await;
    let wrong_cn = root.client("app.evil.test", vec![], yesterday(), 30);
    m.refused(None, &[wrong_cn], "names are not allowed").await;
    m.refused(
        Some("missing"),
        std::slice::from_ref(&good),
        "no certificate role named \"missing\"",
    )
    .await;
    // An intermediate the server was not told about does not chain.
    let mid = root.intermediate("Issuing CA");
    let leaf = mid.client("svc.corp.test", vec![], yesterday(), 30);
    m.refused(None, &[leaf], "not signed by a trusted certificate").await;
    // Constraints on SANs and bound CIDRs.
    m.ok(
        Operation::Update,
        "certs/web",
        json!({"allowed_dns_sans": "*.corp.test"}),
    )
    .await;
    m.refused(None, std::slice::from_ref(&good), "names are not allowed")
        .await;
    m.ok(
        Operation::Update,
        "certs/web",
        json!({"allowed_dns_sans": "", "token_bound_cidrs": "10.0.0.0/8"}),
    )
    .await;
    m.refused(None, std::slice::from_ref(&good), "bound CIDRs").await;
    m.ok(Operation::Update, "certs/web", json!({"token_bound_cidrs": ""}))
        .await;
    m.login(None, &[good]).await.expect("allowed again");
}

//! Client certificates reach the `cert` auth method through the TLS listener: a certificate
//! issued by a trusted CA logs in; no certificate, or one from another CA, does not.

use coffer_server::{ServerArgs, run};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::{Value, json};
use std::time::Duration;

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A client identity (certificate + key PEM) for `cn`, issued by `ca`.
fn client_identity(ca: &Ca, cn: &str) -> reqwest::Identity {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    reqwest::Identity::from_pem(format!("{}{}", cert.pem(), key.serialize_pem()).as_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cert_auth_over_mutual_tls() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let server_cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, server_cert.cert.pem()).unwrap();
    std::fs::write(&key_path, server_cert.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("coffer.toml");
    std::fs::write(
        &config,
        format!(
            "[listener]\naddress = \"127.0.0.1:{port}\"\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n",
            cert_path.display(),
            key_path.display()
        ),
    )
    .unwrap();
    tokio::spawn(run(ServerArgs {
        config: Some(config),
        dev: true,
        dev_root_token_id: Some("root".into()),
        ..Default::default()
    }));

    let trusted = ca("Trusted CA");
    let other = ca("Other CA");
    let client = |identity: Option<reqwest::Identity>| {
        let mut b = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(server_cert.cert.pem().as_bytes()).unwrap());
        if let Some(id) = identity {
            b = b.identity(id);
        }
        b.build().unwrap()
    };
    let url = |p: &str| format!("https://localhost:{port}/v1/{p}");
    let admin = client(None);
    let mut up = false;
    for _ in 0..100 {
        if admin.get(url("sys/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "HTTPS listener never answered");
    let post = |c: &reqwest::Client, path: &str, token: Option<&str>, body: Value| {
        let mut r = c.post(url(path)).json(&body);
        if let Some(t) = token {
            r = r.header("X-Vault-Token", t);
        }
        r.send()
    };
    let r = post(&admin, "sys/auth/cert", Some("root"), json!({"type": "cert"}))
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = post(
        &admin,
        "auth/cert/certs/web",
        Some("root"),
        json!({"certificate": trusted.pem, "allowed_common_names": ["alice"], "token_policies": ["default"]}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let alice = client(Some(client_identity(&trusted, "alice")));
    let r = post(&alice, "auth/cert/login", None, json!({})).await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let r = alice
        .get(url("auth/token/lookup-self"))
        .header("X-Vault-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = post(&admin, "auth/cert/login", None, json!({})).await.unwrap();
    assert_eq!(r.status(), 400, "no client certificate");
    let mallory = client(Some(client_identity(&other, "alice")));
    let r = post(&mallory, "auth/cert/login", None, json!({})).await.unwrap();
    assert_eq!(r.status(), 400, "certificate from an untrusted CA");
    let bob = client(Some(client_identity(&trusted, "bob")));
    let r = post(&bob, "auth/cert/login", None, json!({})).await.unwrap();
    assert_eq!(r.status(), 400, "common name not allowed");
}

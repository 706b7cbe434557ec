//! Mutual TLS: the client presents the certificate given by `client_cert`/`client_key`
//! (what `coffer login -method=cert` relies on) to a loopback rustls server that requires
//! one, and a client without it is refused during the handshake.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use coffer_client::{Client, ClientConfig, ClientError};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

struct Pki {
    dir: tempfile::TempDir,
    server: rustls::ServerConfig,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A CA, a `localhost` server certificate and a client certificate, written as PEM files.
fn pki() -> Pki {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["client.example".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.path().join("client.pem"), client_cert.pem()).unwrap();
    std::fs::write(dir.path().join("client-key.pem"), client_key.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let server = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    Pki { dir, server }
}

/// Serves `n` connections; each answers with how many client certificates it saw.
fn serve(config: rustls::ServerConfig, n: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Arc::new(config);
    std::thread::spawn(move || {
        for _ in 0..n {
            let Ok((sock, _)) = listener.accept() else { return };
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, sock);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            let ok = loop {
                match tls.read(&mut chunk) {
                    Ok(0) | Err(_) => break false,
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break true;
                }
            };
            if !ok {
                continue;
            }
            let certs = tls.conn.peer_certificates().map_or(0, |c| c.len());
            let body = format!(r#"{{"data":{{"peer_certs":{certs}}}}}"#);
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(resp.as_bytes());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    port
}

fn config(pki: &Pki, port: u16, with_identity: bool) -> ClientConfig {
    let mut c = ClientConfig::new(format!("https://localhost:{port}"), None);
    c.ca_cert = Some(pki.path("ca.pem"));
    if with_identity {
        c.client_cert = Some(pki.path("client.pem"));
        c.client_key = Some(pki.path("client-key.pem"));
    }
    c
}

#[tokio::test]
async fn presents_the_client_certificate() {
    let pki = pki();
    let port = serve(pki.server.clone(), 2);
    let client = Client::from_config(config(&pki, port, true)).unwrap();
    let s = client.read("auth/cert/login").await.unwrap().unwrap();
    assert_eq!(s.data.unwrap()["peer_certs"], 1);
    let anonymous = Client::from_config(config(&pki, port, false)).unwrap();
    let err = anonymous.read("auth/cert/login").await.unwrap_err();
    assert!(matches!(err, ClientError::Http { .. }), "{err:?}");
}

#[test]
fn bad_identity_files_are_config_errors_without_key_material() {
    let pki = pki();
    let mut c = config(&pki, 1, true);
    c.client_key = None;
    let err = Client::from_config(c).unwrap_err();
    assert!(err.to_string().contains("both"), "{err}");

    let mut c = config(&pki, 1, true);
    c.client_key = Some(pki.path("missing.pem"));
    let err = Client::from_config(c).unwrap_err().to_string();
    assert!(err.contains("missing.pem"), "{err}");

    // Certificate and key swapped: neither file holds what it should.
    let key_pem = std::fs::read_to_string(pki.path("client-key.pem")).unwrap();
    let mut c = config(&pki, 1, true);
    c.client_cert = Some(pki.path("client-key.pem"));
    c.client_key = Some(pki.path("client.pem"));
    let err = Client::from_config(c).unwrap_err().to_string();
    assert!(err.contains("client-key.pem"), "{err}");
    let body: String = key_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!err.contains(&body[..20]), "{err}");
}

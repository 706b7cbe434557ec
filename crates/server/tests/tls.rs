//! The listener serves HTTPS through rustls with the configured certificate and key.

use coffer_server::{ServerArgs, run};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_https_with_configured_certificate() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let port = free_port();
    let config = dir.path().join("coffer.toml");
    std::fs::write(
        &config,
        format!(
            "[listener]\naddress = \"127.0.0.1:{port}\"\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n[storage]\ntype = \"memory\"\n",
            cert_path.display(),
            key_path.display()
        ),
    )
    .unwrap();
    tokio::spawn(run(ServerArgs {
        config: Some(config),
        ..Default::default()
    }));

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/v1/sys/seal-status");
    let mut last_error = None;
    for _ in 0..100 {
        match client.get(&url).send().await {
            Ok(resp) => {
                assert_eq!(resp.status(), 200);
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["initialized"], false);
                // Plain HTTP on the TLS port is not answered as HTTP.
                let plain = reqwest::get(format!("http://127.0.0.1:{port}/v1/sys/seal-status")).await;
                assert!(plain.is_err() || plain.unwrap().status() != 200);
                return;
            }
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("HTTPS listener never answered: {last_error:?}");
}

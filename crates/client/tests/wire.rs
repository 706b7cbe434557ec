//! Wire-level tests of the client against a one-shot canned HTTP responder on loopback
//! (the real server is a separate crate; these pin what the client sends and how it reads
//! answers).

use coffer_client::{Client, ClientError};
use secrecy::SecretString;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the fake server saw.
struct Seen {
    head: String,
    body: String,
}

/// Serves exactly one request with `status` and `body`; returns the address and a handle
/// yielding the request it saw.
async fn one_shot(status: &'static str, reply: &'static str) -> (String, tokio::task::JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head, body_start) = loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&buf[..pos]).to_string(), pos + 4);
            }
        };
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < body_start + len {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[body_start..body_start + len]).to_string();
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
            reply.len()
        );
        sock.write_all(resp.as_bytes()).await.unwrap();
        Seen { head, body }
    });
    (addr, handle)
}

fn client(addr: &str) -> Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Client::new(addr, Some(SecretString::from("s.tok123"))).unwrap()
}

#[tokio::test]
async fn read_sends_token_and_parses_envelope() {
    let (addr, seen) = one_shot("200 OK", r#"{"request_id":"x","data":{"a":"b"},"warnings":null}"#).await;
    let s = client(&addr).read("secret/foo").await.unwrap().unwrap();
    assert_eq!(s.data.unwrap()["a"], "b");
    let seen = seen.await.unwrap();
    assert!(seen.head.starts_with("GET /v1/secret/foo HTTP/1.1"), "{}", seen.head);
    let lower = seen.head.to_ascii_lowercase();
    assert!(lower.contains("x-vault-token: s.tok123"), "{}", seen.head);
    assert!(lower.contains("x-vault-request: true"), "{}", seen.head);
}

#[tokio::test]
async fn list_uses_the_list_method() {
    let (addr, seen) = one_shot("200 OK", r#"{"data":{"keys":["a","b/"]}}"#).await;
    let s = client(&addr).list("secret/metadata/").await.unwrap().unwrap();
    assert_eq!(s.data.unwrap()["keys"], json!(["a", "b/"]));
    assert!(
        seen.await
            .unwrap()
            .head
            .starts_with("LIST /v1/secret/metadata/ HTTP/1.1")
    );
}

#[tokio::test]
async fn patch_uses_merge_patch_content_type() {
    let (addr, seen) = one_shot("200 OK", r#"{"data":{"version":2}}"#).await;
    let body = json!({"data": {"k": "v"}});
    client(&addr).patch("secret/data/x", &body).await.unwrap();
    let seen = seen.await.unwrap();
    assert!(seen.head.starts_with("PATCH /v1/secret/data/x"), "{}", seen.head);
    assert!(
        seen.head
            .to_ascii_lowercase()
            .contains("content-type: application/merge-patch+json")
    );
    assert_eq!(serde_json::from_str::<serde_json::Value>(&seen.body).unwrap(), body);
}

#[tokio::test]
async fn no_content_is_none() {
    let (addr, seen) = one_shot("204 No Content", "").await;
    assert!(
        client(&addr)
            .write("secret/x", &json!({"a": "b"}))
            .await
            .unwrap()
            .is_none()
    );
    let seen = seen.await.unwrap();
    assert!(seen.head.starts_with("PUT /v1/secret/x"));
    assert_eq!(seen.body, r#"{"a":"b"}"#);
}

#[tokio::test]
async fn read_404_without_data_is_none_but_with_data_is_kept() {
    let (addr, _seen) = one_shot("404 Not Found", r#"{"errors":[]}"#).await;
    assert!(client(&addr).read("secret/nope").await.unwrap().is_none());
    let (addr, _seen) = one_shot("404 Not Found", r#"{"data":{"data":null,"metadata":{"version":3}}}"#).await;
    let s = client(&addr).read("secret/data/deleted").await.unwrap().unwrap();
    assert_eq!(s.data.unwrap()["metadata"]["version"], 3);
}

#[tokio::test]
async fn error_status_becomes_api_error() {
    let (addr, _seen) = one_shot("403 Forbidden", r#"{"errors":["permission denied"]}"#).await;
    let err = client(&addr).write("sys/mounts/x", &json!({})).await.unwrap_err();
    match &err {
        ClientError::Api {
            status, errors, method, ..
        } => {
            assert_eq!(*status, 403);
            assert_eq!(errors, &vec!["permission denied".to_string()]);
            assert_eq!(method, "PUT");
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("Code: 403. Errors:\n\n* permission denied"), "{text}");
    assert!(!text.contains("s.tok123"));
}

#[tokio::test]
async fn health_returns_sealed_answers() {
    let (addr, _seen) = one_shot("503 Service Unavailable", r#"{"initialized":true,"sealed":true}"#).await;
    let h = client(&addr).sys_health().await.unwrap();
    assert_eq!(h.status, 503);
    assert!(h.sealed && h.initialized);
}

#[tokio::test]
async fn init_redacts_keys_in_debug() {
    let (addr, seen) = one_shot(
        "200 OK",
        r#"{"keys":["aa"],"keys_base64":["qg=="],"root_token":"s.rootroot"}"#,
    )
    .await;
    let init = client(&addr).sys_init(1, 1).await.unwrap();
    let dbg = format!("{init:?}");
    assert!(!dbg.contains("s.rootroot") && !dbg.contains("qg=="), "{dbg}");
    use secrecy::ExposeSecret;
    assert_eq!(init.root_token.expose_secret(), "s.rootroot");
    let body: serde_json::Value = serde_json::from_str(&seen.await.unwrap().body).unwrap();
    assert_eq!(body, json!({"secret_shares": 1, "secret_threshold": 1}));
}

#[tokio::test]
async fn wrap_ttl_is_sent_on_every_request_until_cleared() {
    let (addr, seen) = one_shot(
        "200 OK",
        r#"{"wrap_info":{"token":"cfw_wrap","accessor":"a1","ttl":300,"creation_time":"t","creation_path":"secret/data/x"}}"#,
    )
    .await;
    let mut config = coffer_client::ClientConfig::new(addr.as_str(), Some(SecretString::from("s.tok123")));
    config.wrap_ttl = Some("300".into());
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut c = Client::from_config(config).unwrap();
    assert!(c.wraps());
    let s = c.read("secret/data/x").await.unwrap().unwrap();
    let w = s.wrap_info.unwrap();
    assert_eq!((w.token.as_str(), w.ttl), ("cfw_wrap", 300));
    let head = seen.await.unwrap().head.to_ascii_lowercase();
    assert!(head.contains("x-vault-wrap-ttl: 300"), "{head}");

    c.set_wrap_ttl(None).unwrap();
    assert!(!c.wraps());
    let (addr2, seen) = one_shot("200 OK", r#"{"data":{}}"#).await;
    let mut c2 = Client::new(&addr2, None).unwrap();
    c2.read("x").await.unwrap();
    assert!(
        !seen
            .await
            .unwrap()
            .head
            .to_ascii_lowercase()
            .contains("x-vault-wrap-ttl")
    );
    assert!(c2.set_wrap_ttl(Some("5m")).is_ok());
    for bad in ["", "-5", "5 m", "5m\r\nx: y"] {
        assert!(c2.set_wrap_ttl(Some(bad)).is_err(), "{bad:?}");
    }
}

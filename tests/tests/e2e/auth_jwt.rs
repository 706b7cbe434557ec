//! End to end: the `jwt` auth method on the real binary. Enable it through `sys/auth`,
//! configure keys (static PEM, then a loopback JWKS server), log in without a token, use the
//! token the server mints, and see expired or foreign tokens refused with a 400.

use coffer_tests::{CofferServer, errors};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Signer {
    key: EncodingKey,
    public_pem: String,
}

fn signer() -> Signer {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    Signer {
        key: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("encoding key"),
        public_pem: pair.public_key_pem(),
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Signer {
    fn sign(&self, kid: Option<&str>, exp: u64) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_string);
        let claims = json!({"iss": "https://idp.test", "sub": "build-7", "aud": "coffer", "exp": exp,
            "iat": now(), "project": "payments"});
        jsonwebtoken::encode(&header, &claims, &self.key).expect("sign")
    }
}

async fn login(s: &CofferServer, mount: &str, jwt: &str) -> (u16, Value) {
    s.request(
        "POST",
        &format!("auth/{mount}/login"),
        None,
        Some(json!({"role": "ci", "jwt": jwt})),
    )
    .await
}

/// Enables `jwt` at `mount`, with a role `ci` granting the `reader` policy.
async fn enable(s: &CofferServer, mount: &str, config: Value) {
    let (status, body) = s
        .root_req("POST", &format!("sys/auth/{mount}"), Some(json!({"type": "jwt"})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("POST", &format!("auth/{mount}/config"), Some(config)).await;
    assert_eq!(status, 204, "{body}");
    let role = json!({"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["coffer"],
        "bound_claims": {"project": "payments"}, "claim_mappings": {"project": "project"},
        "token_policies": ["reader"], "token_ttl": "10m"});
    let (status, body) = s.root_req("POST", &format!("auth/{mount}/role/ci"), Some(role)).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn jwt_login_with_static_keys_grants_a_working_token() {
    let s = CofferServer::start_dev().await;
    let policy = r#"path "secret/data/app" { capabilities = ["read"] }"#;
    let (status, _) = s
        .root_req("PUT", "sys/policies/acl/reader", Some(json!({"policy": policy})))
        .await;
    assert_eq!(status, 204);
    let (status, _) = s
        .root_req("POST", "secret/data/app", Some(json!({"data": {"pw": "s3cret"}})))
        .await;
    assert_eq!(status, 200);
    let key = signer();
    let config = json!({"jwt_validation_pubkeys": [key.public_pem], "bound_issuer": "https://idp.test"});
    enable(&s, "jwt", config).await;

    let (status, body) = login(&s, "jwt", &key.sign(None, now() + 300)).await;
    assert_eq!(status, 200, "{body}");
    let auth = &body["auth"];
    let token = auth["client_token"].as_str().expect("client_token").to_string();
    assert!(!token.is_empty());
    assert_eq!(auth["policies"], json!(["default", "reader"]));
    assert_eq!(auth["metadata"], json!({"role": "ci", "project": "payments"}));
    assert_eq!(auth["lease_duration"], json!(600));

    let (status, body) = s.request("GET", "secret/data/app", Some(&token), None).await;
    assert_eq!((status, body["data"]["data"]["pw"].as_str()), (200, Some("s3cret")));
    let (status, _) = s.request("GET", "secret/data/other", Some(&token), None).await;
    assert_eq!(status, 403, "the token holds only its role's policies");
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["display_name"], json!("jwt-build-7"));

    let (status, body) = login(&s, "jwt", &key.sign(None, now() - 3600)).await;
    assert_eq!(status, 400, "{body}");
    assert!(errors(&body)[0].contains("token is expired"), "{body}");
    let (status, body) = login(&s, "jwt", &signer().sign(None, now() + 300)).await;
    assert_eq!(status, 400, "{body}");
    assert!(errors(&body)[0].contains("no known key"), "{body}");
    // Role management needs a token; login does not.
    let (status, _) = s.request("GET", "auth/jwt/role/ci", None, None).await;
    assert_eq!(status, 403);
}

/// Serves `body` to every request on a loopback port; returns the URL.
async fn jwks_server(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn jwt_login_with_keys_from_a_jwks_url() {
    let s = CofferServer::start_dev().await;
    let key = signer();
    let mut jwk = Jwk::from_encoding_key(&key.key, Algorithm::ES256).expect("jwk");
    jwk.common.key_id = Some("key-1".into());
    let url = jwks_server(serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap()).await;
    enable(&s, "ci-jwt", json!({"jwks_url": url})).await;
    let (status, body) = s.root_req("GET", "auth/ci-jwt/config", None).await;
    assert_eq!((status, body["data"]["jwks_url"].as_str()), (200, Some(url.as_str())));

    let (status, body) = login(&s, "ci-jwt", &key.sign(Some("key-1"), now() + 300)).await;
    assert_eq!(status, 200, "{body}");
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["meta"]["role"], json!("ci"));

    let (status, body) = login(&s, "ci-jwt", &key.sign(Some("key-2"), now() + 300)).await;
    assert_eq!(status, 400, "{body}");
    assert!(errors(&body)[0].contains("no key with id (kid) \"key-2\""), "{body}");
    let (status, body) = login(&s, "ci-jwt", &key.sign(Some("key-1"), now() - 3600)).await;
    assert_eq!(status, 400, "{body}");
    assert!(errors(&body)[0].contains("token is expired"), "{body}");
}

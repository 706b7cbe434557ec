//! Behaviour tests of the `jwt` auth method over a real barrier-encrypted `View`: config and
//! role endpoints, a successful login, every refusal, and keys from a loopback JWKS server.

use coffer_core::backend::{Backend, BackendRequest, MountContext, Registry};
use coffer_core::barrier::Barrier;
use coffer_core::request::{Operation, Response};
use coffer_core::view::View;
use coffer_core::{CoreError, Result};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Mount(Arc<dyn Backend>);

fn mount() -> Mount {
    let barrier = Arc::new(Barrier::new(Arc::new(coffer_storage::memory::MemoryBackend::new())));
    barrier.install(coffer_crypto::Keyring::generate());
    let mut registry = Registry::new();
    coffer_engines::register_all(&mut registry);
    let ctx = MountContext {
        view: View::new(barrier, "logical/jwt/"),
        mount_point: "auth/jwt/".into(),
        kind: "jwt".into(),
        options: Default::default(),
    };
    Mount(registry.get("jwt").expect("jwt registered")(ctx).expect("mounts"))
}

impl Mount {
    async fn call(&self, op: Operation, path: &str, body: Value) -> Result<Response> {
        let data: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
        let mut req = BackendRequest::new(op, path, &data, "auth/jwt/");
        req.client_addr = Some("127.0.0.1".parse().unwrap());
        self.0.handle(&req).await
    }
    async fn ok(&self, op: Operation, path: &str, body: Value) -> Response {
        self.call(op, path, body)
            .await
            .unwrap_or_else(|e| panic!("{op:?} {path}: {e}"))
    }
    async fn bad(&self, op: Operation, path: &str, body: Value, needle: &str) {
        match self.call(op, path, body).await {
            Err(CoreError::BadRequest(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("{path}: expected 400 with {needle:?}, got {other:?}"),
        }
    }
    async fn login(&self, role: &str, jwt: &str) -> Result<Response> {
        self.call(Operation::Update, "login", json!({"role": role, "jwt": jwt}))
            .await
    }
    async fn refused(&self, role: &str, jwt: &str, needle: &str) {
        match self.login(role, jwt).await {
            Err(CoreError::BadRequest(m)) => {
                assert!(m.contains(needle), "{m:?} lacks {needle:?}");
                assert!(!m.contains(jwt), "the error echoes the token");
            }
            other => panic!("login should be refused with {needle:?}, got {other:?}"),
        }
    }
}

struct Signer {
    key: EncodingKey,
    public_pem: String,
    alg: Algorithm,
}

fn signer(alg: &'static rcgen::SignatureAlgorithm, jwt_alg: Algorithm) -> Signer {
    let pair = rcgen::KeyPair::generate_for(alg).expect("key generation");
    let key = match jwt_alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()),
        _ => EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()),
    }
    .expect("encoding key");
    Signer {
        key,
        public_pem: pair.public_key_pem(),
        alg: jwt_alg,
    }
}

fn ec() -> Signer {
    signer(&rcgen::PKCS_ECDSA_P256_SHA256, Algorithm::ES256)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Signer {
    fn sign(&self, kid: Option<&str>, claims: Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, &claims, &self.key).expect("sign")
    }
    fn jwk(&self, kid: &str) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).expect("jwk");
        jwk.common.key_id = Some(kid.to_string());
        jwk
    }
}

/// Claims every role below accepts; tests override one at a time.
fn claims(extra: Value) -> Value {
    let mut c = json!({
        "iss": "https://issuer.test", "sub": "svc-42", "aud": "coffer", "exp": now() + 300,
        "iat": now(), "email": "dev@corp.test", "team": "platform", "groups": ["dev", "ops"],
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

async fn configured(signer: &Signer) -> Mount {
    let m = mount();
    m.ok(
        Operation::Update,
        "config",
        json!({"jwt_validation_pubkeys": [signer.public_pem], "bound_issuer": "https://issuer.test"}),
    )
    .await;
    m.ok(
        Operation::Update,
        "role/app",
        json!({
            "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["coffer"],
            "bound_subject": "svc-42", "bound_claims": {"team": ["platform", "infra"]},
            "claim_mappings": {"email": "email", "/team": "team"}, "groups_claim": "groups",
            "token_policies": "dev,ops", "token_ttl": "1h", "expiration_leeway": -1,
            "clock_skew_leeway": -1, "not_before_leeway": -1,
        }),
    )
    .await;
    m
}

#[tokio::test]
async fn config_is_checked_and_read_back() {
    let s = ec();
    let m = mount();
    assert!(matches!(
        m.call(Operation::Read, "config", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
    m.bad(Operation::Update, "config", json!({}), "exactly one of").await;
    let both = json!({"jwt_validation_pubkeys": [s.public_pem], "jwks_url": "http://127.0.0.1:1/keys"});
    m.bad(Operation::Update, "config", both, "exactly one of").await;
    let junk = json!({"jwt_validation_pubkeys": ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]});
    m.bad(Operation::Update, "config", junk, "error parsing public key 1")
        .await;
    let alg = json!({"jwt_validation_pubkeys": [s.public_pem], "jwt_supported_algs": ["HS256"]});
    m.bad(Operation::Update, "config", alg, "invalid jwt_supported_algs")
        .await;
    let oidc = json!({"oidc_discovery_url": "https://idp.test"});
    m.bad(Operation::Update, "config", oidc, "not supported yet").await;
    let dead = json!({"jwks_url": "http://127.0.0.1:1/keys"});
    m.bad(Operation::Update, "config", dead, "error checking jwks URL")
        .await;
    let cfg = json!({"jwt_validation_pubkeys": s.public_pem, "bound_issuer": "iss", "default_role": "app"});
    m.ok(Operation::Update, "config", cfg).await;
    let read = m.ok(Operation::Read, "config", json!({})).await.data.unwrap();
    assert_eq!(read["jwt_validation_pubkeys"], json!([s.public_pem.trim()]));
    assert_eq!(
        (read["bound_issuer"].as_str(), read["default_role"].as_str()),
        (Some("iss"), Some("app"))
    );
    assert_eq!(read["jwks_url"], json!(""));
}

#[tokio::test]
async fn roles_crud_list_and_validation() {
    let m = configured(&ec()).await;
    let role = m.ok(Operation::Read, "role/app", json!({})).await.data.unwrap();
    assert_eq!(role["role_type"], json!("jwt"));
    assert_eq!(role["bound_audiences"], json!(["coffer"]));
    assert_eq!(role["token_policies"], json!(["dev", "ops"]));
    assert_eq!(role["token_ttl"], json!(3600));
    assert_eq!(role["expiration_leeway"], json!(-1));
    assert_eq!(role["claim_mappings"], json!({"email": "email", "/team": "team"}));
    m.ok(
        Operation::Update,
        "role/b",
        json!({"role_type": "jwt", "user_claim": "sub", "bound_subject": "x"}),
    )
    .await;
    let b = m.ok(Operation::Read, "role/b", json!({})).await.data.unwrap();
    assert_eq!(
        (b["expiration_leeway"].clone(), b["clock_skew_leeway"].clone()),
        (json!(150), json!(60))
    );
    let list = m.ok(Operation::List, "role", json!({})).await.data.unwrap();
    assert_eq!(list["keys"], json!(["app", "b"]));
    m.ok(Operation::Delete, "role/b", json!({})).await;
    assert!(matches!(
        m.call(Operation::Read, "role/b", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
    for (body, needle) in [
        (
            json!({"role_type": "jwt", "bound_subject": "x"}),
            "a user claim must be defined",
        ),
        (
            json!({"role_type": "jwt", "user_claim": "sub"}),
            "at least one bound constraint",
        ),
        (
            json!({"user_claim": "sub", "bound_subject": "x"}),
            "allowed_redirect_uris",
        ),
        (json!({"role_type": "saml", "user_claim": "sub"}), "invalid 'role_type'"),
        (
            json!({"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "bound_claims_type": "re"}),
            "bound_claims_type",
        ),
        (
            json!({"role_type": "jwt", "user_claim": "sub", "bound_claims": {"a": {"b": 1}}}),
            "bound claim \"a\"",
        ),
        (
            json!({"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "claim_mappings": {"a": "role"}}),
            "reserved",
        ),
        (
            json!({"role_type": "jwt", "user_claim": "sub", "bound_subject": "x", "token_ttl": "2h", "token_max_ttl": "1h"}),
            "token_ttl",
        ),
    ] {
        m.bad(Operation::Update, "role/c", body, needle).await;
    }
    assert!(matches!(
        m.call(Operation::Read, "role/c", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn login_grants_policies_metadata_and_alias() {
    let s = ec();
    let m = configured(&s).await;
    let resp = m.login("app", &s.sign(None, claims(json!({})))).await.expect("login");
    let auth = resp.auth.expect("auth");
    assert!(auth.client_token.is_empty(), "the backend must not mint tokens");
    assert_eq!(auth.policies, vec!["dev", "ops"]);
    assert_eq!(auth.ttl, 3600);
    let meta = auth.metadata.unwrap();
    assert_eq!(
        Value::Object(meta),
        json!({"role": "app", "email": "dev@corp.test", "team": "platform"})
    );
    let alias = auth.alias.expect("alias");
    assert_eq!(alias.name, "svc-42");
    assert_eq!(alias.metadata["groups"], json!(["dev", "ops"]));
    assert_eq!(alias.metadata["email"], json!("dev@corp.test"));
    // default_role serves logins that name none; glob bound claims match.
    let cfg = json!({"jwt_validation_pubkeys": [s.public_pem], "default_role": "glob"});
    m.ok(Operation::Update, "config", cfg).await;
    let role = json!({"role_type": "jwt", "user_claim": "email", "bound_audiences": "coffer",
        "bound_claims_type": "glob", "bound_claims": {"email": "*@corp.test"}});
    m.ok(Operation::Update, "role/glob", role).await;
    let jwt = s.sign(None, claims(json!({})));
    let resp = m.ok(Operation::Update, "login", json!({"jwt": jwt})).await;
    assert_eq!(resp.auth.unwrap().alias.unwrap().name, "dev@corp.test");
    m.refused(
        "glob",
        &s.sign(None, claims(json!({"email": "x@evil.test"}))),
        "does not match",
    )
    .await;
}

#[tokio::test]
async fn every_refusal_is_a_clear_400() {
    let s = ec();
    let m = configured(&s).await;
    let t = now();
    let sign = |extra: Value| s.sign(None, claims(extra));
    m.refused("app", &sign(json!({"exp": t - 5})), "token is expired").await;
    m.refused("app", &sign(json!({"nbf": t + 600})), "token not yet valid")
        .await;
    m.refused("app", &sign(json!({"aud": "someone-else"})), "invalid audience")
        .await;
    m.refused("app", &sign(json!({"aud": null})), "no audience").await;
    m.refused("app", &sign(json!({"iss": "https://evil.test"})), "invalid issuer")
        .await;
    m.refused(
        "app",
        &sign(json!({"sub": "svc-43"})),
        "sub claim does not match bound subject",
    )
    .await;
    m.refused("app", &sign(json!({"team": "sales"})), "claim \"team\" does not match")
        .await;
    m.refused("app", &sign(json!({"team": null})), "claim \"team\" is missing")
        .await;
    m.refused("app", &sign(json!({"exp": null, "iat": null})), "no issued at")
        .await;
    m.refused(
        "app",
        &ec().sign(None, claims(json!({}))),
        "no known key successfully validated",
    )
    .await;
    let mut forged = sign(json!({})).rsplit_once('.').unwrap().0.to_string();
    forged.push_str(".AAAA");
    m.refused("app", &forged, "no known key").await;
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", b64(json!({"alg": "none"})), b64(claims(json!({}))));
    m.refused("app", &none, "alg \"none\"").await;
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(json!({})),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    m.refused("app", &hs, "\"HS256\" is not allowed").await;
    m.refused("app", "not-a-jwt", "malformed").await;
    m.refused("nope", &sign(json!({})), "role \"nope\" could not be found")
        .await;
    m.bad(Operation::Update, "login", json!({"role": "app"}), "missing token")
        .await;
    // Missing user claim.
    m.ok(
        Operation::Update,
        "role/mail",
        json!({"role_type": "jwt", "user_claim": "mail", "bound_audiences": "coffer"}),
    )
    .await;
    m.refused("mail", &sign(json!({})), "claim \"mail\" not found in token")
        .await;
    // An audience in the token with none bound; an algorithm the config does not allow.
    m.ok(
        Operation::Update,
        "role/noaud",
        json!({"role_type": "jwt", "user_claim": "sub", "bound_subject": "svc-42"}),
    )
    .await;
    m.refused("noaud", &sign(json!({})), "no audiences bound to the role")
        .await;
    let cfg = json!({"jwt_validation_pubkeys": [s.public_pem], "jwt_supported_algs": ["RS256"]});
    m.ok(Operation::Update, "config", cfg).await;
    m.refused("app", &sign(json!({})), "\"ES256\" is not allowed").await;
    // Bound CIDRs of the role apply to the login itself.
    m.ok(
        Operation::Update,
        "role/far",
        json!({"role_type": "jwt", "user_claim": "sub", "token_bound_cidrs": "10.0.0.0/8"}),
    )
    .await;
    m.refused("far", &sign(json!({"aud": null})), "invalid CIDR").await;
    // Default leeways (150 s + 60 s clock skew) accept a token expired 100 s ago.
    let cfg = json!({"jwt_validation_pubkeys": [s.public_pem], "bound_issuer": "https://issuer.test"});
    m.ok(Operation::Update, "config", cfg).await;
    m.ok(
        Operation::Update,
        "role/app",
        json!({"expiration_leeway": 0, "clock_skew_leeway": 0}),
    )
    .await;
    m.login("app", &sign(json!({"exp": t - 100})))
        .await
        .expect("within the default leeway");
    m.refused("app", &sign(json!({"exp": t - 300})), "token is expired")
        .await;
}

/// A loopback HTTP server answering every request with the current (status, body).
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
    reply: Arc<Mutex<(u16, String)>>,
}

async fn jwks_server(body: String) -> JwksServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let reply = Arc::new(Mutex::new((200, body)));
    let (h, r) = (hits.clone(), reply.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            h.fetch_add(1, Ordering::SeqCst);
            let (status, body) = r.lock().unwrap().clone();
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    JwksServer { url, hits, reply }
}

fn set(keys: Vec<Jwk>) -> String {
    serde_json::to_string(&JwkSet { keys }).unwrap()
}

#[tokio::test]
async fn jwks_keys_are_fetched_cached_and_refetched_for_unknown_kids() {
    let (k1, k2) = (signer(&rcgen::PKCS_RSA_SHA256, Algorithm::RS256), ec());
    let server = jwks_server(set(vec![k1.jwk("k1")])).await;
    let m = mount();
    m.ok(Operation::Update, "config", json!({"jwks_url": server.url})).await;
    let role = json!({"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["coffer"]});
    m.ok(Operation::Update, "role/app", role).await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "config checks the URL");
    m.login("app", &k1.sign(Some("k1"), claims(json!({}))))
        .await
        .expect("login with k1");
    m.login("app", &k1.sign(Some("k1"), claims(json!({}))))
        .await
        .expect("cached");
    assert_eq!(server.hits.load(Ordering::SeqCst), 2, "one fetch, then the cache");
    // The IdP rotates to k2. Right after a fetch an unknown kid is refused without a fetch.
    *server.reply.lock().unwrap() = (200, set(vec![k2.jwk("k2")]));
    m.refused(
        "app",
        &k2.sign(Some("k2"), claims(json!({}))),
        "no key with id (kid) \"k2\"",
    )
    .await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 2, "refetches are rate-limited");
    tokio::time::sleep(coffer_engines::auth::jwt::jwks::MIN_REFETCH).await;
    m.login("app", &k2.sign(Some("k2"), claims(json!({}))))
        .await
        .expect("refetched for k2");
    assert_eq!(server.hits.load(Ordering::SeqCst), 3);
    m.refused(
        "app",
        &k1.sign(Some("k1"), claims(json!({}))),
        "no key with id (kid) \"k1\"",
    )
    .await;
    // A failing endpoint is a server-side error that names the URL, not the token.
    *server.reply.lock().unwrap() = (500, "oops".into());
    tokio::time::sleep(coffer_engines::auth::jwt::jwks::MIN_REFETCH).await;
    let jwt = k2.sign(Some("k3"), claims(json!({})));
    match m.login("app", &jwt).await {
        Err(CoreError::Internal(msg)) => {
            assert!(msg.contains("error fetching JWKS") && msg.contains("HTTP 500"), "{msg}");
            assert!(!msg.contains(&jwt) && !msg.contains("oops"));
        }
        other => panic!("expected a 500, got {other:?}"),
    }
}

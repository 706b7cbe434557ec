//! Init, unseal, seal, health codes, restarts and key rotation over HTTP.

use coffer_tests::{CofferServer, StorageKind, errors};
use serde_json::{Value, json};

async fn seal_status(s: &CofferServer) -> Value {
    let (status, body) = s.request("GET", "sys/seal-status", None, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn init_returns_keys_and_root_token() {
    let s = CofferServer::start(StorageKind::Memory).await;
    let (status, body) = s.request("GET", "sys/init", None, None).await;
    assert_eq!((status, &body["initialized"]), (200, &json!(false)), "{body}");

    let (status, body) = s
        .request(
            "PUT",
            "sys/init",
            None,
            Some(json!({"secret_shares": 5, "secret_threshold": 3})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let keys = body["keys"].as_array().expect("keys");
    let b64 = body["keys_base64"].as_array().expect("keys_base64");
    assert_eq!(keys.len(), 5);
    assert_eq!(b64.len(), 5);
    let mut distinct: Vec<&str> = keys.iter().map(|k| k.as_str().unwrap()).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "key shares must differ");
    for k in keys {
        let k = k.as_str().unwrap();
        assert!(
            !k.is_empty() && k.chars().all(|c| c.is_ascii_hexdigit()),
            "hex key share: {k}"
        );
    }
    for k in b64 {
        let k = k.as_str().unwrap();
        assert!(
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
            "base64 share: {k}"
        );
    }
    assert!(body["root_token"].as_str().unwrap().starts_with("cfs_"), "{body}");

    let (status, body) = s.request("GET", "sys/init", None, None).await;
    assert_eq!((status, &body["initialized"]), (200, &json!(true)), "{body}");
    let st = seal_status(&s).await;
    assert_eq!(
        (st["sealed"].clone(), st["t"].clone(), st["n"].clone()),
        (json!(true), json!(3), json!(5)),
        "{st}"
    );
    assert_eq!(st["initialized"], json!(true));
    assert_eq!(st["type"], json!("shamir"));
}

#[tokio::test]
async fn double_init_is_refused() {
    let mut s = CofferServer::start(StorageKind::Memory).await;
    let (_, root) = s.init(1, 1).await;
    let (status, body) = s
        .request(
            "PUT",
            "sys/init",
            None,
            Some(json!({"secret_shares": 1, "secret_threshold": 1})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(!errors(&body).is_empty());
    assert!(
        body.get("root_token").is_none(),
        "a second init must not mint a root token: {body}"
    );
    // The original root token still works after unseal.
    let keys = s.keys.clone();
    s.unseal(&keys).await;
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&root), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_init_parameters_are_400() {
    let s = CofferServer::start(StorageKind::Memory).await;
    for body in [
        json!({"secret_shares": 3, "secret_threshold": 5}),
        json!({"secret_shares": 0, "secret_threshold": 0}),
        json!({"secret_threshold": 1}),
    ] {
        let (status, resp) = s.request("PUT", "sys/init", None, Some(body.clone())).await;
        assert_eq!(status, 400, "{body} -> {resp}");
    }
    let (_, body) = s.request("GET", "sys/init", None, None).await;
    assert_eq!(body["initialized"], json!(false), "a refused init changes nothing");
}

#[tokio::test]
async fn unseal_progress_reset_and_wrong_key() {
    let mut s = CofferServer::start(StorageKind::Memory).await;
    let (keys, root) = s.init(5, 3).await;

    let (status, body) = s
        .request("PUT", "sys/unseal", None, Some(json!({"key": keys[0]})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["sealed"].clone(), body["progress"].clone()),
        (json!(true), json!(1)),
        "{body}"
    );
    let nonce = body["nonce"].as_str().unwrap_or_default().to_string();
    assert!(!nonce.is_empty(), "an unseal in progress has a nonce: {body}");
    let (_, body) = s
        .request("PUT", "sys/unseal", None, Some(json!({"key": keys[1]})))
        .await;
    assert_eq!(body["progress"], json!(2), "{body}");
    assert_eq!(seal_status(&s).await["progress"], json!(2));

    // reset clears the progress
    let (status, body) = s.request("PUT", "sys/unseal", None, Some(json!({"reset": true}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["sealed"].clone(), body["progress"].clone()),
        (json!(true), json!(0)),
        "{body}"
    );

    // two good shares plus one wrong share: 400, progress back to 0, still sealed
    s.request("PUT", "sys/unseal", None, Some(json!({"key": keys[2]})))
        .await;
    s.request("PUT", "sys/unseal", None, Some(json!({"key": keys[3]})))
        .await;
    let mut wrong: Vec<u8> = keys[4].bytes().collect();
    let last = wrong.len() - 1;
    wrong[last] = if wrong[last] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let (status, body) = s.request("PUT", "sys/unseal", None, Some(json!({"key": wrong}))).await;
    assert_eq!(status, 400, "a wrong key share is a 400: {body}");
    assert!(!errors(&body).is_empty());
    let st = seal_status(&s).await;
    assert_eq!(
        (st["sealed"].clone(), st["progress"].clone()),
        (json!(true), json!(0)),
        "{st}"
    );

    // a key that is not hex/base64 at all
    let (status, body) = s
        .request("PUT", "sys/unseal", None, Some(json!({"key": "not a key!"})))
        .await;
    assert_eq!(status, 400, "{body}");
    // neither key nor reset
    let (status, _) = s.request("PUT", "sys/unseal", None, Some(json!({}))).await;
    assert_eq!(status, 400);

    // the real keys (base64 form accepted too) unseal it
    s.unseal(&keys[..3]).await;
    let st = seal_status(&s).await;
    assert_eq!(
        (st["sealed"].clone(), st["progress"].clone()),
        (json!(false), json!(0)),
        "{st}"
    );
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&root), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn base64_shares_unseal() {
    let s = CofferServer::start(StorageKind::Memory).await;
    let (status, body) = s
        .request(
            "PUT",
            "sys/init",
            None,
            Some(json!({"secret_shares": 3, "secret_threshold": 2})),
        )
        .await;
    assert_eq!(status, 200);
    let b64: Vec<String> = body["keys_base64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().into())
        .collect();
    s.unseal(&b64[1..]).await;
    assert_eq!(seal_status(&s).await["sealed"], json!(false));
}

#[tokio::test]
async fn sealed_server_answers_503_except_seal_endpoints() {
    let mut s = CofferServer::start(StorageKind::Memory).await;
    let (_, root) = s.init(1, 1).await;
    for (method, path) in [
        ("GET", "sys/mounts"),
        ("GET", "sys/policies/acl"),
        ("GET", "secret/data/x"),
        ("GET", "auth/token/lookup-self"),
        ("POST", "auth/token/create"),
        ("GET", "cubbyhole/x"),
        ("GET", "sys/key-status"),
    ] {
        let (status, body) = s.request(method, path, Some(&root), None).await;
        assert_eq!(status, 503, "{method} {path} while sealed: {body}");
        assert!(!errors(&body).is_empty(), "{body}");
        let (status, _) = s.request(method, path, None, None).await;
        assert_eq!(status, 503, "{method} {path} without token while sealed");
    }
    for path in ["sys/seal-status", "sys/init"] {
        let (status, body) = s.request("GET", path, None, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn health_status_codes() {
    let mut s = CofferServer::start(StorageKind::Memory).await;
    let (status, body) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 501, "uninitialised: {body}");
    assert_eq!(
        (body["initialized"].clone(), body["sealed"].clone()),
        (json!(false), json!(true)),
        "{body}"
    );
    let (status, _) = s.request("GET", "sys/health?uninitcode=299", None, None).await;
    assert_eq!(status, 299);

    let (keys, _) = s.init(1, 1).await;
    let (status, body) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 503, "sealed: {body}");
    assert_eq!(
        (body["initialized"].clone(), body["sealed"].clone()),
        (json!(true), json!(true))
    );
    let (status, _) = s.request("GET", "sys/health?sealedcode=299", None, None).await;
    assert_eq!(status, 299);
    let (status, _) = s.request("HEAD", "sys/health", None, None).await;
    assert_eq!(status, 503, "HEAD gives the same status");

    s.unseal(&keys).await;
    let (status, body) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["initialized"].clone(),
            body["sealed"].clone(),
            body["standby"].clone()
        ),
        (json!(true), json!(false), json!(false))
    );
    assert!(body["version"].is_string(), "{body}");
    let (status, _) = s
        .request("GET", "sys/health?activecode=299&sealedcode=500", None, None)
        .await;
    assert_eq!(status, 299);
}

#[tokio::test]
async fn seal_and_unseal_again_keeps_data() {
    let mut s = CofferServer::start(StorageKind::Memory).await;
    let (keys, root) = s.init(3, 2).await;
    s.unseal(&keys[..2]).await;
    let (status, body) = s
        .request(
            "POST",
            "sys/mounts/kv",
            Some(&root),
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");
    let (status, body) = s
        .request(
            "POST",
            "kv/data/app",
            Some(&root),
            Some(json!({"data": {"password": "hunter2"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = s.request("PUT", "sys/seal", Some(&root), None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(seal_status(&s).await["sealed"], json!(true));
    let (status, _) = s.request("GET", "kv/data/app", Some(&root), None).await;
    assert_eq!(status, 503);

    s.unseal(&keys[1..3]).await;
    let (status, body) = s.request("GET", "kv/data/app", Some(&root), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["password"], json!("hunter2"));
}

#[tokio::test]
async fn seal_needs_a_privileged_token() {
    let s = CofferServer::start_unsealed(StorageKind::Memory).await;
    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
        .await;
    let user = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, _) = s.request("PUT", "sys/seal", Some(&user), None).await;
    assert_eq!(status, 403);
    let (status, _) = s.request("PUT", "sys/seal", None, None).await;
    assert_eq!(status, 403);
    assert_eq!(seal_status(&s).await["sealed"], json!(false));
}

#[tokio::test]
async fn restart_keeps_data_and_starts_sealed() {
    let mut s = CofferServer::start(StorageKind::Sqlite).await;
    let (keys, root) = s.init(1, 1).await;
    s.unseal(&keys).await;
    let (status, body) = s
        .request("POST", "secret-v1/x", Some(&root), Some(json!({"a": 1})))
        .await;
    assert_eq!(status, 404, "no mount yet: {body}");
    s.root_req("POST", "sys/mounts/secret", Some(json!({"type": "kv-v2"})))
        .await;
    let (status, body) = s
        .root_req("POST", "secret/data/app", Some(json!({"data": {"k": "v1"}})))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
        .await;
    let child = body["auth"]["client_token"].as_str().unwrap().to_string();

    s.restart_graceful().await;
    let st = seal_status(&s).await;
    assert_eq!(
        (st["initialized"].clone(), st["sealed"].clone()),
        (json!(true), json!(true)),
        "{st}"
    );
    let (status, _) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 503);
    s.unseal(&keys).await;
    let (status, body) = s.request("GET", "secret/data/app", Some(&root), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"]["k"], json!("v1"));
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&child), None).await;
    assert_eq!(status, 200, "tokens survive a restart");

    // and after a hard kill too
    s.restart().await;
    assert_eq!(seal_status(&s).await["sealed"], json!(true));
    s.unseal(&keys).await;
    let (status, body) = s.request("GET", "secret/data/app", Some(&root), None).await;
    assert_eq!(
        (status, body["data"]["data"]["k"].clone()),
        (200, json!("v1")),
        "{body}"
    );
}

#[tokio::test]
async fn rotate_increments_term_and_keeps_data() {
    let mut s = CofferServer::start(StorageKind::Sqlite).await;
    let (keys, root) = s.init(1, 1).await;
    s.unseal(&keys).await;
    s.root_req(
        "POST",
        "sys/mounts/secret",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    )
    .await;
    let (status, body) = s
        .root_req("POST", "secret/data/old", Some(json!({"data": {"v": "before"}})))
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = s.root_req("GET", "sys/key-status", None).await;
    assert_eq!(status, 200, "{body}");
    let term = body["data"]["term"]
        .as_u64()
        .or_else(|| body["term"].as_u64())
        .expect("term");
    assert_eq!(term, 1, "{body}");
    assert!(
        body["data"]["install_time"].is_string() || body["install_time"].is_string(),
        "{body}"
    );

    let (status, body) = s.root_req("PUT", "sys/rotate", None).await;
    assert!(status == 204 || status == 200, "{body}");
    let (_, body) = s.root_req("GET", "sys/key-status", None).await;
    assert_eq!(body["data"]["term"], json!(2), "{body}");

    let (status, body) = s.root_req("GET", "secret/data/old", None).await;
    assert_eq!(
        (status, body["data"]["data"]["v"].clone()),
        (200, json!("before")),
        "{body}"
    );
    let (status, _) = s
        .root_req("POST", "secret/data/new", Some(json!({"data": {"v": "after"}})))
        .await;
    assert_eq!(status, 200);

    // a non-sudo token may not rotate
    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
        .await;
    let user = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, _) = s.request("PUT", "sys/rotate", Some(&user), None).await;
    assert_eq!(status, 403);

    // both terms decrypt after a restart
    s.restart().await;
    s.unseal(&keys).await;
    let (_, body) = s.request("GET", "sys/key-status", Some(&root), None).await;
    assert_eq!(body["data"]["term"], json!(2), "rotated keyring persisted: {body}");
    for (path, want) in [("secret/data/old", "before"), ("secret/data/new", "after")] {
        let (status, body) = s.request("GET", path, Some(&root), None).await;
        assert_eq!(
            (status, body["data"]["data"]["v"].clone()),
            (200, json!(want)),
            "{path}: {body}"
        );
    }
}

//! The HTTP wire format: token headers, bad bodies, limits, hostile paths, methods, errors.

use coffer_tests::{CofferServer, Options, StorageKind, errors, split};
use serde_json::{Value, json};

#[tokio::test]
async fn bearer_header_works_like_x_vault_token() {
    let s = CofferServer::start_dev().await;
    let resp = s
        .client()
        .get(s.url("auth/token/lookup-self"))
        .header("Authorization", format!("Bearer {}", s.root()))
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["policies"], json!(["root"]));
    let resp = s
        .client()
        .get(s.url("auth/token/lookup-self"))
        .header("Authorization", "Bearer cfs_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
}

#[tokio::test]
async fn missing_or_bad_token_is_403_with_errors_body() {
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "secret/data/x", Some(json!({"data": {"a": "1"}})))
        .await;
    for token in [None, Some("cfs_not_a_real_token"), Some("")] {
        let resp = {
            let mut r = s.client().get(s.url("secret/data/x"));
            if let Some(t) = token {
                r = r.header("X-Vault-Token", t);
            }
            r.send().await.unwrap()
        };
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let (status, body) = split(resp).await;
        assert_eq!(status, 403, "token {token:?}: {body}");
        assert!(ctype.starts_with("application/json"), "error content type: {ctype}");
        assert_eq!(body, json!({"errors": ["permission denied"]}), "exact error shape");
    }
}

#[tokio::test]
async fn x_vault_request_header_is_accepted() {
    let s = CofferServer::start_dev().await;
    let resp = s
        .client()
        .post(s.url("secret/data/x"))
        .header("X-Vault-Token", s.root())
        .header("X-Vault-Request", "true")
        .json(&json!({"data": {"a": "1"}}))
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn malformed_json_is_400_and_writes_nothing() {
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "sys/mounts/kv1", Some(json!({"type": "kv"}))).await;
    for (path, raw) in [
        ("secret/data/x", r#"{"data": {"a": "1"}"#),
        ("secret/data/x", r#"{"data": {"a": "1"}} trailing"#),
        ("secret/data/x", r#"[1, 2]"#),
        ("kv1/x", r#"{"a": "#),
        ("kv1/x", "\u{1}\u{2}"),
    ] {
        let resp = s
            .client()
            .post(s.url(path))
            .header("X-Vault-Token", s.root())
            .header("Content-Type", "application/json")
            .body(raw.to_string())
            .send()
            .await
            .unwrap();
        let (status, body) = split(resp).await;
        assert_eq!(status, 400, "{path} with {raw:?}: {body}");
        assert!(!errors(&body).is_empty(), "{body}");
    }
    let (status, _) = s.root_req("GET", "secret/data/x", None).await;
    assert_eq!(status, 404, "nothing was written");
    let (status, _) = s.root_req("GET", "kv1/x", None).await;
    assert_eq!(status, 404, "nothing was written");
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let s = CofferServer::start_with(Options {
        dev: true,
        config: Some("max_request_size = 1024\n".into()),
        ..Options::new(StorageKind::Memory)
    })
    .await;
    let big = "x".repeat(4096);
    let (status, body) = s
        .root_req("POST", "secret/data/big", Some(json!({"data": {"v": big}})))
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(!errors(&body).is_empty(), "413 keeps the error shape: {body}");
    let (status, _) = s.root_req("GET", "secret/data/big", None).await;
    assert_eq!(status, 404, "nothing was written");
    let (status, body) = s
        .root_req("POST", "secret/data/small", Some(json!({"data": {"v": "ok"}})))
        .await;
    assert_eq!(status, 200, "under the limit: {body}");
}

#[tokio::test]
async fn dot_dot_and_nul_paths_are_400() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    for path in [
        "/v1/secret/data/../../sys/mounts",
        "/v1/secret/%2e%2e/sys/mounts",
        "/v1/secret/%2E%2E/%2e%2e/sys/policies/acl",
        "/v1/secret/data/..",
        "/v1/secret/data/a%00b",
        "/v1/secret/data/%2e%2e%2fx",
    ] {
        let (status, body) = s
            .raw_http(&format!("GET {path} HTTP/1.1\nX-Vault-Token: {root}"), b"")
            .await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("errors"), "{path}: {body}");
    }
    // writes through such paths change nothing
    let body = br#"{"type": "kv"}"#;
    let (status, _) = s
        .raw_http(
            &format!(
                "POST /v1/secret/%2e%2e/sys/mounts/evil HTTP/1.1\nX-Vault-Token: {root}\nContent-Type: application/json"
            ),
            body,
        )
        .await;
    assert_eq!(status, 400);
    let (_, mounts) = s.root_req("GET", "sys/mounts", None).await;
    assert!(mounts["data"].get("evil/").is_none(), "{mounts}");
}

#[tokio::test]
async fn unknown_method_is_405() {
    let s = CofferServer::start_dev().await;
    for method in ["FOO", "TRACE"] {
        let (status, body) = s.root_req(method, "secret/data/x", None).await;
        assert_eq!(status, 405, "{method}: {body}");
    }
    let (status, body) = s
        .raw_http(
            &format!("BREW /v1/secret/data/x HTTP/1.1\nX-Vault-Token: {}", s.root()),
            b"",
        )
        .await;
    assert_eq!(status, 405, "{body}");
}

#[tokio::test]
async fn envelope_and_empty_responses() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s.root_req("GET", "sys/mounts", None).await;
    assert_eq!(status, 200);
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{body}");
    assert_eq!(body["lease_id"], json!(""));
    assert_eq!(body["wrap_info"], Value::Null);
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/policies/acl/p",
            Some(json!({"policy": "path \"a\" { capabilities = [\"read\"] }"})),
        )
        .await;
    assert_eq!(
        (status, body),
        (204, Value::Null),
        "writes with nothing to say are 204 with no body"
    );
    let (status, body) = s.root_req("GET", "no/such/mount", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = s.root_req("GET", "sys/no-such-endpoint", None).await;
    assert_eq!(status, 404, "{body}");
    assert!(!errors(&body).is_empty());
    let (status, body) = s.request("GET", "v1/not-under-v1", None, None).await;
    assert!(status == 404 || status == 403, "{body}");
    let resp = s.client().get(format!("{}/not-api", s.addr())).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 404, "paths outside /v1 are not the API");
}

//! Response wrapping: `X-Vault-Wrap-TTL`, single-use unwrap, lookup, rewrap, wrap, expiry.

use coffer_tests::{CofferServer, errors, split};
use serde_json::{Value, json};

async fn wrapped_read(s: &CofferServer, path: &str, ttl: &str) -> Value {
    let resp = s
        .client()
        .get(s.url(path))
        .header("X-Vault-Token", s.root())
        .header("X-Vault-Wrap-TTL", ttl)
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn wrapped_secret_unwraps_once() {
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "secret/data/app", Some(json!({"data": {"pw": "hunter2"}})))
        .await;
    let body = wrapped_read(&s, "secret/data/app", "60s").await;
    assert_eq!(
        body["data"],
        Value::Null,
        "the secret is not in a wrapped response: {body}"
    );
    let info = &body["wrap_info"];
    assert_eq!(info["ttl"], 60);
    assert_eq!(info["creation_path"], "secret/data/app");
    let wrapping_token = info["token"].as_str().unwrap().to_string();
    assert!(wrapping_token.starts_with("cfs_"));

    let (status, looked) = s
        .request(
            "POST",
            "sys/wrapping/lookup",
            Some(&s.root()),
            Some(json!({"token": wrapping_token})),
        )
        .await;
    assert_eq!(status, 200, "{looked}");
    assert_eq!(looked["data"]["creation_path"], "secret/data/app");
    assert_eq!(looked["data"]["creation_ttl"], 60);

    // The wrapping token can do nothing but unwrap/lookup.
    let (status, _) = s.request("GET", "secret/data/app", Some(&wrapping_token), None).await;
    assert_eq!(status, 403);

    let (status, unwrapped) = s
        .request("POST", "sys/wrapping/unwrap", Some(&wrapping_token), None)
        .await;
    assert_eq!(status, 200, "{unwrapped}");
    assert_eq!(unwrapped["data"]["data"]["pw"], "hunter2");
    assert_eq!(unwrapped["mount_type"], "kv");
    assert!(
        unwrapped.get("metadata").is_none(),
        "no sys/ top-level copy: {unwrapped}"
    );

    let (status, again) = s
        .request("POST", "sys/wrapping/unwrap", Some(&wrapping_token), None)
        .await;
    assert_eq!(status, 403, "a second unwrap fails: {again}");
    let (status, again) = s
        .request(
            "POST",
            "sys/wrapping/unwrap",
            Some(&s.root()),
            Some(json!({"token": wrapping_token})),
        )
        .await;
    assert_eq!(status, 400, "{again}");
    assert!(errors(&again)[0].contains("wrapping token is not valid"), "{again}");
}

#[tokio::test]
async fn token_creation_can_be_wrapped_and_rewrapped() {
    let s = CofferServer::start_dev().await;
    let resp = s
        .client()
        .post(s.url("auth/token/create"))
        .header("X-Vault-Token", s.root())
        .header("X-Vault-Wrap-TTL", "5m")
        .json(&json!({"policies": ["default"]}))
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"], Value::Null);
    let accessor = body["wrap_info"]["wrapped_accessor"].as_str().unwrap().to_string();
    assert!(!accessor.is_empty(), "{body}");
    let first = body["wrap_info"]["token"].as_str().unwrap().to_string();

    let (status, rewrapped) = s
        .request(
            "POST",
            "sys/wrapping/rewrap",
            Some(&s.root()),
            Some(json!({"token": first})),
        )
        .await;
    assert_eq!(status, 200, "{rewrapped}");
    let second = rewrapped["wrap_info"]["token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let (status, _) = s
        .request(
            "POST",
            "sys/wrapping/unwrap",
            Some(&s.root()),
            Some(json!({"token": first})),
        )
        .await;
    assert_eq!(status, 400, "the old wrapping token died with the rewrap");
    let (status, unwrapped) = s
        .request(
            "POST",
            "sys/wrapping/unwrap",
            Some(&s.root()),
            Some(json!({"token": second})),
        )
        .await;
    assert_eq!(status, 200, "{unwrapped}");
    assert_eq!(unwrapped["auth"]["accessor"], accessor);
    let token = unwrapped["auth"]["client_token"].as_str().unwrap();
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(token), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn wrap_arbitrary_data_and_expiry() {
    let s = CofferServer::start_dev().await;
    let resp = s
        .client()
        .post(s.url("sys/wrapping/wrap"))
        .header("X-Vault-Token", s.root())
        .header("X-Vault-Wrap-TTL", "1")
        .json(&json!({"handover": "value"}))
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!(status, 200, "{body}");
    let token = body["wrap_info"]["token"].as_str().unwrap().to_string();
    // Without a wrap TTL, sys/wrapping/wrap refuses.
    let (status, _) = s
        .request("POST", "sys/wrapping/wrap", Some(&s.root()), Some(json!({"a": "b"})))
        .await;
    assert_eq!(status, 400);
    // An expired wrapping token cannot be unwrapped.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = s.request("POST", "sys/wrapping/unwrap", Some(&token), None).await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn bad_wrap_ttl_is_rejected() {
    let s = CofferServer::start_dev().await;
    for ttl in ["abc", "0", "-5s"] {
        let resp = s
            .client()
            .get(s.url("auth/token/lookup-self"))
            .header("X-Vault-Token", s.root())
            .header("X-Vault-Wrap-TTL", ttl)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{ttl}");
    }
}

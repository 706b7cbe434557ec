//! Leases over HTTP: token expiry on time (no lookup needed), `sys/leases/*` lookup, list,
//! renew, revoke, revoke-prefix, tidy, and leases that expired while the server was down.

use coffer_tests::{CofferServer, StorageKind};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const TOKEN_LEASES: &str = "sys/leases/lookup/auth/token/create/";

/// Creates a token with the root token; returns (token, accessor).
async fn create(s: &CofferServer, body: Value) -> (String, String) {
    let (status, resp) = s.root_req("POST", "auth/token/create", Some(body.clone())).await;
    assert_eq!(status, 200, "create {body}: {resp}");
    let auth = &resp["auth"];
    (
        auth["client_token"].as_str().unwrap().to_string(),
        auth["accessor"].as_str().unwrap().to_string(),
    )
}

/// Lease-id suffixes of token leases (`LIST`; a 404 is an empty list).
async fn token_lease_keys(s: &CofferServer) -> Vec<String> {
    let (status, body) = s.root_req("LIST", TOKEN_LEASES, None).await;
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{body}");
    let mut keys: Vec<String> = body["data"]["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys in {body}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}

async fn lookup_lease(s: &CofferServer, lease_id: &str) -> (u16, Value) {
    s.root_req("PUT", "sys/leases/lookup", Some(json!({ "lease_id": lease_id })))
        .await
}

async fn accessor_status(s: &CofferServer, accessor: &str) -> u16 {
    s.root_req(
        "POST",
        "auth/token/lookup-accessor",
        Some(json!({ "accessor": accessor })),
    )
    .await
    .0
}

async fn self_status(s: &CofferServer, token: &str) -> u16 {
    s.request("GET", "auth/token/lookup-self", Some(token), None).await.0
}

/// Polls until the token leases are exactly `want` (bounded).
async fn wait_for_leases(s: &CofferServer, want: usize, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let keys = token_lease_keys(s).await;
        if keys.len() == want || Instant::now() > deadline {
            return keys;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_token_is_revoked_when_it_expires_without_being_looked_up() {
    let s = CofferServer::start_dev().await;
    let (token, accessor) = create(&s, json!({"ttl": "2s", "policies": ["default"]})).await;
    let keys = token_lease_keys(&s).await;
    assert_eq!(keys.len(), 1, "one token lease (the root token has none): {keys:?}");

    // Only the lease listing is read in between: it never resolves the token, so nothing
    // but the expiry timer can make the lease disappear.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let keys = wait_for_leases(&s, 0, Duration::from_secs(2)).await;
    assert!(
        keys.is_empty(),
        "lease still there after expiry: {keys:?}\n{}",
        s.logs()
    );
    assert_eq!(accessor_status(&s, &accessor).await, 400, "accessor no longer resolves");
    assert_eq!(self_status(&s, &token).await, 403);
}

#[tokio::test]
async fn lookup_renew_and_revoke_a_token_lease_through_sys_leases() {
    let s = CofferServer::start_dev().await;
    let (token, accessor) = create(
        &s,
        json!({"ttl": "1h", "explicit_max_ttl": "2h", "policies": ["default"]}),
    )
    .await;
    let keys = token_lease_keys(&s).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let lease_id = format!("auth/token/create/{}", keys[0]);

    let (status, body) = lookup_lease(&s, &lease_id).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["id"], json!(lease_id));
    assert!(d["ttl"].as_u64().is_some_and(|t| t > 3500 && t <= 3600), "{body}");
    assert_eq!(d["renewable"], json!(true), "{body}");
    assert!(d["issue_time"].is_string() && d["expire_time"].is_string(), "{body}");
    assert_eq!(d["last_renewal"], Value::Null, "{body}");

    // Renewal asks for 3h; the explicit max of 2h from creation caps it.
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/leases/renew",
            Some(json!({"lease_id": lease_id, "increment": "3h"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lease_id"], json!(lease_id), "{body}");
    let granted = body["lease_duration"].as_u64().unwrap();
    assert!(granted > 7100 && granted <= 7200, "capped at explicit_max_ttl: {body}");
    let (_, body) = lookup_lease(&s, &lease_id).await;
    assert!(body["data"]["last_renewal"].is_string(), "{body}");
    let (_, looked) = s
        .root_req(
            "POST",
            "auth/token/lookup-accessor",
            Some(json!({"accessor": accessor})),
        )
        .await;
    let ttl = looked["data"]["ttl"].as_u64().unwrap();
    assert!(ttl > 7100, "the token itself was extended: {looked}");

    // Legacy path, lease id in the URL.
    let (status, body) = s.root_req("PUT", &format!("sys/renew/{lease_id}"), None).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = s
        .root_req("PUT", "sys/leases/revoke", Some(json!({"lease_id": lease_id})))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(self_status(&s, &token).await, 403);
    assert_eq!(lookup_lease(&s, &lease_id).await.0, 400);
    // Revoking again is not an error.
    let (status, _) = s.root_req("PUT", &format!("sys/leases/revoke/{lease_id}"), None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn non_renewable_leases_and_unknown_leases_are_400() {
    let s = CofferServer::start_dev().await;
    create(&s, json!({"ttl": "1h", "renewable": false})).await;
    let keys = token_lease_keys(&s).await;
    let lease_id = format!("auth/token/create/{}", keys[0]);
    let (status, body) = s
        .root_req("PUT", "sys/leases/renew", Some(json!({"lease_id": lease_id})))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/leases/renew",
            Some(json!({"lease_id": "auth/token/create/nope"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(lookup_lease(&s, "auth/token/create/nope").await.0, 400);
    let (status, body) = s.root_req("PUT", "sys/leases/lookup", Some(json!({}))).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn revoking_a_token_removes_its_lease() {
    let s = CofferServer::start_dev().await;
    let (token, _) = create(&s, json!({"ttl": "1h"})).await;
    assert_eq!(token_lease_keys(&s).await.len(), 1);
    let (status, _) = s
        .root_req("POST", "auth/token/revoke", Some(json!({"token": token})))
        .await;
    assert_eq!(status, 204);
    assert!(token_lease_keys(&s).await.is_empty());
}

#[tokio::test]
async fn revoke_prefix_and_listing_need_sudo() {
    let s = CofferServer::start_dev().await;
    let policy = r#"
path "sys/leases/*" { capabilities = ["create", "read", "update", "list"] }
path "sys/revoke-prefix/*" { capabilities = ["update"] }
"#;
    let (status, body) = s
        .root_req("PUT", "sys/policies/acl/leases", Some(json!({"policy": policy})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (operator, _) = create(&s, json!({"policies": ["leases"], "ttl": "1h"})).await;
    let (a, _) = create(&s, json!({"ttl": "1h", "no_parent": true})).await;
    let (b, _) = create(&s, json!({"ttl": "1h", "no_parent": true})).await;
    assert_eq!(token_lease_keys(&s).await.len(), 3);

    for (method, path) in [
        ("LIST", TOKEN_LEASES),
        ("PUT", "sys/leases/revoke-prefix/auth/token/create"),
        ("PUT", "sys/leases/revoke-force/auth/token/create"),
        ("PUT", "sys/revoke-prefix/auth/token/create"),
    ] {
        let (status, body) = s.request(method, path, Some(&operator), None).await;
        assert_eq!(status, 403, "{method} {path} without sudo: {body}");
    }
    assert_eq!(self_status(&s, &a).await, 200);

    let (status, body) = s
        .root_req("PUT", "sys/leases/revoke-prefix/auth/token/create", None)
        .await;
    assert_eq!(status, 204, "{body}");
    for t in [&operator, &a, &b] {
        assert_eq!(self_status(&s, t).await, 403);
    }
    assert!(token_lease_keys(&s).await.is_empty());

    let (status, body) = s.root_req("PUT", "sys/leases/tidy", None).await;
    assert_eq!(status, 202, "{body}");
}

/// THE RESTART TEST: leases that expire while the server is down are revoked right after
/// the next unseal, before anyone uses or looks up their tokens.
#[tokio::test]
async fn tokens_that_expired_while_down_are_revoked_at_unseal() {
    let mut s = CofferServer::start_unsealed(StorageKind::Sqlite).await;
    let mut short = Vec::new();
    for _ in 0..3 {
        short.push(create(&s, json!({"ttl": "3s", "policies": ["default"]})).await);
    }
    let (long, long_accessor) = create(&s, json!({"ttl": "1h", "policies": ["default"]})).await;
    assert_eq!(token_lease_keys(&s).await.len(), 4);

    s.stop_graceful();
    tokio::time::sleep(Duration::from_secs(5)).await;
    s.restart_graceful().await; // already stopped: this only starts it again
    s.unseal_again().await;

    // Only the listing is read: nothing resolves the expired tokens before they are gone.
    let keys = wait_for_leases(&s, 1, Duration::from_secs(3)).await;
    assert_eq!(
        keys.len(),
        1,
        "expired leases not revoked at unseal: {keys:?}\n{}",
        s.logs()
    );
    let (status, body) = lookup_lease(&s, &format!("auth/token/create/{}", keys[0])).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["ttl"].as_u64().is_some_and(|t| t > 3000),
        "the long lease: {body}"
    );

    for (token, accessor) in &short {
        assert_eq!(accessor_status(&s, accessor).await, 400, "accessor of an expired token");
        assert_eq!(self_status(&s, token).await, 403);
    }
    assert_eq!(accessor_status(&s, &long_accessor).await, 200);
    assert_eq!(self_status(&s, &long).await, 200);
}

//! The token store over HTTP: create, lookup, renew, revoke, use limits, expiry, cubbyholes.

use coffer_tests::CofferServer;
use serde_json::{Value, json};

async fn create(s: &CofferServer, token: &str, body: Value) -> Value {
    let (status, resp) = s
        .request("POST", "auth/token/create", Some(token), Some(body.clone()))
        .await;
    assert_eq!(status, 200, "create {body}: {resp}");
    resp["auth"].clone()
}

fn tok(auth: &Value) -> String {
    auth["client_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_token in {auth}"))
        .to_string()
}

async fn lookup_self(s: &CofferServer, token: &str) -> u16 {
    s.request("GET", "auth/token/lookup-self", Some(token), None).await.0
}

#[tokio::test]
async fn create_with_every_option_and_lookup() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    s.root_req(
        "PUT",
        "sys/policies/acl/app",
        Some(json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"})),
    )
    .await;
    let auth = create(
        &s,
        &root,
        json!({
            "policies": ["app"], "ttl": "1h", "num_uses": 10, "renewable": true,
            "meta": {"team": "ops"}, "display_name": "ci", "explicit_max_ttl": "2h",
        }),
    )
    .await;
    let token = tok(&auth);
    assert!(
        token.starts_with("cfs_"),
        "minted tokens carry the cfs_ prefix: {token}"
    );
    assert!(token.len() > 20, "{token}");
    assert_eq!(auth["policies"], json!(["app", "default"]), "{auth}");
    assert_eq!(auth["token_policies"], json!(["app", "default"]), "{auth}");
    assert_eq!(auth["metadata"], json!({"team": "ops"}), "{auth}");
    assert_eq!(auth["lease_duration"], json!(3600), "{auth}");
    assert_eq!(auth["renewable"], json!(true), "{auth}");
    assert_eq!(auth["orphan"], json!(false), "{auth}");
    assert_eq!(auth["num_uses"], json!(10), "{auth}");
    assert_eq!(auth["token_type"], json!("service"), "{auth}");
    let accessor = auth["accessor"].as_str().unwrap().to_string();
    assert!(!accessor.is_empty());

    let (status, body) = s
        .root_req("POST", "auth/token/lookup", Some(json!({"token": token})))
        .await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["id"], json!(token));
    assert_eq!(d["accessor"], json!(accessor));
    assert_eq!(d["display_name"], json!("token-ci"), "{body}");
    assert_eq!(d["meta"], json!({"team": "ops"}));
    assert_eq!(d["num_uses"], json!(10));
    assert_eq!(d["explicit_max_ttl"], json!(7200));
    assert_eq!(d["creation_ttl"], json!(3600));
    assert_eq!(d["path"], json!("auth/token/create"));
    assert_eq!(d["policies"], json!(["app", "default"]));
    assert_eq!(d["orphan"], json!(false));
    assert!(d["ttl"].as_u64().is_some_and(|t| t > 3500 && t <= 3600), "{body}");
    assert!(d["expire_time"].is_string(), "{body}");

    // lookup-self with the token itself
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], json!(token));

    // lookup-accessor never reveals the token
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/lookup-accessor",
            Some(json!({"accessor": accessor})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["id"], json!(""), "{body}");
    assert_eq!(body["data"]["display_name"], json!("token-ci"));

    // lookup of an unknown token
    let (status, _) = s
        .root_req("POST", "auth/token/lookup", Some(json!({"token": "cfs_nope"})))
        .await;
    assert!(status == 400 || status == 403, "unknown token: {status}");

    // root's own lookup
    let (_, body) = s.root_req("GET", "auth/token/lookup-self", None).await;
    assert_eq!(body["data"]["policies"], json!(["root"]), "{body}");
    assert_eq!(body["data"]["ttl"], json!(0));
}

#[tokio::test]
async fn periodic_and_orphan_tokens() {
    let s = CofferServer::start_dev().await;
    let auth = create(&s, &s.root(), json!({"policies": ["default"], "period": "30m"})).await;
    let (_, body) = s
        .root_req("POST", "auth/token/lookup", Some(json!({"token": tok(&auth)})))
        .await;
    assert_eq!(body["data"]["period"], json!(1800), "{body}");
    assert!(
        body["data"]["ttl"].as_u64().is_some_and(|t| t > 1700 && t <= 1800),
        "{body}"
    );

    let auth = create(&s, &s.root(), json!({"policies": ["default"], "no_parent": true})).await;
    assert_eq!(auth["orphan"], json!(true), "{auth}");
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/create-orphan",
            Some(json!({"policies": ["default"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["orphan"], json!(true));

    // a non-root token cannot make an orphan via no_parent
    let user = tok(&create(&s, &s.root(), json!({"policies": ["default"]})).await);
    let (status, body) = s
        .request(
            "POST",
            "auth/token/create",
            Some(&user),
            Some(json!({"no_parent": true, "policies": ["default"]})),
        )
        .await;
    assert!(status == 400 || status == 403, "{body}");
}

#[tokio::test]
async fn renew_and_renew_self_are_capped() {
    let s = CofferServer::start_dev().await;
    let auth = create(
        &s,
        &s.root(),
        json!({"policies": ["default"], "ttl": "10m", "explicit_max_ttl": "1h"}),
    )
    .await;
    let token = tok(&auth);
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/renew",
            Some(json!({"token": token, "increment": "30m"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["lease_duration"], json!(1800), "{body}");
    assert_eq!(body["auth"]["renewable"], json!(true));

    let (status, body) = s
        .request(
            "POST",
            "auth/token/renew-self",
            Some(&token),
            Some(json!({"increment": "10h"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ttl = body["auth"]["lease_duration"].as_u64().unwrap();
    assert!(
        ttl <= 3600 && ttl > 3500,
        "increment capped by explicit_max_ttl: {body}"
    );
    assert!(
        body["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "a capped renewal warns: {body}"
    );

    let (status, body) = s
        .request(
            "POST",
            "auth/token/renew-self",
            Some(&token),
            Some(json!({"increment": 60})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["auth"]["lease_duration"], json!(60), "{body}");

    // not renewable
    let fixed = tok(&create(
        &s,
        &s.root(),
        json!({"policies": ["default"], "ttl": "10m", "renewable": false}),
    )
    .await);
    let (status, body) = s.request("POST", "auth/token/renew-self", Some(&fixed), None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn revoke_variants_and_the_token_tree() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let parent = tok(&create(&s, &root, json!({"policies": ["default"]})).await);
    // the default policy does not allow auth/token/create: give the parent a policy that does
    s.root_req(
        "PUT",
        "sys/policies/acl/creator",
        Some(json!({"policy": "path \"auth/token/create\" { capabilities = [\"update\"] }"})),
    )
    .await;
    let parent2 = tok(&create(&s, &root, json!({"policies": ["creator"]})).await);
    let child = tok(&create(&s, &parent2, json!({"policies": ["creator"]})).await);
    let grandchild = tok(&create(&s, &child, json!({"policies": ["default"]})).await);
    let orphan = tok(&create(&s, &root, json!({"policies": ["default"], "no_parent": true})).await);
    for t in [&parent, &parent2, &child, &grandchild, &orphan] {
        assert_eq!(lookup_self(&s, t).await, 200);
    }
    // revoking a parent revokes its descendants, not an orphan
    let (status, body) = s
        .root_req("POST", "auth/token/revoke", Some(json!({"token": parent2})))
        .await;
    assert_eq!(status, 204, "{body}");
    for t in [&parent2, &child, &grandchild] {
        assert_eq!(lookup_self(&s, t).await, 403, "revoked with its parent");
    }
    assert_eq!(lookup_self(&s, &orphan).await, 200, "an orphan survives");
    assert_eq!(lookup_self(&s, &parent).await, 200);

    // revoke-self
    let (status, _) = s.request("POST", "auth/token/revoke-self", Some(&parent), None).await;
    assert_eq!(status, 204);
    assert_eq!(lookup_self(&s, &parent).await, 403);

    // revoke-accessor
    let auth = create(&s, &root, json!({"policies": ["default"]})).await;
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/revoke-accessor",
            Some(json!({"accessor": auth["accessor"]})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(lookup_self(&s, &tok(&auth)).await, 403);
    let (status, _) = s
        .root_req(
            "POST",
            "auth/token/lookup-accessor",
            Some(json!({"accessor": auth["accessor"]})),
        )
        .await;
    assert!(status == 400 || status == 404, "accessor gone: {status}");

    // revoke-orphan: the parent goes, its children stay as orphans
    let p = tok(&create(&s, &root, json!({"policies": ["creator"]})).await);
    let c = tok(&create(&s, &p, json!({"policies": ["default"]})).await);
    let (status, body) = s
        .root_req("POST", "auth/token/revoke-orphan", Some(json!({"token": p})))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(lookup_self(&s, &p).await, 403);
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&c), None).await;
    assert_eq!(status, 200, "child of revoke-orphan survives: {body}");
    assert_eq!(body["data"]["orphan"], json!(true), "{body}");

    // revoke-orphan needs sudo
    let p = tok(&create(&s, &root, json!({"policies": ["creator"]})).await);
    let (status, _) = s
        .request("POST", "auth/token/revoke-orphan", Some(&p), Some(json!({"token": p})))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn lookup_self_shows_the_use_it_spent() {
    // Vault decrements the use count (UseToken) before the handler runs, so lookup-self on a
    // 10-use token reports 9 uses left.
    let s = CofferServer::start_dev().await;
    let token = tok(&create(&s, &s.root(), json!({"policies": ["default"], "num_uses": 10})).await);
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["num_uses"],
        json!(9),
        "one use spent by this request: {body}"
    );
    let (_, body) = s
        .root_req("POST", "auth/token/lookup", Some(json!({"token": token})))
        .await;
    assert_eq!(body["data"]["num_uses"], json!(9), "{body}");
}

#[tokio::test]
async fn num_uses_limits_requests() {
    let s = CofferServer::start_dev().await;
    let token = tok(&create(&s, &s.root(), json!({"policies": ["default"], "num_uses": 2})).await);
    assert_eq!(lookup_self(&s, &token).await, 200, "first use");
    assert_eq!(lookup_self(&s, &token).await, 200, "second use");
    assert_eq!(lookup_self(&s, &token).await, 403, "no use left");
    let (status, _) = s
        .root_req("POST", "auth/token/lookup", Some(json!({"token": token})))
        .await;
    assert!(status == 400 || status == 403, "exhausted token is revoked: {status}");
}

#[tokio::test]
async fn expired_token_is_refused() {
    let s = CofferServer::start_dev().await;
    let token = tok(&create(&s, &s.root(), json!({"policies": ["default"], "ttl": "2s"})).await);
    assert_eq!(lookup_self(&s, &token).await, 200);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(lookup_self(&s, &token).await, 403, "token past its TTL");
}

#[tokio::test]
async fn child_cannot_outlive_parent_ttl() {
    let s = CofferServer::start_dev().await;
    s.root_req(
        "PUT",
        "sys/policies/acl/creator",
        Some(json!({"policy": "path \"auth/token/create\" { capabilities = [\"update\"] }"})),
    )
    .await;
    let parent = tok(&create(&s, &s.root(), json!({"policies": ["creator"], "ttl": "5m"})).await);
    let child = create(&s, &parent, json!({"policies": ["default"], "ttl": "10h"})).await;
    assert!(child["lease_duration"].as_u64().unwrap() <= 300, "{child}");
}

#[tokio::test]
async fn cubbyhole_is_private_per_token_and_dies_with_it() {
    let s = CofferServer::start_dev().await;
    let a = tok(&create(&s, &s.root(), json!({"policies": ["default"]})).await);
    let b = tok(&create(&s, &s.root(), json!({"policies": ["default"]})).await);
    let (status, body) = s
        .request("POST", "cubbyhole/note", Some(&a), Some(json!({"secret": "only-a"})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.request("GET", "cubbyhole/note", Some(&a), None).await;
    assert_eq!(
        (status, body["data"]["secret"].clone()),
        (200, json!("only-a")),
        "{body}"
    );
    let (status, body) = s.request("LIST", "cubbyhole/", Some(&a), None).await;
    assert_eq!((status, body["data"]["keys"].clone()), (200, json!(["note"])), "{body}");

    let (status, _) = s.request("GET", "cubbyhole/note", Some(&b), None).await;
    assert_eq!(status, 404, "B cannot see A's cubbyhole");
    let (status, _) = s.request("LIST", "cubbyhole/", Some(&b), None).await;
    assert_eq!(status, 404);
    let (status, _) = s.root_req("GET", "cubbyhole/note", None).await;
    assert_eq!(status, 404, "not even root sees A's cubbyhole");

    let (status, _) = s.request("POST", "auth/token/revoke-self", Some(&a), None).await;
    assert_eq!(status, 204);
    let (status, _) = s.request("GET", "cubbyhole/note", Some(&a), None).await;
    assert_eq!(status, 403, "revoked token");
    for _ in 0..3 {
        let fresh = tok(&create(&s, &s.root(), json!({"policies": ["default"]})).await);
        let (status, body) = s.request("GET", "cubbyhole/note", Some(&fresh), None).await;
        assert_eq!(
            status, 404,
            "a new token never sees a revoked token's cubbyhole: {body}"
        );
    }
}

#[tokio::test]
async fn bearer_root_and_dev_root_token_id() {
    let s = CofferServer::start_with(coffer_tests::Options {
        dev: true,
        dev_root_token_id: Some("my-root".into()),
        ..coffer_tests::Options::new(coffer_tests::StorageKind::Memory)
    })
    .await;
    assert_eq!(s.root(), "my-root", "dev server prints the chosen root token");
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some("my-root"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["policies"].as_array().unwrap().contains(&json!("root")),
        "{body}"
    );
    let (status, _) = s.request("GET", "sys/mounts", Some("my-root"), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn root_policy_tokens_carry_only_root() {
    // Vault's SanitizePolicies: "If 'root' policy is present, ignore all other policies", and
    // 'default' is not added. The dev root token (--dev-root-token-id) is made this way too.
    let s = CofferServer::start_with(coffer_tests::Options {
        dev: true,
        dev_root_token_id: Some("my-root".into()),
        ..coffer_tests::Options::new(coffer_tests::StorageKind::Memory)
    })
    .await;
    let (_, body) = s.request("GET", "auth/token/lookup-self", Some("my-root"), None).await;
    assert_eq!(body["data"]["policies"], json!(["root"]), "dev root token: {body}");
    let auth = create(&s, "my-root", json!({"policies": ["root", "app"]})).await;
    assert_eq!(auth["policies"], json!(["root"]), "{auth}");
}

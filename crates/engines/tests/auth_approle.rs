//! The approle auth method over a real barrier-encrypted `View`: roles, RoleIDs, SecretIDs
//! (generate, custom, list, lookup, destroy) and login with every refusal: wrong, exhausted,
//! expired and destroyed SecretIDs, CIDR bindings, and roles without a SecretID.

#[path = "engines/common.rs"]
#[allow(dead_code)]
mod common;

use coffer_core::CoreError;
use coffer_core::backend::BackendRequest;
use coffer_core::request::Operation::{self, Create, Delete, List, Read, Update};
use coffer_core::request::{Auth, Response};
use common::{Mount, mount};
use serde_json::{Value, json};
use std::time::Duration;

fn approle() -> Mount {
    mount("approle", &[]).expect("approle mounts")
}

async fn call_from(
    m: &Mount,
    op: Operation,
    path: &str,
    body: Value,
    addr: Option<&str>,
) -> Result<Response, CoreError> {
    let data = body.as_object().cloned().unwrap_or_default();
    let req = BackendRequest {
        client_addr: addr.map(|a| a.parse().expect("IP address")),
        mount_accessor: "auth_approle_test",
        ..BackendRequest::new(op, path, &data, &m.mount_point)
    };
    m.backend.handle(&req).await
}

async fn login_from(m: &Mount, role_id: &str, secret_id: Option<&str>, addr: &str) -> Result<Auth, CoreError> {
    let body = json!({"role_id": role_id, "secret_id": secret_id});
    let resp = call_from(m, Update, "login", body, Some(addr)).await?;
    Ok(resp.auth.expect("a successful login carries auth"))
}

async fn login(m: &Mount, role_id: &str, secret_id: &str) -> Result<Auth, CoreError> {
    login_from(m, role_id, Some(secret_id), "127.0.0.1").await
}

fn assert_bad(e: CoreError, needle: &str) {
    match e {
        CoreError::BadRequest(msg) => assert!(msg.contains(needle), "{msg:?} lacks {needle:?}"),
        other => panic!("expected 400 with {needle:?}, got {other:?}"),
    }
}

fn assert_invalid(r: Result<Auth, CoreError>) {
    match r {
        Err(CoreError::BadRequest(msg)) => assert_eq!(msg, "invalid role or secret ID"),
        other => panic!("expected 400 invalid role or secret ID, got {other:?}"),
    }
}

async fn role_id(m: &Mount, role: &str) -> String {
    let data = m.data(Read, &format!("role/{role}/role-id"), json!({})).await;
    data["role_id"].as_str().unwrap().to_string()
}

async fn new_secret(m: &Mount, role: &str, body: Value) -> (String, String) {
    let data = m.data(Update, &format!("role/{role}/secret-id"), body).await;
    let s = |k: &str| {
        data[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in {data}"))
            .to_string()
    };
    (s("secret_id"), s("secret_id_accessor"))
}

#[tokio::test]
async fn role_crud_and_role_ids() {
    let m = approle();
    m.not_found(List, "role", json!({})).await;
    m.not_found(Read, "role/web", json!({})).await;
    assert_eq!(m.exists(Create, "role/web").await.unwrap(), Some(false));
    m.no_content(
        Create,
        "role/Web",
        json!({"token_policies": ["web"], "secret_id_ttl": "10m", "token_ttl": 600}),
    )
    .await;
    assert_eq!(m.exists(Update, "role/web").await.unwrap(), Some(true));
    let data = m.data(Read, "role/web", json!({})).await;
    assert_eq!(data["bind_secret_id"], json!(true));
    assert_eq!(data["secret_id_ttl"], json!(600));
    assert_eq!(data["secret_id_num_uses"], json!(0));
    assert_eq!(data["secret_id_bound_cidrs"], json!([]));
    assert_eq!(data["token_policies"], json!(["web"]));
    assert_eq!(data["token_ttl"], json!(600));
    assert!(data.get("role_id").is_none(), "the RoleID has its own endpoint");

    let generated = role_id(&m, "web").await;
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    m.no_content(Create, "role/api", json!({"role_id": "api-custom-id"}))
        .await;
    assert_eq!(role_id(&m, "api").await, "api-custom-id");
    assert_eq!(m.data(List, "role", json!({})).await["keys"], json!(["api", "web"]));

    // Custom RoleIDs: unique across roles; the old one stops working.
    m.bad(
        Update,
        "role/web/role-id",
        json!({"role_id": "api-custom-id"}),
        "already in use",
    )
    .await;
    m.bad(Update, "role/web/role-id", json!({}), "missing role_id").await;
    m.bad(Update, "role/nope/role-id", json!({"role_id": "x"}), "does not exist")
        .await;
    m.no_content(Update, "role/web/role-id", json!({"role_id": "web-id"}))
        .await;
    assert_eq!(role_id(&m, "web").await, "web-id");
    let (secret, _) = new_secret(&m, "web", json!({})).await;
    assert_invalid(login(&m, &generated, &secret).await);
    assert_eq!(login(&m, "web-id", &secret).await.unwrap().policies, vec!["web"]);

    // Update keeps what is not given; bad input changes nothing.
    m.no_content(Update, "role/web", json!({"secret_id_num_uses": 3})).await;
    m.bad(Update, "role/web", json!({"token_type": "weird"}), "token_type")
        .await;
    m.bad(Update, "role/web", json!({"secret_id_bound_cidrs": "nope"}), "CIDR")
        .await;
    assert!(matches!(
        m.err(Update, "role/web/nonsense", json!({})).await,
        CoreError::NoRoute(_)
    ));
    let data = m.data(Read, "role/web", json!({})).await;
    assert_eq!(
        (data["secret_id_num_uses"].clone(), data["token_ttl"].clone()),
        (json!(3), json!(600))
    );
    m.bad(Create, "role/bad*name", json!({}), "invalid role_name").await;

    m.no_content(Delete, "role/web", json!({})).await;
    m.not_found(Read, "role/web", json!({})).await;
    assert_invalid(login(&m, "web-id", &secret).await);
    assert_eq!(m.data(List, "role", json!({})).await["keys"], json!(["api"]));
    assert!(m.stored("secret_id/").await.is_empty() && m.stored("accessor/").await.is_empty());
}

#[tokio::test]
async fn login_flow_and_refusals() {
    let m = approle();
    m.no_content(Create, "role/app", json!({"token_policies": "app", "token_ttl": "20m"}))
        .await;
    let rid = role_id(&m, "app").await;
    let data = m
        .data(
            Update,
            "role/app/secret-id",
            json!({"metadata": "{\"team\": \"blue\"}"}),
        )
        .await;
    for key in ["secret_id", "secret_id_accessor", "secret_id_ttl", "secret_id_num_uses"] {
        assert!(data.get(key).is_some(), "{key} missing from {data}");
    }
    let secret = data["secret_id"].as_str().unwrap().to_string();
    let auth = login(&m, &rid, &secret).await.unwrap();
    assert_eq!(auth.policies, vec!["app"]);
    assert_eq!(auth.ttl, 1200);
    let alias = auth.alias.unwrap();
    assert_eq!(alias.name, rid, "alias name is the RoleID");
    let meta = auth.metadata.unwrap();
    assert_eq!(meta["role_name"], json!("app"));
    assert_eq!(meta["team"], json!("blue"));
    assert_eq!(alias.metadata, meta);
    assert!(auth.client_token.is_empty());

    assert_invalid(login(&m, &rid, "not-the-secret").await);
    assert_invalid(login(&m, "unknown-role-id", &secret).await);
    assert_bad(login(&m, "", &secret).await.unwrap_err(), "missing role_id");
    assert_bad(
        login_from(&m, &rid, None, "127.0.0.1").await.unwrap_err(),
        "missing secret_id",
    );
    let err = call_from(&m, Read, "login", json!({}), None).await.unwrap_err();
    assert!(matches!(err, CoreError::UnsupportedOperation), "{err:?}");

    // SecretIDs exist only as HMACs: the value appears nowhere in storage.
    for prefix in ["secret_id/app/", "accessor/app/"] {
        for key in m.stored(prefix).await {
            assert!(!key.contains(&secret));
            let value = m.view.get(&format!("{prefix}{key}")).await.unwrap().unwrap();
            assert!(!String::from_utf8_lossy(value.expose()).contains(&secret));
        }
    }
}

#[tokio::test]
async fn exhausted_secret_id_is_refused_and_deleted() {
    let m = approle();
    m.no_content(Create, "role/batch", json!({"secret_id_num_uses": 2}))
        .await;
    let rid = role_id(&m, "batch").await;
    let (secret, accessor) = new_secret(&m, "batch", json!({})).await;
    let looked = m
        .data(Update, "role/batch/secret-id/lookup", json!({"secret_id": secret}))
        .await;
    assert_eq!(looked["secret_id_num_uses"], json!(2));
    assert!(login(&m, &rid, &secret).await.is_ok());
    let looked = m
        .data(
            Update,
            "role/batch/secret-id-accessor/lookup",
            json!({"secret_id_accessor": accessor}),
        )
        .await;
    assert_eq!(looked["secret_id_num_uses"], json!(1));
    assert!(login(&m, &rid, &secret).await.is_ok());
    assert_invalid(login(&m, &rid, &secret).await);
    m.not_found(List, "role/batch/secret-id", json!({})).await;
    assert!(m.stored("secret_id/").await.is_empty());

    m.bad(
        Update,
        "role/batch/secret-id",
        json!({"num_uses": 3}),
        "secret_id_num_uses",
    )
    .await;
    m.bad(
        Update,
        "role/batch/secret-id",
        json!({"num_uses": 0}),
        "secret_id_num_uses",
    )
    .await;
    let (one, _) = new_secret(&m, "batch", json!({"num_uses": 1})).await;
    assert!(login(&m, &rid, &one).await.is_ok());
    assert_invalid(login(&m, &rid, &one).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_logins_never_overspend_a_secret_id() {
    let m = approle();
    m.no_content(Create, "role/race", json!({})).await;
    let rid = role_id(&m, "race").await;
    let (secret, _) = new_secret(&m, "race", json!({"num_uses": 3})).await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let backend = m.backend.clone();
        let body = json!({"role_id": rid, "secret_id": secret});
        tasks.push(tokio::spawn(async move {
            let data = body.as_object().cloned().unwrap();
            let req = BackendRequest::new(Update, "login", &data, "auth/approle/");
            backend.handle(&req).await.is_ok()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap());
    }
    assert_eq!(ok, 3, "exactly num_uses logins succeed");
}

#[tokio::test]
async fn expired_secret_id_is_refused() {
    let m = approle();
    m.no_content(Create, "role/short", json!({"secret_id_ttl": "1h"})).await;
    let rid = role_id(&m, "short").await;
    m.bad(Update, "role/short/secret-id", json!({"ttl": "2h"}), "secret_id_ttl")
        .await;
    let (secret, _) = new_secret(&m, "short", json!({"ttl": 1})).await;
    let looked = m
        .data(Update, "role/short/secret-id/lookup", json!({"secret_id": secret}))
        .await;
    assert_eq!(looked["secret_id_ttl"], json!(1));
    assert_ne!(looked["expiration_time"], json!("0001-01-01T00:00:00Z"));
    common::parse_time(looked["creation_time"].as_str().unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_invalid(login(&m, &rid, &secret).await);
    assert!(
        m.stored("secret_id/").await.is_empty(),
        "an expired SecretID is removed when met"
    );
}

#[tokio::test]
async fn destroyed_secret_ids_are_refused() {
    let m = approle();
    m.no_content(Create, "role/d", json!({})).await;
    let rid = role_id(&m, "d").await;
    let (a, _) = new_secret(&m, "d", json!({})).await;
    let (b, b_accessor) = new_secret(&m, "d", json!({})).await;
    let keys = m.data(List, "role/d/secret-id", json!({})).await["keys"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert!(keys.as_array().unwrap().contains(&json!(b_accessor)));

    m.no_content(Update, "role/d/secret-id/destroy", json!({"secret_id": a}))
        .await;
    assert_invalid(login(&m, &rid, &a).await);
    m.no_content(Update, "role/d/secret-id/lookup", json!({"secret_id": a}))
        .await;
    m.no_content(Update, "role/d/secret-id/destroy", json!({"secret_id": a}))
        .await;

    m.no_content(
        Update,
        "role/d/secret-id-accessor/destroy",
        json!({"secret_id_accessor": b_accessor}),
    )
    .await;
    assert_invalid(login(&m, &rid, &b).await);
    m.bad(
        Update,
        "role/d/secret-id-accessor/lookup",
        json!({"secret_id_accessor": b_accessor}),
        "failed to find accessor entry",
    )
    .await;
    m.bad(Update, "role/d/secret-id/lookup", json!({}), "missing secret_id")
        .await;
    m.bad(
        Update,
        "role/nope/secret-id/lookup",
        json!({"secret_id": "x"}),
        "does not exist",
    )
    .await;
    m.not_found(List, "role/d/secret-id", json!({})).await;
}

#[tokio::test]
async fn custom_secret_ids_and_secret_id_bindings() {
    let m = approle();
    m.no_content(
        Create,
        "role/c",
        json!({"secret_id_bound_cidrs": ["127.0.0.0/8", "10.0.0.0/8"], "token_bound_cidrs": "10.0.0.0/8"}),
    )
    .await;
    let rid = role_id(&m, "c").await;
    let data = m
        .data(
            Update,
            "role/c/custom-secret-id",
            json!({"secret_id": "my-own-secret", "cidr_list": "10.1.0.0/16"}),
        )
        .await;
    assert_eq!(data["secret_id"], json!("my-own-secret"));
    m.bad(
        Update,
        "role/c/custom-secret-id",
        json!({"secret_id": "my-own-secret"}),
        "already registered",
    )
    .await;
    m.bad(Update, "role/c/custom-secret-id", json!({}), "missing secret_id")
        .await;
    m.bad(
        Update,
        "role/c/secret-id",
        json!({"cidr_list": "192.168.0.0/16"}),
        "CIDR restrictions",
    )
    .await;
    m.bad(
        Update,
        "role/c/secret-id",
        json!({"token_bound_cidrs": "10.0.0.0/7"}),
        "token bound CIDR",
    )
    .await;

    // The role's blocks, then the SecretID's blocks; a refused login spends nothing.
    assert_bad(
        login_from(&m, &rid, Some("my-own-secret"), "192.168.1.1")
            .await
            .unwrap_err(),
        "unauthorized by CIDR restrictions on the role",
    );
    assert_bad(
        login_from(&m, &rid, Some("my-own-secret"), "127.0.0.1")
            .await
            .unwrap_err(),
        "unauthorized by CIDR restrictions on the secret ID",
    );
    let auth = login_from(&m, &rid, Some("my-own-secret"), "10.1.2.3").await.unwrap();
    assert_eq!(auth.bound_cidrs, vec!["10.0.0.0/8"]);

    let (narrow, _) = new_secret(&m, "c", json!({"token_bound_cidrs": ["10.9.0.0/16"]})).await;
    let auth = login_from(&m, &rid, Some(&narrow), "127.0.0.1").await.unwrap();
    assert_eq!(
        auth.bound_cidrs,
        vec!["10.9.0.0/16"],
        "the SecretID's token_bound_cidrs win"
    );
}

#[tokio::test]
async fn role_without_secret_id_needs_a_cidr_binding() {
    let m = approle();
    m.bad(
        Create,
        "role/open",
        json!({"bind_secret_id": false}),
        "at least one constraint",
    )
    .await;
    m.not_found(Read, "role/open", json!({})).await;
    m.no_content(
        Create,
        "role/open",
        json!({"bind_secret_id": false, "secret_id_bound_cidrs": "10.0.0.0/8", "token_policies": ["svc"]}),
    )
    .await;
    let rid = role_id(&m, "open").await;
    let auth = login_from(&m, &rid, None, "10.0.0.5").await.unwrap();
    assert_eq!(auth.policies, vec!["svc"]);
    assert_bad(
        login_from(&m, &rid, None, "127.0.0.1").await.unwrap_err(),
        "unauthorized by CIDR restrictions on the role",
    );
    let err = call_from(&m, Update, "login", json!({"role_id": rid}), None)
        .await
        .unwrap_err();
    assert_bad(err, "unauthorized by CIDR restrictions on the role");
    m.bad(Update, "role/open/secret-id", json!({}), "bind_secret_id is not set")
        .await;
}

#[tokio::test]
async fn a_recreated_role_does_not_accept_old_secret_ids() {
    let m = approle();
    m.no_content(Create, "role/r", json!({"role_id": "fixed-id"})).await;
    let (secret, _) = new_secret(&m, "r", json!({})).await;
    m.no_content(Delete, "role/r", json!({})).await;
    m.no_content(Create, "role/r", json!({"role_id": "fixed-id"})).await;
    assert_invalid(login(&m, "fixed-id", &secret).await);
}

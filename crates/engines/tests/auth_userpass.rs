//! The userpass auth method over a real barrier-encrypted `View`: users CRUD, password and
//! policy updates, login (success, wrong password, unknown user), lockout and bound CIDRs.

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

fn userpass() -> Mount {
    mount("userpass", &[]).expect("userpass mounts")
}

/// Calls the backend as an unauthenticated client at `addr` (as the core does for `login/*`).
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
        mount_accessor: "auth_userpass_test",
        ..BackendRequest::new(op, path, &data, &m.mount_point)
    };
    m.backend.handle(&req).await
}

async fn login(m: &Mount, user: &str, password: &str) -> Result<Auth, CoreError> {
    let resp = call_from(
        m,
        Update,
        &format!("login/{user}"),
        json!({ "password": password }),
        Some("127.0.0.1"),
    )
    .await?;
    assert!(resp.data.is_none(), "a login answers with auth only");
    Ok(resp.auth.expect("a successful login carries auth"))
}

async fn login_err(m: &Mount, user: &str, password: &str) -> CoreError {
    match login(m, user, password).await {
        Ok(auth) => panic!("login as {user} should fail, got {auth:?}"),
        Err(e) => e,
    }
}

fn assert_invalid(e: CoreError) {
    match e {
        CoreError::BadRequest(msg) => assert_eq!(msg, "invalid username or password"),
        other => panic!("expected 400 invalid username or password, got {other:?}"),
    }
}

#[tokio::test]
async fn users_crud_never_shows_or_stores_the_password() {
    let m = userpass();
    m.not_found(List, "users", json!({})).await;
    m.not_found(Read, "users/alice", json!({})).await;
    assert_eq!(m.exists(Create, "users/alice").await.unwrap(), Some(false));
    m.bad(
        Create,
        "users/alice",
        json!({"token_policies": ["dev"]}),
        "missing password",
    )
    .await;
    let resp = m
        .ok(
            Create,
            "users/Alice",
            json!({"password": "s3cret-pw", "token_policies": "dev, Ops", "token_ttl": "1h",
                   "token_max_ttl": 7200, "token_num_uses": 4, "token_bound_cidrs": ["127.0.0.1/32"]}),
        )
        .await;
    assert!(resp.data.is_none() && resp.warnings.is_empty(), "{resp:?}");
    assert_eq!(m.exists(Update, "users/alice").await.unwrap(), Some(true));

    let data = m.data(Read, "users/ALICE", json!({})).await;
    assert_eq!(data["token_policies"], json!(["dev", "ops"]));
    assert_eq!(data["token_ttl"], json!(3600));
    assert_eq!(data["token_max_ttl"], json!(7200));
    assert_eq!(data["token_num_uses"], json!(4));
    assert_eq!(data["token_bound_cidrs"], json!(["127.0.0.1/32"]));
    assert_eq!(data["token_type"], json!("default"));
    let text = data.to_string();
    assert!(!text.contains("s3cret-pw") && !text.contains("argon2") && !text.contains("password"));

    // Stored only as an Argon2id PHC hash.
    let stored = m.view.get("user/alice").await.unwrap().expect("record");
    let stored = String::from_utf8(stored.expose().to_vec()).unwrap();
    assert!(stored.contains("$argon2id$v=19$"), "{stored}");
    assert!(!stored.contains("s3cret-pw"));

    // An update without a password keeps it; unknown fields are reported.
    let resp = m
        .ok(Update, "users/alice", json!({"token_ttl": 60, "color": "red"}))
        .await;
    assert!(resp.warnings[0].contains("color"), "{:?}", resp.warnings);
    assert_eq!(m.data(Read, "users/alice", json!({})).await["token_ttl"], json!(60));
    assert!(login(&m, "alice", "s3cret-pw").await.is_ok());

    m.no_content(Create, "users/bob", json!({"password": "x"})).await;
    assert_eq!(m.data(List, "users", json!({})).await["keys"], json!(["alice", "bob"]));
    m.no_content(Delete, "users/alice", json!({})).await;
    m.not_found(Read, "users/alice", json!({})).await;
    assert_eq!(m.data(List, "users/", json!({})).await["keys"], json!(["bob"]));
    assert_invalid(login_err(&m, "alice", "s3cret-pw").await);
}

#[tokio::test]
async fn login_answers_with_the_user_token_settings() {
    let m = userpass();
    m.no_content(
        Create,
        "users/carol",
        json!({"password": "pw-1", "policies": ["app"], "token_period": "30m",
               "token_no_default_policy": true, "token_explicit_max_ttl": "2h"}),
    )
    .await;
    let auth = login(&m, "Carol", "pw-1").await.unwrap();
    assert_eq!(auth.policies, vec!["app"]);
    assert_eq!(auth.period, 1800);
    assert_eq!(auth.explicit_max_ttl, 7200);
    assert!(auth.no_default_policy);
    assert_eq!(auth.metadata.unwrap()["username"], json!("carol"));
    assert_eq!(auth.alias.unwrap().name, "carol");
    assert!(
        auth.client_token.is_empty(),
        "the core, not the backend, mints the token"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_give_the_same_error() {
    let m = userpass();
    m.no_content(Create, "users/dave", json!({"password": "right"})).await;
    assert_invalid(login_err(&m, "dave", "wrong").await);
    assert_invalid(login_err(&m, "nobody", "wrong").await);
    assert_invalid(login_err(&m, "not a/valid name", "wrong").await);
    match login_err(&m, "dave", "").await {
        CoreError::BadRequest(msg) => assert_eq!(msg, "missing password"),
        other => panic!("{other:?}"),
    }
    let err = call_from(&m, Read, "login/dave", json!({}), None).await.unwrap_err();
    assert!(matches!(err, CoreError::UnsupportedOperation), "{err:?}");
    assert!(login(&m, "dave", "right").await.is_ok());
}

#[tokio::test]
async fn lockout_after_threshold_then_unlock_after_duration() {
    let m = userpass();
    m.bad(Update, "config", json!({"lockout_threshold": 0}), "at least 1")
        .await;
    m.no_content(
        Update,
        "config",
        json!({"lockout_threshold": 3, "lockout_duration": "2s", "lockout_counter_reset": "1m"}),
    )
    .await;
    let config = m.data(Read, "config", json!({})).await;
    assert_eq!(config["lockout_threshold"], json!(3));
    assert_eq!(config["lockout_duration"], json!(2));
    assert_eq!(config["disable_lockout"], json!(false));
    m.no_content(Create, "users/erin", json!({"password": "right"})).await;

    // A success resets the counter.
    for _ in 0..2 {
        assert_invalid(login_err(&m, "erin", "wrong").await);
    }
    assert!(login(&m, "erin", "right").await.is_ok());
    for _ in 0..3 {
        assert_invalid(login_err(&m, "erin", "wrong").await);
    }
    // Locked: even the right password is refused, with 403.
    assert!(matches!(
        login_err(&m, "erin", "right").await,
        CoreError::PermissionDenied
    ));
    assert!(matches!(
        login_err(&m, "ERIN", "right").await,
        CoreError::PermissionDenied
    ));
    // Unknown names lock the same way (no way to tell them apart).
    for _ in 0..3 {
        assert_invalid(login_err(&m, "ghost", "wrong").await);
    }
    assert!(matches!(
        login_err(&m, "ghost", "wrong").await,
        CoreError::PermissionDenied
    ));

    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(
        login(&m, "erin", "right").await.is_ok(),
        "unlocked after lockout_duration"
    );

    // disable_lockout turns it off.
    m.no_content(Update, "config", json!({"disable_lockout": true})).await;
    for _ in 0..5 {
        assert_invalid(login_err(&m, "erin", "wrong").await);
    }
    assert!(login(&m, "erin", "right").await.is_ok());
}

#[tokio::test]
async fn password_and_policies_endpoints() {
    let m = userpass();
    m.no_content(
        Create,
        "users/frank",
        json!({"password": "old-pw", "token_policies": ["a"]}),
    )
    .await;
    m.bad(Update, "users/frank/password", json!({}), "missing password")
        .await;
    m.bad(
        Update,
        "users/nobody/password",
        json!({"password": "x"}),
        "username does not exist",
    )
    .await;
    m.no_content(Update, "users/frank/password", json!({"password": "new-pw"}))
        .await;
    assert_invalid(login_err(&m, "frank", "old-pw").await);
    assert_eq!(login(&m, "frank", "new-pw").await.unwrap().policies, vec!["a"]);

    m.no_content(Update, "users/frank/policies", json!({"token_policies": "B,c"}))
        .await;
    assert_eq!(
        m.data(Read, "users/frank", json!({})).await["token_policies"],
        json!(["b", "c"])
    );
    m.no_content(Update, "users/frank/policies", json!({"policies": ["d"]}))
        .await;
    assert_eq!(login(&m, "frank", "new-pw").await.unwrap().policies, vec!["d"]);
    m.bad(
        Update,
        "users/nobody/policies",
        json!({"policies": ["d"]}),
        "username does not exist",
    )
    .await;
}

#[tokio::test]
async fn token_bound_cidrs_refuse_other_addresses() {
    let m = userpass();
    m.no_content(
        Create,
        "users/gina",
        json!({"password": "pw", "token_bound_cidrs": "10.0.0.0/8"}),
    )
    .await;
    let from = |addr: Option<&'static str>| call_from(&m, Update, "login/gina", json!({"password": "pw"}), addr);
    assert!(matches!(
        from(Some("127.0.0.1")).await.unwrap_err(),
        CoreError::PermissionDenied
    ));
    assert!(matches!(from(None).await.unwrap_err(), CoreError::PermissionDenied));
    let auth = from(Some("10.1.2.3")).await.unwrap().auth.unwrap();
    assert_eq!(auth.bound_cidrs, vec!["10.0.0.0/8"]);
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let m = userpass();
    m.no_content(Create, "users/hank", json!({"password": "pw", "token_ttl": 5}))
        .await;
    m.bad(Update, "users/-bad", json!({"password": "pw"}), "invalid username")
        .await;
    m.bad(Update, "users/hank", json!({"token_type": "weird"}), "token_type")
        .await;
    m.bad(
        Update,
        "users/hank",
        json!({"token_bound_cidrs": "300.0.0.1/8"}),
        "CIDR",
    )
    .await;
    m.bad(
        Update,
        "users/hank",
        json!({"token_ttl": "2h", "token_max_ttl": "1h"}),
        "token_max_ttl",
    )
    .await;
    m.bad(Update, "users/hank", json!({"password": 5}), "must be a string")
        .await;
    assert_eq!(m.data(Read, "users/hank", json!({})).await["token_ttl"], json!(5));
    assert!(matches!(
        m.err(Update, "nothing/here", json!({})).await,
        CoreError::NoRoute(_)
    ));
    assert!(matches!(
        m.err(Read, "users", json!({})).await,
        CoreError::UnsupportedOperation
    ));
    assert!(login(&m, "hank", "pw").await.is_ok());
}

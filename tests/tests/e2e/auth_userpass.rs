//! The userpass auth method over HTTP against the real binary: enable, create a user, log in
//! without a token, use the token within (and outside) its policy, refusals and lockout.

use coffer_tests::{CofferServer, errors};
use serde_json::{Value, json};

const APP_READ: &str = r#"path "secret/data/app/*" { capabilities = ["read"] }"#;

async fn setup(s: &CofferServer) {
    let (status, body) = s
        .root_req("PUT", "sys/policies/acl/app-read", Some(json!({ "policy": APP_READ })))
        .await;
    assert_eq!(status, 204, "{body}");
    for path in ["secret/data/app/db", "secret/data/other/db"] {
        let (status, body) = s.root_req("PUT", path, Some(json!({"data": {"pw": "x"}}))).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, body) = s
        .root_req("POST", "sys/auth/userpass", Some(json!({"type": "userpass"})))
        .await;
    assert_eq!(status, 204, "{body}");
}

async fn login(s: &CofferServer, user: &str, password: &str) -> (u16, Value) {
    s.request(
        "POST",
        &format!("auth/userpass/login/{user}"),
        None,
        Some(json!({ "password": password })),
    )
    .await
}

#[tokio::test]
async fn login_issues_a_token_limited_to_its_policies() {
    let s = CofferServer::start_dev().await;
    setup(&s).await;
    let (status, body) = s
        .root_req(
            "POST",
            "auth/userpass/users/alice",
            Some(json!({"password": "correct horse", "token_policies": ["app-read"], "token_ttl": "1h"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "auth/userpass/users/alice", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["token_policies"], json!(["app-read"]));
    assert!(!body.to_string().contains("correct horse"));
    let (status, body) = s.root_req("LIST", "auth/userpass/users", None).await;
    assert_eq!(
        (status, body["data"]["keys"].clone()),
        (200, json!(["alice"])),
        "{body}"
    );

    let (status, body) = login(&s, "Alice", "correct horse").await;
    assert_eq!(status, 200, "{body}");
    let auth = &body["auth"];
    let token = auth["client_token"].as_str().expect("client_token").to_string();
    assert!(token.starts_with("cfs_"), "{token}");
    assert_eq!(auth["policies"], json!(["app-read", "default"]), "{auth}");
    assert_eq!(auth["metadata"], json!({"username": "alice"}), "{auth}");
    assert_eq!(auth["lease_duration"], json!(3600), "{auth}");
    assert!(!auth["accessor"].as_str().unwrap_or_default().is_empty(), "{auth}");

    let (status, body) = s.request("GET", "secret/data/app/db", Some(&token), None).await;
    assert_eq!(status, 200, "inside the policy: {body}");
    assert_eq!(body["data"]["data"], json!({"pw": "x"}));
    let (status, _) = s.request("GET", "secret/data/other/db", Some(&token), None).await;
    assert_eq!(status, 403, "outside the policy");
    let (status, _) = s.request("GET", "auth/userpass/users/alice", Some(&token), None).await;
    assert_eq!(status, 403, "the user cannot read user records");
    let (status, body) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["meta"]["username"], json!("alice"), "{body}");

    // Wrong password and unknown user: the same 400.
    for (user, password) in [("alice", "wrong"), ("nobody", "wrong")] {
        let (status, body) = login(&s, user, password).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(errors(&body), vec!["invalid username or password"]);
    }
    // Changing the password retires the old one.
    let (status, body) = s
        .root_req(
            "POST",
            "auth/userpass/users/alice/password",
            Some(json!({"password": "new one"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(login(&s, "alice", "correct horse").await.0, 400);
    assert_eq!(login(&s, "alice", "new one").await.0, 200);

    let (status, _) = s.root_req("DELETE", "auth/userpass/users/alice", None).await;
    assert_eq!(status, 204);
    assert_eq!(login(&s, "alice", "new one").await.0, 400);
    let (status, _) = s.root_req("GET", "auth/userpass/users/alice", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn lockout_refuses_even_the_right_password() {
    let s = CofferServer::start_dev().await;
    setup(&s).await;
    let (status, body) = s
        .root_req(
            "POST",
            "auth/userpass/config",
            Some(json!({"lockout_threshold": 2, "lockout_duration": "10m"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    s.root_req("POST", "auth/userpass/users/bob", Some(json!({"password": "pw"})))
        .await;
    for _ in 0..2 {
        assert_eq!(login(&s, "bob", "wrong").await.0, 400);
    }
    let (status, body) = login(&s, "bob", "pw").await;
    assert_eq!(status, 403, "locked: {body}");
    assert_eq!(errors(&body), vec!["permission denied"]);
    // Failed attempts are logged with the user and address, never the password.
    let logs = s.logs();
    let failures: Vec<&str> = logs.lines().filter(|l| l.contains("userpass login failed")).collect();
    assert_eq!(failures.len(), 2, "{logs}");
    assert!(
        failures.iter().all(|l| l.contains("bob") && l.contains("127.0.0.1")),
        "{failures:?}"
    );
    assert!(!logs.contains("\"wrong\"") && !logs.contains("password=wrong"));
}

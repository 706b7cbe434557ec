//! The approle auth method over HTTP against the real binary: role, RoleID, SecretID, login
//! without a token, policy enforcement on the issued token, exhausted and destroyed SecretIDs.

use coffer_tests::{CofferServer, errors};
use serde_json::{Value, json};

const APP_READ: &str = r#"path "secret/data/app/*" { capabilities = ["read"] }"#;

async fn ok(s: &CofferServer, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, resp) = s.root_req(method, path, body).await;
    assert!(status == 200 || status == 204, "{method} {path}: {status} {resp}");
    resp
}

async fn login(s: &CofferServer, role_id: &str, secret_id: &str) -> (u16, Value) {
    s.request(
        "POST",
        "auth/approle/login",
        None,
        Some(json!({"role_id": role_id, "secret_id": secret_id})),
    )
    .await
}

#[tokio::test]
async fn approle_full_flow() {
    let s = CofferServer::start_dev().await;
    ok(
        &s,
        "PUT",
        "sys/policies/acl/app-read",
        Some(json!({ "policy": APP_READ })),
    )
    .await;
    ok(&s, "PUT", "secret/data/app/db", Some(json!({"data": {"pw": "x"}}))).await;
    ok(&s, "PUT", "secret/data/other/db", Some(json!({"data": {"pw": "y"}}))).await;
    ok(&s, "POST", "sys/auth/approle", Some(json!({"type": "approle"}))).await;
    ok(
        &s,
        "POST",
        "auth/approle/role/ci",
        Some(json!({"token_policies": "app-read", "secret_id_num_uses": 2, "token_ttl": "20m"})),
    )
    .await;
    let role = ok(&s, "GET", "auth/approle/role/ci", None).await;
    assert_eq!(role["data"]["secret_id_num_uses"], json!(2), "{role}");
    assert_eq!(role["data"]["bind_secret_id"], json!(true), "{role}");
    let keys = ok(&s, "LIST", "auth/approle/role", None).await;
    assert_eq!(keys["data"]["keys"], json!(["ci"]));

    let role_id = ok(&s, "GET", "auth/approle/role/ci/role-id", None).await["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_string();
    let generated = ok(
        &s,
        "POST",
        "auth/approle/role/ci/secret-id",
        Some(json!({"metadata": "{\"env\": \"ci\"}"})),
    )
    .await;
    let data = &generated["data"];
    assert_eq!(data["secret_id_num_uses"], json!(2), "{generated}");
    let secret_id = data["secret_id"].as_str().unwrap().to_string();
    let accessor = data["secret_id_accessor"].as_str().unwrap().to_string();
    let listed = ok(&s, "LIST", "auth/approle/role/ci/secret-id", None).await;
    assert_eq!(listed["data"]["keys"], json!([accessor]));

    // First use: a working token limited to app-read.
    let (status, body) = login(&s, &role_id, &secret_id).await;
    assert_eq!(status, 200, "{body}");
    let auth = &body["auth"];
    assert_eq!(auth["policies"], json!(["app-read", "default"]), "{auth}");
    assert_eq!(auth["metadata"], json!({"env": "ci", "role_name": "ci"}), "{auth}");
    assert_eq!(auth["lease_duration"], json!(1200), "{auth}");
    let token = auth["client_token"].as_str().unwrap().to_string();
    let (status, body) = s.request("GET", "secret/data/app/db", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = s.request("GET", "secret/data/other/db", Some(&token), None).await;
    assert_eq!(status, 403);
    let (status, _) = s
        .request("POST", "auth/approle/role/ci/secret-id", Some(&token), Some(json!({})))
        .await;
    assert_eq!(status, 403, "the role's token cannot mint SecretIDs");

    // Second use works, the third is refused: the SecretID is spent.
    assert_eq!(login(&s, &role_id, &secret_id).await.0, 200);
    let (status, body) = login(&s, &role_id, &secret_id).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(errors(&body), vec!["invalid role or secret ID"]);
    let (status, _) = s.root_req("LIST", "auth/approle/role/ci/secret-id", None).await;
    assert_eq!(status, 404, "no SecretIDs left");

    // Wrong SecretID, missing role_id, destroyed SecretID.
    let (status, body) = login(&s, &role_id, "not-a-secret").await;
    assert_eq!(
        (status, errors(&body)),
        (400, vec!["invalid role or secret ID".to_string()])
    );
    let (status, body) = login(&s, "", "x").await;
    assert_eq!((status, errors(&body)), (400, vec!["missing role_id".to_string()]));
    let fresh = ok(&s, "POST", "auth/approle/role/ci/secret-id", Some(json!({}))).await;
    let fresh = fresh["data"]["secret_id"].as_str().unwrap().to_string();
    ok(
        &s,
        "POST",
        "auth/approle/role/ci/secret-id/destroy",
        Some(json!({ "secret_id": fresh })),
    )
    .await;
    assert_eq!(login(&s, &role_id, &fresh).await.0, 400);

    // Deleting the role ends its logins.
    let again = ok(&s, "POST", "auth/approle/role/ci/secret-id", Some(json!({}))).await;
    let again = again["data"]["secret_id"].as_str().unwrap().to_string();
    ok(&s, "DELETE", "auth/approle/role/ci", None).await;
    assert_eq!(login(&s, &role_id, &again).await.0, 400);
    // Nothing in the server log shows a SecretID.
    let logs = s.logs();
    for secret in [&secret_id, &fresh, &again] {
        assert!(!logs.contains(secret.as_str()), "a SecretID leaked into the log");
    }
}

//! Batch tokens and token roles (`auth/token/roles/<name>`, `auth/token/create/<name>`).

use coffer_tests::{CofferServer, errors};
use serde_json::json;

#[tokio::test]
async fn batch_tokens_work_without_storage_and_refuse_what_they_cannot_do() {
    let s = CofferServer::start_dev().await;
    s.root_req(
        "POST",
        "sys/policies/acl/reader",
        Some(json!({"policy": "path \"secret/data/*\" { capabilities = [\"read\"] }\npath \"auth/token/create\" { capabilities = [\"update\"] }"})),
    )
    .await;
    s.root_req("POST", "secret/data/app", Some(json!({"data": {"k": "v"}})))
        .await;
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/create",
            Some(json!({"type": "batch", "policies": ["reader"], "ttl": "1h", "renewable": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["auth"]["client_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("cfb_"), "{token}");
    assert_eq!(body["auth"]["token_type"], "batch");
    assert_eq!(body["auth"]["renewable"], false);

    let (status, read) = s.request("GET", "secret/data/app", Some(&token), None).await;
    assert_eq!(status, 200, "{read}");
    let (status, _) = s
        .request("POST", "secret/data/app", Some(&token), Some(json!({"data": {}})))
        .await;
    assert_eq!(status, 403, "policy still applies");
    let (status, me) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["type"], "batch");

    let (status, e) = s
        .request("POST", "auth/token/create", Some(&token), Some(json!({})))
        .await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = s
        .request("POST", "auth/token/renew-self", Some(&token), Some(json!({})))
        .await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = s
        .request("POST", "cubbyhole/x", Some(&token), Some(json!({"a": "b"})))
        .await;
    assert_eq!(status, 400, "{e}");

    // A tampered batch token is not a token.
    let mut tampered = token.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&tampered), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn batch_token_dies_with_its_parent() {
    let s = CofferServer::start_dev().await;
    s.root_req(
        "POST",
        "sys/policies/acl/creator",
        Some(json!({"policy": "path \"auth/token/create\" { capabilities = [\"update\"] }"})),
    )
    .await;
    let (_, parent) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["creator"]})))
        .await;
    let parent = parent["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, child) = s
        .request(
            "POST",
            "auth/token/create",
            Some(&parent),
            Some(json!({"type": "batch", "renewable": false})),
        )
        .await;
    assert_eq!(status, 200, "{child}");
    let child = child["auth"]["client_token"].as_str().unwrap().to_string();
    assert_eq!(
        s.request("GET", "auth/token/lookup-self", Some(&child), None).await.0,
        200
    );
    s.root_req("POST", "auth/token/revoke", Some(json!({"token": parent})))
        .await;
    assert_eq!(
        s.request("GET", "auth/token/lookup-self", Some(&child), None).await.0,
        403
    );
}

#[tokio::test]
async fn roles_constrain_tokens() {
    let s = CofferServer::start_dev().await;
    for p in ["app", "ops"] {
        s.root_req(
            "POST",
            &format!("sys/policies/acl/{p}"),
            Some(json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"})),
        )
        .await;
    }
    let (status, body) = s
        .root_req(
            "POST",
            "auth/token/roles/ci",
            Some(json!({"allowed_policies": ["app"], "disallowed_policies": ["ops"], "orphan": true, "token_period": "1h", "renewable": true})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");
    let (status, role) = s.root_req("GET", "auth/token/roles/ci", None).await;
    assert_eq!(status, 200, "{role}");
    assert_eq!(role["data"]["allowed_policies"], json!(["app"]));
    assert_eq!(role["data"]["token_period"], 3600);
    let (status, list) = s.root_req("LIST", "auth/token/roles", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"]["keys"], json!(["ci"]));

    // A non-root parent may create through the role without holding `app` or sudo.
    s.root_req(
        "POST",
        "sys/policies/acl/creator",
        Some(json!({"policy": "path \"auth/token/create/ci\" { capabilities = [\"update\"] }"})),
    )
    .await;
    let (_, creator) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["creator"]})))
        .await;
    let creator = creator["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, made) = s
        .request("POST", "auth/token/create/ci", Some(&creator), Some(json!({})))
        .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["auth"]["policies"], json!(["app", "default"]));
    assert_eq!(made["auth"]["orphan"], true);
    assert_eq!(made["auth"]["lease_duration"], 3600);
    let token = made["auth"]["client_token"].as_str().unwrap();
    let (_, me) = s.request("GET", "auth/token/lookup-self", Some(token), None).await;
    assert_eq!(me["data"]["path"], "auth/token/create/ci");
    assert_eq!(me["data"]["period"], 3600);

    let (status, e) = s
        .request(
            "POST",
            "auth/token/create/ci",
            Some(&creator),
            Some(json!({"policies": ["ops"]})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(errors(&e)[0].contains("disallowed"), "{e}");
    let (status, e) = s.root_req("POST", "auth/token/create/nope", Some(json!({}))).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = s
        .root_req("POST", "auth/token/roles/bad", Some(json!({"token_type": "weird"})))
        .await;
    assert_eq!(status, 400, "{e}");
    s.root_req("DELETE", "auth/token/roles/ci", None).await;
    assert_eq!(s.root_req("GET", "auth/token/roles/ci", None).await.0, 404);
}

#[tokio::test]
async fn auth_methods_can_issue_batch_tokens_and_name_them() {
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "sys/auth/userpass", Some(json!({"type": "userpass"})))
        .await;
    s.root_req("POST", "sys/auth/approle", Some(json!({"type": "approle"})))
        .await;
    s.root_req(
        "POST",
        "auth/userpass/users/ci",
        Some(json!({"password": "pw-ci-12345", "token_type": "batch", "token_policies": ["default"]})),
    )
    .await;
    let (status, login) = s
        .request(
            "POST",
            "auth/userpass/login/ci",
            None,
            Some(json!({"password": "pw-ci-12345"})),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let token = login["auth"]["client_token"].as_str().unwrap();
    assert!(token.starts_with("cfb_"), "{login}");
    let (status, me) = s.request("GET", "auth/token/lookup-self", Some(token), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["type"], "batch");
    assert_eq!(me["data"]["display_name"], "userpass-ci");

    s.root_req(
        "POST",
        "auth/approle/role/builder",
        Some(json!({"token_policies": ["default"]})),
    )
    .await;
    let (_, role_id) = s.root_req("GET", "auth/approle/role/builder/role-id", None).await;
    let (_, secret) = s.root_req("POST", "auth/approle/role/builder/secret-id", None).await;
    let (status, login) = s
        .request(
            "POST",
            "auth/approle/login",
            None,
            Some(json!({"role_id": role_id["data"]["role_id"], "secret_id": secret["data"]["secret_id"]})),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    let (_, me) = s
        .request(
            "GET",
            "auth/token/lookup-self",
            Some(login["auth"]["client_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(me["data"]["display_name"], "approle", "the RoleID is not shown: {me}");
}

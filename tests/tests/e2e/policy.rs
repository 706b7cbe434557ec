//! ACL policies: CRUD through both APIs, parse errors, and enforcement on real tokens.

use coffer_tests::{CofferServer, errors};
use serde_json::{Value, json};

const APP: &str = r#"
path "secret/data/app/*" {
  capabilities = ["read", "list"]
}
path "secret/data/app/blocked" {
  capabilities = ["deny"]
}
path "secret/data/+/shared" {
  capabilities = ["read", "create", "update"]
}
path "auth/token/create" {
  capabilities = ["update"]
}
"#;

const DENY_APP: &str = r#"
path "secret/data/app/*" {
  capabilities = ["deny"]
}
"#;

async fn token_with(s: &CofferServer, policies: &[&str]) -> String {
    let (status, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": policies})))
        .await;
    assert_eq!(status, 200, "{body}");
    body["auth"]["client_token"].as_str().unwrap().to_string()
}

fn key_list(body: &Value, field: &str) -> Vec<String> {
    body["data"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no data.{field} in {body}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn policies_acl_api_crud() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("PUT", "sys/policies/acl/app", Some(json!({"policy": APP})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "sys/policies/acl/app", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["name"], json!("app"));
    assert_eq!(body["data"]["policy"], json!(APP), "policy text round-trips exactly");

    let (status, body) = s.root_req("LIST", "sys/policies/acl", None).await;
    assert_eq!(status, 200, "{body}");
    let names = key_list(&body, "keys");
    for n in ["app", "default", "root"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    let (_, via_get) = s.root_req("GET", "sys/policies/acl?list=true", None).await;
    assert_eq!(key_list(&via_get, "keys"), names);

    let (status, _) = s.root_req("DELETE", "sys/policies/acl/app", None).await;
    assert_eq!(status, 204);
    let (status, _) = s.root_req("GET", "sys/policies/acl/app", None).await;
    assert_eq!(status, 404);
    let (_, body) = s.root_req("LIST", "sys/policies/acl", None).await;
    assert!(!key_list(&body, "keys").contains(&"app".to_string()));

    for builtin in ["default", "root"] {
        let (status, body) = s.root_req("DELETE", &format!("sys/policies/acl/{builtin}"), None).await;
        assert_eq!(status, 400, "cannot delete {builtin}: {body}");
    }
    let (status, _) = s
        .root_req("PUT", "sys/policies/acl/root", Some(json!({"policy": APP})))
        .await;
    assert_eq!(status, 400, "cannot overwrite root");
    let (status, _) = s.root_req("PUT", "sys/policies/acl/empty", Some(json!({}))).await;
    assert_eq!(status, 400, "missing policy text");
}

#[tokio::test]
async fn legacy_sys_policy_api_crud() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("PUT", "sys/policy/legacy", Some(json!({"policy": DENY_APP})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "sys/policy/legacy", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["name"], json!("legacy"));
    assert_eq!(body["data"]["rules"], json!(DENY_APP));
    assert_eq!(
        body["rules"],
        json!(DENY_APP),
        "sys/policy answers at top level too: {body}"
    );

    let (status, body) = s.root_req("GET", "sys/policy", None).await;
    assert_eq!(status, 200, "{body}");
    let names = key_list(&body, "policies");
    assert!(
        names.contains(&"legacy".into()) && names.contains(&"default".into()),
        "{body}"
    );
    assert!(body["policies"].is_array(), "top-level policies list: {body}");

    // written through one API, visible through the other
    let (_, body) = s.root_req("GET", "sys/policies/acl/legacy", None).await;
    assert_eq!(body["data"]["policy"], json!(DENY_APP));

    let (status, _) = s.root_req("DELETE", "sys/policy/legacy", None).await;
    assert_eq!(status, 204);
    let (status, _) = s.root_req("GET", "sys/policy/legacy", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn parse_errors_name_the_line_and_store_nothing() {
    let s = CofferServer::start_dev().await;
    let bad_capability =
        "path \"secret/a\" {\n  capabilities = [\"read\"]\n}\npath \"secret/b\" {\n  capabilities = [\"reed\"]\n}\n";
    let (status, body) = s
        .root_req("PUT", "sys/policies/acl/bad", Some(json!({"policy": bad_capability})))
        .await;
    assert_eq!(status, 400, "{body}");
    let msg = errors(&body).join(" ");
    assert!(
        msg.contains("line 4") || msg.contains("line 5"),
        "error names the line: {msg}"
    );

    let bad_syntax = "path \"secret/a\" {\n  capabilities = [\"read\"]\n\npath \"x\" {\n";
    let (status, body) = s
        .root_req("PUT", "sys/policy/bad", Some(json!({"policy": bad_syntax})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(errors(&body).join(" ").contains("line"), "{body}");

    let (status, _) = s.root_req("GET", "sys/policies/acl/bad", None).await;
    assert_eq!(status, 404, "a policy that does not parse is not stored");
}

#[tokio::test]
async fn restricted_token_is_confined_by_its_policy() {
    let s = CofferServer::start_dev().await;
    s.root_req("PUT", "sys/policies/acl/app", Some(json!({"policy": APP})))
        .await;
    s.root_req("PUT", "sys/policies/acl/deny-app", Some(json!({"policy": DENY_APP})))
        .await;
    for p in [
        "app/one",
        "app/blocked",
        "other",
        "team/shared",
        "team/x/shared",
        "team/other",
    ] {
        let (status, _) = s
            .root_req("POST", &format!("secret/data/{p}"), Some(json!({"data": {"p": p}})))
            .await;
        assert_eq!(status, 200);
    }
    let t = token_with(&s, &["app"]).await;

    let (status, body) = s.request("GET", "secret/data/app/one", Some(&t), None).await;
    assert_eq!(
        (status, body["data"]["data"]["p"].clone()),
        (200, json!("app/one")),
        "glob allows: {body}"
    );
    let (status, body) = s.request("GET", "secret/data/other", Some(&t), None).await;
    assert_eq!(status, 403, "outside the policy: {body}");
    assert_eq!(errors(&body), vec!["permission denied".to_string()], "{body}");
    let (status, _) = s.request("GET", "secret/data/app/blocked", Some(&t), None).await;
    assert_eq!(status, 403, "explicit deny beats the glob");
    let (status, _) = s
        .request(
            "POST",
            "secret/data/app/one",
            Some(&t),
            Some(json!({"data": {"x": "y"}})),
        )
        .await;
    assert_eq!(status, 403, "read-only");
    let (status, _) = s.request("DELETE", "secret/data/app/one", Some(&t), None).await;
    assert_eq!(status, 403);

    // `+` matches exactly one segment
    let (status, _) = s.request("GET", "secret/data/team/shared", Some(&t), None).await;
    assert_eq!(status, 200, "+ matches one segment");
    let (status, _) = s
        .request(
            "POST",
            "secret/data/newteam/shared",
            Some(&t),
            Some(json!({"data": {"a": "1"}})),
        )
        .await;
    assert_eq!(status, 200, "+ rule grants create");
    let (status, _) = s.request("GET", "secret/data/team/x/shared", Some(&t), None).await;
    assert_eq!(status, 403, "+ does not match two segments");
    let (status, _) = s.request("GET", "secret/data/team/other", Some(&t), None).await;
    assert_eq!(status, 403);

    // sys paths the policy does not grant
    let (status, _) = s.request("GET", "sys/mounts", Some(&t), None).await;
    assert_eq!(status, 403);
    let (status, _) = s
        .request("PUT", "sys/policies/acl/app", Some(&t), Some(json!({"policy": APP})))
        .await;
    assert_eq!(status, 403, "a token cannot rewrite its own policy");

    // deny in one policy wins over read in another on the same pattern
    let both = token_with(&s, &["app", "deny-app"]).await;
    let (status, _) = s.request("GET", "secret/data/app/one", Some(&both), None).await;
    assert_eq!(status, 403, "deny wins when policies are merged");

    // policy changes apply to existing tokens
    s.root_req("PUT", "sys/policies/acl/app", Some(json!({"policy": DENY_APP})))
        .await;
    let (status, _) = s.request("GET", "secret/data/app/one", Some(&t), None).await;
    assert_eq!(status, 403, "updated policy takes effect at once");
    s.root_req("DELETE", "sys/policies/acl/app", None).await;
    let (status, _) = s.request("GET", "secret/data/team/shared", Some(&t), None).await;
    assert_eq!(status, 403, "deleted policy grants nothing");
}

#[tokio::test]
async fn capabilities_self_reports_the_acl() {
    let s = CofferServer::start_dev().await;
    s.root_req("PUT", "sys/policies/acl/app", Some(json!({"policy": APP})))
        .await;
    let t = token_with(&s, &["app"]).await;
    let (status, body) = s
        .request(
            "POST",
            "sys/capabilities-self",
            Some(&t),
            Some(json!({"paths": ["secret/data/app/x", "secret/data/other", "secret/data/app/blocked", "secret/data/t/shared"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let caps = |p: &str| -> Vec<String> {
        let mut v: Vec<String> = body["data"][p]
            .as_array()
            .unwrap_or_else(|| panic!("{p} in {body}"))
            .iter()
            .map(|c| c.as_str().unwrap().into())
            .collect();
        v.sort();
        v
    };
    assert_eq!(caps("secret/data/app/x"), vec!["list", "read"]);
    assert_eq!(caps("secret/data/other"), vec!["deny"]);
    assert_eq!(caps("secret/data/app/blocked"), vec!["deny"]);
    assert_eq!(caps("secret/data/t/shared"), vec!["create", "read", "update"]);

    let (status, body) = s
        .root_req("POST", "sys/capabilities-self", Some(json!({"path": "secret/data/x"})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["capabilities"], json!(["root"]), "{body}");
}

#[tokio::test]
async fn child_tokens_cannot_gain_policies() {
    let s = CofferServer::start_dev().await;
    s.root_req("PUT", "sys/policies/acl/app", Some(json!({"policy": APP})))
        .await;
    s.root_req(
        "PUT",
        "sys/policies/acl/admin",
        Some(json!({"policy": "path \"*\" { capabilities = [\"sudo\", \"read\"] }"})),
    )
    .await;
    let t = token_with(&s, &["app"]).await;
    let (status, body) = s
        .request(
            "POST",
            "auth/token/create",
            Some(&t),
            Some(json!({"policies": ["admin"]})),
        )
        .await;
    assert_eq!(status, 400, "a policy the parent lacks: {body}");
    let (status, body) = s
        .request(
            "POST",
            "auth/token/create",
            Some(&t),
            Some(json!({"policies": ["root"]})),
        )
        .await;
    assert_eq!(status, 400, "root from a non-root token: {body}");
    let (status, body) = s
        .request(
            "POST",
            "auth/token/create",
            Some(&t),
            Some(json!({"policies": ["app"]})),
        )
        .await;
    assert_eq!(status, 200, "a subset is fine: {body}");
    let (status, body) = s.request("POST", "auth/token/create", Some(&t), Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["auth"]["policies"],
        json!(["app", "default"]),
        "inherits the parent's policies: {body}"
    );
}

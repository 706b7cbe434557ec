//! The real `coffer` CLI against a running dev server (`COFFER_ADDR`, `COFFER_TOKEN`).

use coffer_tests::CofferServer;
use serde_json::json;

#[tokio::test]
async fn status_kv_put_get() {
    let s = CofferServer::start_dev().await;
    let root = s.root();

    let out = s.cli(&["status"], None);
    assert_eq!(out.code, Some(0), "status of an unsealed server: {out:#?}");
    assert!(out.stdout.to_lowercase().contains("sealed"), "{out:#?}");
    let out = s.cli(&["status", "-format=json"], None);
    let st = out.json();
    assert_eq!(st["sealed"], json!(false), "{st}");
    assert_eq!(st["initialized"], json!(true), "{st}");

    s.cli(&["kv", "put", "secret/app", "a=1", "b=two"], Some(&root)).ok();
    let got = s.cli(&["kv", "get", "-format=json", "secret/app"], Some(&root)).json();
    assert_eq!(got["data"]["data"]["a"], json!("1"), "{got}");
    assert_eq!(got["data"]["data"]["b"], json!("two"), "{got}");
    let field = s.cli(&["kv", "get", "-field=a", "secret/app"], Some(&root));
    assert_eq!(field.ok().trim(), "1");

    // the server really holds it
    let (status, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!((status, body["data"]["data"]["a"].clone()), (200, json!("1")));

    // a missing secret is an error exit, not an empty success
    let out = s.cli(&["kv", "get", "secret/missing"], Some(&root));
    assert_ne!(out.code, Some(0), "{out:#?}");
}

#[tokio::test]
async fn token_create_and_policies() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let created = s
        .cli(&["token", "create", "-policy=default", "-format=json"], Some(&root))
        .json();
    let token = created["auth"]["client_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_string();
    assert!(token.starts_with("cfs_"), "{created}");
    assert_eq!(created["auth"]["policies"], json!(["default"]), "{created}");
    let (status, _) = s.request("GET", "auth/token/lookup-self", Some(&token), None).await;
    assert_eq!(status, 200);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.hcl");
    let rules = "path \"secret/data/app\" {\n  capabilities = [\"read\"]\n}\n";
    std::fs::write(&file, rules).unwrap();
    s.cli(&["policy", "write", "app", file.to_str().unwrap()], Some(&root))
        .ok();
    let read = s.cli(&["policy", "read", "app"], Some(&root));
    assert!(read.ok().contains("secret/data/app"), "{read:#?}");
    let list = s.cli(&["policy", "list"], Some(&root));
    let names: Vec<&str> = list.ok().lines().map(str::trim).collect();
    assert!(names.contains(&"app") && names.contains(&"default"), "{list:#?}");
    let (status, body) = s.root_req("GET", "sys/policies/acl/app", None).await;
    assert_eq!((status, body["data"]["policy"].clone()), (200, json!(rules)));
}

#[tokio::test]
async fn secrets_enable_and_list() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    s.cli(&["secrets", "enable", "-path=kv1", "kv"], Some(&root)).ok();
    let list = s.cli(&["secrets", "list"], Some(&root));
    assert!(list.ok().contains("kv1/"), "{list:#?}");
    let (_, body) = s.root_req("GET", "sys/mounts", None).await;
    assert_eq!(body["data"]["kv1/"]["type"], json!("kv"), "{body}");
    let list = s.cli(&["secrets", "list", "-format=json"], Some(&root)).json();
    assert_eq!(list["kv1/"]["type"], json!("kv"), "{list}");
}

#[tokio::test]
async fn exit_codes() {
    let s = CofferServer::start_dev().await;
    let out = s.cli(&["kv", "put"], Some(&s.root()));
    assert_eq!(out.code, Some(2), "usage error: {out:#?}");
    let out = s.cli(&["no-such-command"], Some(&s.root()));
    assert_eq!(out.code, Some(2), "unknown command: {out:#?}");

    let (_, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
        .await;
    let user = body["auth"]["client_token"].as_str().unwrap().to_string();
    let out = s.cli(&["kv", "put", "secret/app", "a=1"], Some(&user));
    assert_eq!(out.code, Some(1), "403 from the server: {out:#?}");
    assert!(
        out.stderr.contains("permission denied") || out.stderr.contains("403"),
        "{out:#?}"
    );
    let out = s.cli(&["kv", "get", "secret/app"], Some("cfs_bogus"));
    assert_eq!(out.code, Some(1), "{out:#?}");
    let (status, _) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(status, 404, "the refused put wrote nothing");
}

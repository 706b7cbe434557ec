//! Secret engine mounts: enable, list, read, tune, disable, persistence and refusals.

use coffer_tests::{CofferServer, StorageKind, errors};
use serde_json::json;

#[tokio::test]
async fn enable_list_tune_disable() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req(
            "POST",
            "sys/mounts/kv1",
            Some(json!({"type": "kv", "description": "team kv", "config": {"default_lease_ttl": "1h", "max_lease_ttl": "2h"}})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let (status, body) = s.root_req("GET", "sys/mounts", None).await;
    assert_eq!(status, 200, "{body}");
    for m in ["kv1/", "secret/", "sys/", "cubbyhole/"] {
        assert!(body["data"][m].is_object(), "{m} listed in data: {body}");
        assert!(body[m].is_object(), "{m} listed at top level (as Vault does): {body}");
    }
    let kv1 = &body["data"]["kv1/"];
    assert_eq!(kv1["type"], json!("kv"));
    assert_eq!(kv1["description"], json!("team kv"));
    assert_eq!(kv1["config"]["default_lease_ttl"], json!(3600), "{kv1}");
    assert_eq!(kv1["config"]["max_lease_ttl"], json!(7200), "{kv1}");
    assert!(kv1["accessor"].as_str().is_some_and(|a| a.starts_with("kv_")), "{kv1}");
    assert!(kv1["uuid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(body["data"]["secret/"]["options"]["version"], json!("2"), "{body}");
    assert!(
        body["data"].get("auth/token/").is_none(),
        "auth mounts are not secret mounts"
    );

    let (status, body) = s.root_req("GET", "sys/mounts/kv1", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["type"], json!("kv"));

    let (status, body) = s.root_req("GET", "sys/mounts/kv1/tune", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["data"]["default_lease_ttl"].clone(),
            body["data"]["max_lease_ttl"].clone()
        ),
        (json!(3600), json!(7200))
    );
    let (status, body) = s
        .root_req(
            "POST",
            "sys/mounts/kv1/tune",
            Some(json!({"max_lease_ttl": "3h", "description": "retuned"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = s.root_req("GET", "sys/mounts/kv1/tune", None).await;
    assert_eq!(body["data"]["max_lease_ttl"], json!(10800), "{body}");
    assert_eq!(body["data"]["default_lease_ttl"], json!(3600), "untouched: {body}");
    assert_eq!(body["data"]["description"], json!("retuned"));
    let (status, body) = s
        .root_req("POST", "sys/mounts/kv1/tune", Some(json!({"default_lease_ttl": "5h"})))
        .await;
    assert_eq!(status, 400, "default above max: {body}");

    // the mount works, then goes away
    let (status, _) = s.root_req("PUT", "kv1/x", Some(json!({"a": "b"}))).await;
    assert_eq!(status, 204);
    let (status, _) = s.root_req("DELETE", "sys/mounts/kv1", None).await;
    assert_eq!(status, 204);
    let (_, body) = s.root_req("GET", "sys/mounts", None).await;
    assert!(body["data"].get("kv1/").is_none(), "{body}");
    let (status, _) = s.root_req("GET", "kv1/x", None).await;
    assert_eq!(status, 404);
    let (status, _) = s.root_req("GET", "sys/mounts/kv1/tune", None).await;
    assert_eq!(status, 400, "Vault: cannot fetch sysview for a missing mount");
}

#[tokio::test]
async fn kv_v2_type_alias_and_unknown_types() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("POST", "sys/mounts/k2", Some(json!({"type": "kv-v2"})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, body) = s.root_req("GET", "sys/mounts", None).await;
    assert_eq!(body["data"]["k2/"]["type"], json!("kv"), "{body}");
    assert_eq!(body["data"]["k2/"]["options"]["version"], json!("2"), "{body}");
    let (status, body) = s.root_req("POST", "k2/data/x", Some(json!({"data": {"a": "1"}}))).await;
    assert_eq!((status, body["data"]["version"].clone()), (200, json!(1)), "{body}");

    let (status, body) = s
        .root_req("POST", "sys/mounts/nope", Some(json!({"type": "no-such-engine"})))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = s.root_req("POST", "sys/mounts/notype", Some(json!({}))).await;
    assert_eq!(status, 400);
    let (status, _) = s
        .root_req(
            "POST",
            "sys/mounts/badver",
            Some(json!({"type": "kv", "options": {"version": "7"}})),
        )
        .await;
    assert_eq!(status, 400);
    let (_, body) = s.root_req("GET", "sys/mounts", None).await;
    for m in ["nope/", "notype/", "badver/"] {
        assert!(body["data"].get(m).is_none(), "refused mount {m} not in the table");
    }
}

#[tokio::test]
async fn overlapping_and_reserved_mounts_are_refused() {
    let s = CofferServer::start_dev().await;
    for path in [
        "secret",
        "secret/inner",
        "sys",
        "sys/x",
        "auth/foo",
        "cubbyhole",
        "identity",
    ] {
        let (status, body) = s
            .root_req("POST", &format!("sys/mounts/{path}"), Some(json!({"type": "kv"})))
            .await;
        assert_eq!(status, 400, "mount at {path}: {body}");
        assert!(!errors(&body).is_empty());
    }
    let (status, _) = s.root_req("POST", "sys/mounts/a/b", Some(json!({"type": "kv"}))).await;
    assert_eq!(status, 204);
    let (status, _) = s.root_req("POST", "sys/mounts/a", Some(json!({"type": "kv"}))).await;
    assert_eq!(status, 400, "a parent of an existing mount");
    for path in ["sys", "cubbyhole"] {
        let (status, body) = s.root_req("DELETE", &format!("sys/mounts/{path}"), None).await;
        assert_eq!(status, 400, "unmount {path}: {body}");
    }
    let (status, body) = s
        .root_req("POST", "sys/mounts/bad*path", Some(json!({"type": "kv"})))
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn disabling_deletes_the_data() {
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "sys/mounts/kv1", Some(json!({"type": "kv"}))).await;
    s.root_req("PUT", "kv1/one", Some(json!({"a": "1"}))).await;
    s.root_req("PUT", "kv1/dir/two", Some(json!({"a": "2"}))).await;
    let (status, _) = s.root_req("DELETE", "sys/mounts/kv1", None).await;
    assert_eq!(status, 204);
    let (status, _) = s.root_req("POST", "sys/mounts/kv1", Some(json!({"type": "kv"}))).await;
    assert_eq!(status, 204);
    let (status, body) = s.root_req("GET", "kv1/one", None).await;
    assert_eq!(status, 404, "old data must not reappear: {body}");
    let (status, body) = s.root_req("LIST", "kv1/", None).await;
    assert_eq!(status, 404, "re-enabled mount is empty: {body}");
}

#[tokio::test]
async fn mount_table_persists_across_restart() {
    let mut s = CofferServer::start_unsealed(StorageKind::Sqlite).await;
    s.root_req(
        "POST",
        "sys/mounts/kv1",
        Some(json!({"type": "kv", "description": "persisted"})),
    )
    .await;
    s.root_req(
        "POST",
        "sys/mounts/kv2",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    )
    .await;
    s.root_req("POST", "sys/mounts/kv1/tune", Some(json!({"max_lease_ttl": "5h"})))
        .await;
    s.root_req("PUT", "kv1/x", Some(json!({"a": "1"}))).await;
    s.root_req("POST", "kv2/data/y", Some(json!({"data": {"b": "2"}})))
        .await;
    s.root_req("POST", "sys/mounts/gone", Some(json!({"type": "kv"}))).await;
    s.root_req("DELETE", "sys/mounts/gone", None).await;

    s.restart().await;
    s.unseal_again().await;
    let (status, body) = s.root_req("GET", "sys/mounts", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["kv1/"]["description"], json!("persisted"), "{body}");
    assert_eq!(body["data"]["kv1/"]["config"]["max_lease_ttl"], json!(18000), "{body}");
    assert_eq!(body["data"]["kv2/"]["options"]["version"], json!("2"), "{body}");
    assert!(body["data"].get("gone/").is_none(), "{body}");
    let (status, body) = s.root_req("GET", "kv1/x", None).await;
    assert_eq!((status, body["data"]["a"].clone()), (200, json!("1")), "{body}");
    let (status, body) = s.root_req("GET", "kv2/data/y", None).await;
    assert_eq!((status, body["data"]["data"]["b"].clone()), (200, json!("2")), "{body}");
}

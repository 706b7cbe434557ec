//! KV version 2 (the dev server's `secret/`) and KV version 1 over HTTP, as Vault defines them.

use coffer_tests::{CofferServer, errors, split};
use serde_json::{Value, json};

fn keys(body: &Value) -> Vec<String> {
    let mut k: Vec<String> = body["data"]["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no data.keys in {body}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

async fn patch(s: &CofferServer, path: &str, body: Value) -> (u16, Value) {
    let resp = s
        .client()
        .patch(s.url(path))
        .header("X-Vault-Token", s.root())
        .header("Content-Type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    split(resp).await
}

#[tokio::test]
async fn kv2_write_read_versions_and_cas() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("POST", "secret/data/app", Some(json!({"data": {"a": "1", "b": "x"}})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["version"], json!(1), "{body}");
    assert_eq!(body["data"]["destroyed"], json!(false));
    assert_eq!(body["data"]["deletion_time"], json!(""));
    assert!(
        body["data"]["created_time"].as_str().is_some_and(|t| t.contains('T')),
        "{body}"
    );

    let (status, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["data"], json!({"a": "1", "b": "x"}));
    assert_eq!(body["data"]["metadata"]["version"], json!(1));
    for field in [
        "request_id",
        "lease_id",
        "renewable",
        "lease_duration",
        "wrap_info",
        "warnings",
        "auth",
    ] {
        assert!(body.get(field).is_some(), "envelope field {field} missing: {body}");
    }

    let (status, body) = s
        .root_req("PUT", "secret/data/app", Some(json!({"data": {"a": "2"}})))
        .await;
    assert_eq!(
        (status, body["data"]["version"].clone()),
        (200, json!(2)),
        "PUT works like POST: {body}"
    );

    // version 1 still readable
    let (status, body) = s.root_req("GET", "secret/data/app?version=1", None).await;
    assert_eq!((status, body["data"]["data"]["a"].clone()), (200, json!("1")), "{body}");
    assert_eq!(body["data"]["metadata"]["version"], json!(1));
    let (status, body) = s.root_req("GET", "secret/data/app?version=2", None).await;
    assert_eq!(
        (status, body["data"]["data"].clone()),
        (200, json!({"a": "2"})),
        "{body}"
    );

    // check-and-set
    let (status, body) = s
        .root_req(
            "POST",
            "secret/data/app",
            Some(json!({"options": {"cas": 1}, "data": {"a": "3"}})),
        )
        .await;
    assert_eq!(status, 400, "stale cas: {body}");
    assert!(errors(&body).iter().any(|e| e.contains("check-and-set")), "{body}");
    let (status, body) = s
        .root_req(
            "POST",
            "secret/data/app",
            Some(json!({"options": {"cas": 2}, "data": {"a": "3"}})),
        )
        .await;
    assert_eq!((status, body["data"]["version"].clone()), (200, json!(3)), "{body}");
    let (status, _) = s
        .root_req(
            "POST",
            "secret/data/fresh",
            Some(json!({"options": {"cas": 0}, "data": {"a": "1"}})),
        )
        .await;
    assert_eq!(status, 200, "cas=0 creates a new secret");
    let (status, _) = s
        .root_req(
            "POST",
            "secret/data/fresh",
            Some(json!({"options": {"cas": 0}, "data": {"a": "2"}})),
        )
        .await;
    assert_eq!(status, 400, "cas=0 refuses an existing secret");

    // cas_required on the metadata
    let (status, body) = s
        .root_req("POST", "secret/metadata/app", Some(json!({"cas_required": true})))
        .await;
    assert!(status == 204 || status == 200, "{body}");
    let (status, body) = s
        .root_req("POST", "secret/data/app", Some(json!({"data": {"a": "4"}})))
        .await;
    assert_eq!(status, 400, "cas required: {body}");
    let (_, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(body["data"]["data"]["a"], json!("3"), "refused writes change nothing");
}

#[tokio::test]
async fn kv2_patch_with_merge_patch() {
    let s = CofferServer::start_dev().await;
    let (status, body) = patch(&s, "secret/data/none", json!({"data": {"a": "1"}})).await;
    assert_eq!(status, 404, "patching a missing secret: {body}");

    s.root_req(
        "POST",
        "secret/data/app",
        Some(json!({"data": {"a": "1", "b": "2", "n": {"x": "1", "y": "2"}}})),
    )
    .await;
    let (status, body) = patch(
        &s,
        "secret/data/app",
        json!({"data": {"b": null, "c": "3", "n": {"y": null}}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["version"], json!(2), "{body}");
    let (_, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(
        body["data"]["data"],
        json!({"a": "1", "c": "3", "n": {"x": "1"}}),
        "{body}"
    );

    let (status, body) = patch(
        &s,
        "secret/data/app",
        json!({"options": {"cas": 1}, "data": {"a": "9"}}),
    )
    .await;
    assert_eq!(status, 400, "patch with stale cas: {body}");
    let (status, _) = patch(
        &s,
        "secret/data/app",
        json!({"options": {"cas": 2}, "data": {"a": "9"}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(body["data"]["data"]["a"], json!("9"));
}

#[tokio::test]
async fn kv2_patch_requires_merge_patch_content_type() {
    // Vault answers 415 to a PATCH whose Content-Type is not application/merge-patch+json.
    let s = CofferServer::start_dev().await;
    s.root_req("POST", "secret/data/app", Some(json!({"data": {"a": "1"}})))
        .await;
    let resp = s
        .client()
        .patch(s.url("secret/data/app"))
        .header("X-Vault-Token", s.root())
        .header("Content-Type", "application/json")
        .body(json!({"data": {"a": "2"}}).to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = split(resp).await;
    assert_eq!(status, 415, "{body}");
    let (_, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(body["data"]["data"]["a"], json!("1"));
}

#[tokio::test]
async fn kv2_delete_undelete_destroy() {
    let s = CofferServer::start_dev().await;
    for v in ["1", "2", "3"] {
        let (status, _) = s
            .root_req("POST", "secret/data/app", Some(json!({"data": {"v": v}})))
            .await;
        assert_eq!(status, 200);
    }
    // soft-delete the latest
    let (status, body) = s.root_req("DELETE", "secret/data/app", None).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(status, 404, "deleted latest version: {body}");
    assert_eq!(
        body["data"]["data"],
        Value::Null,
        "deleted version carries no data: {body}"
    );
    assert!(
        body["data"]["metadata"]["deletion_time"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body["data"]["metadata"]["version"], json!(3));

    // undelete
    let (status, body) = s
        .root_req("POST", "secret/undelete/app", Some(json!({"versions": [3]})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!((status, body["data"]["data"]["v"].clone()), (200, json!("3")), "{body}");

    // delete specific versions
    let (status, _) = s
        .root_req("POST", "secret/delete/app", Some(json!({"versions": [1, 2]})))
        .await;
    assert_eq!(status, 204);
    let (status, _) = s.root_req("GET", "secret/data/app?version=2", None).await;
    assert_eq!(status, 404);
    let (status, _) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(status, 200, "version 3 untouched");

    // destroy is permanent: undelete cannot bring it back
    let (status, body) = s
        .root_req("PUT", "secret/destroy/app", Some(json!({"versions": [1]})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "secret/data/app?version=1", None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["data"]["metadata"]["destroyed"], json!(true), "{body}");
    s.root_req("POST", "secret/undelete/app", Some(json!({"versions": [1, 2]})))
        .await;
    let (status, _) = s.root_req("GET", "secret/data/app?version=1", None).await;
    assert_eq!(status, 404, "destroyed version stays gone");
    let (status, body) = s.root_req("GET", "secret/data/app?version=2", None).await;
    assert_eq!(
        (status, body["data"]["data"]["v"].clone()),
        (200, json!("2")),
        "undeleted: {body}"
    );

    let (status, body) = s.root_req("GET", "secret/metadata/app", None).await;
    assert_eq!(status, 200, "{body}");
    let m = &body["data"];
    assert_eq!(m["current_version"], json!(3), "{body}");
    assert_eq!(m["versions"]["1"]["destroyed"], json!(true), "{body}");
    assert_eq!(m["versions"]["2"]["destroyed"], json!(false), "{body}");
    assert_eq!(m["versions"]["2"]["deletion_time"], json!(""), "{body}");
}

#[tokio::test]
async fn kv2_metadata_list_and_delete_all() {
    let s = CofferServer::start_dev().await;
    for path in ["app", "dir/one", "dir/two", "dir/sub/three"] {
        let (status, _) = s
            .root_req(
                "POST",
                &format!("secret/data/{path}"),
                Some(json!({"data": {"p": path}})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, list) = s.root_req("LIST", "secret/metadata/", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(keys(&list), vec!["app", "dir/"]);
    let (status, via_get) = s.root_req("GET", "secret/metadata/?list=true", None).await;
    assert_eq!(status, 200, "{via_get}");
    assert_eq!(keys(&via_get), keys(&list), "?list=true equals LIST");
    let (_, list) = s.root_req("LIST", "secret/metadata/dir", None).await;
    assert_eq!(keys(&list), vec!["one", "sub/", "two"]);
    let (status, body) = s.root_req("LIST", "secret/metadata/nothing/", None).await;
    assert_eq!(status, 404, "empty list: {body}");

    // metadata write: max_versions and custom_metadata
    let (status, body) = s
        .root_req(
            "POST",
            "secret/metadata/app",
            Some(json!({"max_versions": 2, "custom_metadata": {"owner": "ops"}})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");
    for v in ["2", "3", "4"] {
        s.root_req("POST", "secret/data/app", Some(json!({"data": {"v": v}})))
            .await;
    }
    let (status, body) = s.root_req("GET", "secret/metadata/app", None).await;
    assert_eq!(status, 200);
    let m = &body["data"];
    assert_eq!(m["max_versions"], json!(2), "{body}");
    assert_eq!(m["current_version"], json!(4), "{body}");
    assert_eq!(m["oldest_version"], json!(3), "{body}");
    assert_eq!(m["custom_metadata"], json!({"owner": "ops"}), "{body}");
    assert_eq!(
        m["versions"].as_object().map(|o| o.len()),
        Some(2),
        "only max_versions kept: {body}"
    );
    for f in ["created_time", "updated_time", "cas_required", "delete_version_after"] {
        assert!(m.get(f).is_some(), "metadata field {f}: {body}");
    }
    let (status, _) = s.root_req("GET", "secret/data/app?version=1", None).await;
    assert_eq!(status, 404, "pruned version");
    let (_, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(
        body["data"]["metadata"]["custom_metadata"],
        json!({"owner": "ops"}),
        "{body}"
    );

    // delete metadata and all versions
    let (status, _) = s.root_req("DELETE", "secret/metadata/app", None).await;
    assert_eq!(status, 204);
    let (status, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = s.root_req("GET", "secret/metadata/app", None).await;
    assert_eq!(status, 404, "{body}");
    let (_, list) = s.root_req("LIST", "secret/metadata/", None).await;
    assert_eq!(keys(&list), vec!["dir/"]);
}

#[tokio::test]
async fn kv2_subkeys_and_config() {
    let s = CofferServer::start_dev().await;
    s.root_req(
        "POST",
        "secret/data/app",
        Some(json!({"data": {"a": "1", "n": {"x": "1", "deep": {"y": "2"}}}})),
    )
    .await;
    let (status, body) = s.root_req("GET", "secret/subkeys/app", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["subkeys"],
        json!({"a": null, "n": {"x": null, "deep": {"y": null}}}),
        "{body}"
    );
    assert_eq!(body["data"]["metadata"]["version"], json!(1), "{body}");
    let (_, body) = s.root_req("GET", "secret/subkeys/app?depth=1", None).await;
    assert_eq!(body["data"]["subkeys"], json!({"a": null, "n": null}), "{body}");
    let (status, _) = s.root_req("GET", "secret/subkeys/missing", None).await;
    assert_eq!(status, 404);

    let (status, body) = s.root_req("GET", "secret/config", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["cas_required"], json!(false), "{body}");
    let (status, body) = s
        .root_req(
            "POST",
            "secret/config",
            Some(json!({"max_versions": 3, "cas_required": true, "delete_version_after": "1h"})),
        )
        .await;
    assert!(status == 204 || status == 200, "{body}");
    let (_, body) = s.root_req("GET", "secret/config", None).await;
    assert_eq!(body["data"]["max_versions"], json!(3), "{body}");
    assert_eq!(body["data"]["cas_required"], json!(true), "{body}");
    assert_eq!(body["data"]["delete_version_after"], json!("1h0m0s"), "{body}");
    let (status, _) = s
        .root_req("POST", "secret/data/other", Some(json!({"data": {"a": "1"}})))
        .await;
    assert_eq!(status, 400, "mount-wide cas_required applies");
    let (status, _) = s
        .root_req(
            "POST",
            "secret/data/other",
            Some(json!({"options": {"cas": 0}, "data": {"a": "1"}})),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn kv2_not_found_shapes() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s.root_req("GET", "secret/data/missing", None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        errors(&body),
        Vec::<String>::new(),
        "Vault answers {{\"errors\":[]}}: {body}"
    );
    let (status, body) = s.root_req("GET", "secret/metadata/missing", None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = s.root_req("GET", "secret/data/missing?version=7", None).await;
    assert_eq!(status, 404, "{body}");
    s.root_req("POST", "secret/data/app", Some(json!({"data": {"a": "1"}})))
        .await;
    let (status, _) = s.root_req("GET", "secret/data/app?version=9", None).await;
    assert_eq!(status, 404, "a version that never existed");
    let (status, body) = s.root_req("GET", "nomount/data/x", None).await;
    assert_eq!(status, 404, "no such mount: {body}");
    assert!(!errors(&body).is_empty());
    let (status, body) = s
        .root_req("POST", "secret/data/bad", Some(json!({"data": "not an object"})))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = s.root_req("POST", "secret/data/bad", Some(json!({"nodata": {}}))).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn kv1_at_a_custom_mount() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req(
            "POST",
            "sys/mounts/team/kv",
            Some(json!({"type": "kv", "description": "v1"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s
        .root_req("PUT", "team/kv/db/password", Some(json!({"value": "s3cr3t", "n": 5})))
        .await;
    assert_eq!(status, 204, "kv v1 write: {body}");
    s.root_req("POST", "team/kv/db/user", Some(json!({"value": "admin"})))
        .await;
    s.root_req("POST", "team/kv/top", Some(json!({"value": "t"}))).await;

    let (status, body) = s.root_req("GET", "team/kv/db/password", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"value": "s3cr3t", "n": 5}), "{body}");
    assert_eq!(body["mount_type"], json!("kv"), "{body}");

    let (status, list) = s.root_req("LIST", "team/kv/", None).await;
    assert_eq!(status, 200);
    assert_eq!(keys(&list), vec!["db/", "top"]);
    let (_, via_get) = s.root_req("GET", "team/kv?list=true", None).await;
    assert_eq!(keys(&via_get), keys(&list), "?list=true equals LIST: {via_get}");
    let (_, list) = s.root_req("LIST", "team/kv/db", None).await;
    assert_eq!(keys(&list), vec!["password", "user"]);

    // overwrite replaces the whole value
    s.root_req("PUT", "team/kv/db/password", Some(json!({"other": "x"})))
        .await;
    let (_, body) = s.root_req("GET", "team/kv/db/password", None).await;
    assert_eq!(body["data"], json!({"other": "x"}));

    let (status, _) = s.root_req("DELETE", "team/kv/db/password", None).await;
    assert_eq!(status, 204);
    let (status, body) = s.root_req("GET", "team/kv/db/password", None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(errors(&body), Vec::<String>::new(), "{body}");
    let (status, _) = s.root_req("LIST", "team/kv/none/", None).await;
    assert_eq!(status, 404);
    let (status, _) = s.root_req("DELETE", "team/kv/never-existed", None).await;
    assert_eq!(status, 204, "deleting nothing is not an error in Vault");
}

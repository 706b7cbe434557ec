//! KV v2 `delete/`, `undelete/`, `destroy/`, and `delete_version_after`.

use crate::common::{kv2, parse_time};
use coffer_core::request::Operation::{Create, Read, Update};
use serde_json::{Value, json};

async fn three_versions() -> crate::common::Mount {
    let m = kv2();
    for i in 1..=3 {
        m.data(Update, "data/v", json!({"data": {"i": i}})).await;
    }
    m
}

#[tokio::test]
async fn delete_and_undelete_versions() {
    let m = three_versions().await;
    m.no_content(Update, "delete/v", json!({"versions": [1, 2, 99]})).await;
    let meta = m.data(Read, "metadata/v", json!({})).await;
    parse_time(meta["versions"]["1"]["deletion_time"].as_str().unwrap());
    parse_time(meta["versions"]["2"]["deletion_time"].as_str().unwrap());
    assert_eq!(meta["versions"]["3"]["deletion_time"], "");
    let body = m.not_found_body(Read, "data/v", json!({"version": 1})).await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["metadata"]["version"], 1);
    assert_eq!(m.data(Read, "data/v", json!({})).await["data"], json!({"i": 3}));

    // Versions as a comma-separated string, as the CLI may send them.
    m.no_content(Create, "undelete/v", json!({"versions": "1,2"})).await;
    assert_eq!(
        m.data(Read, "data/v", json!({"version": 1})).await["data"],
        json!({"i": 1})
    );
    let meta = m.data(Read, "metadata/v", json!({})).await;
    assert_eq!(meta["versions"]["2"]["deletion_time"], "");

    m.bad(Update, "delete/v", json!({}), "No version number provided").await;
    m.bad(
        Update,
        "undelete/v",
        json!({"versions": []}),
        "No version number provided",
    )
    .await;
    m.bad(Update, "delete/v", json!({"versions": [-1]}), "versions").await;
    m.bad(Update, "delete/v", json!({"versions": ["x"]}), "versions").await;
    m.bad(Update, "delete/v", json!({"versions": {"a": 1}}), "versions")
        .await;
    m.bad(Update, "delete/", json!({"versions": [1]}), "missing path").await;
    // Unknown keys: nothing to do.
    m.no_content(Update, "delete/absent", json!({"versions": [1]})).await;
    m.not_found(Read, "metadata/absent", json!({})).await;
    // Nothing was deleted by the bad requests.
    let meta = m.data(Read, "metadata/v", json!({})).await;
    for n in ["1", "2", "3"] {
        assert_eq!(meta["versions"][n]["deletion_time"], "");
    }
}

#[tokio::test]
async fn destroy_removes_data_for_good() {
    let m = three_versions().await;
    m.bad(
        Update,
        "destroy/v",
        json!({"versions": []}),
        "no version number provided",
    )
    .await;
    m.no_content(Update, "destroy/v", json!({"versions": [2]})).await;
    assert!(
        m.view.get("ver/2/v").await.unwrap().is_none(),
        "destroyed data must be gone from storage"
    );
    let body = m.not_found_body(Read, "data/v", json!({"version": 2})).await;
    assert_eq!(body["metadata"]["destroyed"], true);
    assert_eq!(body["data"], Value::Null);
    let meta = m.data(Read, "metadata/v", json!({})).await;
    assert_eq!(meta["versions"]["2"]["destroyed"], true);
    assert_eq!(meta["versions"]["2"]["deletion_time"], "");
    // Undelete and delete do not revive or touch a destroyed version.
    m.no_content(Update, "undelete/v", json!({"versions": [2]})).await;
    m.no_content(Update, "delete/v", json!({"versions": [2]})).await;
    let meta = m.data(Read, "metadata/v", json!({})).await;
    assert_eq!(
        meta["versions"]["2"],
        json!({
        "created_time": meta["versions"]["2"]["created_time"], "deletion_time": "", "destroyed": true})
    );
    m.not_found_body(Read, "data/v", json!({"version": 2})).await;
    // Other versions are intact.
    assert_eq!(
        m.data(Read, "data/v", json!({"version": 1})).await["data"],
        json!({"i": 1})
    );
    // Destroying the latest makes the secret unreadable, and subkeys too.
    m.no_content(Update, "destroy/v", json!({"versions": [3]})).await;
    let body = m.not_found_body(Read, "data/v", json!({})).await;
    assert_eq!(body["metadata"]["version"], 3);
    let body = m.not_found_body(Read, "subkeys/v", json!({})).await;
    assert_eq!(body["subkeys"], Value::Null);
}

#[tokio::test]
async fn delete_version_after_expires_versions_on_read() {
    let m = kv2();
    m.no_content(Update, "metadata/e", json!({"delete_version_after": "1s"}))
        .await;
    let w = m.data(Update, "data/e", json!({"data": {"a": 1}})).await;
    let created = parse_time(w["created_time"].as_str().unwrap());
    let deletion = parse_time(w["deletion_time"].as_str().unwrap());
    assert_eq!(deletion - created, 1_000_000_000);
    // Scheduled in the future: still readable.
    assert_eq!(m.data(Read, "data/e", json!({})).await["data"], json!({"a": 1}));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let body = m.not_found_body(Read, "data/e", json!({})).await;
    assert_eq!(body["metadata"]["deletion_time"], w["deletion_time"]);

    // The mount setting applies when smaller; a negative mount setting disables it.
    m.no_content(Update, "config", json!({"delete_version_after": "1h"}))
        .await;
    let w = m.data(Update, "data/mount", json!({"data": {"a": 1}})).await;
    let d = parse_time(w["deletion_time"].as_str().unwrap()) - parse_time(w["created_time"].as_str().unwrap());
    assert_eq!(d, 3_600_000_000_000);
    let w = m.data(Update, "data/e", json!({"data": {"a": 2}})).await;
    let d = parse_time(w["deletion_time"].as_str().unwrap()) - parse_time(w["created_time"].as_str().unwrap());
    assert_eq!(d, 1_000_000_000, "the key's smaller setting wins");
    m.no_content(Update, "config", json!({"delete_version_after": -1}))
        .await;
    assert_eq!(m.data(Read, "config", json!({})).await["delete_version_after"], "-1s");
    let w = m.data(Update, "data/e", json!({"data": {"a": 3}})).await;
    assert_eq!(w["deletion_time"], "");
}

//! KV v2 `data/`: versions, check-and-set, patch, soft delete, storage cost and atomicity.

use crate::common::{kv2, parse_time};
use coffer_core::CoreError;
use coffer_core::request::Operation::{Create, Delete, List, Patch, Read, Update};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

#[tokio::test]
async fn write_then_read_increments_versions() {
    let m = kv2();
    let w1 = m.data(Create, "data/app", json!({"data": {"user": "a"}})).await;
    assert_eq!(w1["version"], 1);
    assert_eq!(w1["deletion_time"], "");
    assert_eq!(w1["destroyed"], false);
    assert_eq!(w1["custom_metadata"], Value::Null);
    parse_time(w1["created_time"].as_str().unwrap());
    let mut keys: Vec<_> = w1.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_time",
            "custom_metadata",
            "deletion_time",
            "destroyed",
            "version"
        ]
    );

    let w2 = m.data(Update, "data/app", json!({"data": {"user": "b"}})).await;
    assert_eq!(w2["version"], 2);
    assert!(parse_time(w2["created_time"].as_str().unwrap()) >= parse_time(w1["created_time"].as_str().unwrap()));

    let latest = m.data(Read, "data/app", json!({})).await;
    assert_eq!(latest["data"], json!({"user": "b"}));
    assert_eq!(latest["metadata"]["version"], 2);
    assert_eq!(latest["metadata"]["created_time"], w2["created_time"]);

    // Query parameters arrive as strings.
    let v1 = m.data(Read, "data/app", json!({"version": "1"})).await;
    assert_eq!(v1["data"], json!({"user": "a"}));
    assert_eq!(v1["metadata"]["version"], 1);
    let v0 = m.data(Read, "data/app", json!({"version": 0})).await;
    assert_eq!(v0["metadata"]["version"], 2);

    m.not_found(Read, "data/app", json!({"version": "3"})).await;
    m.not_found(Read, "data/missing", json!({})).await;
}

#[tokio::test]
async fn check_and_set() {
    let m = kv2();
    m.data(Create, "data/c", json!({"data": {"a": 1}, "options": {"cas": 0}}))
        .await;
    m.bad(
        Update,
        "data/c",
        json!({"data": {"a": 2}, "options": {"cas": 0}}),
        "check-and-set parameter did not match the current version",
    )
    .await;
    m.bad(
        Update,
        "data/c",
        json!({"data": {"a": 2}, "options": {"cas": 5}}),
        "check-and-set parameter did not match the current version",
    )
    .await;
    m.bad(
        Update,
        "data/c",
        json!({"data": {"a": 2}, "options": {"cas": "x"}}),
        "error parsing check-and-set parameter",
    )
    .await;
    m.bad(
        Update,
        "data/c",
        json!({"data": {"a": 2}, "options": {"cas": -1}}),
        "error parsing check-and-set parameter",
    )
    .await;
    m.bad(
        Update,
        "data/c",
        json!({"data": {"a": 2}, "options": "cas=1"}),
        "options",
    )
    .await;
    let w = m
        .data(Update, "data/c", json!({"data": {"a": 2}, "options": {"cas": 1}}))
        .await;
    assert_eq!(w["version"], 2);
    let w = m
        .data(Update, "data/c", json!({"data": {"a": 3}, "options": {"cas": "2"}}))
        .await;
    assert_eq!(w["version"], 3);
    // Failed writes changed nothing.
    assert_eq!(m.data(Read, "metadata/c", json!({})).await["current_version"], 3);

    // cas_required on the mount.
    m.no_content(Update, "config", json!({"cas_required": true})).await;
    m.bad(
        Update,
        "data/c",
        json!({"data": {"a": 4}}),
        "check-and-set parameter required for this call",
    )
    .await;
    m.bad(
        Create,
        "data/new",
        json!({"data": {"a": 4}}),
        "check-and-set parameter required for this call",
    )
    .await;
    m.data(Update, "data/c", json!({"data": {"a": 4}, "options": {"cas": 3}}))
        .await;
    m.no_content(Update, "config", json!({"cas_required": false})).await;

    // cas_required on the key.
    m.no_content(Update, "metadata/k", json!({"cas_required": true})).await;
    m.bad(
        Update,
        "data/k",
        json!({"data": {"a": 1}}),
        "check-and-set parameter required",
    )
    .await;
    m.data(Update, "data/k", json!({"data": {"a": 1}, "options": {"cas": 0}}))
        .await;
    m.data(Update, "data/other", json!({"data": {"a": 1}})).await;
}

#[tokio::test]
async fn patch_merges_onto_latest() {
    let m = kv2();
    m.not_found(Patch, "data/p", json!({"data": {"a": 1}})).await;
    m.data(
        Create,
        "data/p",
        json!({"data": {"a": 1, "b": {"c": 2, "d": 3}, "e": "x"}}),
    )
    .await;
    let w = m
        .data(
            Patch,
            "data/p",
            json!({"data": {"a": null, "b": {"c": 20, "d": null}, "f": [1]}}),
        )
        .await;
    assert_eq!(w["version"], 2);
    let r = m.data(Read, "data/p", json!({})).await;
    assert_eq!(r["data"], json!({"b": {"c": 20}, "e": "x", "f": [1]}));

    m.bad(
        Patch,
        "data/p",
        json!({"data": {"a": 1}, "options": {"cas": 1}}),
        "did not match",
    )
    .await;
    m.data(Patch, "data/p", json!({"data": {"a": 1}, "options": {"cas": 2}}))
        .await;
    m.bad(Patch, "data/p", json!({}), "no data provided").await;
    m.bad(Patch, "data/p", json!({"data": "nope"}), "JSON object").await;
    assert_eq!(m.data(Read, "metadata/p", json!({})).await["current_version"], 3);

    // Patching a deleted latest version is a 404 that carries the version metadata.
    m.no_content(Delete, "data/p", json!({})).await;
    let body = m.not_found_body(Patch, "data/p", json!({"data": {"z": 1}})).await;
    assert_eq!(body["version"], 3);
    assert_ne!(body["deletion_time"], "");
    assert_eq!(m.data(Read, "metadata/p", json!({})).await["current_version"], 3);
}

#[tokio::test]
async fn delete_latest_is_soft() {
    let m = kv2();
    m.no_content(Delete, "data/none", json!({})).await;
    m.data(Create, "data/s", json!({"data": {"a": 1}})).await;
    m.data(Update, "data/s", json!({"data": {"a": 2}})).await;
    m.no_content(Delete, "data/s", json!({})).await;
    let body = m.not_found_body(Read, "data/s", json!({})).await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["metadata"]["version"], 2);
    assert_eq!(body["metadata"]["destroyed"], false);
    parse_time(body["metadata"]["deletion_time"].as_str().unwrap());
    // Older version still readable; a second delete is a no-op.
    assert_eq!(
        m.data(Read, "data/s", json!({"version": 1})).await["data"],
        json!({"a": 1})
    );
    let before = m.data(Read, "metadata/s", json!({})).await;
    m.no_content(Delete, "data/s", json!({})).await;
    assert_eq!(m.data(Read, "metadata/s", json!({})).await, before);
    // A new write makes the secret readable again.
    m.data(Update, "data/s", json!({"data": {"a": 3}})).await;
    assert_eq!(m.data(Read, "data/s", json!({})).await["data"], json!({"a": 3}));
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let m = kv2();
    m.data(Create, "data/b", json!({"data": {"a": 1}})).await;
    m.bad(Update, "data/b", json!({"data": "str"}), "JSON object").await;
    m.bad(Update, "data/b", json!({"data": [1, 2]}), "JSON object").await;
    m.bad(Update, "data/b", json!({"nodata": 1}), "no data provided").await;
    m.bad(Create, "data/fresh", json!({"data": 5}), "JSON object").await;
    m.bad(Read, "data/b", json!({"version": -1}), "version").await;
    m.bad(Read, "data/b", json!({"version": "two"}), "version").await;
    m.bad(Read, "data/", json!({}), "missing path").await;
    m.bad(Update, "data/", json!({"data": {"a": 1}}), "missing path").await;
    m.bad(Update, "data/x/../y", json!({"data": {"a": 1}}), "invalid path")
        .await;
    m.not_found(Read, "metadata/fresh", json!({})).await;
    let meta = m.data(Read, "metadata/b", json!({})).await;
    assert_eq!(meta["current_version"], 1);
    assert_eq!(m.data(Read, "data/b", json!({})).await["data"], json!({"a": 1}));
    assert!(matches!(
        m.err(List, "data/", json!({})).await,
        CoreError::UnsupportedOperation
    ));
}

#[tokio::test]
async fn reads_cost_two_gets_and_writes_one_batch() {
    let m = kv2();
    for i in 0..12 {
        m.data(Update, "data/cost", json!({"data": {"i": i}})).await;
    }
    m.physical.reset();
    m.data(Read, "data/cost", json!({})).await;
    assert_eq!(
        m.physical.gets.load(Ordering::SeqCst),
        2,
        "latest read = metadata + version"
    );

    m.physical.reset();
    m.data(Update, "data/cost", json!({"data": {"i": 99}})).await;
    assert_eq!(m.physical.batches.load(Ordering::SeqCst), 1);
    assert_eq!(m.physical.puts.load(Ordering::SeqCst), 0, "no writes outside the batch");

    m.physical.reset();
    m.data(Patch, "data/cost", json!({"data": {"j": 1}})).await;
    assert_eq!(m.physical.batches.load(Ordering::SeqCst), 1);
    assert_eq!(m.physical.puts.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn failed_batch_leaves_old_state() {
    let m = kv2();
    m.no_content(Update, "config", json!({"max_versions": 2})).await;
    m.data(Update, "data/f", json!({"data": {"v": 1}})).await;
    m.data(Update, "data/f", json!({"data": {"v": 2}})).await;
    let meta_before = m.data(Read, "metadata/f", json!({})).await;
    let stored_before = m.stored("ver/").await;

    m.physical.fail_batches.store(true, Ordering::SeqCst);
    assert!(m.call(Update, "data/f", json!({"data": {"v": 3}})).await.is_err());
    assert!(m.call(Patch, "data/f", json!({"data": {"v": 3}})).await.is_err());
    assert!(m.call(Delete, "metadata/f", json!({})).await.is_err());
    m.physical.fail_batches.store(false, Ordering::SeqCst);

    assert_eq!(m.data(Read, "metadata/f", json!({})).await, meta_before);
    assert_eq!(m.stored("ver/").await, stored_before);
    assert_eq!(m.data(Read, "data/f", json!({})).await["data"], json!({"v": 2}));
    assert_eq!(
        m.data(Read, "data/f", json!({"version": 1})).await["data"],
        json!({"v": 1})
    );
}

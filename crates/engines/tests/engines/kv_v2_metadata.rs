//! KV v2 `metadata/`: read, write, patch, list with folders, delete, max_versions trimming
//! and custom_metadata limits.

use crate::common::{kv2, parse_time};
use coffer_core::request::Operation::{Create, Delete, List, Patch, Read, Update};
use serde_json::{Value, json};

#[tokio::test]
async fn metadata_read_shape() {
    let m = kv2();
    m.not_found(Read, "metadata/app", json!({})).await;
    let w1 = m.data(Create, "data/app", json!({"data": {"a": 1}})).await;
    let w2 = m.data(Update, "data/app", json!({"data": {"a": 2}})).await;
    let meta = m.data(Read, "metadata/app", json!({})).await;
    assert_eq!(meta["current_version"], 2);
    assert_eq!(meta["oldest_version"], 0);
    assert_eq!(meta["max_versions"], 0);
    assert_eq!(meta["cas_required"], false);
    assert_eq!(meta["delete_version_after"], "0s");
    assert_eq!(meta["custom_metadata"], Value::Null);
    assert_eq!(meta["created_time"], w1["created_time"]);
    assert_eq!(meta["updated_time"], w2["created_time"]);
    assert_eq!(
        meta["versions"]["1"],
        json!({"created_time": w1["created_time"], "deletion_time": "", "destroyed": false})
    );
    assert_eq!(meta["versions"]["2"]["created_time"], w2["created_time"]);
    assert_eq!(meta["versions"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn metadata_write_and_patch() {
    let m = kv2();
    // A write with nothing to set is a no-op and creates nothing.
    m.no_content(Update, "metadata/k", json!({})).await;
    m.not_found(Read, "metadata/k", json!({})).await;

    m.no_content(
        Create,
        "metadata/k",
        json!({"max_versions": 5, "cas_required": true, "delete_version_after": "3h25m19s",
               "custom_metadata": {"owner": "ops", "n": 7}}),
    )
    .await;
    let meta = m.data(Read, "metadata/k", json!({})).await;
    assert_eq!(meta["max_versions"], 5);
    assert_eq!(meta["cas_required"], true);
    assert_eq!(meta["delete_version_after"], "3h25m19s");
    assert_eq!(meta["custom_metadata"], json!({"owner": "ops", "n": "7"}));
    assert_eq!(meta["current_version"], 0);
    assert_eq!(meta["versions"], json!({}));
    parse_time(meta["created_time"].as_str().unwrap());
    // Metadata without versions: no data to read.
    m.not_found(Read, "data/k", json!({})).await;

    // custom_metadata replaces on POST.
    m.no_content(Update, "metadata/k", json!({"custom_metadata": {"team": "x"}}))
        .await;
    let meta = m.data(Read, "metadata/k", json!({})).await;
    assert_eq!(meta["custom_metadata"], json!({"team": "x"}));
    assert_eq!(meta["max_versions"], 5, "fields not given are kept");

    // PATCH merges custom_metadata; null removes a key.
    m.no_content(
        Patch,
        "metadata/k",
        json!({"custom_metadata": {"team": null, "env": "prod"}, "max_versions": 7}),
    )
    .await;
    let meta = m.data(Read, "metadata/k", json!({})).await;
    assert_eq!(meta["custom_metadata"], json!({"env": "prod"}));
    assert_eq!(meta["max_versions"], 7);
    assert_eq!(meta["cas_required"], true);
    m.no_content(
        Patch,
        "metadata/k",
        json!({"delete_version_after": 0, "cas_required": false}),
    )
    .await;
    let meta = m.data(Read, "metadata/k", json!({})).await;
    assert_eq!(meta["delete_version_after"], "0s");
    assert_eq!(meta["cas_required"], false);
    m.not_found(Patch, "metadata/absent", json!({"max_versions": 1})).await;

    // Data reads and writes report custom_metadata.
    let w = m.data(Update, "data/k", json!({"data": {"a": 1}})).await;
    assert_eq!(w["custom_metadata"], json!({"env": "prod"}));
    assert_eq!(
        m.data(Read, "data/k", json!({})).await["metadata"]["custom_metadata"],
        json!({"env": "prod"})
    );
}

#[tokio::test]
async fn cas_required_false_warns_when_mount_requires_it() {
    let m = kv2();
    m.no_content(Update, "config", json!({"cas_required": true})).await;
    let r = m.ok(Update, "metadata/w", json!({"cas_required": false})).await;
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("mandated by backend config"));
}

#[tokio::test]
async fn custom_metadata_limits() {
    let m = kv2();
    m.no_content(Update, "metadata/c", json!({"custom_metadata": {"keep": "me"}}))
        .await;
    let too_many: serde_json::Map<String, Value> = (0..65).map(|i| (format!("k{i}"), json!("v"))).collect();
    m.bad(
        Update,
        "metadata/c",
        json!({"custom_metadata": too_many}),
        "at most 64 keys, provided 65",
    )
    .await;
    let ok64: serde_json::Map<String, Value> = (0..64).map(|i| (format!("k{i}"), json!("v"))).collect();
    m.no_content(Update, "metadata/ok", json!({"custom_metadata": ok64}))
        .await;
    m.bad(
        Update,
        "metadata/c",
        json!({"custom_metadata": {"k".repeat(129): "v"}}),
        "len(key) <= 128",
    )
    .await;
    m.no_content(
        Update,
        "metadata/ok",
        json!({"custom_metadata": {"k".repeat(128): "v".repeat(512)}}),
    )
    .await;
    m.bad(
        Update,
        "metadata/c",
        json!({"custom_metadata": {"k": "v".repeat(513)}}),
        "len(value) <= 512",
    )
    .await;
    m.bad(
        Update,
        "metadata/c",
        json!({"custom_metadata": {"k": ""}}),
        "len(value)",
    )
    .await;
    m.bad(
        Update,
        "metadata/c",
        json!({"custom_metadata": {"k": {"nested": 1}}}),
        "custom_metadata",
    )
    .await;
    m.bad(
        Update,
        "metadata/c",
        json!({"custom_metadata": "k=v"}),
        "custom_metadata",
    )
    .await;
    // A patch that would push the merged map past the limit is refused too.
    let sixty_four: serde_json::Map<String, Value> = (0..64).map(|i| (format!("p{i}"), json!("v"))).collect();
    m.bad(
        Patch,
        "metadata/c",
        json!({"custom_metadata": sixty_four}),
        "at most 64 keys",
    )
    .await;
    assert_eq!(
        m.data(Read, "metadata/c", json!({})).await["custom_metadata"],
        json!({"keep": "me"})
    );
}

#[tokio::test]
async fn bad_metadata_input_changes_nothing() {
    let m = kv2();
    m.no_content(Update, "metadata/b", json!({"max_versions": 3})).await;
    let before = m.data(Read, "metadata/b", json!({})).await;
    m.bad(Update, "metadata/b", json!({"max_versions": "abc"}), "max_versions")
        .await;
    m.bad(Update, "metadata/b", json!({"max_versions": -2}), "max_versions")
        .await;
    m.bad(Update, "metadata/b", json!({"cas_required": "maybe"}), "cas_required")
        .await;
    m.bad(
        Update,
        "metadata/b",
        json!({"delete_version_after": "soon"}),
        "delete_version_after",
    )
    .await;
    m.bad(
        Update,
        "metadata/b",
        json!({"delete_version_after": "-5s"}),
        "cannot be negative",
    )
    .await;
    m.bad(
        Update,
        "metadata/b",
        json!({"max_versions": 1, "cas_required": []}),
        "cas_required",
    )
    .await;
    m.bad(Patch, "metadata/b", json!({"max_versions": "x"}), "max_versions")
        .await;
    m.bad(Update, "metadata/", json!({"max_versions": 1}), "missing path")
        .await;
    assert_eq!(m.data(Read, "metadata/b", json!({})).await, before);
}

#[tokio::test]
async fn list_with_folders() {
    let m = kv2();
    m.not_found(List, "metadata/", json!({})).await;
    for path in ["a", "b/c", "b/d/e", "b/d/f", "z"] {
        m.data(Update, &format!("data/{path}"), json!({"data": {"x": 1}})).await;
    }
    let root = m.data(List, "metadata/", json!({})).await;
    assert_eq!(root["keys"], json!(["a", "b/", "z"]));
    assert_eq!(m.data(List, "metadata/b/", json!({})).await["keys"], json!(["c", "d/"]));
    assert_eq!(m.data(List, "metadata/b", json!({})).await["keys"], json!(["c", "d/"]));
    assert_eq!(
        m.data(List, "metadata/b/d/", json!({})).await["keys"],
        json!(["e", "f"])
    );
    m.not_found(List, "metadata/nothing/", json!({})).await;
    // Soft-deleted secrets are still listed; metadata-deleted ones are not.
    m.no_content(Delete, "data/a", json!({})).await;
    m.no_content(Delete, "metadata/z", json!({})).await;
    assert_eq!(m.data(List, "metadata/", json!({})).await["keys"], json!(["a", "b/"]));
}

#[tokio::test]
async fn metadata_delete_removes_all_versions() {
    let m = kv2();
    m.no_content(Delete, "metadata/none", json!({})).await;
    for i in 0..3 {
        m.data(Update, "data/gone", json!({"data": {"i": i}})).await;
    }
    m.data(Update, "data/gone/child", json!({"data": {"keep": true}})).await;
    m.data(Update, "data/gonezo", json!({"data": {"keep": true}})).await;
    m.no_content(Delete, "metadata/gone", json!({})).await;
    m.not_found(Read, "metadata/gone", json!({})).await;
    m.not_found(Read, "data/gone", json!({"version": 1})).await;
    for n in 1..=3 {
        assert!(
            m.view.get(&format!("ver/{n}/gone")).await.unwrap().is_none(),
            "version {n} data remains"
        );
    }
    // Neighbours sharing the prefix are untouched.
    assert_eq!(
        m.data(Read, "data/gone/child", json!({})).await["data"],
        json!({"keep": true})
    );
    assert_eq!(
        m.data(Read, "data/gonezo", json!({})).await["data"],
        json!({"keep": true})
    );
    // The path can be reused from version 1.
    assert_eq!(
        m.data(Update, "data/gone", json!({"data": {"new": 1}})).await["version"],
        1
    );
}

#[tokio::test]
async fn max_versions_trims_oldest_in_the_same_write() {
    let m = kv2();
    m.no_content(Update, "config", json!({"max_versions": 3})).await;
    for i in 1..=5 {
        m.data(Update, "data/t", json!({"data": {"i": i}})).await;
    }
    let meta = m.data(Read, "metadata/t", json!({})).await;
    let mut kept: Vec<_> = meta["versions"].as_object().unwrap().keys().cloned().collect();
    kept.sort();
    assert_eq!(kept, ["3", "4", "5"]);
    assert_eq!(meta["oldest_version"], 3);
    assert_eq!(meta["current_version"], 5);
    m.not_found(Read, "data/t", json!({"version": 1})).await;
    assert!(m.view.get("ver/1/t").await.unwrap().is_none());
    assert!(m.view.get("ver/2/t").await.unwrap().is_none());
    assert_eq!(
        m.data(Read, "data/t", json!({"version": 3})).await["data"],
        json!({"i": 3})
    );

    // Default: 10 versions kept.
    m.no_content(Update, "config", json!({"max_versions": 0})).await;
    for i in 1..=12 {
        m.data(Update, "data/d", json!({"data": {"i": i}})).await;
    }
    m.data(Update, "data/d", json!({"data": {"i": 13}})).await;
    let meta = m.data(Read, "metadata/d", json!({})).await;
    assert_eq!(meta["versions"].as_object().unwrap().len(), 10);
    assert_eq!(meta["oldest_version"], 4);

    // The key's setting counts too (Vault keeps the larger of key and mount settings).
    m.no_content(Update, "config", json!({"max_versions": 2})).await;
    m.no_content(Update, "metadata/k", json!({"max_versions": 4})).await;
    for i in 1..=6 {
        m.data(Update, "data/k", json!({"data": {"i": i}})).await;
    }
    assert_eq!(
        m.data(Read, "metadata/k", json!({})).await["versions"]
            .as_object()
            .unwrap()
            .len(),
        4
    );
}

//! KV v2 config, subkeys, routing, existence checks and the mount factory.

use crate::common::{kv2, mount};
use coffer_core::CoreError;
use coffer_core::request::Operation::{Create, Delete, List, Patch, Read, Update};
use serde_json::json;

#[tokio::test]
async fn config_read_write() {
    let m = kv2();
    assert_eq!(
        m.data(Read, "config", json!({})).await,
        json!({"max_versions": 0, "cas_required": false, "delete_version_after": "0s"})
    );
    m.no_content(
        Update,
        "config",
        json!({"max_versions": 5, "cas_required": true, "delete_version_after": "3h25m19s"}),
    )
    .await;
    assert_eq!(
        m.data(Read, "config", json!({})).await,
        json!({"max_versions": 5, "cas_required": true, "delete_version_after": "3h25m19s"})
    );
    m.no_content(Update, "config", json!({"delete_version_after": 0})).await;
    assert_eq!(m.data(Read, "config", json!({})).await["delete_version_after"], "0s");
    assert_eq!(
        m.data(Read, "config", json!({})).await["max_versions"],
        5,
        "unset fields are kept"
    );

    m.bad(Update, "config", json!({"max_versions": -1}), "max_versions")
        .await;
    m.bad(Update, "config", json!({"max_versions": "lots"}), "max_versions")
        .await;
    m.bad(Update, "config", json!({"cas_required": "perhaps"}), "cas_required")
        .await;
    m.bad(
        Update,
        "config",
        json!({"max_versions": 1, "delete_version_after": "whenever"}),
        "delete_version_after",
    )
    .await;
    assert_eq!(
        m.data(Read, "config", json!({})).await,
        json!({"max_versions": 5, "cas_required": true, "delete_version_after": "0s"})
    );
    assert!(matches!(
        m.err(Delete, "config", json!({})).await,
        CoreError::UnsupportedOperation
    ));
}

#[tokio::test]
async fn subkeys_with_depth_and_version() {
    let m = kv2();
    m.not_found(Read, "subkeys/s", json!({})).await;
    m.data(
        Update,
        "data/s",
        json!({"data": {"foo": "abc", "bar": {"baz": "def", "deep": {"x": 1}}, "empty": {}}}),
    )
    .await;
    m.data(Update, "data/s", json!({"data": {"only": 1}})).await;
    let r = m.data(Read, "subkeys/s", json!({"version": "1"})).await;
    assert_eq!(
        r["subkeys"],
        json!({"foo": null, "bar": {"baz": null, "deep": {"x": null}}, "empty": null})
    );
    assert_eq!(r["metadata"]["version"], 1);
    assert_eq!(
        m.data(Read, "subkeys/s", json!({"version": 1, "depth": "1"})).await["subkeys"],
        json!({"foo": null, "bar": null, "empty": null})
    );
    assert_eq!(
        m.data(Read, "subkeys/s", json!({"version": 1, "depth": 2})).await["subkeys"],
        json!({"foo": null, "bar": {"baz": null, "deep": null}, "empty": null})
    );
    assert_eq!(
        m.data(Read, "subkeys/s", json!({})).await["subkeys"],
        json!({"only": null})
    );
    m.bad(Read, "subkeys/s", json!({"depth": -1}), "depth").await;
    m.not_found(Read, "subkeys/s", json!({"version": 9})).await;
    assert!(matches!(
        m.err(Update, "subkeys/s", json!({})).await,
        CoreError::UnsupportedOperation
    ));
}

#[tokio::test]
async fn routing() {
    let m = kv2();
    match m.err(Read, "nope/x", json!({})).await {
        CoreError::NoRoute(p) => assert_eq!(p, "secret/nope/x"),
        other => panic!("expected no route, got {other:?}"),
    }
    assert!(matches!(m.err(Read, "data", json!({})).await, CoreError::NoRoute(_)));
    assert!(matches!(m.err(Read, "", json!({})).await, CoreError::NoRoute(_)));
    assert!(matches!(
        m.err(List, "data/x/", json!({})).await,
        CoreError::UnsupportedOperation
    ));
    assert!(matches!(
        m.err(Read, "delete/x", json!({})).await,
        CoreError::UnsupportedOperation
    ));
    assert!(matches!(
        m.err(Patch, "destroy/x", json!({})).await,
        CoreError::UnsupportedOperation
    ));
}

#[tokio::test]
async fn existence_checks() {
    let m = kv2();
    assert_eq!(m.exists(Create, "data/e").await.unwrap(), Some(false));
    assert_eq!(m.exists(Update, "metadata/e").await.unwrap(), Some(false));
    m.data(Create, "data/e", json!({"data": {"a": 1}})).await;
    assert_eq!(m.exists(Update, "data/e").await.unwrap(), Some(true));
    assert_eq!(m.exists(Update, "metadata/e").await.unwrap(), Some(true));
    assert_eq!(m.exists(Update, "data/").await.unwrap(), Some(false));
    assert_eq!(m.exists(Update, "config").await.unwrap(), None);
    assert_eq!(m.exists(Update, "destroy/e").await.unwrap(), None);
    // A metadata-only secret exists for data/ too (Vault checks the metadata record).
    m.no_content(Update, "metadata/m", json!({"max_versions": 2})).await;
    assert_eq!(m.exists(Create, "data/m").await.unwrap(), Some(true));
}

#[tokio::test]
async fn factory_versions() {
    assert!(mount("kv", &[("version", "2")]).is_ok());
    assert!(mount("kv", &[("version", "1")]).is_ok());
    assert!(mount("kv", &[]).is_ok());
    let err = mount("kv", &[("version", "3")]).err().expect("version 3 is refused");
    assert!(
        matches!(err, CoreError::BadRequest(ref msg) if msg.contains("\"3\"")),
        "{err:?}"
    );
    assert!(mount("cubbyhole", &[]).is_ok());
}

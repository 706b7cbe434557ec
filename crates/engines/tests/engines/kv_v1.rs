//! KV version 1: read, write, list, delete, existence.

use crate::common::kv1;
use coffer_core::CoreError;
use coffer_core::request::Operation::{Create, Delete, List, Patch, Read, Update};
use serde_json::json;

#[tokio::test]
async fn crud_and_list() {
    let m = kv1();
    m.not_found(Read, "app", json!({})).await;
    m.not_found(List, "", json!({})).await;
    assert_eq!(m.exists(Create, "app").await.unwrap(), Some(false));
    m.no_content(Create, "app", json!({"user": "a", "n": 1, "nested": {"x": [1, 2]}}))
        .await;
    assert_eq!(m.exists(Update, "app").await.unwrap(), Some(true));
    assert_eq!(
        m.data(Read, "app", json!({})).await,
        json!({"user": "a", "n": 1, "nested": {"x": [1, 2]}})
    );
    // A write replaces the whole secret.
    m.no_content(Update, "app", json!({"user": "b"})).await;
    assert_eq!(m.data(Read, "app", json!({})).await, json!({"user": "b"}));

    m.no_content(Update, "dir/one", json!({"a": 1})).await;
    m.no_content(Update, "dir/sub/two", json!({"a": 2})).await;
    assert_eq!(m.data(List, "", json!({})).await["keys"], json!(["app", "dir/"]));
    assert_eq!(m.data(List, "dir/", json!({})).await["keys"], json!(["one", "sub/"]));
    assert_eq!(m.data(List, "dir", json!({})).await["keys"], json!(["one", "sub/"]));
    m.not_found(List, "nothing/", json!({})).await;

    m.no_content(Delete, "app", json!({})).await;
    m.not_found(Read, "app", json!({})).await;
    m.no_content(Delete, "app", json!({})).await;
    assert_eq!(m.data(List, "", json!({})).await["keys"], json!(["dir/"]));
}

#[tokio::test]
async fn bad_input() {
    let m = kv1();
    m.no_content(Update, "keep", json!({"a": 1})).await;
    m.bad(Update, "keep", json!({}), "missing data fields").await;
    m.bad(Update, "", json!({"a": 1}), "missing path").await;
    m.bad(Update, "dir/", json!({"a": 1}), "must not end").await;
    m.bad(Update, "a/../keep", json!({"a": 2}), "invalid path").await;
    assert!(matches!(
        m.err(Patch, "keep", json!({"a": 2})).await,
        CoreError::UnsupportedOperation
    ));
    assert_eq!(m.data(Read, "keep", json!({})).await, json!({"a": 1}));
}

//! Cubbyhole: per-token isolation.

use crate::common::mount;
use coffer_core::CoreError;
use coffer_core::request::Operation::{Create, Delete, List, Read, Update};
use serde_json::json;

#[tokio::test]
async fn tokens_see_only_their_own() {
    let a = mount("cubbyhole", &[]).unwrap();
    let b = a.as_token(Some("token-b"));
    a.no_content(Create, "secret", json!({"who": "a"})).await;
    a.no_content(Create, "dir/x", json!({"v": 1})).await;
    b.not_found(Read, "secret", json!({})).await;
    b.not_found(List, "", json!({})).await;
    assert_eq!(b.exists(Create, "secret").await.unwrap(), Some(false));
    assert_eq!(a.exists(Update, "secret").await.unwrap(), Some(true));

    b.no_content(Create, "secret", json!({"who": "b"})).await;
    assert_eq!(a.data(Read, "secret", json!({})).await, json!({"who": "a"}));
    assert_eq!(b.data(Read, "secret", json!({})).await, json!({"who": "b"}));
    assert_eq!(a.data(List, "", json!({})).await["keys"], json!(["dir/", "secret"]));
    assert_eq!(b.data(List, "", json!({})).await["keys"], json!(["secret"]));

    b.no_content(Delete, "secret", json!({})).await;
    assert_eq!(a.data(Read, "secret", json!({})).await, json!({"who": "a"}));
    b.not_found(Read, "secret", json!({})).await;

    // Stored under the token id inside the mount's view.
    assert!(a.view.get("token-a/secret").await.unwrap().is_some());
}

#[tokio::test]
async fn no_caller_is_denied() {
    let a = mount("cubbyhole", &[]).unwrap();
    let anon = a.as_token(None);
    assert!(matches!(
        anon.err(Read, "secret", json!({})).await,
        CoreError::PermissionDenied
    ));
    assert!(matches!(
        anon.err(Update, "secret", json!({"a": 1})).await,
        CoreError::PermissionDenied
    ));
    assert!(matches!(
        anon.exists(Update, "secret").await,
        Err(CoreError::PermissionDenied)
    ));
    let empty = a.as_token(Some(""));
    assert!(matches!(
        empty.err(List, "", json!({})).await,
        CoreError::PermissionDenied
    ));
}

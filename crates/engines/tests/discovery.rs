//! The `discovery` inventory over a real barrier-encrypted `View`: reports create and update
//! records, LIST carries summaries, nothing secret is accepted, GET and DELETE by fingerprint.

#[path = "engines/common.rs"]
#[allow(dead_code)]
mod common;

use coffer_core::CoreError;
use coffer_core::backend::BackendRequest;
use coffer_core::request::Operation::{self, Delete, List, Read, Update};
use coffer_core::request::Response;
use common::{Mount, mount};
use serde_json::{Value, json};

async fn call(m: &Mount, op: Operation, path: &str, body: Value) -> Result<Response, CoreError> {
    let data = body.as_object().cloned().unwrap_or_default();
    let req = BackendRequest::new(op, path, &data, &m.mount_point);
    m.backend.handle(&req).await
}

fn data(r: Response) -> Value {
    Value::Object(r.data.expect("data"))
}

#[tokio::test]
async fn report_list_read_delete() {
    let m = mount("discovery", &[]).expect("discovery mounts");
    assert!(matches!(
        call(&m, List, "findings", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
    let batch = json!({"findings": [
        {"fingerprint": "aa11", "rule_id": "github-pat", "kind": "api-key", "path": ".env", "line": 2},
        {"fingerprint": "bb22", "rule_id": "generic-password", "kind": "password", "path": "c.yaml", "line": 5,
         "reference": "coffer://secret/discovered/p/c.yaml/password#value"},
    ]});
    let out = data(call(&m, Update, "findings", batch).await.unwrap());
    assert_eq!(out, json!({"created": 2, "updated": 0}));

    let listed = data(call(&m, List, "findings/", json!({})).await.unwrap());
    assert_eq!(listed["keys"], json!(["aa11", "bb22"]));
    assert_eq!(listed["key_info"]["bb22"]["onboarded"], json!(true));
    assert_eq!(listed["key_info"]["aa11"]["onboarded"], json!(false));

    let again = json!({"findings": [
        {"fingerprint": "aa11", "rule_id": "github-pat", "kind": "api-key", "path": "other/.env", "line": 7,
         "commit": "abc123", "reference": "coffer://secret/x#value"},
    ]});
    let out = data(call(&m, Update, "findings", again).await.unwrap());
    assert_eq!(out, json!({"created": 0, "updated": 1}));
    let rec = data(call(&m, Read, "findings/aa11", json!({})).await.unwrap());
    assert_eq!(rec["locations"].as_array().unwrap().len(), 2, "{rec}");
    assert_eq!(
        rec["locations"][1],
        json!({"path": "other/.env", "line": 7, "commit": "abc123"})
    );
    assert_eq!(rec["onboarded"], json!(true));
    assert_eq!(rec["reference"], json!("coffer://secret/x#value"));
    assert!(rec["first_seen"].as_str().unwrap().ends_with('Z'), "{rec}");

    call(&m, Delete, "findings/aa11", json!({})).await.unwrap();
    assert!(matches!(
        call(&m, Read, "findings/aa11", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn secret_values_are_refused_and_nothing_is_written() {
    let m = mount("discovery", &[]).expect("discovery mounts");
    let batch = json!({"findings": [
        {"fingerprint": "aa11", "rule_id": "r", "path": "a", "line": 1},
        {"fingerprint": "bb22", "secret": "hunter2"},
    ]});
    let err = call(&m, Update, "findings", batch).await.unwrap_err();
    match err {
        CoreError::BadRequest(msg) => {
            assert!(msg.contains("findings[1]"), "{msg}");
            assert!(!msg.contains("hunter2"), "the value is never echoed: {msg}");
        }
        other => panic!("expected 400, got {other:?}"),
    }
    assert!(matches!(
        call(&m, List, "findings", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
    assert!(
        call(&m, Update, "findings", json!({})).await.is_err(),
        "missing findings list"
    );
    assert!(matches!(
        call(&m, Read, "other", json!({})).await,
        Err(CoreError::NotFound(_))
    ));
}

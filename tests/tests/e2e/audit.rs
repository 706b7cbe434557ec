//! Audit end to end: a file device enabled through `sys/audit`, requests on record with their
//! secrets HMAC'd, `coffer audit verify` passing on the real log and failing once it is
//! tampered with, and the server failing closed when the log cannot be written.

use coffer_tests::{CofferServer, unique};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn file_audit_device_records_verifies_and_fails_closed() {
    let s = CofferServer::start_dev().await;
    let root = s.root();
    let log_dir = s.dir().join("audit");
    std::fs::create_dir(&log_dir).unwrap();
    let log = log_dir.join("audit.log");
    let log_str = log.to_str().unwrap().to_string();

    let (status, body) = s
        .root_req(
            "POST",
            "sys/audit/file",
            Some(json!({"type": "file", "description": "e2e", "options": {"file_path": log_str}})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "sys/audit", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["file/"]["type"], "file", "{body}");
    assert_eq!(
        body["data"]["file/"]["options"]["file_path"],
        log_str.as_str(),
        "{body}"
    );
    let listed = s.cli(&["audit", "list", "-format=json"], Some(&root)).json();
    assert_eq!(listed["file/"]["type"], "file", "{listed}");

    let secret = unique("audit-secret");
    let (status, body) = s
        .root_req("POST", "secret/data/app", Some(json!({"data": {"password": secret}})))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.root_req("GET", "secret/data/app", None).await;
    assert_eq!(
        (status, body["data"]["data"]["password"].as_str()),
        (200, Some(secret.as_str()))
    );

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&secret), "the secret value appears in the audit log");
    assert!(!text.contains(&root), "the root token appears in the audit log");
    let (status, body) = s
        .root_req("POST", "sys/audit-hash/file", Some(json!({"input": secret})))
        .await;
    assert_eq!(status, 200, "{body}");
    let hash = body["data"]["hash"]
        .as_str()
        .or(body["hash"].as_str())
        .unwrap()
        .to_string();
    assert!(hash.starts_with("hmac-sha256:") && text.contains(&hash), "{hash}");
    let entries: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(entries.len() >= 4, "{text}");
    assert!(
        entries
            .iter()
            .any(|e| e["type"] == "request" && e["request"]["path"] == "secret/data/app")
    );
    assert!(
        entries
            .iter()
            .any(|e| e["type"] == "response" && e["request"]["path"] == "secret/data/app")
    );

    let out = s.cli(&["audit", "verify", &log_str], None);
    assert_eq!(out.code, Some(0), "{out:#?}");

    // Tamper with a copy: edit one line in the middle.
    let tampered = s.dir().join("tampered.log");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let edited = 1 + lines[1..]
        .iter()
        .position(|l| l.contains("secret/data/app"))
        .expect("a KV entry after line 1");
    lines[edited] = lines[edited].replacen("secret/data/app", "secret/data/other", 1);
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let out = s.cli(&["audit", "verify", tampered.to_str().unwrap()], None);
    assert_eq!(out.code, Some(1), "{out:#?}");
    let named = format!(":{}:", edited + 1);
    assert!(
        out.stdout.contains(&named),
        "the edited line {named} is named: {out:#?}"
    );
    let out = s.cli(&["audit", "verify", "/nonexistent/audit.log"], None);
    assert_eq!(out.code, Some(2), "{out:#?}");

    // The log cannot be written: a KV write is refused and stores nothing.
    std::fs::remove_dir_all(&log_dir).unwrap();
    let refused = unique("refused");
    let (status, body) = s
        .root_req("POST", "secret/data/app", Some(json!({"data": {"password": refused}})))
        .await;
    assert_eq!(status, 500, "{body}");
    assert!(body.to_string().contains("audit log unavailable"), "{body}");
    // Reads, whose request entry is written while they run, are refused too: no value leaves.
    for path in ["secret/data/app", "auth/token/lookup-self"] {
        let (status, body) = s.root_req("GET", path, None).await;
        assert_eq!(status, 500, "{path}: {body}");
        assert!(body.to_string().contains("audit log unavailable"), "{path}: {body}");
        assert!(body.get("data").is_none(), "{path}: {body}");
    }
    std::fs::create_dir(&log_dir).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (status, body) = s.root_req("GET", "secret/data/app", None).await;
        if status == 200 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the audit device did not recover: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        body["data"]["data"]["password"].as_str(),
        Some(secret.as_str()),
        "{body}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&refused), "the refused value appears in the audit log");
    let out = s.cli(&["audit", "verify", &log_str], None);
    assert_eq!(out.code, Some(0), "{out:#?}");

    let out = s.cli(&["audit", "disable", "file"], Some(&root));
    assert_eq!(out.code, Some(0), "{out:#?}");
    let (status, body) = s.root_req("GET", "sys/audit", None).await;
    assert_eq!(
        (status, body["data"].as_object().map(|m| m.len())),
        (200, Some(0)),
        "{body}"
    );
}

//! Nothing secret at rest in the clear: the SQLite file (and its WAL), the audit log and the
//! server's own trace-level log must contain no secret value, token or unseal key that went
//! through the API. Also: the server runs with core dumps disabled.

use coffer_tests::{CofferServer, Options, StorageKind, unique};
use serde_json::json;

fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && haystack.windows(n.len()).any(|w| w == n)
}

/// The database files and the audit log, by name.
fn files_at_rest(s: &CofferServer) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(s.dir()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("coffer.db") || name.starts_with("audit.log") {
            files.push((name, std::fs::read(entry.path()).unwrap()));
        }
    }
    files
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn no_secret_appears_in_the_database_or_logs() {
    let mut s = CofferServer::start_with(Options {
        config: Some("log_level = \"trace\"\n".into()),
        ..Options::new(StorageKind::Sqlite)
    })
    .await;
    let (status, init) = s
        .request(
            "PUT",
            "sys/init",
            None,
            Some(json!({"secret_shares": 3, "secret_threshold": 2})),
        )
        .await;
    assert_eq!(status, 200);
    let keys: Vec<String> = init["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().into())
        .collect();
    let keys_b64: Vec<String> = init["keys_base64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().into())
        .collect();
    let root = init["root_token"].as_str().unwrap().to_string();
    s.root_token = Some(root.clone());
    s.unseal(&keys[..2]).await;
    let audit_path = s.dir().join("audit.log");
    let (status, body) = s
        .root_req(
            "PUT",
            "sys/audit/file",
            Some(json!({"type": "file", "options": {"file_path": audit_path.to_str().unwrap()}})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    s.root_req(
        "POST",
        "sys/mounts/secret",
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    )
    .await;
    s.root_req("POST", "sys/mounts/kv1", Some(json!({"type": "kv"}))).await;

    let mut secrets: Vec<String> = Vec::new();
    for i in 0..20 {
        let v2 = unique(&format!("kv2-value-{i}"));
        let (status, _) = s
            .root_req(
                "POST",
                &format!("secret/data/app{i}"),
                Some(json!({"data": {"password": v2}})),
            )
            .await;
        assert_eq!(status, 200);
        let v1 = unique(&format!("kv1-value-{i}"));
        let (status, _) = s
            .root_req("PUT", &format!("kv1/db{i}"), Some(json!({"password": v1})))
            .await;
        assert_eq!(status, 204);
        secrets.extend([v2, v1]);
    }
    // a patched value and an older version
    let patched = unique("patched-value");
    let resp = s
        .client()
        .patch(s.url("secret/data/app0"))
        .header("X-Vault-Token", &root)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"data": {"extra": patched}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    secrets.push(patched);
    let mut tokens = vec![root.clone()];
    for _ in 0..5 {
        let (status, body) = s
            .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
            .await;
        assert_eq!(status, 200);
        let t = body["auth"]["client_token"].as_str().unwrap().to_string();
        let cubby = unique("cubbyhole-value");
        let (status, _) = s
            .request("PUT", "cubbyhole/k", Some(&t), Some(json!({"v": cubby})))
            .await;
        assert_eq!(status, 204);
        secrets.push(cubby);
        tokens.push(t);
    }
    let (_, dev_like) = s
        .root_req(
            "POST",
            "auth/token/create",
            Some(json!({"id": "custom-root-chosen-id-0123456789", "policies": ["default"]})),
        )
        .await;
    if let Some(t) = dev_like["auth"]["client_token"].as_str() {
        tokens.push(t.to_string());
    }

    let dir = s.dir().to_path_buf();
    let check = |files: &[(String, Vec<u8>)], when: &str| {
        assert!(files.iter().any(|(n, _)| n == "coffer.db"), "no coffer.db in {dir:?}");
        let audit = files.iter().find(|(n, _)| n == "audit.log").map(|(_, b)| b.len());
        assert!(
            audit.unwrap_or(0) > 10_000,
            "the audit log is missing or nearly empty in {dir:?}"
        );
        for (name, bytes) in files {
            for secret in &secrets {
                assert!(
                    !contains(bytes, secret),
                    "{when}: secret value {secret} found in clear in {name}"
                );
            }
            for t in &tokens {
                assert!(
                    !contains(bytes, t),
                    "{when}: a token value was found in clear in {name}"
                );
                // the part after the prefix, in case the prefix is stored apart
                if let Some(rest) = t.strip_prefix("cfs_") {
                    assert!(
                        !contains(bytes, rest),
                        "{when}: a token body was found in clear in {name}"
                    );
                }
            }
            for (k, b) in keys.iter().zip(&keys_b64) {
                assert!(
                    !contains(bytes, k) && !contains(bytes, b),
                    "{when}: an unseal key share was found in {name}"
                );
                let raw = hex_decode(k);
                assert!(
                    !bytes.windows(raw.len()).any(|w| w == raw.as_slice()),
                    "{when}: raw unseal key share bytes in {name}"
                );
            }
        }
    };
    check(&files_at_rest(&s), "while running");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.pid().unwrap())).unwrap();
    let core_line = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    assert_eq!(
        core_line.split_whitespace().skip(4).take(2).collect::<Vec<_>>(),
        ["0", "0"],
        "core dumps are not disabled: {core_line}"
    );
    s.stop_graceful();
    check(&files_at_rest(&s), "after a graceful stop");

    let logs = s.logs();
    // The log really is at trace level: every request left a debug line with its path.
    assert!(
        logs.contains("secret/data/app19") && logs.contains("DEBUG"),
        "the server log has no request lines at debug/trace level:\n{logs}"
    );
    for secret in secrets.iter().chain(&tokens).chain(&keys).chain(&keys_b64) {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret, token or key appears in the server logs"
        );
    }
}

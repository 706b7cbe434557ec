//! `coffer login` against a canned HTTP server: a userpass login answered with a login MFA
//! requirement is completed with `-mfa-passcode` through `sys/mfa/validate`, and the token
//! from that answer is the one stored. Also pins that login sends no stale token.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;

/// One request as the server saw it.
struct Seen {
    head: String,
    body: String,
}

/// Answers one request per connection with the given bodies, in order; reports each request.
fn serve(replies: Vec<&'static str>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for reply in replies {
            let Ok((mut sock, _)) = listener.accept() else { return };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, start) = loop {
                let n = sock.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break (String::from_utf8_lossy(&buf[..pos]).to_string(), pos + 4);
                }
            };
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < start + len {
                let n = sock.read(&mut chunk).unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[start..start + len]).to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
            sock.write_all(resp.as_bytes()).unwrap();
            tx.send(Seen { head, body }).unwrap();
        }
    });
    (addr, rx)
}

const MFA_REQUIRED: &str = r#"{"auth":{"client_token":"","mfa_requirement":{"mfa_request_id":"req-9",
  "mfa_constraints":{"otp":{"any":[{"type":"totp","id":"totp-method-1","uses_passcode":true}]}}}}}"#;
const VALIDATED: &str = r#"{"auth":{"client_token":"cfs_after_mfa","accessor":"acc9","policies":["default"],
  "token_policies":["default"],"lease_duration":3600,"renewable":true}}"#;

#[test]
fn login_mfa_is_validated_with_the_passcode() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".coffer-token"), "cfs_stale_token").unwrap();
    let (addr, seen) = serve(vec![MFA_REQUIRED, VALIDATED]);
    let out = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args([
            "login",
            "-method=userpass",
            "-mfa-passcode=123456",
            "username=alice",
            "password=s3cret-pw",
        ])
        .env("COFFER_ADDR", &addr)
        .env("HOME", home.path())
        .env_remove("COFFER_TOKEN")
        .env_remove("VAULT_TOKEN")
        .env_remove("COFFER_FORMAT")
        .env_remove("COFFER_WRAP_TTL")
        .env_remove("COFFER_MFA_PASSCODE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let login = seen.recv().unwrap();
    assert!(
        login.head.starts_with("POST /v1/auth/userpass/login/alice "),
        "{}",
        login.head
    );
    assert!(
        !login.head.to_ascii_lowercase().contains("x-vault-token"),
        "{}",
        login.head
    );
    let body: serde_json::Value = serde_json::from_str(&login.body).unwrap();
    assert_eq!(body, serde_json::json!({"password": "s3cret-pw"}));

    let validate = seen.recv().unwrap();
    assert!(
        validate.head.starts_with("POST /v1/sys/mfa/validate "),
        "{}",
        validate.head
    );
    let body: serde_json::Value = serde_json::from_str(&validate.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"mfa_request_id": "req-9", "mfa_payload": {"totp-method-1": ["123456"]}})
    );

    assert!(
        stdout.contains("cfs_after_mfa") && stdout.contains("token_duration       1h"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join(".coffer-token")).unwrap(),
        "cfs_after_mfa"
    );
    assert!(!stdout.contains("s3cret-pw") && !stderr.contains("s3cret-pw"));
}

#[test]
fn login_mfa_without_passcode_or_terminal_fails_with_instructions() {
    let home = tempfile::tempdir().unwrap();
    let (addr, _seen) = serve(vec![MFA_REQUIRED]);
    let out = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .args(["login", "-method=userpass", "username=alice", "password=pw"])
        .env("COFFER_ADDR", &addr)
        .env("HOME", home.path())
        .env_remove("COFFER_TOKEN")
        .env_remove("VAULT_TOKEN")
        .env_remove("COFFER_MFA_PASSCODE")
        .env_remove("VAULT_MFA_PASSCODE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("-mfa-passcode") && stderr.contains("req-9"), "{stderr}");
    assert!(!home.path().join(".coffer-token").exists());
}

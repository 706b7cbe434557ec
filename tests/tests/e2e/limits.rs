//! Limits a hostile client cannot push past, against the real binary: JSON structure (400),
//! header size (431), slow bodies (408), slow headers (connection closed), the connection cap,
//! and rate limit quotas (429). The body size limit (413) is covered in `wire.rs`.

use coffer_tests::{CofferServer, Options, StorageKind, errors};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn dev_with(config: &str) -> CofferServer {
    CofferServer::start_with(Options {
        dev: true,
        config: Some(config.to_string()),
        ..Options::new(StorageKind::Memory)
    })
    .await
}

fn port(s: &CofferServer) -> u16 {
    s.addr().rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
}

async fn connect(s: &CofferServer) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port(s))).await.expect("connect")
}

/// A complete keep-alive GET request.
fn get(path: &str) -> Vec<u8> {
    format!("GET /v1/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
}

/// Reads one response: `None` if nothing arrived within `wait` (or the peer closed first).
async fn read_response(stream: &mut TcpStream, wait: Duration) -> Option<(u16, String)> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let parse = |buf: &[u8]| {
        let text = String::from_utf8_lossy(buf).into_owned();
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, text)
    };
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|len| buf.len() >= end + 4 + len) {
                return Some(parse(&buf));
            }
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return (!buf.is_empty()).then(|| parse(&buf)),
        }
    }
}

/// Whether the server closes the connection within `wait` (reading and dropping anything sent).
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// `{"data": {"v": [[...[1]...]]}}` nested `depth` levels in total.
fn nested(depth: usize) -> String {
    let inner = depth - 2;
    format!("{{\"data\":{{\"v\":{}1{}}}}}", "[".repeat(inner), "]".repeat(inner))
}

async fn put_raw(s: &CofferServer, path: &str, body: String) -> (u16, Value) {
    let resp = s
        .client()
        .put(s.url(path))
        .header("X-Vault-Token", s.root())
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    coffer_tests::split(resp).await
}

#[tokio::test]
async fn json_structure_limits_are_400_with_the_limit_named() {
    let s = dev_with(
        "[listener]\nmax_json_depth = 8\nmax_json_string_value_length = 16\n\
         max_json_object_entry_count = 3\nmax_json_array_element_count = 4\n",
    )
    .await;
    let (status, body) = put_raw(&s, "secret/data/deep", nested(8)).await;
    assert_eq!(status, 200, "depth 8 is allowed: {body}");
    let (status, body) = put_raw(&s, "secret/data/deeper", nested(9)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(errors(&body), vec!["JSON nesting depth exceeds 8".to_string()]);
    let (status, _) = s.root_req("GET", "secret/data/deeper", None).await;
    assert_eq!(status, 404, "the refused write stored nothing");

    let cases = [
        (
            json!({"data": {"k": "x".repeat(17)}}),
            "JSON string value exceeds allowed length of 16 bytes",
        ),
        (
            json!({"data": {"a": 1, "b": 2, "c": 3, "d": 4}}),
            "JSON object exceeds allowed entry count of 3",
        ),
        (
            json!({"data": {"a": [1, 2, 3, 4, 5]}}),
            "JSON array exceeds allowed element count of 4",
        ),
    ];
    for (doc, message) in cases {
        let (status, body) = put_raw(&s, "secret/data/x", doc.to_string()).await;
        assert_eq!((status, errors(&body)), (400, vec![message.to_string()]), "{doc}");
    }
    let (status, body) = put_raw(
        &s,
        "secret/data/x",
        json!({"data": {"k": "x".repeat(16), "a": [1, 2, 3, 4]}}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "values at the limits are accepted: {body}");
}

#[tokio::test]
async fn default_json_depth_limit_applies() {
    let s = CofferServer::start_dev().await;
    // serde_json alone would parse depth 100 (its own limit is 128).
    let (status, body) = put_raw(&s, "secret/data/deep", nested(100)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(errors(&body), vec!["JSON nesting depth exceeds 64".to_string()]);
    let (status, body) = put_raw(&s, "secret/data/deep", nested(64)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn oversized_request_headers_are_431() {
    let s = dev_with("[listener]\nmax_header_bytes = 8192\n").await;
    let small = s
        .client()
        .get(s.url("sys/health"))
        .header("X-Pad", "a".repeat(4000))
        .send()
        .await
        .expect("request");
    assert_eq!(small.status(), 200, "headers under the limit are served");
    let mut stream = connect(&s).await;
    let head = format!(
        "GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(9000)
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let (status, text) = read_response(&mut stream, Duration::from_secs(10))
        .await
        .expect("an answer to oversized headers");
    assert_eq!(status, 431, "{text}");
}

#[tokio::test]
async fn body_that_never_completes_is_408() {
    let s = dev_with("[listener]\nhttp_read_timeout = \"1s\"\n").await;
    let mut stream = connect(&s).await;
    let head = format!(
        "PUT /v1/secret/data/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"data\":",
        s.root()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let (status, text) = read_response(&mut stream, Duration::from_secs(15))
        .await
        .expect("an answer to the stalled body");
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("timed out reading the request body"), "{text}");
    let (status, _) = s.root_req("GET", "secret/data/slow", None).await;
    assert_eq!(status, 404, "nothing was written");
}

#[tokio::test]
async fn headers_that_never_complete_are_cut_off() {
    let s = dev_with("[listener]\nhttp_read_header_timeout = \"1s\"\n").await;
    let mut silent = connect(&s).await;
    let mut slow = connect(&s).await;
    slow.write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("write");
    // The default (30 s) would keep both open well past this.
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)).await,
        "a half-sent head is cut off"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(10)).await,
        "a silent connection is cut off"
    );
    let (status, _) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 200, "the server still serves others");
}

#[tokio::test]
async fn connections_beyond_max_connections_wait_their_turn() {
    // A short header timeout closes the harness's idle keep-alive connection, which would
    // otherwise hold one of the two places.
    let s = dev_with("[listener]\nmax_connections = 2\nhttp_read_header_timeout = \"1s\"\n").await;
    let mut held = Vec::new();
    for name in ["first", "second"] {
        let mut stream = connect(&s).await;
        stream.write_all(&get("sys/health")).await.expect("write");
        let answer = read_response(&mut stream, Duration::from_secs(15)).await;
        assert_eq!(answer.map(|a| a.0), Some(200), "the {name} connection is served");
        // Keep it busy: headers of a request whose body never comes (the header timeout no
        // longer applies; the body timeout is the default 30 s).
        stream
            .write_all(b"PUT /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n")
            .await
            .expect("write");
        held.push(stream);
    }
    let mut third = connect(&s).await;
    third.write_all(&get("sys/health")).await.expect("write");
    assert_eq!(
        read_response(&mut third, Duration::from_millis(1500)).await,
        None,
        "a third connection is not served while two are held"
    );
    drop(held.remove(0));
    let answer = read_response(&mut third, Duration::from_secs(15)).await;
    assert_eq!(answer.map(|a| a.0), Some(200), "served once a place is free");
}

async fn login(s: &CofferServer, user: &str, password: &str) -> reqwest::Response {
    s.client()
        .post(s.url(&format!("auth/userpass/login/{user}")))
        .json(&json!({ "password": password }))
        .send()
        .await
        .expect("login request")
}

#[tokio::test]
async fn login_flood_is_rate_limited_while_other_paths_work_and_recovers() {
    let s = CofferServer::start_dev().await;
    let (status, body) = s
        .root_req("POST", "sys/auth/userpass", Some(json!({"type": "userpass"})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s
        .root_req("POST", "auth/userpass/users/alice", Some(json!({"password": "pw"})))
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s
        .root_req(
            "POST",
            "sys/quotas/config",
            Some(json!({"enable_rate_limit_response_headers": true})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s
        .root_req(
            "POST",
            "sys/quotas/rate-limit/logins",
            Some(json!({"path": "auth/userpass/login", "rate": 2, "interval": "4s"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "sys/quotas/rate-limit/logins", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["data"]["type"],
            &body["data"]["path"],
            &body["data"]["rate"],
            &body["data"]["interval"]
        ),
        (
            &json!("rate-limit"),
            &json!("auth/userpass/login"),
            &json!(2.0),
            &json!(4)
        ),
        "{body}"
    );
    let (status, body) = s.root_req("LIST", "sys/quotas/rate-limit", None).await;
    assert_eq!((status, &body["data"]["keys"]), (200, &json!(["logins"])), "{body}");

    // Six guesses at once: the bucket holds two.
    let flood: Vec<_> = (0..6)
        .map(|_| {
            let req = s.client().post(s.url("auth/userpass/login/mallory"));
            tokio::spawn(req.json(&json!({ "password": "guess" })).send())
        })
        .collect();
    let mut limited = 0;
    for task in flood {
        let resp = task.await.expect("task").expect("login request");
        let status = resp.status().as_u16();
        if status == 429 {
            limited += 1;
            assert_eq!(resp.headers()["x-ratelimit-limit"], "2");
            let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=4).contains(&retry), "retry after {retry} s");
            let (_, body) = coffer_tests::split(resp).await;
            assert_eq!(
                errors(&body),
                vec!["request path \"auth/userpass/login/mallory\": rate limit quota exceeded".to_string()]
            );
        } else {
            assert_eq!(status, 400, "a guess that gets through is refused normally");
        }
    }
    assert!(limited >= 1, "the flood met the quota");

    // Other paths are not limited.
    let (status, body) = s
        .root_req("PUT", "secret/data/x", Some(json!({"data": {"a": "b"}})))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.root_req("GET", "auth/token/lookup-self", None).await;
    assert_eq!(status, 200, "{body}");

    // One token comes back every 2 s.
    let mut recovered = None;
    for _ in 0..40 {
        let resp = login(&s, "alice", "pw").await;
        if resp.status() != 429 {
            recovered = Some(coffer_tests::split(resp).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (status, body) = recovered.expect("logins recover after the interval");
    assert_eq!(status, 200, "{body}");
    assert!(body["auth"]["client_token"].is_string(), "{body}");

    let (status, _) = s.root_req("DELETE", "sys/quotas/rate-limit/logins", None).await;
    assert_eq!(status, 204);
    for _ in 0..4 {
        assert_ne!(login(&s, "mallory", "guess").await.status(), 429, "no quota, no limit");
    }
}

#[tokio::test]
async fn quota_api_validates_requires_a_policy_and_persists() {
    let mut s = CofferServer::start_unsealed(StorageKind::Sqlite).await;
    for (body, message) in [
        (json!({"rate": 0}), "'rate' is invalid"),
        (
            json!({"rate": 1, "path": "nosuchmount/"}),
            "invalid mount path \"nosuchmount\"",
        ),
        (
            json!({"rate": 1, "path": "auth/token/", "role": "r"}),
            "role-based rate limit quotas are not supported",
        ),
    ] {
        let (status, resp) = s
            .root_req("POST", "sys/quotas/rate-limit/bad", Some(body.clone()))
            .await;
        assert_eq!((status, errors(&resp)), (400, vec![message.to_string()]), "{body}");
    }
    let (status, body) = s
        .root_req(
            "POST",
            "sys/quotas/rate-limit/lookups",
            Some(json!({"path": "auth/token/lookup-self", "rate": 1, "interval": "1h", "block_interval": "2h"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s
        .root_req(
            "POST",
            "sys/quotas/rate-limit/same",
            Some(json!({"path": "auth/token/lookup-self/", "rate": 5})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(errors(&body)[0].contains("similar properties"), "{body}");

    let (status, body) = s
        .root_req("POST", "auth/token/create", Some(json!({"policies": ["default"]})))
        .await;
    assert_eq!(status, 200, "{body}");
    let user = body["auth"]["client_token"].as_str().unwrap().to_string();
    let (status, _) = s
        .request(
            "POST",
            "sys/quotas/rate-limit/mine",
            Some(&user),
            Some(json!({"rate": 1000})),
        )
        .await;
    assert_eq!(status, 403, "writing quotas needs a policy on sys/quotas");
    let (status, _) = s.request("GET", "sys/quotas/config", Some(&user), None).await;
    assert_eq!(status, 403);

    s.restart().await;
    s.unseal_again().await;
    let (status, body) = s.root_req("GET", "sys/quotas/rate-limit/lookups", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["data"]["path"],
            &body["data"]["interval"],
            &body["data"]["block_interval"]
        ),
        (&json!("auth/token/lookup-self"), &json!(3600), &json!(7200)),
        "the quota survived the restart: {body}"
    );
    let (status, _) = s.root_req("GET", "auth/token/lookup-self", None).await;
    assert_eq!(status, 200);
    let (status, body) = s.root_req("GET", "auth/token/lookup-self", None).await;
    assert_eq!(status, 429, "and is enforced after it: {body}");
    let (status, _) = s
        .request("GET", "auth/token/lookup-self", Some("not-a-token"), None)
        .await;
    assert_eq!(
        status, 429,
        "checked before the token: a bad token is refused as cheaply"
    );

    // Refusals reach the audit log once enable_rate_limit_audit_logging is set.
    let log = s.dir().join("audit.log");
    let options = json!({"type": "file", "options": {"file_path": log.to_str().unwrap()}});
    let (status, body) = s.root_req("POST", "sys/audit/file", Some(options)).await;
    assert_eq!(status, 204, "{body}");
    let refusal = "request path \"auth/token/lookup-self\": rate limit quota exceeded";
    let (status, _) = s.root_req("GET", "auth/token/lookup-self", None).await;
    assert_eq!(status, 429);
    let logged = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("rate limit quota exceeded")
    };
    assert!(!logged(), "not recorded by default");
    let (status, body) = s
        .root_req(
            "POST",
            "sys/quotas/config",
            Some(json!({"enable_rate_limit_audit_logging": true})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.root_req("GET", "sys/quotas/config", None).await;
    assert_eq!(
        (status, &body["data"]["enable_rate_limit_audit_logging"]),
        (200, &json!(true)),
        "{body}"
    );
    let (status, body) = s.root_req("GET", "auth/token/lookup-self", None).await;
    assert_eq!((status, errors(&body)), (429, vec![refusal.to_string()]));
    assert!(logged(), "recorded once enabled");
}

#[tokio::test]
async fn mfa_validate_is_rate_limited_but_health_never_is() {
    let s = CofferServer::start_dev().await;
    for (name, path) in [("mfa", "sys/mfa/validate"), ("health", "sys/health")] {
        let (status, body) = s
            .root_req(
                "POST",
                &format!("sys/quotas/rate-limit/{name}"),
                Some(json!({"path": path, "rate": 1, "interval": "60s"})),
            )
            .await;
        assert!(status == 200 || status == 204, "{status} {body}");
    }
    let attempt = json!({"mfa_request_id": "00000000-0000-0000-0000-000000000000", "mfa_payload": {}});
    let mut statuses = vec![];
    for _ in 0..3 {
        statuses.push(
            s.request("POST", "sys/mfa/validate", None, Some(attempt.clone()))
                .await
                .0,
        );
    }
    assert_ne!(statuses[0], 429, "{statuses:?}");
    assert_eq!(
        statuses[2], 429,
        "passcode guessing on sys/mfa/validate is not limited: {statuses:?}"
    );
    for _ in 0..3 {
        assert_eq!(s.request("GET", "sys/health", None, None).await.0, 200);
    }
}

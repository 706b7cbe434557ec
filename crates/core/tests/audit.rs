//! Audit over a real (in-memory) barrier: entry shape and HMACs, non-HMAC keys, audit-hash,
//! the hash chain and `verify` against edits, deletions, insertions and swaps, rotation,
//! restarts, failing closed, and a dead device catching up from its spool.

use coffer_core::audit::{AuditAuth, AuditBroker, AuditRecord, BrokerOptions, GENESIS_HASH, ProblemKind, verify};
use coffer_core::barrier::Barrier;
use coffer_core::{AliasInfo, Auth, CoreError, Operation, Request, Response};
use coffer_crypto::Keyring;
use coffer_storage::memory::MemoryBackend;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "hunter2-raw-secret-value";
const TOKEN: &str = "cfs_rawclienttoken1234567890";
const ACCESSOR: &str = "accessor-raw-abc";

struct Env {
    barrier: Arc<Barrier>,
    dir: tempfile::TempDir,
    broker: AuditBroker,
}

async fn setup() -> Env {
    let barrier = Arc::new(Barrier::new(Arc::new(MemoryBackend::new())));
    barrier.install(Keyring::generate());
    let dir = tempfile::tempdir().unwrap();
    let broker = load(&barrier, dir.path()).await;
    Env { barrier, dir, broker }
}

async fn load(barrier: &Arc<Barrier>, dir: &Path) -> AuditBroker {
    let options = BrokerOptions {
        spool_dir: Some(dir.join("spool")),
    };
    AuditBroker::load(barrier.clone(), options).await.unwrap()
}

fn opts(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn enable_file(&self, device: &str, file: &Path) {
        let file = file.to_str().unwrap();
        self.broker
            .enable(device, "file", "test", opts(&[("file_path", file)]), false)
            .await
            .unwrap();
    }

    /// One request + response pair.
    async fn roundtrip(&self, i: usize) -> Result<(), CoreError> {
        let req = request(i);
        let auth = auth();
        let rec = record(&req, &auth);
        self.broker.log_request(&rec, None).await?;
        self.broker.log_response(&rec, Ok(&response())).await
    }
}

fn request(i: usize) -> Request {
    let mut req = Request::new(Operation::Update, format!("secret/data/app{i}"))
        .with_data(json!({"data": {"password": SECRET, "user": "bob"}, "options": {"cas": 3}}))
        .with_token(TOKEN);
    req.client_addr = Some("10.1.2.3".parse().unwrap());
    req
}

fn auth() -> AuditAuth {
    AuditAuth {
        accessor: ACCESSOR.into(),
        display_name: "token".into(),
        policies: vec!["default".into(), "dev".into()],
        token_policies: vec!["default".into()],
        entity_id: "ent-1".into(),
        token_type: "service".into(),
        ..Default::default()
    }
}

fn record<'a>(req: &'a Request, auth: &'a AuditAuth) -> AuditRecord<'a> {
    AuditRecord {
        operation: Operation::Create,
        auth: Some(auth),
        mount_type: "kv",
        mount_accessor: "kv_1234",
        ..AuditRecord::new(req)
    }
}

fn response() -> Response {
    let mut resp = Response::data(json!({"password": SECRET, "public": "shown", "version": 2}));
    resp.auth = Some(Auth {
        client_token: "cfs_newtokenraw".into(),
        accessor: "new-accessor-raw".into(),
        policies: vec!["dev".into()],
        ..Default::default()
    });
    let _ = AliasInfo::default();
    resp
}

fn lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn check(file: &Path, expected: Option<&str>) -> coffer_core::audit::VerifyReport {
    verify(std::fs::File::open(file).unwrap(), expected).unwrap()
}

#[tokio::test]
async fn entries_have_vaults_shape_and_hmac_every_secret() {
    let env = setup().await;
    let file = env.path("audit.log");
    env.enable_file("file", &file).await;
    env.roundtrip(1).await.unwrap();
    let raw = std::fs::read_to_string(&file).unwrap();
    for secret in [SECRET, TOKEN, ACCESSOR, "cfs_newtokenraw", "new-accessor-raw"] {
        assert!(!raw.contains(secret), "{secret} appears in the audit log:\n{raw}");
    }
    let h = |s: &str| env.broker.hash("file", s).unwrap();
    assert!(h(SECRET).starts_with("hmac-sha256:"));
    let entries = lines(&file);
    assert_eq!(entries.len(), 2);
    let req = &entries[0];
    assert_eq!(req["type"], "request");
    assert_eq!(req["seq"], 1);
    assert_eq!(req["prev_hash"], GENESIS_HASH);
    assert!(req["time"].as_str().unwrap().contains('T'));
    assert_eq!(req["auth"]["client_token"], h(TOKEN));
    assert_eq!(req["auth"]["accessor"], h(ACCESSOR));
    assert_eq!(req["auth"]["policies"], json!(["default", "dev"]));
    assert_eq!(req["auth"]["token_policies"], json!(["default"]));
    assert_eq!(req["auth"]["entity_id"], "ent-1");
    assert_eq!(req["auth"]["token_type"], "service");
    let r = &req["request"];
    assert_eq!(r["operation"], "create");
    assert_eq!(r["path"], "secret/data/app1");
    assert_eq!(r["mount_type"], "kv");
    assert_eq!(r["mount_accessor"], "kv_1234");
    assert_eq!(r["client_token"], h(TOKEN));
    assert_eq!(r["client_token_accessor"], h(ACCESSOR));
    assert_eq!(r["remote_address"], "10.1.2.3");
    assert_eq!(r["data"]["data"]["password"], h(SECRET));
    assert_eq!(r["data"]["data"]["user"], h("bob"));
    assert_eq!(r["data"]["options"]["cas"], 3, "numbers are kept");
    let resp = &entries[1];
    assert_eq!(resp["type"], "response");
    assert_eq!(resp["seq"], 2);
    assert_eq!(resp["response"]["data"]["password"], h(SECRET));
    assert_eq!(resp["response"]["data"]["version"], 2);
    assert_eq!(resp["response"]["auth"]["client_token"], h("cfs_newtokenraw"));
    assert_eq!(resp["response"]["mount_type"], "kv");
    assert!(check(&file, None).is_intact());
    // Another device has another key.
    env.enable_file("second", &env.path("second.log")).await;
    assert_ne!(env.broker.hash("second", SECRET).unwrap(), h(SECRET));
    assert!(env.broker.hash("absent", SECRET).is_err());
}

#[tokio::test]
async fn non_hmac_keys_are_logged_as_they_are() {
    let env = setup().await;
    let file = env.path("audit.log");
    env.enable_file("file", &file).await;
    let (req, auth) = (request(1), auth());
    let (keep_req, keep_resp) = (vec!["user".to_string()], vec!["public".to_string()]);
    let rec = AuditRecord {
        non_hmac_request_keys: &keep_req,
        non_hmac_response_keys: &keep_resp,
        ..record(&req, &auth)
    };
    env.broker.log_request(&rec, None).await.unwrap();
    env.broker.log_response(&rec, Ok(&response())).await.unwrap();
    let entries = lines(&file);
    assert_eq!(entries[0]["request"]["data"]["data"]["user"], "bob");
    assert_ne!(entries[0]["request"]["data"]["data"]["password"], SECRET);
    assert_eq!(entries[1]["response"]["data"]["public"], "shown");
    assert_ne!(entries[1]["response"]["data"]["password"], SECRET);
    // An error response records the error.
    env.broker
        .log_response(&rec, Err(&CoreError::PermissionDenied))
        .await
        .unwrap();
    assert_eq!(lines(&file)[2]["error"], "permission denied");
}

#[tokio::test]
async fn devices_are_persisted_and_restored_with_their_keys() {
    let env = setup().await;
    env.enable_file("file", &env.path("audit.log")).await;
    let hash = env.broker.hash("file", "x").unwrap();
    assert!(
        env.broker
            .enable("file", "file", "", opts(&[("file_path", "/tmp/other")]), false)
            .await
            .is_err()
    );
    let path = env.path("audit.log");
    let err = env
        .broker
        .enable("dup", "file", "", opts(&[("file_path", path.to_str().unwrap())]), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already written"), "{err}");
    env.broker.shutdown().await;
    let again = load(&env.barrier, env.dir.path()).await;
    let list = again.list();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].path.as_str(),
            list[0].kind.as_str(),
            list[0].description.as_str()
        ),
        ("file/", "file", "test")
    );
    assert_eq!(again.hash("file", "x").unwrap(), hash);
    assert!(again.disable("file").await.unwrap());
    assert!(!again.disable("file").await.unwrap());
    assert!(!load(&env.barrier, env.dir.path()).await.is_enabled());
}

/// Writes 10 lines, applies `tamper` to them, and verifies the result.
async fn tampered(tamper: impl FnOnce(&mut Vec<String>)) -> coffer_core::audit::VerifyReport {
    let env = setup().await;
    let file = env.path("audit.log");
    env.enable_file("file", &file).await;
    for i in 0..5 {
        env.roundtrip(i).await.unwrap();
    }
    let mut lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 10);
    assert!(check(&file, None).is_intact());
    tamper(&mut lines);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    check(&file, None)
}

#[tokio::test]
async fn verify_names_the_edited_line() {
    let report = tampered(|l| l[3] = l[3].replace("secret/data/app1", "secret/data/app9")).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (4, ProblemKind::Edited), "{}", p.message);
    let report = tampered(|l| l[5] = l[5].replacen("\"seq\":6", "\"seq\":60", 1)).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (6, ProblemKind::Edited), "{}", p.message);
    let report = tampered(|l| l[2] = "not json".into()).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (3, ProblemKind::Edited), "{}", p.message);
}

#[tokio::test]
async fn verify_names_the_deleted_line() {
    let report = tampered(|l| drop(l.remove(3))).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (4, ProblemKind::Deleted), "{}", p.message);
    assert!(p.message.contains("seq 4"), "{}", p.message);
    let report = tampered(|l| drop(l.drain(5..7))).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (6, ProblemKind::Deleted), "{}", p.message);
}

#[tokio::test]
async fn verify_names_the_inserted_line() {
    let report = tampered(|l| l.insert(3, r#"{"type":"request","note":"forged"}"#.into())).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (4, ProblemKind::Inserted), "{}", p.message);
    // A replayed copy of an earlier line.
    let report = tampered(|l| {
        let copy = l[1].clone();
        l.insert(6, copy)
    })
    .await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (7, ProblemKind::Inserted), "{}", p.message);
}

#[tokio::test]
async fn verify_names_swapped_lines() {
    let report = tampered(|l| l.swap(3, 4)).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (4, ProblemKind::Reordered), "{}", p.message);
    let report = tampered(|l| l.swap(8, 9)).await;
    let p = report.problem.unwrap();
    assert_eq!((p.line, p.kind), (9, ProblemKind::Reordered), "{}", p.message);
}

#[tokio::test]
async fn rotation_and_restart_continue_the_chain() {
    let env = setup().await;
    let file = env.path("audit.log");
    env.enable_file("file", &file).await;
    env.roundtrip(1).await.unwrap();
    std::fs::rename(&file, env.path("audit.log.1")).unwrap();
    env.broker.reopen();
    env.roundtrip(2).await.unwrap();
    // Moved again without a SIGHUP: the writer notices and reopens at the path.
    std::fs::rename(&file, env.path("audit.log.2")).unwrap();
    env.roundtrip(3).await.unwrap();
    // A restart continues from the file's last line.
    env.broker.shutdown().await;
    let broker = load(&env.barrier, env.dir.path()).await;
    let (req, auth) = (request(4), auth());
    broker.log_request(&record(&req, &auth), None).await.unwrap();
    // A restart onto an empty (just rotated) file continues from the state file.
    broker.shutdown().await;
    std::fs::rename(&file, env.path("audit.log.3")).unwrap();
    let broker = load(&env.barrier, env.dir.path()).await;
    broker.log_request(&record(&req, &auth), None).await.unwrap();
    let files = ["audit.log.1", "audit.log.2", "audit.log.3", "audit.log"].map(|f| env.path(f));
    let mut expected: Option<String> = None;
    let mut seqs = Vec::new();
    for f in &files {
        let report = check(f, expected.as_deref());
        assert!(report.is_intact(), "{}: {:?}", f.display(), report.problem);
        seqs.push((report.first_seq.unwrap(), report.last_seq.unwrap()));
        expected = report.last_hash;
    }
    assert_eq!(seqs, vec![(1, 2), (3, 4), (5, 7), (8, 8)]);
    // Out of order, or with a file missing: the start does not continue.
    let first = check(&files[0], None).last_hash;
    let p = check(&files[2], first.as_deref()).problem.unwrap();
    assert_eq!((p.line, p.kind), (1, ProblemKind::Discontinuous), "{}", p.message);
}

#[tokio::test]
async fn no_device_means_no_auditing_and_a_dead_only_device_fails_closed() {
    let env = setup().await;
    assert!(!env.broker.is_enabled());
    env.roundtrip(1).await.unwrap();
    let dir = env.path("logs");
    std::fs::create_dir(&dir).unwrap();
    env.enable_file("file", &dir.join("audit.log")).await;
    env.roundtrip(2).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let err = env.roundtrip(3).await.unwrap_err();
    assert!(
        matches!(&err, CoreError::Internal(m) if m == "audit log unavailable"),
        "{err:?}"
    );
    assert!(env.broker.lag()[0].entries >= 1);
    assert!(!env.broker.lag()[0].healthy);
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_device_does_not_stall_and_catches_up_from_its_spool() {
    let env = setup().await;
    env.enable_file("good", &env.path("good.log")).await;
    let dead_dir = env.path("dead");
    std::fs::create_dir(&dead_dir).unwrap();
    let dead_file = dead_dir.join("audit.log");
    env.enable_file("dead", &dead_file).await;
    env.roundtrip(0).await.unwrap();
    std::fs::remove_dir_all(&dead_dir).unwrap();
    for i in 1..=10 {
        env.roundtrip(i).await.unwrap();
    }
    let lag = env.broker.lag();
    let dead = lag.iter().find(|l| l.path == "dead/").unwrap();
    assert!(dead.entries >= 19, "{dead:?}");
    assert!(!dead.healthy && dead.last_error.is_some(), "{dead:?}");
    assert_eq!(lag.iter().find(|l| l.path == "good/").unwrap().entries, 0);
    std::fs::create_dir(&dead_dir).unwrap();
    wait_for("the dead device to catch up", || {
        env.broker.lag().iter().all(|l| l.entries == 0)
    })
    .await;
    let report = check(&dead_file, None);
    assert!(report.is_intact(), "{:?}", report.problem);
    // Entries 1–2 reach the old file, or — if the directory vanished before the device wrote
    // them (another device had already made the request durable) — the spool: either way the
    // new file is an intact tail of the chain ending at the last entry.
    assert!(
        report.first_seq.is_some_and(|s| (1..=3).contains(&s)),
        "{:?}",
        report.first_seq
    );
    assert_eq!(report.last_seq, Some(22));
    assert_eq!(check(&env.path("good.log"), None).last_seq, Some(22));
    assert!(env.broker.lag().iter().all(|l| l.healthy));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflowing_spool_leaves_a_gap_marker_that_verify_reports() {
    let env = setup().await;
    env.enable_file("good", &env.path("good.log")).await;
    let dead_dir = env.path("dead");
    std::fs::create_dir(&dead_dir).unwrap();
    let dead_file = dead_dir.join("audit.log");
    let options = opts(&[("file_path", dead_file.to_str().unwrap()), ("spool_max_bytes", "1")]);
    env.broker.enable("dead", "file", "", options, false).await.unwrap();
    std::fs::remove_dir_all(&dead_dir).unwrap();
    for i in 0..5 {
        env.roundtrip(i).await.unwrap();
    }
    let dropped = env.broker.lag().iter().find(|l| l.path == "dead/").unwrap().dropped;
    assert_eq!(dropped, 9);
    std::fs::create_dir(&dead_dir).unwrap();
    wait_for("the dead device to catch up", || {
        env.broker.lag().iter().all(|l| l.entries == 0)
    })
    .await;
    let report = check(&dead_file, None);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.gaps.len(), 1);
    assert_eq!((report.gaps[0].line, report.gaps[0].dropped), (1, 9));
    assert_eq!(report.lines, 2);
}

#[tokio::test]
async fn socket_and_syslog_devices() {
    let env = setup().await;
    // syslog: a clear error when there is no syslog socket.
    let err = env
        .broker
        .enable(
            "syslog",
            "syslog",
            "",
            opts(&[("socket_path", "/nonexistent/log")]),
            false,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/log does not exist"), "{err}");
    let sock_path = env.path("syslog.sock");
    let syslog = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    let options = opts(&[
        ("socket_path", sock_path.to_str().unwrap()),
        ("facility", "local0"),
        ("tag", "cf"),
    ]);
    env.broker.enable("syslog", "syslog", "", options, false).await.unwrap();
    // unix stream socket
    let stream_path = env.path("audit.sock");
    let listener = std::os::unix::net::UnixListener::bind(&stream_path).unwrap();
    let options = opts(&[("address", stream_path.to_str().unwrap()), ("socket_type", "unix")]);
    env.broker.enable("socket", "socket", "", options, false).await.unwrap();
    let (conn, _) = listener.accept().unwrap();
    env.roundtrip(1).await.unwrap();
    let mut buf = vec![0u8; 65536];
    let n = syslog.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.starts_with("<134>cf["), "{msg}");
    assert!(msg.contains("\"seq\":1") && !msg.contains(SECRET), "{msg}");
    let mut reader = std::io::BufReader::new(conn);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (entry["seq"].clone(), entry["type"].clone()),
        (json!(1), json!("request"))
    );
    let err = env
        .broker
        .enable(
            "bad",
            "socket",
            "",
            opts(&[("address", "127.0.0.1:1"), ("socket_type", "tcp")]),
            false,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spool_survives_a_restart() {
    let env = setup().await;
    env.enable_file("good", &env.path("good.log")).await;
    let dead_dir = env.path("dead");
    std::fs::create_dir(&dead_dir).unwrap();
    let dead_file = dead_dir.join("audit.log");
    env.enable_file("dead", &dead_file).await;
    std::fs::remove_dir_all(&dead_dir).unwrap();
    for i in 0..3 {
        env.roundtrip(i).await.unwrap();
    }
    env.broker.shutdown().await;
    std::fs::create_dir(&dead_dir).unwrap();
    let broker = load(&env.barrier, env.dir.path()).await;
    assert!(broker.lag().iter().any(|l| l.entries == 6), "{:?}", broker.lag());
    let (req, auth) = (request(9), auth());
    broker.log_request(&record(&req, &auth), None).await.unwrap();
    wait_for("the spool to drain", || broker.lag().iter().all(|l| l.entries == 0)).await;
    let report = check(&dead_file, None);
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.lines, 7);
    let last = lines(&dead_file).pop().unwrap();
    assert_eq!(last["request"]["path"], "secret/data/app9");
}

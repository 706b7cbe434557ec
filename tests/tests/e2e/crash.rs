//! Crash safety: SIGKILL the server in the middle of a burst of writes; every write that was
//! acknowledged must read back exactly after a restart, and the store must open cleanly.

use coffer_tests::{CofferServer, StorageKind};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TASKS: usize = 8;
const WRITES_PER_TASK: usize = 200;
/// Kill after this many acknowledgements (a third of the burst).
const KILL_AFTER: usize = TASKS * WRITES_PER_TASK / 3;

#[derive(Default)]
struct Record {
    /// (path, value) of every write answered 2xx.
    acked: Vec<(String, String)>,
    /// (path, value) of writes sent but not answered: may or may not have landed.
    in_flight: Vec<(String, String)>,
    /// Per task: highest acknowledged counter overwrite.
    counter_acked: Vec<Option<usize>>,
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let mut s = CofferServer::start(StorageKind::Sqlite).await;
    let (keys, root) = s.init(1, 1).await;
    s.unseal(&keys).await;
    let (status, body) = s
        .root_req(
            "POST",
            "sys/mounts/secret",
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let acks = Arc::new(AtomicUsize::new(0));
    let record = Arc::new(parking_lot_free::Mutex::new(Record {
        counter_acked: vec![None; TASKS],
        ..Default::default()
    }));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let base = s.url("");
    let run = coffer_tests::unique("run");
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let (client, base, root, acks, record, run) = (
            client.clone(),
            base.clone(),
            root.clone(),
            acks.clone(),
            record.clone(),
            run.clone(),
        );
        handles.push(tokio::spawn(async move {
            for i in 0..WRITES_PER_TASK {
                // alternate: a fresh key, then an overwrite of this task's counter key
                let (path, value, counter) = if i % 2 == 0 {
                    (format!("secret/data/t{task}/k{i}"), format!("{run}-{task}-{i}"), None)
                } else {
                    (format!("secret/data/t{task}/counter"), format!("{i}"), Some(i))
                };
                let sent = client
                    .post(format!("{base}{path}"))
                    .header("X-Vault-Token", &root)
                    .json(&json!({"data": {"v": value}}))
                    .send()
                    .await;
                match sent {
                    Ok(resp) if resp.status().is_success() => {
                        let mut r = record.lock();
                        match counter {
                            Some(c) => r.counter_acked[task] = Some(c),
                            None => r.acked.push((path, value)),
                        }
                        drop(r);
                        acks.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(resp) => {
                        // the server answered but refused: not acknowledged, must not be visible
                        // with a torn value; treat like in-flight
                        let _ = resp.bytes().await;
                        if counter.is_none() {
                            record.lock().in_flight.push((path, value));
                        }
                    }
                    Err(_) => {
                        if counter.is_none() {
                            record.lock().in_flight.push((path, value));
                        }
                        return;
                    }
                }
            }
        }));
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    while acks.load(Ordering::SeqCst) < KILL_AFTER && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    s.kill_hard();
    let at_kill = acks.load(Ordering::SeqCst);
    for h in handles {
        h.await.unwrap();
    }
    assert!(
        at_kill >= KILL_AFTER,
        "only {at_kill} writes acknowledged before the deadline\n{}",
        s.logs()
    );

    s.restart().await;
    let (status, body) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 503, "restarted sealed: {body}");
    s.unseal(&keys).await;
    let (status, body) = s.request("GET", "sys/health", None, None).await;
    assert_eq!(status, 200, "store opened cleanly: {body}\n{}", s.logs());

    let record = std::mem::take(&mut *record.lock());
    let total_acked = acks.load(Ordering::SeqCst);
    eprintln!(
        "crash: killed after {at_kill} acknowledgements; {total_acked} acknowledged in all, {} in flight, of {}",
        record.in_flight.len(),
        TASKS * WRITES_PER_TASK
    );
    assert!(
        total_acked < TASKS * WRITES_PER_TASK,
        "the kill landed after the burst: nothing was in flight"
    );
    assert!(!record.acked.is_empty());
    let mut lost = Vec::new();
    for (path, value) in &record.acked {
        let (status, body) = s.request("GET", path, Some(&root), None).await;
        if status != 200 || body["data"]["data"]["v"] != json!(value) {
            lost.push(format!("{path}: {status} {body}"));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost or changed:\n{}",
        lost.len(),
        record.acked.len(),
        lost.join("\n")
    );

    // a write that was in flight landed whole or not at all
    for (path, value) in &record.in_flight {
        let (status, body) = s.request("GET", path, Some(&root), None).await;
        assert!(
            status == 404 || (status == 200 && body["data"]["data"]["v"] == json!(value)),
            "in-flight write {path} is torn: {status} {body}"
        );
    }
    // an overwritten key never goes back before its last acknowledged value
    for (task, acked) in record.counter_acked.iter().enumerate() {
        let Some(acked) = acked else { continue };
        let (status, body) = s
            .request("GET", &format!("secret/data/t{task}/counter"), Some(&root), None)
            .await;
        assert_eq!(status, 200, "{body}");
        let now: usize = body["data"]["data"]["v"].as_str().unwrap().parse().unwrap();
        assert!(now >= *acked, "task {task}: counter rolled back from {acked} to {now}");
        let version = body["data"]["metadata"]["version"].as_u64().unwrap() as usize;
        assert!(
            version >= acked.div_ceil(2),
            "task {task}: version {version} behind {acked} acknowledged overwrites"
        );
    }

    // and the store keeps working
    let (status, body) = s
        .request(
            "POST",
            "secret/data/after-crash",
            Some(&root),
            Some(json!({"data": {"v": "ok"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.request("GET", "secret/data/after-crash", Some(&root), None).await;
    assert_eq!((status, body["data"]["data"]["v"].clone()), (200, json!("ok")));
    let (status, body) = s.request("LIST", "secret/metadata/", Some(&root), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["keys"].as_array().unwrap().len() >= 2, "{body}");
}

/// A tiny mutex wrapper so the test needs no extra dependency.
mod parking_lot_free {
    pub struct Mutex<T>(std::sync::Mutex<T>);
    impl<T> Mutex<T> {
        pub fn new(v: T) -> Self {
            Mutex(std::sync::Mutex::new(v))
        }
        pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

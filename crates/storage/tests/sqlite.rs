//! SQLite-specific behaviour: durability across reopen, sharing one file, group commit.

use coffer_storage::{Op, Physical, SqliteBackend};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn data_persists_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/coffer.db");
    {
        let db = SqliteBackend::open(&path).expect("open creates parent directories");
        db.put("a/1", b"one".to_vec()).await.unwrap();
        db.batch(vec![
            Op::Put {
                key: "a/2".into(),
                value: b"two".to_vec(),
            },
            Op::Put {
                key: "b/1".into(),
                value: vec![0, 255, 0],
            },
        ])
        .await
        .unwrap();
        db.delete("a/1").await.unwrap();
    }
    assert!(path.exists());
    let db = SqliteBackend::open(&path).expect("reopen");
    assert_eq!(db.get("a/1").await.unwrap(), None);
    assert_eq!(db.get("a/2").await.unwrap().as_deref(), Some(&b"two"[..]));
    assert_eq!(db.get("b/1").await.unwrap(), Some(vec![0, 255, 0]));
    assert_eq!(db.list("").await.unwrap(), vec!["a/".to_owned(), "b/".to_owned()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_backends_on_one_file_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let one = SqliteBackend::open(&path).unwrap();
    let two = SqliteBackend::open(&path).unwrap();
    one.put("from/one", b"1".to_vec()).await.unwrap();
    assert_eq!(two.get("from/one").await.unwrap().as_deref(), Some(&b"1"[..]));
    two.put("from/two", b"2".to_vec()).await.unwrap();
    assert_eq!(one.get("from/two").await.unwrap().as_deref(), Some(&b"2"[..]));
    two.delete("from/one").await.unwrap();
    assert_eq!(one.get("from/one").await.unwrap(), None);
    assert_eq!(one.list("from/").await.unwrap(), vec!["two".to_owned()]);

    // Both writers at once: busy waiting, not failure.
    let one = Arc::new(one);
    let two = Arc::new(two);
    let mut tasks = Vec::new();
    for (n, db) in [one.clone(), two.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                db.put(&format!("both/{n}/{i}"), vec![1]).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(one.list("both/0/").await.unwrap().len(), 50);
    assert_eq!(one.list("both/1/").await.unwrap().len(), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_writers_all_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(SqliteBackend::open(&dir.path().join("c.db")).unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { db.put(&format!("k/{i:03}"), vec![i as u8]).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let listed = db.list("k/").await.unwrap();
    assert_eq!(listed.len(), 200);
    assert_eq!(listed[0], "000");
    assert_eq!(listed[199], "199");
}

#[tokio::test(flavor = "multi_thread")]
async fn wide_and_deep_listing() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteBackend::open(&dir.path().join("w.db")).unwrap();
    let mut ops = Vec::new();
    for d in 0..20 {
        for k in 0..200 {
            ops.push(Op::Put {
                key: format!("t/d{d:02}/x/{k}"),
                value: vec![],
            });
        }
        ops.push(Op::Put {
            key: format!("t/leaf{d:02}"),
            value: vec![],
        });
    }
    db.batch(ops).await.unwrap();
    let listed = db.list("t/").await.unwrap();
    assert_eq!(listed.len(), 40);
    assert_eq!(listed[0], "d00/");
    assert_eq!(listed[19], "d19/");
    assert_eq!(listed[20], "leaf00");
    assert_eq!(db.list("t/d05/").await.unwrap(), vec!["x/".to_owned()]);
    assert_eq!(db.list("t/d05/x/").await.unwrap().len(), 200);
}

#[test]
fn open_fails_cleanly_on_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteBackend::open(dir.path()).expect_err("a directory is not a database");
    assert!(err.to_string().starts_with("cannot open storage"), "{err}");
}

/// A request that fails inside a group must not fail (or falsely acknowledge) the others:
/// the writer retries each request of a failed group on its own.
#[tokio::test(flavor = "multi_thread")]
async fn one_failing_request_does_not_fail_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    let db = Arc::new(SqliteBackend::open(&path).unwrap());
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON kv WHEN NEW.key = 'g/poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned key'); END;",
        )
        .unwrap();
    // Hold the write lock so the writer stalls on its first request while the rest queue up
    // and are then committed as one group.
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let first = {
        let db = db.clone();
        tokio::spawn(async move { db.put("g/first", vec![1]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let db = db.clone();
            let key = if i == 20 {
                "g/poison".to_owned()
            } else {
                format!("g/{i:02}")
            };
            tokio::spawn(async move { (key.clone(), db.put(&key, vec![2]).await) })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    other.execute_batch("COMMIT").unwrap();

    first.await.unwrap().expect("first write");
    for task in tasks {
        let (key, outcome) = task.await.unwrap();
        if key == "g/poison" {
            let err = outcome.expect_err("the poisoned write must fail");
            assert!(err.to_string().contains("poisoned key"), "{err}");
            assert_eq!(db.get(&key).await.unwrap(), None, "a failed write is not stored");
        } else {
            outcome.unwrap_or_else(|e| panic!("{key} failed with its group: {e}"));
            assert_eq!(
                db.get(&key).await.unwrap(),
                Some(vec![2]),
                "{key} acknowledged but absent"
            );
        }
    }
    assert_eq!(db.list("g/").await.unwrap().len(), 40); // 39 + "first"
}

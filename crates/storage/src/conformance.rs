//! The conformance suite every `Physical` backend must pass: public checks that panic with a
//! clear message, and [`physical_conformance_tests!`](crate::physical_conformance_tests),
//! which turns them into one `#[tokio::test]` each.
//!
//! ```text
//! mod memory {
//!     coffer_storage::physical_conformance_tests!(std::sync::Arc::new(
//!         coffer_storage::MemoryBackend::new()
//!     ));
//! }
//! ```

use crate::{DynPhysical, Op, StorageError};

/// Expands to one `#[tokio::test(flavor = "multi_thread")]` per conformance check. `$make` is
/// an expression evaluating to a fresh `DynPhysical`; it is evaluated once per test. The
/// calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dependency.
#[macro_export]
macro_rules! physical_conformance_tests {
    ($make:expr) => {
        $crate::physical_conformance_tests!(@each $make;
            get_absent_key,
            put_get_overwrite_delete,
            delete_absent_key,
            list_is_sorted_in_byte_order,
            list_shows_directories_once,
            list_empty_prefix,
            list_prefix_edge_cases,
            list_unicode_keys,
            list_prefix_without_matches,
            large_values,
            concurrent_writers,
            read_your_writes_under_contention,
            batch_applies_everything_in_order,
            failed_batch_applies_nothing,
            delete_prefix_is_exact,
            nul_keys_are_rejected,
        );
    };
    (@each $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $check() {
                let backend: $crate::DynPhysical = $make;
                $crate::conformance::$check(backend).await;
            }
        )*
    };
}

async fn put(b: &DynPhysical, key: &str, value: &[u8]) {
    b.put(key, value.to_vec())
        .await
        .unwrap_or_else(|e| panic!("put {key:?} failed: {e}"));
}

async fn get(b: &DynPhysical, key: &str) -> Option<Vec<u8>> {
    b.get(key).await.unwrap_or_else(|e| panic!("get {key:?} failed: {e}"))
}

async fn list(b: &DynPhysical, prefix: &str) -> Vec<String> {
    b.list(prefix)
        .await
        .unwrap_or_else(|e| panic!("list {prefix:?} failed: {e}"))
}

async fn put_all(b: &DynPhysical, keys: &[&str]) {
    for key in keys {
        put(b, key, key.as_bytes()).await;
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// `get` of a key never written is `None`.
pub async fn get_absent_key(b: DynPhysical) {
    assert_eq!(get(&b, "never/written").await, None, "absent key must read as None");
}

/// A value reads back, an overwrite replaces it, a delete removes it.
pub async fn put_get_overwrite_delete(b: DynPhysical) {
    put(&b, "a/b", b"one").await;
    assert_eq!(get(&b, "a/b").await.as_deref(), Some(&b"one"[..]), "value after put");
    put(&b, "a/b", b"two").await;
    assert_eq!(
        get(&b, "a/b").await.as_deref(),
        Some(&b"two"[..]),
        "value after overwrite"
    );
    put(&b, "a/empty", b"").await;
    assert_eq!(
        get(&b, "a/empty").await,
        Some(Vec::new()),
        "an empty value is not absent"
    );
    b.delete("a/b").await.expect("delete");
    assert_eq!(get(&b, "a/b").await, None, "value after delete");
    assert_eq!(get(&b, "a/empty").await, Some(Vec::new()), "delete touched another key");
}

/// Deleting a key that does not exist succeeds.
pub async fn delete_absent_key(b: DynPhysical) {
    b.delete("nothing/here")
        .await
        .expect("deleting an absent key must succeed");
}

/// `list` output is sorted by byte order (uppercase before lowercase, `-` before `/`).
pub async fn list_is_sorted_in_byte_order(b: DynPhysical) {
    put_all(
        &b,
        &["p/b", "p/a", "p/B", "p/a-", "p/a/x", "p/ab", "p/_", "p/10", "p/9"],
    )
    .await;
    assert_eq!(
        list(&b, "p/").await,
        strings(&["10", "9", "B", "_", "a", "a-", "a/", "ab", "b"]),
        "list must be sorted in byte order"
    );
}

/// Keys under a sub-directory list once as `dir/`, however many and however deep.
pub async fn list_shows_directories_once(b: DynPhysical) {
    put_all(&b, &["r/d/1", "r/d/2", "r/d/e/f/g", "r/d/z", "r/leaf", "r/e/1", "r/d0"]).await;
    assert_eq!(list(&b, "r/").await, strings(&["d/", "d0", "e/", "leaf"]));
    assert_eq!(list(&b, "r/d/").await, strings(&["1", "2", "e/", "z"]));
    assert_eq!(list(&b, "r/d/e/").await, strings(&["f/"]));
}

/// `list("")` shows the top level.
pub async fn list_empty_prefix(b: DynPhysical) {
    assert_eq!(list(&b, "").await, Vec::<String>::new(), "an empty store lists nothing");
    put_all(&b, &["sys/x", "top", "logical/m/k", "logical/n/k", "sys/y/z"]).await;
    assert_eq!(list(&b, "").await, strings(&["logical/", "sys/", "top"]));
}

/// Prefixes that are keys themselves, siblings sharing a stem, `a` vs `a/` vs `a0`.
pub async fn list_prefix_edge_cases(b: DynPhysical) {
    put_all(&b, &["a", "a/b", "a/b/c", "a/bc", "a0", "a/", "ab/c"]).await;
    // "a/" is itself a key: it is not its own child.
    assert_eq!(list(&b, "a/").await, strings(&["b", "b/", "bc"]));
    // "a/b" is a key and a directory; only children strictly under the prefix show.
    assert_eq!(list(&b, "a/b").await, strings(&["/", "c"]));
    assert_eq!(list(&b, "a/b/").await, strings(&["c"]));
    // Without a trailing slash the prefix matches siblings sharing the stem.
    assert_eq!(list(&b, "a").await, strings(&["/", "0", "b/"]));
    assert_eq!(list(&b, "").await, strings(&["a", "a/", "a0", "ab/"]));
}

/// Non-ASCII keys list and sort by UTF-8 bytes.
pub async fn list_unicode_keys(b: DynPhysical) {
    put_all(&b, &["u/é", "u/z", "u/日本/語", "u/ü/x", "u/😀", "u/\u{10FFFF}"]).await;
    assert_eq!(
        list(&b, "u/").await,
        strings(&["z", "é", "ü/", "日本/", "😀", "\u{10FFFF}"])
    );
    assert_eq!(list(&b, "u/日本/").await, strings(&["語"]));
    assert_eq!(get(&b, "u/日本/語").await.as_deref(), Some("u/日本/語".as_bytes()));
    put_all(&b, &["\u{10FFFF}/a", "\u{10FFFF}\u{10FFFF}"]).await;
    assert_eq!(list(&b, "\u{10FFFF}").await, strings(&["/", "\u{10FFFF}"]));
}

/// A prefix matching nothing lists nothing (and is not an error).
pub async fn list_prefix_without_matches(b: DynPhysical) {
    put_all(&b, &["x/1", "y"]).await;
    assert_eq!(list(&b, "nope/").await, Vec::<String>::new());
    assert_eq!(list(&b, "x/1/").await, Vec::<String>::new(), "a leaf has no children");
}

/// A 1 MiB value round-trips byte for byte.
pub async fn large_values(b: DynPhysical) {
    let value: Vec<u8> = (0..1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    b.put("big/value", value.clone()).await.expect("put 1 MiB");
    let back = get(&b, "big/value").await.expect("1 MiB value must be readable");
    assert_eq!(back.len(), value.len(), "1 MiB value length");
    assert!(back == value, "1 MiB value differs after round trip");
}

/// 16 tasks × 50 writes each, all concurrent, all readable afterwards.
pub async fn concurrent_writers(b: DynPhysical) {
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let b = b.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    let key = format!("c/{t}/{i}");
                    b.put(&key, key.clone().into_bytes()).await.expect("concurrent put");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer task panicked");
    }
    for t in 0..16 {
        for i in 0..50 {
            let key = format!("c/{t}/{i}");
            assert_eq!(get(&b, &key).await, Some(key.clone().into_bytes()), "{key} missing");
        }
        assert_eq!(list(&b, &format!("c/{t}/")).await.len(), 50);
    }
}

/// Each writer reads back its own last write while other tasks read and overwrite keys
/// nearby. A smoke test for caches under contention; the exact read/write interleavings
/// are pinned down deterministically in the cache's own unit tests.
pub async fn read_your_writes_under_contention(b: DynPhysical) {
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let b = b.clone();
            tokio::spawn(async move {
                let key = format!("ryw/{}", t % 4);
                let mine = format!("ryw/own/{t}");
                for i in 0..40u32 {
                    let value = i.to_be_bytes().to_vec();
                    b.put(&mine, value.clone()).await.expect("put");
                    let back = b.get(&mine).await.expect("get");
                    assert_eq!(
                        back.as_ref(),
                        Some(&value),
                        "task {t} read a stale value of {mine} at {i}"
                    );
                    b.put(&key, value).await.expect("put shared");
                    let _ = b.get(&key).await.expect("get shared");
                    let _ = b.get(&format!("ryw/own/{}", (t + 1) % 8)).await.expect("get other");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked");
    }
}

/// A batch of puts and deletes is applied whole, in order.
pub async fn batch_applies_everything_in_order(b: DynPhysical) {
    b.batch(Vec::new()).await.expect("an empty batch succeeds");
    put_all(&b, &["bt/old", "bt/keep"]).await;
    let ops = vec![
        Op::Put {
            key: "bt/1".into(),
            value: b"1".to_vec(),
        },
        Op::Put {
            key: "bt/2".into(),
            value: b"2".to_vec(),
        },
        Op::Delete { key: "bt/old".into() },
        Op::Put {
            key: "bt/3".into(),
            value: b"x".to_vec(),
        },
        Op::Delete { key: "bt/3".into() },
        Op::Delete { key: "bt/4".into() },
        Op::Put {
            key: "bt/4".into(),
            value: b"4".to_vec(),
        },
        Op::Put {
            key: "bt/1".into(),
            value: b"1b".to_vec(),
        },
    ];
    b.batch(ops).await.expect("batch");
    assert_eq!(get(&b, "bt/1").await.as_deref(), Some(&b"1b"[..]), "later op wins");
    assert_eq!(get(&b, "bt/2").await.as_deref(), Some(&b"2"[..]));
    assert_eq!(get(&b, "bt/3").await, None, "put then delete leaves nothing");
    assert_eq!(
        get(&b, "bt/4").await.as_deref(),
        Some(&b"4"[..]),
        "delete then put leaves the value"
    );
    assert_eq!(get(&b, "bt/old").await, None);
    assert_eq!(list(&b, "bt/").await, strings(&["1", "2", "4", "keep"]));
}

/// A batch holding an invalid key fails and leaves nothing applied, not even earlier ops.
pub async fn failed_batch_applies_nothing(b: DynPhysical) {
    put_all(&b, &["fb/existing", "fb/sub/x"]).await;
    let ops = vec![
        Op::Put {
            key: "fb/new".into(),
            value: b"n".to_vec(),
        },
        Op::Delete {
            key: "fb/existing".into(),
        },
        Op::DeletePrefix {
            prefix: "fb/sub/".into(),
        },
        Op::Put {
            key: "fb/bad\0key".into(),
            value: b"b".to_vec(),
        },
    ];
    let err = b.batch(ops).await.expect_err("a batch with a NUL key must fail");
    assert!(matches!(err, StorageError::Backend(_)), "unexpected error {err:?}");
    assert_eq!(get(&b, "fb/new").await, None, "failed batch applied a put");
    assert!(get(&b, "fb/existing").await.is_some(), "failed batch applied a delete");
    assert!(
        get(&b, "fb/sub/x").await.is_some(),
        "failed batch applied a prefix delete"
    );
}

/// `DeletePrefix` deletes exactly the keys starting with the prefix.
pub async fn delete_prefix_is_exact(b: DynPhysical) {
    put_all(
        &b,
        &["a", "a/", "a/1", "a/b/c", "a0", "a/\u{10FFFF}", "a-", "b/1", "A/1"],
    )
    .await;
    assert_eq!(
        get(&b, "a/1").await.as_deref(),
        Some(&b"a/1"[..]),
        "warm a cache, if any"
    );
    b.batch(vec![Op::DeletePrefix { prefix: "a/".into() }])
        .await
        .expect("delete prefix");
    for gone in ["a/", "a/1", "a/b/c", "a/\u{10FFFF}"] {
        assert_eq!(get(&b, gone).await, None, "{gone:?} survived DeletePrefix(\"a/\")");
    }
    for kept in ["a", "a0", "a-", "b/1", "A/1"] {
        assert!(
            get(&b, kept).await.is_some(),
            "{kept:?} was deleted by DeletePrefix(\"a/\")"
        );
    }
    assert_eq!(list(&b, "").await, strings(&["A/", "a", "a-", "a0", "b/"]));
    b.batch(vec![Op::DeletePrefix { prefix: String::new() }])
        .await
        .expect("delete all");
    assert_eq!(
        list(&b, "").await,
        Vec::<String>::new(),
        "DeletePrefix(\"\") deletes everything"
    );
}

/// Keys and prefixes containing NUL are rejected with `Backend("invalid key")`.
pub async fn nul_keys_are_rejected(b: DynPhysical) {
    let invalid = |r: Result<_, StorageError>, what: &str| match r {
        Err(StorageError::Backend(m)) if m == "invalid key" => {}
        other => panic!(
            "{what} with a NUL key must fail with \"invalid key\", got {:?}",
            other.err()
        ),
    };
    invalid(b.put("x\0", b"v".to_vec()).await, "put");
    invalid(b.get("x\0").await.map(|_| ()), "get");
    invalid(b.delete("x\0").await, "delete");
    invalid(b.list("x\0/").await.map(|_| ()), "list");
    invalid(
        b.batch(vec![Op::DeletePrefix { prefix: "\0".into() }]).await,
        "DeletePrefix",
    );
    assert_eq!(list(&b, "").await, Vec::<String>::new(), "nothing was written");
}

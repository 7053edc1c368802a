//! The conformance suite every [`Store`] backend must pass.
//!
//! One suite, called from each backend's own `#[tokio::test]`, is what lets services be tested
//! against the in-memory store and still trust SQLite and PostgreSQL to behave the same (style
//! rule 6, after garage's `db/test.rs`). It lives in the library, not under `cfg(test)`, so that
//! backends in other crates can run it too.
//!
//! ```no_run
//! # async fn example() {
//! tclocal_store::testsuite::conformance(&tclocal_store::MemoryStore::new()).await;
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::{Batch, Op, Store};

/// Runs every conformance check against `store`, panicking with the check's name on the first
/// failure.
///
/// It clears the whole store, so give it a scratch store. "Concurrent" checks poll many futures
/// at once on the calling task (a `&dyn Store` cannot move into spawned tasks); the backends' own
/// tests add checks with truly parallel tasks.
pub async fn conformance(store: &dyn Store) {
    assert!(!store.describe().is_empty(), "describe() names the backend");
    reset(store).await;
    get_missing(store).await;
    put_get(store).await;
    overwrite(store).await;
    delete(store).await;
    scan_prefix_order(store).await;
    scan_isolation(store).await;
    batch_order(store).await;
    batch_atomicity(store).await;
    clear_one_table(store).await;
    clear_all(store).await;
    table_listing(store).await;
    binary_values(store).await;
    unicode_keys(store).await;
    large_batch(store).await;
    concurrent_commits(store).await;
    enqueue_keeps_order(store).await;
    scan_each_streams(store).await;
    reset(store).await;
}

const A: &str = "conformance.a";
const B: &str = "conformance.b";

async fn reset(store: &dyn Store) {
    store.clear(None).await.expect("clear(None)");
}

async fn commit(store: &dyn Store, what: &str, batch: Batch) {
    store
        .commit(batch)
        .await
        .unwrap_or_else(|e| panic!("{what}: commit failed: {e}"));
}

async fn put(store: &dyn Store, table: &str, key: &str, value: &[u8]) {
    let mut batch = Batch::new();
    batch.put(table, key, value);
    commit(store, "put", batch).await;
}

async fn get(store: &dyn Store, table: &str, key: &str) -> Option<Vec<u8>> {
    store
        .get(table, key)
        .await
        .unwrap_or_else(|e| panic!("get({table:?}, {key:?}) failed: {e}"))
}

async fn scan(store: &dyn Store, table: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    store
        .scan(table, prefix)
        .await
        .unwrap_or_else(|e| panic!("scan({table:?}, {prefix:?}) failed: {e}"))
}

async fn keys(store: &dyn Store, table: &str, prefix: &str) -> Vec<String> {
    scan(store, table, prefix)
        .await
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Polls all futures concurrently on the current task, without spawning (no `'static` needed).
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

async fn get_missing(store: &dyn Store) {
    assert_eq!(get(store, A, "missing").await, None, "get_missing");
    assert_eq!(
        get(store, "conformance.never-written", "x").await,
        None,
        "get_missing: unknown table"
    );
    assert!(scan(store, A, "").await.is_empty(), "get_missing: scan");
    assert!(
        scan(store, "conformance.never-written", "")
            .await
            .is_empty(),
        "get_missing: scan of unknown table"
    );
}

async fn put_get(store: &dyn Store) {
    put(store, A, "k", b"v1").await;
    assert_eq!(
        get(store, A, "k").await.as_deref(),
        Some(&b"v1"[..]),
        "put_get"
    );
    store
        .commit(Batch::new())
        .await
        .expect("put_get: an empty batch commits");
    reset(store).await;
}

async fn overwrite(store: &dyn Store) {
    put(store, A, "k", b"first").await;
    put(store, A, "k", b"second, longer value").await;
    assert_eq!(
        scan(store, A, "").await,
        vec![("k".to_owned(), b"second, longer value".to_vec())],
        "overwrite: one row with the new value"
    );
    put(store, A, "k", b"").await;
    assert_eq!(
        get(store, A, "k").await,
        Some(Vec::new()),
        "overwrite: an empty value is a value, not a delete"
    );
    reset(store).await;
}

async fn delete(store: &dyn Store) {
    put(store, A, "k", b"v").await;
    put(store, A, "other", b"o").await;
    let mut batch = Batch::new();
    batch.delete(A, "k");
    commit(store, "delete", batch).await;
    assert_eq!(get(store, A, "k").await, None, "delete: row gone");
    assert_eq!(
        get(store, A, "other").await.as_deref(),
        Some(&b"o"[..]),
        "delete: other rows stay"
    );
    let mut batch = Batch::new();
    batch
        .delete(A, "k")
        .delete(A, "never-existed")
        .delete("conformance.never-written", "x");
    commit(
        store,
        "delete: deleting missing keys is not an error",
        batch,
    )
    .await;
    reset(store).await;
}

async fn scan_prefix_order(store: &dyn Store) {
    // Written out of order; includes neighbours just outside the prefix on both sides, LIKE
    // wildcards, and multi-byte characters whose byte order differs from naive char-by-char
    // comparisons of UTF-16.
    let written = [
        "user/b",
        "users",
        "user/a/1",
        "user",
        "user/\u{10FFFF}",
        "user/é",
        "user/a",
        "user/z",
        "user0",
        "use",
        "user.",
        "user/%",
        "user/_",
        "user/\u{FF5E}",
        "user/\u{1F980}",
        "v",
        "",
    ];
    let mut batch = Batch::new();
    for key in written {
        batch.put(A, key, key.as_bytes());
    }
    commit(store, "scan_prefix_order", batch).await;

    let mut all = strings(&written);
    all.sort();
    assert_eq!(
        keys(store, A, "").await,
        all,
        "scan_prefix_order: whole table"
    );
    let rows = scan(store, A, "").await;
    assert!(
        rows.iter().all(|(key, value)| value == key.as_bytes()),
        "scan_prefix_order: values travel with their keys"
    );

    let mut expected: Vec<String> = all
        .iter()
        .filter(|k| k.starts_with("user/"))
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(
        keys(store, A, "user/").await,
        expected,
        "scan_prefix_order: prefix 'user/'"
    );
    assert_eq!(
        keys(store, A, "user/a").await,
        strings(&["user/a", "user/a/1"]),
        "scan_prefix_order: a key equal to the prefix is included"
    );
    assert_eq!(
        keys(store, A, "user/%").await,
        strings(&["user/%"]),
        "scan_prefix_order: % is not a wildcard"
    );
    assert_eq!(
        keys(store, A, "user/_").await,
        strings(&["user/_"]),
        "scan_prefix_order: _ is not a wildcard"
    );
    assert_eq!(
        keys(store, A, "user/\u{10FFFF}").await,
        strings(&["user/\u{10FFFF}"]),
        "scan_prefix_order: prefix ending in the largest code point"
    );
    assert!(
        keys(store, A, "user/q").await.is_empty(),
        "scan_prefix_order: no match"
    );
    assert!(
        keys(store, A, "w").await.is_empty(),
        "scan_prefix_order: prefix past the last key"
    );
    reset(store).await;
}

async fn scan_isolation(store: &dyn Store) {
    let mut batch = Batch::new();
    for key in ["x/1", "x/2", "y/1"] {
        batch.put(A, key, b"a".to_vec());
        batch.put(B, key, b"b".to_vec());
    }
    // A table whose name extends A's must not leak into A's scans.
    batch.put(format!("{A}x"), "x/3", b"ax".to_vec());
    commit(store, "scan_isolation", batch).await;
    assert_eq!(
        scan(store, A, "x/").await,
        vec![
            ("x/1".to_owned(), b"a".to_vec()),
            ("x/2".to_owned(), b"a".to_vec())
        ],
        "scan_isolation: table A, prefix x/"
    );
    assert_eq!(
        scan(store, B, "y/").await,
        vec![("y/1".to_owned(), b"b".to_vec())],
        "scan_isolation: table B, prefix y/"
    );
    assert_eq!(
        get(store, B, "x/3").await,
        None,
        "scan_isolation: get does not cross tables"
    );
    reset(store).await;
}

async fn batch_order(store: &dyn Store) {
    let mut batch = Batch::new();
    batch
        .put(A, "put-then-delete", b"1".to_vec())
        .delete(A, "put-then-delete")
        .delete(A, "delete-then-put")
        .put(A, "delete-then-put", b"2".to_vec())
        .put(A, "put-twice", b"old".to_vec())
        .put(A, "put-twice", b"new".to_vec());
    commit(store, "batch_order", batch).await;
    assert_eq!(
        scan(store, A, "").await,
        vec![
            ("delete-then-put".to_owned(), b"2".to_vec()),
            ("put-twice".to_owned(), b"new".to_vec())
        ],
        "batch_order: later ops on the same key win"
    );
    reset(store).await;
}

/// State `n` of the swap: keys "k0".."k9" all hold `n`, plus one marker row `only-<n>`.
fn swap_state(n: u8) -> Vec<(String, Vec<u8>)> {
    let mut rows: Vec<(String, Vec<u8>)> = (0..10).map(|i| (format!("k{i}"), vec![n])).collect();
    rows.push((format!("only-{n}"), vec![n]));
    rows.sort();
    rows
}

async fn batch_atomicity(store: &dyn Store) {
    let mut batch = Batch::new();
    for (key, value) in swap_state(0) {
        batch.put(A, key, value);
    }
    commit(store, "batch_atomicity: setup", batch).await;

    const ROUNDS: u8 = 40;
    let writer = async {
        for round in 1..=ROUNDS {
            let (old, new) = ((round - 1) % 2, round % 2);
            let mut batch = Batch::new();
            batch.delete(A, format!("only-{old}"));
            for (key, value) in swap_state(new) {
                batch.put(A, key, value);
            }
            commit(store, "batch_atomicity", batch).await;
            assert_eq!(
                scan(store, A, "").await,
                swap_state(new),
                "batch_atomicity: a committed batch is fully visible"
            );
            tokio::task::yield_now().await;
        }
    };
    let reader = async {
        for _ in 0..(ROUNDS as usize * 3) {
            let seen = scan(store, A, "").await;
            assert!(
                seen == swap_state(0) || seen == swap_state(1),
                "batch_atomicity: a reader saw a half-applied batch: {seen:?}"
            );
            tokio::task::yield_now().await;
        }
    };
    tokio::join!(writer, reader);
    reset(store).await;
}

async fn clear_one_table(store: &dyn Store) {
    let mut batch = Batch::new();
    batch
        .put(A, "1", b"a".to_vec())
        .put(A, "2", b"a".to_vec())
        .put(B, "1", b"b".to_vec());
    commit(store, "clear_one_table", batch).await;
    store
        .clear(Some(A))
        .await
        .expect("clear_one_table: clear(Some(A))");
    assert!(
        scan(store, A, "").await.is_empty(),
        "clear_one_table: A empty"
    );
    assert_eq!(
        scan(store, B, "").await,
        vec![("1".to_owned(), b"b".to_vec())],
        "clear_one_table: B untouched"
    );
    store
        .clear(Some("conformance.never-written"))
        .await
        .expect("clear_one_table: clearing an unknown table is not an error");
    put(store, A, "after", b"x").await;
    assert_eq!(
        keys(store, A, "").await,
        strings(&["after"]),
        "clear_one_table: a cleared table can be written again"
    );
    reset(store).await;
}

async fn clear_all(store: &dyn Store) {
    let mut batch = Batch::new();
    batch.put(A, "1", b"a".to_vec()).put(B, "1", b"b".to_vec());
    commit(store, "clear_all", batch).await;
    store.clear(None).await.expect("clear_all: clear(None)");
    assert!(scan(store, A, "").await.is_empty(), "clear_all: A empty");
    assert!(scan(store, B, "").await.is_empty(), "clear_all: B empty");
    assert_eq!(get(store, B, "1").await, None, "clear_all: get after clear");
}

async fn list_tables(store: &dyn Store) -> Vec<String> {
    store.tables().await.expect("tables()")
}

/// `tables()` lists exactly the non-empty tables, in byte order, and forgets emptied ones.
async fn table_listing(store: &dyn Store) {
    assert!(
        list_tables(store).await.is_empty(),
        "table_listing: empty store"
    );
    let mut batch = Batch::new();
    batch
        .put(B, "1", b"b".to_vec())
        .put(A, "1", b"a".to_vec())
        .put(A, "2", b"a".to_vec());
    commit(store, "table_listing", batch).await;
    assert_eq!(
        list_tables(store).await,
        vec![A.to_owned(), B.to_owned()],
        "table_listing: both"
    );
    let mut batch = Batch::new();
    batch.delete(B, "1");
    commit(store, "table_listing delete", batch).await;
    assert_eq!(
        list_tables(store).await,
        vec![A.to_owned()],
        "table_listing: emptied B is gone"
    );
    store.clear(None).await.expect("table_listing: clear");
    assert!(
        list_tables(store).await.is_empty(),
        "table_listing: cleared"
    );
}

async fn binary_values(store: &dyn Store) {
    let every_byte: Vec<u8> = (0..=255u8).rev().collect();
    let tricky = b"\0\xff\xfe\0\x80a\0 not utf-8: \xc3\x28 \xed\xa0\x80\0".to_vec();
    let mut batch = Batch::new();
    batch
        .put(A, "every-byte", every_byte.clone())
        .put(A, "tricky", tricky.clone())
        .put(A, "nul", vec![0])
        .put(A, "empty", Vec::new());
    commit(store, "binary_values", batch).await;
    assert_eq!(
        get(store, A, "every-byte").await,
        Some(every_byte),
        "binary_values: all 256 bytes"
    );
    assert_eq!(
        get(store, A, "tricky").await,
        Some(tricky),
        "binary_values: NULs and invalid UTF-8"
    );
    assert_eq!(
        get(store, A, "nul").await,
        Some(vec![0]),
        "binary_values: a lone NUL"
    );
    assert_eq!(
        get(store, A, "empty").await,
        Some(Vec::new()),
        "binary_values: empty"
    );
    reset(store).await;
}

async fn unicode_keys(store: &dyn Store) {
    let written = [
        "实例/ins-中文",
        "インスタンス/一",
        "ключ",
        "emoji/🦀",
        "quote ' double \" back \\ percent % under _",
        "tab\tnew\nline",
        " leading and trailing ",
    ];
    let table = "conformance.表";
    let mut batch = Batch::new();
    for (i, key) in written.iter().enumerate() {
        batch.put(table, *key, vec![i as u8]);
    }
    commit(store, "unicode_keys", batch).await;
    for (i, key) in written.iter().enumerate() {
        assert_eq!(
            get(store, table, key).await,
            Some(vec![i as u8]),
            "unicode_keys: get {key:?}"
        );
    }
    let mut expected = strings(&written);
    expected.sort();
    assert_eq!(
        keys(store, table, "").await,
        expected,
        "unicode_keys: scan order is byte order"
    );
    assert_eq!(
        keys(store, table, "实例/").await,
        strings(&["实例/ins-中文"]),
        "unicode_keys: unicode prefix"
    );
    reset(store).await;
}

async fn large_batch(store: &dyn Store) {
    let mut batch = Batch::new();
    for i in 0..1000 {
        batch.put(A, format!("row/{i:04}"), format!("value {i}").into_bytes());
    }
    assert_eq!(batch.len(), 1000);
    commit(store, "large_batch", batch).await;
    let rows = scan(store, A, "row/").await;
    assert_eq!(rows.len(), 1000, "large_batch: all rows");
    assert_eq!(
        rows[999],
        ("row/0999".to_owned(), b"value 999".to_vec()),
        "large_batch: last row"
    );
    let batch: Batch = (0..1000)
        .map(|i| Op::Delete {
            table: A.to_owned(),
            key: format!("row/{i:04}"),
        })
        .collect();
    commit(store, "large_batch: delete", batch).await;
    assert!(
        scan(store, A, "").await.is_empty(),
        "large_batch: all deleted"
    );
    reset(store).await;
}

async fn concurrent_commits(store: &dyn Store) {
    const TASKS: usize = 16;
    const COMMITS: usize = 8;
    let tasks = (0..TASKS).map(|task| async move {
        for i in 0..COMMITS {
            let mut batch = Batch::new();
            batch
                .put(A, format!("task{task:02}/{i}"), vec![task as u8])
                .put(B, format!("task{task:02}/{i}"), vec![i as u8]);
            store
                .commit(batch)
                .await
                .unwrap_or_else(|e| panic!("concurrent_commits: task {task} failed: {e}"));
        }
    });
    join_all(tasks.collect()).await;
    let rows = scan(store, A, "task").await;
    assert_eq!(rows.len(), TASKS * COMMITS, "concurrent_commits: table A");
    assert_eq!(
        scan(store, B, "task").await.len(),
        TASKS * COMMITS,
        "concurrent_commits: table B"
    );
    for task in 0..TASKS {
        assert_eq!(
            keys(store, A, &format!("task{task:02}/")).await.len(),
            COMMITS,
            "concurrent_commits: every commit of task {task}"
        );
    }
    reset(store).await;
}

/// Batches queued one after another apply in queue order even when their waits are awaited
/// in the opposite order, and every wait reports success.
async fn enqueue_keeps_order(store: &dyn Store) {
    reset(store).await;
    let mut waits = Vec::new();
    for i in 0..20u8 {
        let mut batch = Batch::new();
        batch.put(A, "k", vec![i]);
        if i % 2 == 1 {
            batch.delete(A, format!("gone-{}", i - 1));
        }
        batch.put(A, format!("gone-{i}"), vec![i]);
        waits.push(store.enqueue(batch).await.expect("enqueue"));
    }
    while let Some(wait) = waits.pop() {
        wait.await.expect("enqueued batch is durable");
    }
    assert_eq!(
        get(store, A, "k").await,
        Some(vec![19]),
        "enqueue: last queued wins"
    );
    let left: Vec<String> = scan(store, A, "gone-")
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut want: Vec<String> = (0..20u8)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("gone-{i}"))
        .collect();
    want.sort(); // key order
    assert_eq!(
        left, want,
        "enqueue: deletes apply after the puts queued before them"
    );
}

/// `scan_each` visits the same rows as `scan`, in key order, including more rows than one
/// chunk of a streaming backend; an error from the callback stops the scan and comes back.
async fn scan_each_streams(store: &dyn Store) {
    reset(store).await;
    let mut batch = Batch::new();
    for i in 0..1000u32 {
        batch.put(A, format!("p/{i:05}"), i.to_be_bytes().to_vec());
    }
    batch.put(A, "q/after", b"x".to_vec());
    batch.put(B, "p/other-table", b"y".to_vec());
    commit(store, "scan_each", batch).await;
    let mut seen = Vec::new();
    store
        .scan_each(A, "p/", &mut |k, v| {
            seen.push((k.to_owned(), v.to_vec()));
            Ok(())
        })
        .await
        .expect("scan_each");
    assert_eq!(
        seen,
        scan(store, A, "p/").await,
        "scan_each: same rows as scan"
    );
    assert_eq!(seen.len(), 1000, "scan_each: every row of the prefix");
    let mut calls = 0;
    let stopped = store
        .scan_each(A, "", &mut |_, _| {
            calls += 1;
            if calls == 300 {
                return Err(crate::StoreError::Backend("stop here".to_owned()));
            }
            Ok(())
        })
        .await;
    assert_eq!(
        stopped,
        Err(crate::StoreError::Backend("stop here".to_owned())),
        "scan_each: the callback's error comes back"
    );
    assert_eq!(calls, 300, "scan_each: no call after the error");
}

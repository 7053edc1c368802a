//! Embedded SQLite backend: the default store, one file under `--data-dir`.
//!
//! Durability: the file runs in WAL mode. With the default `synchronous=NORMAL` a commit is written
//! to the WAL before `commit` returns, so it survives a crash of the process (`kill -9`, panic,
//! abort); only a power loss or OS crash can lose the most recent transactions, and the file stays
//! consistent even then. `SqliteOptions { synchronous_full: true }` also fsyncs the WAL on every
//! commit, which makes commits survive power loss at the price of one fsync per group.
//!
//! Threads: writes go to the writer thread in [`writer`] (group commit). Reads use a second
//! connection; see [`SqliteStore`] for why.

mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::{Batch, Durable, Result, RowFn, Store, StoreError, prefix_upper_bound};
use writer::{Write, Writer};

pub use writer::CommitStats;

/// How long a connection waits for a lock held by another connection before failing. Only a
/// checkpoint or a second process touching the file can hold one, and both are brief.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes the WAL file is cut back to after a checkpoint (`PRAGMA journal_size_limit`).
const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// Turns a SQLite error into a [`StoreError::Backend`] naming the operation. SQLite's messages
/// carry no bound values (every value is a parameter), so no stored secret can leak through here.
fn sql_error(operation: &str, err: &rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {operation}: {err}"))
}

/// Tuning of a [`SqliteStore`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqliteOptions {
    /// `PRAGMA synchronous=FULL`: fsync the WAL at every commit so commits also survive power loss.
    /// The default (`NORMAL`) already survives a process crash and is much faster on slow disks.
    pub synchronous_full: bool,
}

/// A [`Store`] in one SQLite file.
///
/// Writes: one dedicated writer thread owns the write connection and groups concurrent commits into
/// one SQLite transaction (see the `writer` module). Reads: a second connection behind a mutex,
/// used from `tokio::task::spawn_blocking`. In WAL mode a reader sees the last committed state
/// without waiting for the writer, so a start-up load or a scan never queues behind a group that is
/// busy writing, and the writer thread stays free to batch. One read connection is enough because
/// services serve reads from their in-memory indexes and read the store mostly at start-up.
///
/// Dropping the store flushes the queued commits and stops the writer thread before returning.
pub struct SqliteStore {
    path: PathBuf,
    // Field order matters: the writer is dropped (flushed and joined) before the read connection
    // closes, so the last connection to close checkpoints the WAL.
    writer: Writer,
    reader: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` with default options.
    ///
    /// The parent directory must exist. Runs pending schema migrations; refuses a database written
    /// by a newer tclocal with [`StoreError::SchemaTooNew`].
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens the database file at `path` with explicit options.
    pub fn open_with(path: &Path, options: SqliteOptions) -> Result<Self> {
        let context = |what: &str, err: &rusqlite::Error| {
            StoreError::Backend(format!("sqlite: {what} {}: {err}", path.display()))
        };
        let mut conn = Connection::open(path).map_err(|e| context("cannot open", &e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| context("cannot configure", &e))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| context("cannot enable WAL on", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "sqlite: {} does not support WAL mode (got {mode}); use a local filesystem",
                path.display()
            )));
        }
        let synchronous = if options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.pragma_update(None, "synchronous", synchronous)
            .map_err(|e| context("cannot configure", &e))?;
        // A checkpoint rewinds the WAL but leaves the file at its high-water mark; one large
        // import would otherwise keep that much disk for as long as the store is open.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(|e| context("cannot configure", &e))?;
        schema::migrate(&mut conn)?;

        // Opened after the migrations so it never sees a file without the schema.
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| context("cannot open", &e))?;
        reader
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| context("cannot configure", &e))?;
        // A read-write handle (a read-only one cannot always open a WAL file), made unable to write
        // so every write provably goes through the writer thread.
        reader
            .pragma_update(None, "query_only", true)
            .map_err(|e| context("cannot configure", &e))?;

        let writer = Writer::spawn(conn, "tclocal-store-writer".to_owned())?;
        Ok(Self {
            path: path.to_owned(),
            writer,
            reader: Arc::new(Mutex::new(reader)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the writer thread has done so far.
    pub fn stats(&self) -> CommitStats {
        self.writer.stats()
    }

    /// Runs `read` on the read connection in tokio's blocking pool, so SQLite's blocking calls never
    /// stall an async worker thread; the mutex is only taken inside that blocking thread.
    async fn read<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || read(&reader.lock()))
            .await
            .map_err(|e| StoreError::Backend(format!("sqlite: read task failed: {e}")))?
    }
}

fn read_rows(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut statement = conn
        .prepare_cached(sql)
        .map_err(|e| sql_error("prepare scan", &e))?;
    let rows = statement
        .query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(|e| sql_error("scan", &e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sql_error("scan", &e))
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let (table, key) = (table.to_owned(), key.to_owned());
        self.read(move |conn| {
            conn.prepare_cached("SELECT value FROM kv WHERE tbl = ?1 AND key = ?2")
                .and_then(|mut statement| {
                    statement
                        .query_row(params![table, key], |row| row.get(0))
                        .optional()
                })
                .map_err(|e| sql_error("get", &e))
        })
        .await
    }

    async fn scan(&self, table: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let (table, prefix) = (table.to_owned(), prefix.to_owned());
        self.read(move |conn| match prefix_upper_bound(&prefix) {
            Some(bound) => read_rows(
                conn,
                "SELECT key, value FROM kv WHERE tbl = ?1 AND key >= ?2 AND key < ?3 ORDER BY key",
                &[&table, &prefix, &bound],
            ),
            None => read_rows(
                conn,
                "SELECT key, value FROM kv WHERE tbl = ?1 AND key >= ?2 ORDER BY key",
                &[&table, &prefix],
            ),
        })
        .await
    }

    async fn scan_each(&self, table: &str, prefix: &str, each: &mut RowFn<'_>) -> Result<()> {
        // Rows travel in small chunks from a blocking thread, so a scan of the whole state
        // holds a few hundred rows in memory, not all of them.
        const CHUNK: usize = 256;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(String, Vec<u8>)>>(2);
        let (table, prefix) = (table.to_owned(), prefix.to_owned());
        let reader = Arc::clone(&self.reader);
        let producer = tokio::task::spawn_blocking(move || -> Result<()> {
            let conn = reader.lock();
            let bound = prefix_upper_bound(&prefix);
            let sql = if bound.is_some() {
                "SELECT key, value FROM kv WHERE tbl = ?1 AND key >= ?2 AND key < ?3 ORDER BY key"
            } else {
                "SELECT key, value FROM kv WHERE tbl = ?1 AND key >= ?2 ORDER BY key"
            };
            let mut statement = conn
                .prepare_cached(sql)
                .map_err(|e| sql_error("prepare scan", &e))?;
            let mut rows = match &bound {
                Some(bound) => statement.query(params![table, prefix, bound]),
                None => statement.query(params![table, prefix]),
            }
            .map_err(|e| sql_error("scan", &e))?;
            let mut chunk = Vec::with_capacity(CHUNK);
            while let Some(row) = rows.next().map_err(|e| sql_error("scan", &e))? {
                chunk.push((
                    row.get(0).map_err(|e| sql_error("scan", &e))?,
                    row.get(1).map_err(|e| sql_error("scan", &e))?,
                ));
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if tx.blocking_send(full).is_err() {
                        // The consumer stopped (its callback failed); it reports why.
                        return Ok(());
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = tx.blocking_send(chunk);
            }
            Ok(())
        });
        let mut outcome = Ok(());
        while let Some(chunk) = rx.recv().await {
            if let Some(err) = chunk.iter().find_map(|(k, v)| each(k, v).err()) {
                outcome = Err(err);
                break;
            }
        }
        drop(rx);
        let produced = producer
            .await
            .map_err(|e| StoreError::Backend(format!("sqlite: scan task failed: {e}")))?;
        outcome.and(produced)
    }

    async fn commit(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.writer.submit(Write::Batch(batch)).await
    }

    async fn enqueue(&self, batch: Batch) -> Result<Durable> {
        if batch.is_empty() {
            return Ok(Box::pin(std::future::ready(Ok(()))));
        }
        self.writer.queue(Write::Batch(batch)).await
    }

    async fn clear(&self, table: Option<&str>) -> Result<()> {
        self.writer
            .submit(Write::Clear(table.map(str::to_owned)))
            .await
    }

    async fn tables(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT DISTINCT tbl FROM kv ORDER BY tbl")
                .map_err(|e| sql_error("prepare tables", &e))?;
            let rows = statement
                .query_map([], |row| row.get(0))
                .map_err(|e| sql_error("tables", &e))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
                .map_err(|e| sql_error("tables", &e))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite;

    fn temp_db() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tclocal.db");
        (dir, path)
    }

    /// The SQLite backend passes the shared conformance suite.
    #[tokio::test]
    async fn conformance() {
        let (_dir, path) = temp_db();
        let store = SqliteStore::open(&path).unwrap();
        testsuite::conformance(&store).await;
    }

    /// The suite also holds with `synchronous=FULL` on a multi-threaded runtime.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn conformance_synchronous_full() {
        let (_dir, path) = temp_db();
        let options = SqliteOptions {
            synchronous_full: true,
        };
        let store = SqliteStore::open_with(&path, options).unwrap();
        testsuite::conformance(&store).await;
    }

    /// Committed data is there after the store is dropped and the file reopened.
    #[tokio::test]
    async fn survives_drop_and_reopen() {
        let (_dir, path) = temp_db();
        {
            let store = SqliteStore::open(&path).unwrap();
            let mut batch = Batch::new();
            batch.put("cvm.instances", "ins-1", b"one".to_vec());
            batch.put("cvm.instances", "ins-2", b"two".to_vec());
            store.commit(batch).await.unwrap();
            let mut batch = Batch::new();
            batch.delete("cvm.instances", "ins-2");
            store.commit(batch).await.unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.scan("cvm.instances", "").await.unwrap(),
            vec![("ins-1".to_owned(), b"one".to_vec())]
        );
        assert_eq!(store.describe(), format!("sqlite:{}", path.display()));
    }

    /// Commits still queued when the store is dropped are flushed, not lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drop_flushes_queued_commits() {
        let (_dir, path) = temp_db();
        let store = SqliteStore::open(&path).unwrap();
        let release = store.writer.pause().await;
        let callers: Vec<_> = (0..8u8)
            .map(|i| {
                let mut batch = Batch::new();
                batch.put("t", format!("k{i}"), vec![i]);
                store.writer.enqueue(Write::Batch(batch))
            })
            .collect();
        drop(release);
        drop(store);
        for answer in callers {
            answer.await.unwrap().unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.scan("t", "").await.unwrap().len(), 8);
    }

    /// A database whose schema version is above this build's is refused with a clear error, and
    /// left untouched.
    #[tokio::test]
    async fn refuses_newer_schema() {
        let (_dir, path) = temp_db();
        drop(SqliteStore::open(&path).unwrap());
        let future = schema::supported_version() + 1;
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", future)
            .unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert_eq!(
            err,
            StoreError::SchemaTooNew {
                found: future,
                supported: schema::supported_version()
            }
        );
        let message = err.to_string();
        assert!(message.contains("newer"), "{message}");
        assert!(message.contains("upgrade tclocal"), "{message}");
        let version: u32 = Connection::open(&path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, future);
    }

    /// A file that is not a SQLite database gives a Backend error naming the path, not a panic.
    #[test]
    fn refuses_non_database_file() {
        let (_dir, path) = temp_db();
        std::fs::write(&path, vec![0x42; 4096]).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        assert!(err.to_string().contains("tclocal.db"), "{err}");
    }

    /// 64 commits queued together are applied as one SQLite transaction, and all are visible.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn group_commit_64_concurrent() {
        let (_dir, path) = temp_db();
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let before = store.stats();
        // Hold the writer so the 64 commits are all queued before it looks at the queue.
        let release = store.writer.pause().await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..64u8 {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                let mut batch = Batch::new();
                batch.put("grouped", format!("k{i:02}"), vec![i]);
                batch.put("grouped.index", format!("i{i:02}"), vec![i]);
                store.commit(batch).await
            });
        }
        while store.writer.queued() < 64 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        drop(release);
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
        }
        let after = store.stats();
        assert_eq!(after.commits - before.commits, 64);
        assert_eq!(after.transactions - before.transactions, 1);
        assert_eq!(store.scan("grouped", "").await.unwrap().len(), 64);
        assert_eq!(store.scan("grouped.index", "").await.unwrap().len(), 64);
    }

    /// Without any pause, a burst of concurrent commits from many tasks is grouped by itself.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn group_commit_under_load() {
        let (_dir, path) = temp_db();
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..64 {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                for i in 0..20 {
                    let mut batch = Batch::new();
                    batch.put("load", format!("t{task:02}/{i:02}"), vec![1]);
                    store.commit(batch).await.unwrap();
                }
            });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap();
        }
        let stats = store.stats();
        assert_eq!(stats.commits, 64 * 20);
        assert!(stats.transactions <= stats.commits);
        assert_eq!(store.scan("load", "").await.unwrap().len(), 64 * 20);
    }

    /// Environment variable that turns `crash_child` into the child half of `survives_abort`.
    const CRASH_CHILD_DB: &str = "TCLOCAL_STORE_CRASH_CHILD_DB";

    /// Child half of `survives_abort`: commits, then dies without running any destructor. Does
    /// nothing when run as an ordinary test.
    #[tokio::test]
    async fn crash_child() {
        let Some(path) = std::env::var_os(CRASH_CHILD_DB) else {
            return;
        };
        let store = SqliteStore::open(Path::new(&path)).unwrap();
        for i in 0..100u32 {
            let mut batch = Batch::new();
            batch.put("crash", format!("k{i:03}"), i.to_be_bytes().to_vec());
            store.commit(batch).await.unwrap();
        }
        std::process::abort();
    }

    /// Every commit that returned Ok survives the process dying abruptly (abort, like `kill -9`:
    /// no destructor, no final checkpoint).
    #[test]
    fn survives_abort() {
        let (dir, path) = temp_db();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "sqlite::tests::crash_child", "--nocapture"])
            .env(CRASH_CHILD_DB, &path)
            // Where a core dump of the abort would land, if the machine writes them to the cwd.
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the child should have aborted");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let rows = runtime.block_on(async {
            let store = SqliteStore::open(&path).unwrap();
            store.scan("crash", "").await.unwrap()
        });
        assert_eq!(rows.len(), 100);
        assert_eq!(rows[99], ("k099".to_owned(), 99u32.to_be_bytes().to_vec()));
    }
}

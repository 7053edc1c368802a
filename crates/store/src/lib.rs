//! The durable home of tclocal's state.
//!
//! Services keep hot indexes in memory, write through to a [`Store`] and load their tables from it at
//! start-up. The trait is deliberately small — point reads, ordered prefix scans, atomic batches and
//! a reset — so that every backend (in-memory, embedded SQLite, PostgreSQL) can implement it
//! exactly and be held to one shared [`testsuite::conformance`] suite.
//!
//! Layout:
//! - [`Store`], [`Batch`] / [`Op`], [`StoreError`]: the contract.
//! - [`MemoryStore`]: `--ephemeral`, and the default for every other crate's tests.
//! - [`SqliteStore`]: the embedded default under `--data-dir`; one writer thread does group commit.
//! - [`PgStore`]: PostgreSQL (`--store postgres://…`), which several tclocal processes can share
//!   ([`Shared`]).
//! - [`codec`]: versioned envelopes for persisted records, so a schema change is a migration and
//!   never a silent misread.
//! - [`testsuite`]: the conformance suite every backend's own tests call.
//!
//! ```
//! use tclocal_store::{Batch, MemoryStore, Store};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::new();
//! let mut batch = Batch::new();
//! batch.put("cvm.instances", "ins-1", b"{}".to_vec());
//! store.commit(batch).await?;
//! assert_eq!(store.get("cvm.instances", "ins-1").await?, Some(b"{}".to_vec()));
//! # Ok::<(), tclocal_store::StoreError>(())
//! # }).unwrap();
//! ```

mod batch;
pub mod codec;
mod error;
mod memory;
mod postgres;
mod sqlite;
pub mod testsuite;

pub use batch::{Batch, Op};
pub use error::{Result, StoreError};
pub use memory::MemoryStore;
pub use postgres::{PgStore, redact_postgres_url};
pub use sqlite::{CommitStats, SqliteOptions, SqliteStore};

/// What [`Store::scan_each`] calls with each row's key and value.
pub type RowFn<'a> = dyn FnMut(&str, &[u8]) -> Result<()> + Send + 'a;

/// The wait for a queued batch to be durable (see [`Store::enqueue`]).
pub type Durable = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>;

/// A transactional key-value store, partitioned into named tables.
///
/// Keys are UTF-8 strings ordered byte-wise (which for UTF-8 is code-point order); values are opaque
/// bytes (use [`codec`] to give them a version). Every backend must pass [`testsuite::conformance`].
///
/// Writes only happen through [`Store::commit`] and [`Store::clear`], both of which are atomic, so
/// a backend may group many callers' writes, in arrival order, into one physical transaction.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Human name for /_tclocal/info and logs, e.g. "sqlite:/path" or "memory".
    fn describe(&self) -> String;

    /// The value stored under `key` in `table`, if any.
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>>;

    /// All rows of a table whose key starts with prefix, in key order.
    async fn scan(&self, table: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>>;

    /// Calls `each` with every row of `table` whose key starts with `prefix`, in key order,
    /// without holding them all in memory at once (start-up reads every record). An error
    /// from `each` stops the scan and is returned.
    async fn scan_each(&self, table: &str, prefix: &str, each: &mut RowFn<'_>) -> Result<()> {
        for (key, value) in self.scan(table, prefix).await? {
            each(&key, &value)?;
        }
        Ok(())
    }

    /// Applies all ops atomically and durably (when it returns Ok, the data survives a process crash).
    ///
    /// Ops apply in order, so a later op on the same key wins. If the returned future is dropped
    /// before it completes, the batch may or may not have been applied, but never partially.
    async fn commit(&self, batch: Batch) -> Result<()>;

    /// Queues `batch` behind every batch queued or committed before it and returns the wait
    /// for its durability.
    ///
    /// A caller that holds a lock while deciding a change can queue it, release the lock and
    /// only then wait: the queue keeps the order the lock gave, and other callers' batches can
    /// join the same physical transaction (group commit). The default commits before it
    /// returns, which keeps the order for backends that cannot queue.
    async fn enqueue(&self, batch: Batch) -> Result<Durable> {
        self.commit(batch).await?;
        Ok(Box::pin(std::future::ready(Ok(()))))
    }

    /// Removes every row of the table (reset); table None = everything.
    async fn clear(&self, table: Option<&str>) -> Result<()>;

    /// The names of the tables that hold at least one row, in byte order (snapshots walk them).
    async fn tables(&self) -> Result<Vec<String>>;

    /// Ok when the backend can serve calls now (readiness). A backend with a server
    /// (PostgreSQL) reaches it, reconnecting when the session was lost.
    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    /// How processes sharing this store stay coherent, for a backend that several processes
    /// can use at once; `None` for a store only this process writes.
    fn shared(&self) -> Option<std::sync::Arc<dyn Shared>> {
        None
    }
}

/// What several processes sharing one store use to keep their working copies coherent: a
/// generation that tells a process its copy is stale, and a lock that serialises the
/// processes' read-decide-write sections.
#[async_trait::async_trait]
pub trait Shared: Send + Sync {
    /// A number that every commit and clear, by any process, changes.
    async fn generation(&self) -> Result<i64>;

    /// Waits until no other process holds the write lock and takes it. It is the process's, not
    /// a task's: the caller keeps other tasks of its process out itself.
    async fn lock_writes(&self) -> Result<()>;

    /// Releases the write lock.
    async fn unlock_writes(&self) -> Result<()>;
}

/// The smallest string greater than every string that starts with `prefix`, or `None` when no
/// such bound exists. Lets a SQL backend scan a prefix as an index range (`key >= prefix AND
/// key < bound`) rather than a `LIKE`, which would treat `%` and `_` in keys as wildcards.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // UTF-8 byte order is code-point order, so the next code point (skipping the surrogate
        // gap) is the next string in byte order: SQLite's BINARY and PostgreSQL's "C" collation.
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            other => char::from_u32(u32::from(other) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    /// Bounds for prefix scans, including the surrogate gap and the largest code point.
    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(
            prefix_upper_bound("a\u{10FFFF}\u{10FFFF}").as_deref(),
            Some("b")
        );
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }
}

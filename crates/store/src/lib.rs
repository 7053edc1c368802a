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
//! - [`PgStore`]: PostgreSQL (`--store postgres://…`), for one tclocal process per database.
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
pub use postgres::{IN_USE_MESSAGE, PgStore, redact_postgres_url};
pub use sqlite::{CommitStats, SqliteOptions, SqliteStore};

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

    /// Applies all ops atomically and durably (when it returns Ok, the data survives a process crash).
    ///
    /// Ops apply in order, so a later op on the same key wins. If the returned future is dropped
    /// before it completes, the batch may or may not have been applied, but never partially.
    async fn commit(&self, batch: Batch) -> Result<()>;

    /// Removes every row of the table (reset); table None = everything.
    async fn clear(&self, table: Option<&str>) -> Result<()>;

    /// The names of the tables that hold at least one row, in byte order (snapshots walk them).
    async fn tables(&self) -> Result<Vec<String>>;

    /// Ok when the backend can serve calls now (readiness). A backend with a server
    /// (PostgreSQL) reaches it, reconnecting when the session was lost.
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
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

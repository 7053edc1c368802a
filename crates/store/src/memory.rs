//! In-memory backend: `--ephemeral` runs and the default store for every other crate's tests.
//!
//! It must behave exactly like the durable backends (same key order, same atomicity), because
//! tests written against it are meant to hold on SQLite and PostgreSQL too; the shared conformance
//! suite checks that.

use std::collections::BTreeMap;

use parking_lot::RwLock;

use crate::{Batch, Op, Result, Store};

/// One ordered map per table: a per-table map makes `clear(Some(table))` and prefix scans a single
/// lookup instead of a walk over every table's rows.
type Tables = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// A [`Store`] that keeps everything in process memory; nothing survives the process.
///
/// Every operation completes synchronously under a `parking_lot::RwLock`, so the guard is never held
/// across an `.await` and a commit is atomic for readers.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RwLock<Tables>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tables
            .read()
            .get(table)
            .and_then(|rows| rows.get(key))
            .cloned())
    }

    async fn scan(&self, table: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let tables = self.tables.read();
        let Some(rows) = tables.get(table) else {
            return Ok(Vec::new());
        };
        // String order is byte order, the same order SQLite's BINARY collation gives, so every
        // backend returns scans identically ordered.
        Ok(rows
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    async fn commit(&self, batch: Batch) -> Result<()> {
        let mut tables = self.tables.write();
        for op in batch.into_ops() {
            match op {
                Op::Put { table, key, value } => {
                    tables.entry(table).or_default().insert(key, value);
                }
                Op::Delete { table, key } => {
                    if let Some(rows) = tables.get_mut(&table) {
                        rows.remove(&key);
                        if rows.is_empty() {
                            tables.remove(&table);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn clear(&self, table: Option<&str>) -> Result<()> {
        let mut tables = self.tables.write();
        match table {
            Some(table) => {
                tables.remove(table);
            }
            None => tables.clear(),
        }
        Ok(())
    }

    async fn tables(&self) -> Result<Vec<String>> {
        Ok(self.tables.read().keys().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite;

    /// The in-memory backend passes the shared conformance suite.
    #[tokio::test]
    async fn conformance() {
        testsuite::conformance(&MemoryStore::new()).await;
    }

    /// The suite also holds when commits really run in parallel on several worker threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn conformance_multi_thread() {
        testsuite::conformance(&MemoryStore::new()).await;
    }

    /// Dropping the last row of a table drops the table's map, so deleted tables cost nothing.
    #[tokio::test]
    async fn empty_tables_are_removed() {
        let store = MemoryStore::new();
        let mut batch = Batch::new();
        batch.put("t", "k", vec![1]).delete("t", "k");
        store.commit(batch).await.unwrap();
        assert!(store.tables.read().is_empty());
    }
}

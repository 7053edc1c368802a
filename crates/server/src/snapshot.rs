//! Snapshots and resets of the emulated cloud: `GET`/`PUT /_tclocal/state`,
//! `POST /_tclocal/reset` and `--seed`.
//!
//! A snapshot is the store's rows, table by table, with each record's own versioned envelope
//! (`{"v":N,"d":…}`) kept as is, so the products' record migrations also upgrade imported
//! data. The file format itself is versioned separately ([`FORMAT_VERSION`]); `docs/state.md`
//! documents it and `tests/fixtures/state-v*.json` pins every version a build must still load.
//!
//! Secrets (secret keys, session tokens, MFA seeds) leave only on request: by default the rows
//! holding them are omitted and listed under `omitted`, and importing such a snapshot keeps the
//! target's own rows of those tables, so nobody is locked out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tclocal_services::Products;
use tclocal_store::{Batch, Store, StoreError};

/// A table's rows as the store holds them.
type Rows = Vec<(String, Vec<u8>)>;

/// The `format` field of every snapshot.
pub const FORMAT: &str = "tclocal-state";

/// The snapshot file version this build writes; it reads every version up to it.
pub const FORMAT_VERSION: u32 = 1;

/// One snapshot file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// The file version.
    pub version: u32,
    /// Tables whose rows were left out because they hold secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted: Vec<String>,
    /// Table → key → record.
    pub tables: BTreeMap<String, BTreeMap<String, Value>>,
}

/// What a snapshot covers: everything or one product.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Scope {
    /// One product's short name (`cvm`, `cam`); none = every product.
    pub service: Option<String>,
}

/// How an import treats rows the snapshot does not hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The covered tables hold exactly the snapshot's rows afterwards.
    #[default]
    Replace,
    /// The snapshot's rows are written over the current ones; others stay.
    Merge,
}

/// Why a snapshot, import or reset was refused.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The scope names no emulated product with state.
    #[error("unknown service {0:?}: services with state are {1}")]
    UnknownService(String, String),
    /// The file is not a tclocal snapshot.
    #[error("not a tclocal state file: format is {0:?}, expected \"tclocal-state\"")]
    Format(String),
    /// The file is newer than this build.
    #[error("state file version {found} is newer than this tclocal supports ({supported})")]
    TooNew {
        /// The file's version.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// A table outside the scope, or of no product.
    #[error("table {0:?} belongs to no product in the scope")]
    UnknownTable(String),
    /// A record a product could not load; nothing was changed.
    #[error("the state was not imported, a record does not load: {0}")]
    Invalid(StoreError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Takes snapshots, imports them and resets, over one store and the products on it.
pub struct States {
    store: Arc<dyn Store>,
    products: Products,
    /// One import or reset at a time: each is read-modify-write over several tables.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for States {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("States")
            .field("store", &self.store.describe())
            .finish_non_exhaustive()
    }
}

/// The tables of a scope and which of them hold secrets.
struct Covered {
    tables: BTreeSet<&'static str>,
    secret: BTreeSet<&'static str>,
    products: Vec<Arc<dyn tclocal_services::Product>>,
}

impl States {
    /// Snapshots of `store`, reloading `products` after a change.
    pub fn new(store: Arc<dyn Store>, products: Products) -> States {
        States {
            store,
            products,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    fn covered(&self, scope: &Scope) -> Result<Covered, SnapshotError> {
        let mut products: Vec<_> = self
            .products
            .iter()
            .filter(|p| !p.tables().is_empty())
            .cloned()
            .collect();
        products.sort_by_key(|p| p.name());
        if let Some(name) = &scope.service {
            let names: Vec<_> = products.iter().map(|p| p.name()).collect();
            products.retain(|p| p.name() == name);
            if products.is_empty() {
                return Err(SnapshotError::UnknownService(
                    name.clone(),
                    names.join(", "),
                ));
            }
        }
        Ok(Covered {
            tables: products.iter().flat_map(|p| p.tables()).copied().collect(),
            secret: products
                .iter()
                .flat_map(|p| p.secret_tables())
                .copied()
                .collect(),
            products,
        })
    }

    /// The state of `scope`; rows of secret tables only when `secrets`.
    ///
    /// # Errors
    /// An unknown scope, or a store failure.
    pub async fn export(&self, scope: &Scope, secrets: bool) -> Result<Snapshot, SnapshotError> {
        let covered = self.covered(scope)?;
        let mut snapshot = Snapshot {
            format: FORMAT.to_owned(),
            version: FORMAT_VERSION,
            omitted: Vec::new(),
            tables: BTreeMap::new(),
        };
        for table in &covered.tables {
            if !secrets && covered.secret.contains(table) {
                snapshot.omitted.push((*table).to_owned());
                continue;
            }
            let mut rows = BTreeMap::new();
            for (key, bytes) in self.store.scan(table, "").await? {
                let value = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                    table: (*table).to_owned(),
                    key: key.clone(),
                    reason: e.to_string(),
                })?;
                rows.insert(key, value);
            }
            if !rows.is_empty() {
                snapshot.tables.insert((*table).to_owned(), rows);
            }
        }
        Ok(snapshot)
    }

    /// Writes `snapshot` into `scope` in one atomic batch and reloads the products. When a
    /// product cannot load the result, the previous rows are restored and nothing changes.
    /// Answers how many rows were written.
    ///
    /// # Errors
    /// A foreign or too new file, a table outside the scope, a record that does not load, or
    /// a store failure.
    pub async fn import(
        &self,
        snapshot: Snapshot,
        scope: &Scope,
        mode: Mode,
        now_ms: i64,
    ) -> Result<usize, SnapshotError> {
        if snapshot.format != FORMAT {
            return Err(SnapshotError::Format(snapshot.format));
        }
        if snapshot.version > FORMAT_VERSION {
            return Err(SnapshotError::TooNew {
                found: snapshot.version,
                supported: FORMAT_VERSION,
            });
        }
        let covered = self.covered(scope)?;
        if let Some(table) = snapshot
            .tables
            .keys()
            .find(|t| !covered.tables.contains(t.as_str()))
        {
            return Err(SnapshotError::UnknownTable(table.clone()));
        }
        let _guard = self.lock.lock().await;
        // Tables the file left out for secrecy keep the target's rows, even in replace mode.
        let replaced: Vec<&str> = covered
            .tables
            .iter()
            .copied()
            .filter(|t| !snapshot.omitted.iter().any(|o| o == t))
            .collect();
        let mut before: Vec<(&str, Rows)> = Vec::new();
        for table in &replaced {
            before.push((table, self.store.scan(table, "").await?));
        }
        let mut batch = Batch::new();
        if mode == Mode::Replace {
            for (table, rows) in &before {
                for (key, _) in rows {
                    batch.delete(*table, key.clone());
                }
            }
        }
        let mut written = 0;
        for (table, rows) in &snapshot.tables {
            for (key, value) in rows {
                let bytes = serde_json::to_vec(value).map_err(|e| {
                    SnapshotError::Invalid(StoreError::Corrupt {
                        table: table.clone(),
                        key: key.clone(),
                        reason: e.to_string(),
                    })
                })?;
                batch.put(table.as_str(), key.clone(), bytes);
                written += 1;
            }
        }
        self.store.commit(batch).await?;
        if let Err(err) = reload(&covered.products, now_ms).await {
            tracing::warn!(%err, "an imported record does not load; restoring the previous state");
            let mut undo = Batch::new();
            for (table, _) in &before {
                for key in snapshot
                    .tables
                    .get(*table)
                    .into_iter()
                    .flat_map(|r| r.keys())
                {
                    undo.delete(*table, key.clone());
                }
            }
            for (table, rows) in before {
                for (key, value) in rows {
                    undo.put(table, key, value);
                }
            }
            self.store.commit(undo).await?;
            reload(&covered.products, now_ms).await?;
            return Err(SnapshotError::Invalid(err));
        }
        Ok(written)
    }

    /// Empties `scope` and reloads its products, which recreate what a first start creates
    /// (the default account and its root key).
    ///
    /// # Errors
    /// An unknown scope, or a store failure.
    pub async fn reset(&self, scope: &Scope, now_ms: i64) -> Result<(), SnapshotError> {
        let covered = self.covered(scope)?;
        let _guard = self.lock.lock().await;
        if scope.service.is_none() {
            self.store.clear(None).await?;
        } else {
            for table in &covered.tables {
                self.store.clear(Some(table)).await?;
            }
        }
        reload(&covered.products, now_ms).await?;
        Ok(())
    }
}

async fn reload(
    products: &[Arc<dyn tclocal_services::Product>],
    now_ms: i64,
) -> Result<(), StoreError> {
    for product in products {
        product.reload(now_ms).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of another format, or of a newer version, is refused before anything changes.
    #[tokio::test]
    async fn foreign_and_future_files_are_refused() {
        let states = States::new(
            Arc::new(tclocal_store::MemoryStore::new()),
            Products::default(),
        );
        let foreign = Snapshot {
            format: "other".into(),
            version: 1,
            omitted: Vec::new(),
            tables: BTreeMap::new(),
        };
        let err = states
            .import(foreign, &Scope::default(), Mode::Replace, 0)
            .await
            .unwrap_err();
        assert!(matches!(err, SnapshotError::Format(_)), "{err}");
        let future = Snapshot {
            format: FORMAT.into(),
            version: FORMAT_VERSION + 1,
            omitted: Vec::new(),
            tables: BTreeMap::new(),
        };
        let err = states
            .import(future, &Scope::default(), Mode::Replace, 0)
            .await
            .unwrap_err();
        assert!(matches!(err, SnapshotError::TooNew { .. }), "{err}");
    }
}

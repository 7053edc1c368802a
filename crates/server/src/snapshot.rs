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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tclocal_services::{Product, Products, RowOwner};
use tclocal_store::{Batch, Store, StoreError};

use crate::clock::{ClockState, EmulatedTime};

/// The `format` field of every snapshot.
pub const FORMAT: &str = "tclocal-state";

/// The snapshot file version this build writes; it reads every version up to it.
///
/// 1: tables and omitted tables. 2: adds `scope` (what the file covers) and `clock` (emulated
/// time's offset).
pub const FORMAT_VERSION: u32 = 2;

/// One snapshot file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`FORMAT`].
    pub format: String,
    /// The file version.
    pub version: u32,
    /// What the file covers; an import without a scope of its own takes this one.
    #[serde(default, skip_serializing_if = "Scope::is_whole")]
    pub scope: Scope,
    /// Emulated time when the file was written (version 2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockState>,
    /// Tables whose rows were left out because they hold secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted: Vec<String>,
    /// Table → key → record.
    pub tables: BTreeMap<String, BTreeMap<String, Value>>,
}

/// What a snapshot, an import or a reset covers: everything, one product, one account, or one
/// product of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// One product's short name (`cvm`, `cam`); none = every product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// One account, by AppId or OwnerUin; none = every account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Scope {
    /// True when the scope covers everything.
    pub fn is_whole(&self) -> bool {
        self.service.is_none() && self.account.is_none()
    }

    /// This scope, with what it leaves unset taken from `file`'s.
    fn or(&self, file: &Scope) -> Scope {
        Scope {
            service: self.service.clone().or_else(|| file.service.clone()),
            account: self.account.clone().or_else(|| file.account.clone()),
        }
    }
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
    /// The scope names no account.
    #[error("no account with AppId or OwnerUin {0:?}")]
    UnknownAccount(String),
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
    /// A row of an account-scoped import that is not the account's, or that would overwrite
    /// another account's.
    #[error(
        "row {table}/{key} {why}; an account-scoped import only writes rows of account {account}"
    )]
    ForeignRow {
        /// Its table.
        table: String,
        /// Its key.
        key: String,
        /// What is wrong with it.
        why: &'static str,
        /// The account of the import.
        account: u64,
    },
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
    time: Arc<EmulatedTime>,
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

/// A row as the store holds it.
type Row = (String, String, Vec<u8>);

/// The tables of a scope and which of them hold secrets.
struct Covered {
    tables: BTreeSet<&'static str>,
    secret: BTreeSet<&'static str>,
    products: Vec<Arc<dyn Product>>,
}

/// Who is who among accounts, from the rows of the tables that are not keyed by AppId (the
/// identity tables): which UIN belongs to which account, and each account's OwnerUin.
#[derive(Default)]
struct Directory {
    /// OwnerUin and sub-user UINs → AppId.
    uins: HashMap<String, u64>,
    /// AppId → OwnerUin, from the account rows.
    owners: BTreeMap<u64, String>,
}

impl Directory {
    fn learn(&mut self, owner: &RowOwner) {
        if let (Some(app_id), Some(uin)) = (owner.app_id, &owner.uin) {
            self.uins.entry(uin.clone()).or_insert(app_id);
            if owner.anchor {
                self.owners.entry(app_id).or_insert_with(|| uin.clone());
            }
        }
    }

    /// The AppId an account is named by (AppId or OwnerUin).
    fn resolve(&self, name: &str) -> Option<u64> {
        let number: u64 = name.trim().parse().ok()?;
        if self.owners.contains_key(&number) {
            return Some(number);
        }
        self.owners
            .iter()
            .find(|(_, owner)| owner.as_str() == name.trim())
            .map(|(app_id, _)| *app_id)
    }

    /// The account a row belongs to, when it can be told.
    fn account_of(&self, owner: &RowOwner) -> Option<u64> {
        owner
            .app_id
            .or_else(|| owner.uin.as_ref().and_then(|u| self.uins.get(u).copied()))
    }
}

/// The product that owns `table`.
fn product_of<'a>(products: &'a [Arc<dyn Product>], table: &str) -> Option<&'a Arc<dyn Product>> {
    products.iter().find(|p| p.tables().contains(&table))
}

fn parse(table: &str, key: &str, bytes: &[u8]) -> Result<Value, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table: table.to_owned(),
        key: key.to_owned(),
        reason: tclocal_store::codec::json_error_reason(&e),
    })
}

impl States {
    /// Snapshots of `store`, reloading `products` after a change; `time` is emulated time.
    pub fn new(store: Arc<dyn Store>, products: Products, time: Arc<EmulatedTime>) -> States {
        States {
            store,
            products,
            time,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Emulated time, persisted.
    pub fn time(&self) -> &EmulatedTime {
        &self.time
    }

    fn stateful(&self) -> Vec<Arc<dyn Product>> {
        let mut products: Vec<_> = self
            .products
            .iter()
            .filter(|p| !p.tables().is_empty())
            .cloned()
            .collect();
        products.sort_by_key(|p| p.name());
        products
    }

    fn covered(&self, scope: &Scope) -> Result<Covered, SnapshotError> {
        let mut products = self.stateful();
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

    /// Every row of the tables not keyed by AppId, of every product (not just the scope's:
    /// telling accounts apart needs the identity rows even for a CVM-only scope), with its
    /// owner.
    async fn unkeyed_rows(&self) -> Result<Vec<(Row, Option<RowOwner>)>, StoreError> {
        let mut out = Vec::new();
        for product in self.stateful() {
            for table in product.tables() {
                if product.keyed_by_app_id(table) {
                    continue;
                }
                for (key, bytes) in self.store.scan(table, "").await? {
                    let owner = product.row_owner(table, &key, &parse(table, &key, &bytes)?);
                    out.push((((*table).to_owned(), key, bytes), owner));
                }
            }
        }
        Ok(out)
    }

    /// The rows of `account` in `tables`, with their owners.
    async fn account_rows(
        &self,
        products: &[Arc<dyn Product>],
        tables: &BTreeSet<&'static str>,
        account: u64,
        directory: &Directory,
        unkeyed: &[(Row, Option<RowOwner>)],
    ) -> Result<Vec<(Row, RowOwner)>, StoreError> {
        let mut out = Vec::new();
        for table in tables {
            let Some(product) = product_of(products, table) else {
                continue;
            };
            if product.keyed_by_app_id(table) {
                for (key, bytes) in self.store.scan(table, &format!("{account}/")).await? {
                    let owner = RowOwner {
                        app_id: Some(account),
                        uin: None,
                        anchor: false,
                    };
                    out.push((((*table).to_owned(), key, bytes), owner));
                }
            } else {
                out.extend(
                    unkeyed
                        .iter()
                        .filter(|((t, _, _), owner)| {
                            t == table
                                && owner.as_ref().and_then(|o| directory.account_of(o))
                                    == Some(account)
                        })
                        .filter_map(|(row, owner)| owner.clone().map(|o| (row.clone(), o))),
                );
            }
        }
        Ok(out)
    }

    /// The account `name` names, as the store knows it.
    async fn resolve(
        &self,
        name: &str,
    ) -> Result<(u64, Directory, Vec<(Row, Option<RowOwner>)>), SnapshotError> {
        let unkeyed = self.unkeyed_rows().await?;
        let mut directory = Directory::default();
        for (_, owner) in &unkeyed {
            if let Some(owner) = owner {
                directory.learn(owner);
            }
        }
        let account = directory
            .resolve(name)
            .ok_or_else(|| SnapshotError::UnknownAccount(name.to_owned()))?;
        Ok((account, directory, unkeyed))
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
            scope: scope.clone(),
            clock: Some(ClockState {
                offset_ms: self.time.offset_ms(),
            }),
            omitted: Vec::new(),
            tables: BTreeMap::new(),
        };
        let wanted: BTreeSet<&'static str> = covered
            .tables
            .iter()
            .copied()
            .filter(|t| secrets || !covered.secret.contains(t))
            .collect();
        snapshot.omitted = covered
            .tables
            .difference(&wanted)
            .map(|t| (*t).to_owned())
            .collect();
        let rows: Vec<Row> = match &scope.account {
            None => {
                let mut rows = Vec::new();
                for table in &wanted {
                    for (key, bytes) in self.store.scan(table, "").await? {
                        rows.push(((*table).to_owned(), key, bytes));
                    }
                }
                rows
            }
            Some(name) => {
                let (account, directory, unkeyed) = self.resolve(name).await?;
                // The file names the account by AppId, whatever the caller named it by.
                snapshot.scope.account = Some(account.to_string());
                self.account_rows(&covered.products, &wanted, account, &directory, &unkeyed)
                    .await?
                    .into_iter()
                    .map(|(row, _)| row)
                    .collect()
            }
        };
        for (table, key, bytes) in rows {
            let value = parse(&table, &key, &bytes)?;
            snapshot.tables.entry(table).or_default().insert(key, value);
        }
        Ok(snapshot)
    }

    /// Writes `snapshot` into `scope` (the file's own scope fills what `scope` leaves unset)
    /// in one atomic batch and reloads the products. When a product cannot load the result,
    /// the previous rows are restored and nothing changes. Answers how many rows were written.
    ///
    /// # Errors
    /// A foreign or too new file, a table outside the scope, a row of another account, a
    /// record that does not load, or a store failure.
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
        let scope = scope.or(&snapshot.scope);
        let covered = self.covered(&scope)?;
        if let Some(table) = snapshot
            .tables
            .keys()
            .find(|t| !covered.tables.contains(t.as_str()))
        {
            return Err(SnapshotError::UnknownTable(table.clone()));
        }
        let _guard = self.lock.lock().await;
        // Tables the file left out for secrecy keep the target's rows, even in replace mode.
        let replaced: BTreeSet<&'static str> = covered
            .tables
            .iter()
            .copied()
            .filter(|t| !snapshot.omitted.iter().any(|o| o == t))
            .collect();
        let mut writes: Vec<Row> = Vec::new();
        for (table, rows) in &snapshot.tables {
            for (key, value) in rows {
                let bytes = serde_json::to_vec(value).map_err(|e| {
                    SnapshotError::Invalid(StoreError::Corrupt {
                        table: table.clone(),
                        key: key.clone(),
                        reason: e.to_string(),
                    })
                })?;
                writes.push((table.clone(), key.clone(), bytes));
            }
        }
        // Rows the import deletes, and the target's rows at the keys it writes: the undo.
        let mut before: Vec<Row> = Vec::new();
        let mut deletes: Vec<(String, String)> = Vec::new();
        match &scope.account {
            None => {
                for table in &replaced {
                    for (key, bytes) in self.store.scan(table, "").await? {
                        if mode == Mode::Replace {
                            deletes.push(((*table).to_owned(), key.clone()));
                        }
                        before.push(((*table).to_owned(), key, bytes));
                    }
                }
                // Rows written into tables the file says it omitted are restored too.
                for (table, key, _) in writes.iter().filter(|w| !replaced.contains(w.0.as_str())) {
                    if let Some(bytes) = self.store.get(table, key).await? {
                        before.push((table.clone(), key.clone(), bytes));
                    }
                }
            }
            Some(name) => {
                let (account, directory, unkeyed) = self
                    .check_account_rows(name, &snapshot, &covered, &writes)
                    .await?;
                let owned = self
                    .account_rows(
                        &covered.products,
                        &covered.tables,
                        account,
                        &directory,
                        &unkeyed,
                    )
                    .await?;
                for ((table, key, bytes), owner) in owned {
                    // The account itself and its root keys stay, as in a reset.
                    if mode == Mode::Replace && replaced.contains(table.as_str()) && !owner.anchor {
                        deletes.push((table.clone(), key.clone()));
                    }
                    before.push((table, key, bytes));
                }
            }
        }
        let mut batch = Batch::new();
        for (table, key) in &deletes {
            batch.delete(table.as_str(), key.clone());
        }
        let written = writes.len();
        for (table, key, bytes) in &writes {
            batch.put(table.as_str(), key.clone(), bytes.clone());
        }
        self.store.commit(batch).await?;
        if let Err(err) = reload(&covered.products, now_ms).await {
            tracing::warn!(%err, "an imported record does not load; restoring the previous state");
            let mut undo = Batch::new();
            for (table, key, _) in &writes {
                undo.delete(table.as_str(), key.clone());
            }
            for (table, key, bytes) in before {
                undo.put(table, key, bytes);
            }
            self.store.commit(undo).await?;
            reload(&covered.products, now_ms).await?;
            return Err(SnapshotError::Invalid(err));
        }
        // Emulated time is global: only an import of everything moves it (forward only).
        if let (true, Some(clock)) = (scope.is_whole(), snapshot.clock) {
            self.time.advance_to(clock.offset_ms).await?;
        }
        Ok(written)
    }

    /// Checks that every row an account-scoped import writes is the account's and overwrites
    /// no other account's row; answers the account's AppId, with the store's directory and
    /// identity rows. The account may be new to the store, when the file holds its account row.
    async fn check_account_rows(
        &self,
        name: &str,
        snapshot: &Snapshot,
        covered: &Covered,
        writes: &[Row],
    ) -> Result<(u64, Directory, Vec<(Row, Option<RowOwner>)>), SnapshotError> {
        let unkeyed = self.unkeyed_rows().await?;
        let mut target = Directory::default();
        for owner in unkeyed.iter().filter_map(|(_, o)| o.as_ref()) {
            target.learn(owner);
        }
        let account = {
            let target_owner: HashMap<(&str, &str), Option<&RowOwner>> = unkeyed
                .iter()
                .map(|((table, key, _), owner)| ((table.as_str(), key.as_str()), owner.as_ref()))
                .collect();
            // The file's own identity rows name accounts and UINs the store may not know yet.
            let mut file = Directory::default();
            let mut file_owner: Vec<Option<RowOwner>> = Vec::with_capacity(writes.len());
            for (table, key, _) in writes {
                let owner = product_of(&covered.products, table).and_then(|product| {
                    let owner = product.row_owner(table, key, &snapshot.tables[table][key]);
                    if let Some(owner) = &owner {
                        if !product.keyed_by_app_id(table) {
                            file.learn(owner);
                        }
                    }
                    owner
                });
                file_owner.push(owner);
            }
            let account = target
                .resolve(name)
                .or_else(|| file.resolve(name))
                .ok_or_else(|| SnapshotError::UnknownAccount(name.to_owned()))?;
            let foreign = |table: &str, key: &str, why: &'static str| SnapshotError::ForeignRow {
                table: table.to_owned(),
                key: key.to_owned(),
                why,
                account,
            };
            if let (Some(here), Some(there)) =
                (target.owners.get(&account), file.owners.get(&account))
            {
                if here != there {
                    return Err(foreign(
                        "identity.accounts",
                        &account.to_string(),
                        "gives the account another OwnerUin than it has here",
                    ));
                }
            }
            for (uin, app_id) in &file.uins {
                if target.uins.get(uin).is_some_and(|a| a != app_id) {
                    return Err(foreign("uin", uin, "names a UIN of another account"));
                }
            }
            for ((table, key, _), owner) in writes.iter().zip(&file_owner) {
                let of = owner
                    .as_ref()
                    .and_then(|o| file.account_of(o).or_else(|| target.account_of(o)));
                if of != Some(account) {
                    return Err(foreign(table, key, "belongs to another account"));
                }
                if let Some(existing) = target_owner.get(&(table.as_str(), key.as_str())) {
                    if existing.and_then(|o| target.account_of(o)) != Some(account) {
                        return Err(foreign(table, key, "would overwrite another account's row"));
                    }
                }
            }
            account
        };
        Ok((account, target, unkeyed))
    }

    /// Empties `scope` and reloads its products, which recreate what a first start creates
    /// (the default account and its root key). An account's reset keeps the account and its
    /// permanent root keys and deletes everything else it owns.
    ///
    /// # Errors
    /// An unknown scope, or a store failure.
    pub async fn reset(&self, scope: &Scope, now_ms: i64) -> Result<(), SnapshotError> {
        let covered = self.covered(scope)?;
        let _guard = self.lock.lock().await;
        match (&scope.service, &scope.account) {
            (None, None) => {
                self.store.clear(None).await?;
                // Emulated time is not state of a product: it never goes back.
                self.time.persist().await?;
            }
            (Some(_), None) => {
                for table in &covered.tables {
                    self.store.clear(Some(table)).await?;
                }
            }
            (_, Some(name)) => {
                let (account, directory, unkeyed) = self.resolve(name).await?;
                let rows = self
                    .account_rows(
                        &covered.products,
                        &covered.tables,
                        account,
                        &directory,
                        &unkeyed,
                    )
                    .await?;
                let mut batch = Batch::new();
                for ((table, key, _), owner) in rows {
                    if !owner.anchor {
                        batch.delete(table, key);
                    }
                }
                // A product none of whose rows went is left alone; the others drop just this
                // account from their indexes (CVM need not read every account's rows).
                let touched: Vec<Arc<dyn Product>> = covered
                    .products
                    .iter()
                    .filter(|p| {
                        batch
                            .ops()
                            .iter()
                            .any(|op| p.tables().contains(&op.table()))
                    })
                    .cloned()
                    .collect();
                self.store.commit(batch).await?;
                for product in &touched {
                    product.forget_account(account, now_ms).await?;
                }
                return Ok(());
            }
        }
        reload(&covered.products, now_ms).await?;
        Ok(())
    }
}

async fn reload(products: &[Arc<dyn Product>], now_ms: i64) -> Result<(), StoreError> {
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
        let store: Arc<dyn Store> = Arc::new(tclocal_store::MemoryStore::new());
        let clock = Arc::new(tclocal_wire::clock::ManualClock::at(0));
        let time = Arc::new(EmulatedTime::open(clock, store.clone()).await.unwrap());
        let states = States::new(store, Products::default(), time);
        let foreign = Snapshot {
            format: "other".into(),
            version: 1,
            scope: Scope::default(),
            clock: None,
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
            scope: Scope::default(),
            clock: None,
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

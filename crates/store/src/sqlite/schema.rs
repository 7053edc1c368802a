//! Versioned schema migrations for the SQLite file.
//!
//! The schema version lives in `PRAGMA user_version` (in the database header, so it changes in the
//! same transaction as the migration). Migrations are an append-only list in code: entry `i`
//! moves a database from version `i` to `i + 1`. A file whose version is above the list's length
//! was written by a newer tclocal and is refused rather than guessed at.

use rusqlite::{Connection, TransactionBehavior};

use super::sql_error;
use crate::{Result, StoreError};

/// Marks the file as tclocal's ("TCLS"), so pointing `--data-dir` at some other application's
/// SQLite database fails clearly instead of being migrated on top of.
const APPLICATION_ID: i32 = 0x5443_4C53;

struct Migration {
    /// What it changes; also names the step in a failed migration's error.
    description: &'static str,
    sql: &'static str,
}

/// Append only; never edit an entry that has shipped.
const MIGRATIONS: &[Migration] = &[
    Migration {
        description: "key-value rows, one table for every service table",
        // STRICT makes SQLite reject a non-TEXT key or non-BLOB value instead of storing it, so every
        // read can trust the column types.
        sql: "CREATE TABLE kv (
              tbl   TEXT NOT NULL,
              key   TEXT NOT NULL,
              value BLOB NOT NULL,
              PRIMARY KEY (tbl, key)
          ) STRICT, WITHOUT ROWID;",
    },
    Migration {
        description: "kv as a rowid table, so records over ~1 KB stop spilling into overflow pages",
        // In a WITHOUT ROWID table the whole row lives in the primary-key b-tree, whose local
        // payload limit on 4 KiB pages is ~1 KB: a CVM instance record (~1.1 KB) took an
        // overflow page of its own, more than tripling the file and the pages each write and
        // each scan touch. A rowid table keeps rows up to ~4 KB on their leaf page; the primary
        // key becomes a unique index holding only (tbl, key).
        sql: "CREATE TABLE kv_rowid (
              tbl   TEXT NOT NULL,
              key   TEXT NOT NULL,
              value BLOB NOT NULL,
              PRIMARY KEY (tbl, key)
          ) STRICT;
          INSERT INTO kv_rowid (tbl, key, value) SELECT tbl, key, value FROM kv ORDER BY tbl, key;
          DROP TABLE kv;
          ALTER TABLE kv_rowid RENAME TO kv;",
    },
];

/// Schema version this build creates and understands.
pub(super) fn supported_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Brings the database up to [`supported_version`], or refuses it.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    // IMMEDIATE takes the write lock before reading the version, so two processes opening the same
    // new file cannot both run migration 1.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("begin migration", &e))?;
    let application_id: i32 = tx
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| sql_error("read application_id", &e))?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(StoreError::Backend(format!(
            "the file is a SQLite database of another application (application_id {application_id:#x}), \
             not a tclocal store"
        )));
    }
    let raw_version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| sql_error("read user_version", &e))?;
    let found = u32::try_from(raw_version).map_err(|_| {
        StoreError::Backend(format!(
            "the database has an invalid schema version {raw_version}"
        ))
    })?;
    let supported = supported_version();
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let to = index + 1;
        tx.execute_batch(migration.sql).map_err(|e| {
            let step = format!("migrate schema to version {to} ({})", migration.description);
            sql_error(&step, &e)
        })?;
        tx.pragma_update(None, "user_version", to)
            .map_err(|e| sql_error("write user_version", &e))?;
    }
    if application_id == 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| sql_error("write application_id", &e))?;
    }
    tx.commit().map_err(|e| sql_error("commit migration", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migrating twice is a no-op, and the version lands on the newest.
    #[test]
    fn migrate_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, supported_version());
    }

    /// A file made by schema version 1 keeps its rows through the later migrations.
    #[test]
    fn version_one_rows_survive_the_upgrade() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let big = vec![7u8; 3000];
        conn.execute(
            "INSERT INTO kv (tbl, key, value) VALUES ('t', 'a', ?1), ('t', 'b', x'01'), ('u', 'a', x'02')",
            [&big],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(String, String, Vec<u8>)> = conn
            .prepare("SELECT tbl, key, value FROM kv ORDER BY tbl, key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                ("t".to_owned(), "a".to_owned(), big),
                ("t".to_owned(), "b".to_owned(), vec![1]),
                ("u".to_owned(), "a".to_owned(), vec![2]),
            ]
        );
        let without_rowid: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'kv' AND sql LIKE '%WITHOUT ROWID%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(without_rowid, 0, "kv is a rowid table after the upgrade");
        let duplicate = conn.execute(
            "INSERT INTO kv (tbl, key, value) VALUES ('t', 'a', x'00')",
            [],
        );
        assert!(duplicate.is_err(), "(tbl, key) stays unique");
    }

    /// A newer schema is refused with both versions in the message.
    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", supported_version() + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert_eq!(
            err,
            StoreError::SchemaTooNew {
                found: supported_version() + 1,
                supported: supported_version()
            }
        );
    }

    /// Another application's database is not touched.
    #[test]
    fn foreign_application_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "application_id", 42).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(err.to_string().contains("another application"), "{err}");
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 0);
    }
}

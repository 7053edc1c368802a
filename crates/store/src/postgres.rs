//! PostgreSQL backend: `--store postgres://user@host:port/db`.
//!
//! Layout: two tables in the database's default schema, both named `tclocal_*` so they sit next to
//! another application's tables without clashing. `tclocal_kv (tbl, key, value)` holds the rows;
//! `tbl` and `key` are `TEXT COLLATE "C"`, which compares byte-wise, so key order is byte order
//! exactly as in the other backends whatever the database's default collation; values are `BYTEA`.
//! `tclocal_schema_version` holds the schema version, moved by the versioned [`MIGRATIONS`] at
//! open; a database written by a newer tclocal is refused with [`StoreError::SchemaTooNew`].
//!
//! Several processes per database: tclocal keeps hot indexes in memory, so processes sharing a
//! database coordinate through [`Shared`] (see [`Store::shared`]): every commit and clear bumps
//! `tclocal_generation` in its own transaction, so a process knows when its copy is stale, and
//! a session-level advisory lock on a second session serialises the processes' writes.
//! Migrations run under another advisory lock, so processes starting together migrate once.
//!
//! Connection: one `tokio_postgres` client (with its prepared statements) behind a tokio mutex.
//! Every operation (reads too) takes the mutex, because a read pipelined into another caller's
//! open transaction would see that transaction's uncommitted rows. Each commit is one transaction, run in a spawned task, so a
//! caller that stops waiting cannot leave a transaction half sent: it commits or rolls back whole.
//!
//! Reconnection: when a session is lost (the server restarted, an administrator ended it), the
//! next call opens a new session first (migrations check, prepared statements; the lock session
//! is reopened the next time the write lock is taken). A loss is often noticed only when a
//! statement fails, so an operation that can have had no effect yet (a read, taking the lock, a
//! transaction before its COMMIT) is run once more on a new session; only a COMMIT whose answer
//! was lost fails the call, with a [`StoreError::Backend`] naming it, since it may have applied.
//! While the server cannot be reached every call fails fast, trying again at most every
//! [`RECONNECT_INTERVAL`]; [`Store::ping`] tells `/_tclocal/ready`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

use crate::{Batch, Op, Result, Shared, Store, StoreError, prefix_upper_bound};

/// Key of the advisory lock held while migrating (the bytes of "tclocal" as a number). Advisory
/// locks are scoped to one database, so tclocal deployments on one server with a database each
/// do not meet.
const MIGRATION_LOCK_KEY: i64 = 0x0074_636C_6F63_616C;

/// Key of the advisory lock that serialises the writes of the processes sharing a database
/// ("tclocaw").
const WRITE_LOCK_KEY: i64 = 0x0074_636C_6F63_6177;

/// How long connecting may take before the open fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a reconnection may take: a request waits for it, so less than at open.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Least time between two reconnection attempts, so a server that is down is not hammered by
/// every request; calls in between fail at once with the last attempt's error.
const RECONNECT_INTERVAL: Duration = Duration::from_millis(250);

struct Migration {
    /// What it changes; also names the step in a failed migration's error.
    description: &'static str,
    sql: &'static str,
}

/// Append only; never edit an entry that has shipped. Entry `i` moves a database from version `i`
/// to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        description: "key-value rows, one table for every service table",
        // COLLATE "C" makes comparisons and ORDER BY byte-wise, the order every backend scans in.
        sql: "CREATE TABLE tclocal_kv (
                  tbl   TEXT COLLATE \"C\" NOT NULL,
                  key   TEXT COLLATE \"C\" NOT NULL,
                  value BYTEA NOT NULL,
                  PRIMARY KEY (tbl, key)
              )",
    },
    Migration {
        description: "a generation counter that every commit moves, for processes sharing the database",
        sql: "CREATE TABLE tclocal_generation (
                  only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
                  value    BIGINT NOT NULL
              );
              INSERT INTO tclocal_generation (only_row, value) VALUES (TRUE, 0);",
    },
];

/// Schema version this build creates and understands.
fn supported_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Turns a PostgreSQL error into a [`StoreError::Backend`] naming the operation.
///
/// A server error is reduced to its severity, SQLSTATE code and primary message: its DETAIL can
/// quote a failing row, and rows may hold secret keys. Values are always bound parameters, so the
/// primary message never carries one.
fn pg_error(operation: &str, err: &tokio_postgres::Error) -> StoreError {
    if let Some(db) = err.as_db_error() {
        return StoreError::Backend(format!(
            "postgres: {operation}: {} {}: {}",
            db.severity(),
            db.code().code(),
            db.message()
        ));
    }
    if err.is_closed() {
        return StoreError::Backend(format!(
            "postgres: {operation}: the connection to the database is closed; the next request reconnects"
        ));
    }
    match std::error::Error::source(err) {
        Some(source) => StoreError::Backend(format!("postgres: {operation}: {err}: {source}")),
        None => StoreError::Backend(format!("postgres: {operation}: {err}")),
    }
}

/// Whether `err` says the session is gone (the server ended it, an administrator terminated it,
/// the network broke), rather than that a statement was refused.
fn session_lost(err: &tokio_postgres::Error, client: &Client) -> bool {
    err.is_closed()
        || client.is_closed()
        || err.code().is_some_and(|code| {
            *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
        })
}

/// A statement of an operation failed: which step, and why.
struct Failed {
    step: &'static str,
    err: tokio_postgres::Error,
    /// False once the operation may have taken effect (its COMMIT was sent), so it must not be
    /// run again even on a new session.
    repeatable: bool,
}

impl Failed {
    /// For `map_err` on a statement that has no effect unless the operation succeeds.
    fn at(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Failed {
        move |err| Failed {
            step,
            err,
            repeatable: true,
        }
    }

    /// For `map_err` on a COMMIT: its answer may be lost after it applied.
    fn at_commit(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Failed {
        move |err| Failed {
            step,
            err,
            repeatable: false,
        }
    }
}

/// Runs one operation on a [`Session`], and once more on a new session when the first attempt
/// meets a lost one (see [`Session::again`]). `$op` uses `$conn: &mut Conn` and is a future of
/// `Result<T, Failed>`; the macro gives the `T`, and returns a failure from the calling
/// function as a [`StoreError`]. A macro, not a function: the operation borrows both the
/// caller's arguments and the session's connection, which a closure returning a future cannot
/// name together.
macro_rules! on_session {
    ($session:expr, |$conn:ident| $op:expr) => {{
        let session = &mut *$session;
        let mut repeated = false;
        loop {
            let $conn = session.get().await?;
            match $op.await {
                Ok(done) => break done,
                Err(failed) => session.again(&failed, &mut repeated)?,
            }
        }
    }};
}

/// `url` with any password replaced by `***`, for logs, errors and `/_tclocal/info`.
///
/// Handles URLs (`postgres://user:secret@host/db?password=secret`) and key-value strings
/// (`host=… password=secret`); anything else comes back unchanged.
///
/// ```
/// use tclocal_store::redact_postgres_url;
///
/// assert_eq!(
///     redact_postgres_url("postgres://me:hunter2@127.0.0.1:5432/db"),
///     "postgres://me:***@127.0.0.1:5432/db"
/// );
/// assert_eq!(redact_postgres_url("postgres://me@127.0.0.1/db"), "postgres://me@127.0.0.1/db");
/// ```
pub fn redact_postgres_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Key-value form: blank the value of every `password=` pair (quoted or not).
        return redact_key_value(url);
    };
    let (authority_and_path, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match authority_and_path.find('/') {
        Some(at) => authority_and_path.split_at(at),
        None => (authority_and_path, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

fn redact_key_value(conninfo: &str) -> String {
    let mut out = String::with_capacity(conninfo.len());
    let mut rest = conninfo;
    while let Some(at) = rest.find("password") {
        let (before, after) = rest.split_at(at + "password".len());
        out.push_str(before);
        let trimmed = after.trim_start();
        let Some(value) = trimmed.strip_prefix('=') else {
            rest = after;
            continue;
        };
        out.push_str("=***");
        let value = value.trim_start();
        // Skip the value: quoted (with backslash escapes) or up to the next whitespace.
        let end = if let Some(quoted) = value.strip_prefix('\'') {
            let mut escaped = false;
            let close = quoted
                .char_indices()
                .find(|&(_, c)| {
                    let done = !escaped && c == '\'';
                    escaped = !escaped && c == '\\';
                    done
                })
                .map_or(quoted.len(), |(i, _)| i + 1);
            1 + close
        } else {
            value.find(char::is_whitespace).unwrap_or(value.len())
        };
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// A [`Store`] in a PostgreSQL database. See the module documentation for the layout.
///
/// Dropping the store closes its session, which releases the advisory lock (the server notices a
/// moment later; [`PgStore::open`] waits that moment out).
pub struct PgStore {
    described: String,
    conn: Arc<Mutex<Session>>,
    /// A second session that only takes and releases [`WRITE_LOCK_KEY`]: waiting for the lock
    /// must not hold up this process's other statements.
    lock_session: Arc<Mutex<LockSession>>,
}

/// When a lost session may be replaced, and why the last attempt failed.
struct Reconnect {
    config: tokio_postgres::Config,
    last_attempt: Option<(tokio::time::Instant, StoreError)>,
}

impl Reconnect {
    fn new(config: &tokio_postgres::Config) -> Self {
        let mut config = config.clone();
        config.connect_timeout(RECONNECT_TIMEOUT);
        Reconnect {
            config,
            last_attempt: None,
        }
    }

    /// Runs `open`, unless the last attempt failed less than [`RECONNECT_INTERVAL`] ago.
    async fn attempt<T, F>(&mut self, open: impl FnOnce(tokio_postgres::Config) -> F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        if let Some((at, err)) = &self.last_attempt {
            if at.elapsed() < RECONNECT_INTERVAL {
                return Err(err.clone());
            }
        }
        match open(self.config.clone()).await {
            Ok(opened) => {
                tracing::info!("reconnected to PostgreSQL");
                self.last_attempt = None;
                Ok(opened)
            }
            Err(err) => {
                let err = match err {
                    StoreError::Backend(message) => StoreError::Backend(format!(
                        "{message} (reconnecting after the connection was lost)"
                    )),
                    other => other,
                };
                self.last_attempt = Some((tokio::time::Instant::now(), err.clone()));
                Err(err)
            }
        }
    }
}

/// The statements' session, replaced by a new one when it is lost.
struct Session {
    conn: Option<Conn>,
    reconnect: Reconnect,
}

impl Session {
    /// The open session; a lost one is replaced first.
    async fn get(&mut self) -> Result<&mut Conn> {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            tracing::warn!("the connection to PostgreSQL is lost; reconnecting");
            self.conn = None;
        }
        if self.conn.is_none() {
            let conn = self
                .reconnect
                .attempt(|config| async move { open_session(&config).await })
                .await?;
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Backend("postgres: no session".to_owned()))
    }

    /// After `failed`, whether to run the operation again: once, on a new session, when the
    /// session turned out to be gone before the operation could have taken effect. Otherwise
    /// the error.
    fn again(&mut self, failed: &Failed, repeated: &mut bool) -> Result<()> {
        let lost = self
            .conn
            .as_ref()
            .is_some_and(|conn| session_lost(&failed.err, &conn.client));
        if !lost || !failed.repeatable || *repeated {
            return Err(pg_error(failed.step, &failed.err));
        }
        tracing::warn!("the connection to PostgreSQL was lost; reconnecting");
        self.conn = None;
        *repeated = true;
        Ok(())
    }
}

/// The write lock's session, replaced by a new one when it is lost.
struct LockSession {
    client: Option<Client>,
    reconnect: Reconnect,
}

impl LockSession {
    /// The open session; a lost one is replaced first. The lock dies with its session, so a
    /// new one never holds it.
    async fn get(&mut self) -> Result<&Client> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            tracing::warn!("the PostgreSQL lock session is lost; reconnecting");
            self.client = None;
        }
        if self.client.is_none() {
            let client = self
                .reconnect
                .attempt(|config| async move { connect(&config).await })
                .await?;
            self.client = Some(client);
        }
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Backend("postgres: no lock session".to_owned()))
    }
}

/// The session and its prepared statements (prepared once at open, so each call is one round trip
/// instead of a parse and an execute).
struct Conn {
    client: Client,
    get: Statement,
    scan_range: Statement,
    scan_from: Statement,
    tables: Statement,
    delete_rows: Statement,
    upsert_rows: Statement,
    clear_table: Statement,
    clear_all: Statement,
    bump: Statement,
    generation: Statement,
}

impl Conn {
    async fn prepare(client: Client) -> Result<Self> {
        let prepare = |sql: &'static str| {
            let client = &client;
            async move {
                client
                    .prepare(sql)
                    .await
                    .map_err(|e| pg_error("prepare statements", &e))
            }
        };
        Ok(Self {
            get: prepare("SELECT value FROM tclocal_kv WHERE tbl = $1 AND key = $2").await?,
            scan_range: prepare(
                "SELECT key, value FROM tclocal_kv
                 WHERE tbl = $1 AND key >= $2 AND key < $3 ORDER BY key",
            )
            .await?,
            scan_from: prepare(
                "SELECT key, value FROM tclocal_kv WHERE tbl = $1 AND key >= $2 ORDER BY key",
            )
            .await?,
            tables: prepare("SELECT DISTINCT tbl FROM tclocal_kv ORDER BY tbl").await?,
            delete_rows: prepare(
                "DELETE FROM tclocal_kv AS kv
                 USING UNNEST($1::text[], $2::text[]) AS gone (tbl, key)
                 WHERE kv.tbl = gone.tbl AND kv.key = gone.key",
            )
            .await?,
            // The net effect has each key once, as ON CONFLICT requires.
            upsert_rows: prepare(
                "INSERT INTO tclocal_kv (tbl, key, value)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::bytea[])
                 ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value",
            )
            .await?,
            // DELETE rather than TRUNCATE: TRUNCATE takes an exclusive lock and is not MVCC-safe
            // for readers in other sessions (psql, a backup).
            clear_table: prepare("DELETE FROM tclocal_kv WHERE tbl = $1").await?,
            clear_all: prepare("DELETE FROM tclocal_kv").await?,
            bump: prepare("UPDATE tclocal_generation SET value = value + 1").await?,
            generation: prepare("SELECT value FROM tclocal_generation").await?,
            client,
        })
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.described)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/db`, or any
    /// connection string `tokio-postgres` accepts), without TLS.
    ///
    /// Runs pending schema migrations (under an advisory lock, so processes opening the same
    /// database together migrate it once).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the URL is invalid or the server cannot be reached;
    /// [`StoreError::SchemaTooNew`] for a database written by a newer tclocal. Messages show
    /// the URL without its password.
    pub async fn open(url: &str) -> Result<Self> {
        let described = redact_postgres_url(url);
        // Open errors name the database (without its password), since the operator picks it.
        let naming = |err: StoreError| match err {
            StoreError::Backend(message) => StoreError::Backend(format!("{message} ({described})")),
            other => other,
        };
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| naming(pg_error("invalid connection URL", &e)))?;
        if config.get_application_name().is_none() {
            config.application_name("tclocal");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let conn = open_session(&config).await.map_err(naming)?;
        let lock_session = connect(&config).await.map_err(naming)?;
        Ok(Self {
            // A URL names its scheme already; a key-value string gets one.
            described: if described.contains("://") {
                described
            } else {
                format!("postgres:{described}")
            },
            conn: Arc::new(Mutex::new(Session {
                conn: Some(conn),
                reconnect: Reconnect::new(&config),
            })),
            lock_session: Arc::new(Mutex::new(LockSession {
                client: Some(lock_session),
                reconnect: Reconnect::new(&config),
            })),
        })
    }
}

/// The statements' session: connects, migrates under the migration lock (so processes
/// opening one database together migrate it once), prepares the statements.
async fn open_session(config: &tokio_postgres::Config) -> Result<Conn> {
    let mut client = connect(config).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(|e| pg_error("take the migration lock", &e))?;
    let migrated = migrate(&mut client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(|e| pg_error("release the migration lock", &e))?;
    migrated?;
    Conn::prepare(client).await
}

/// One session to the database.
async fn connect(config: &tokio_postgres::Config) -> Result<Client> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| pg_error("connect", &e))?;
    // The connection task ends by itself when the client is dropped (and the server has closed
    // the session) or when the connection breaks; the client then reports it as closed.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Brings the database up to [`supported_version`], or refuses it. Runs under the migration
/// lock, so no other tclocal migrates at the same time.
async fn migrate(client: &mut Client) -> Result<()> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg_error("begin migration", &e))?;
    // Created only when missing: CREATE TABLE IF NOT EXISTS would still need the CREATE
    // privilege on the schema, which a role that only uses an existing database may lack.
    let exists: bool = tx
        .query_one(
            "SELECT to_regclass('tclocal_schema_version') IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| pg_error("look for the schema version table", &e))?
        .get(0);
    if !exists {
        tx.batch_execute(
            "CREATE TABLE tclocal_schema_version (
                 only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
                 version  INTEGER NOT NULL CHECK (version >= 0)
             )",
        )
        .await
        .map_err(|e| pg_error("create the schema version table", &e))?;
    }
    let row = tx
        .query_opt("SELECT version FROM tclocal_schema_version", &[])
        .await
        .map_err(|e| pg_error("read the schema version", &e))?;
    let found = match row {
        Some(row) => {
            let raw: i32 = row.get(0);
            u32::try_from(raw).map_err(|_| {
                StoreError::Backend(format!(
                    "postgres: the database has an invalid schema version {raw}"
                ))
            })?
        }
        None => 0,
    };
    let supported = supported_version();
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    if found == supported {
        return tx
            .commit()
            .await
            .map_err(|e| pg_error("commit migration", &e));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let to = index + 1;
        tx.batch_execute(migration.sql).await.map_err(|e| {
            let step = format!("migrate schema to version {to} ({})", migration.description);
            pg_error(&step, &e)
        })?;
    }
    let version = i32::try_from(supported)
        .map_err(|_| StoreError::Backend("postgres: schema version out of range".to_owned()))?;
    tx.execute(
        "INSERT INTO tclocal_schema_version (only_row, version) VALUES (TRUE, $1)
         ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version",
        &[&version],
    )
    .await
    .map_err(|e| pg_error("write the schema version", &e))?;
    tx.commit()
        .await
        .map_err(|e| pg_error("commit migration", &e))
}

/// PostgreSQL text cannot hold NUL; say so plainly instead of passing the server's encoding error
/// on. Names the table (never a key's or value's content).
fn check_text(table: &str, key: &str) -> Result<()> {
    if table.contains('\0') || key.contains('\0') {
        return Err(StoreError::Backend(format!(
            "postgres: table names and keys cannot contain NUL characters (table {:?})",
            table.replace('\0', "\\0")
        )));
    }
    Ok(())
}

/// The net effect of a batch: for each (table, key) the last op wins, so one multi-row upsert and
/// one multi-row delete apply it (an upsert cannot touch the same row twice).
struct NetEffect {
    put_tables: Vec<String>,
    put_keys: Vec<String>,
    put_values: Vec<Vec<u8>>,
    delete_tables: Vec<String>,
    delete_keys: Vec<String>,
}

impl NetEffect {
    fn of(batch: Batch) -> Result<Self> {
        let mut last: HashMap<(String, String), Option<Vec<u8>>> = HashMap::new();
        let mut order = Vec::new();
        for op in batch.into_ops() {
            check_text(op.table(), op.key())?;
            let (id, value) = match op {
                Op::Put { table, key, value } => ((table, key), Some(value)),
                Op::Delete { table, key } => ((table, key), None),
            };
            if !last.contains_key(&id) {
                order.push(id.clone());
            }
            last.insert(id, value);
        }
        let mut effect = Self {
            put_tables: Vec::new(),
            put_keys: Vec::new(),
            put_values: Vec::new(),
            delete_tables: Vec::new(),
            delete_keys: Vec::new(),
        };
        for id in order {
            let value = last.remove(&id).flatten();
            let (table, key) = id;
            match value {
                Some(value) => {
                    effect.put_tables.push(table);
                    effect.put_keys.push(key);
                    effect.put_values.push(value);
                }
                None => {
                    effect.delete_tables.push(table);
                    effect.delete_keys.push(key);
                }
            }
        }
        Ok(effect)
    }
}

/// Applies `effect` in one transaction.
async fn apply(conn: &mut Conn, effect: &NetEffect) -> std::result::Result<(), Failed> {
    let tx = conn
        .client
        .transaction()
        .await
        .map_err(Failed::at("begin commit"))?;
    if !effect.delete_keys.is_empty() {
        tx.execute(
            &conn.delete_rows,
            &[&effect.delete_tables, &effect.delete_keys],
        )
        .await
        .map_err(Failed::at("delete rows"))?;
    }
    if !effect.put_keys.is_empty() {
        tx.execute(
            &conn.upsert_rows,
            &[&effect.put_tables, &effect.put_keys, &effect.put_values],
        )
        .await
        .map_err(Failed::at("write rows"))?;
    }
    tx.execute(&conn.bump, &[])
        .await
        .map_err(Failed::at("move the generation"))?;
    tx.commit().await.map_err(Failed::at_commit("commit"))
}

/// A write that runs in its own task (see [`PgStore::write`]).
enum Write {
    Apply(NetEffect),
    Clear(Option<String>),
}

/// Empties one table, or all of them, in one transaction.
async fn clear(conn: &mut Conn, table: Option<&str>) -> std::result::Result<(), Failed> {
    let tx = conn
        .client
        .transaction()
        .await
        .map_err(Failed::at("begin clear"))?;
    match table {
        Some(table) => tx.execute(&conn.clear_table, &[&table]).await,
        None => tx.execute(&conn.clear_all, &[]).await,
    }
    .map_err(Failed::at("clear"))?;
    tx.execute(&conn.bump, &[])
        .await
        .map_err(Failed::at("move the generation"))?;
    tx.commit().await.map_err(Failed::at_commit("commit clear"))
}

impl PgStore {
    /// Runs `write` on the session in a spawned task, so it finishes (commits or rolls back
    /// whole) even when the caller stops waiting.
    async fn write(&self, write: Write) -> Result<()> {
        let conn = Arc::clone(&self.conn);
        tokio::spawn(async move {
            let mut session = conn.lock().await;
            match &write {
                Write::Apply(effect) => on_session!(session, |conn| apply(conn, effect)),
                Write::Clear(table) => on_session!(session, |conn| clear(conn, table.as_deref())),
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Backend(format!("postgres: write task failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn describe(&self) -> String {
        self.described.clone()
    }

    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_text(table, key)?;
        let mut session = self.conn.lock().await;
        let row = on_session!(session, |conn| async {
            let row = conn.client.query_opt(&conn.get, &[&table, &key]).await;
            row.map_err(Failed::at("get"))
        });
        Ok(row.map(|row| row.get(0)))
    }

    async fn scan(&self, table: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        check_text(table, prefix)?;
        let bound = prefix_upper_bound(prefix);
        let mut session = self.conn.lock().await;
        let rows = on_session!(session, |conn| async {
            match &bound {
                Some(bound) => {
                    conn.client
                        .query(&conn.scan_range, &[&table, &prefix, bound])
                        .await
                }
                None => conn.client.query(&conn.scan_from, &[&table, &prefix]).await,
            }
            .map_err(Failed::at("scan"))
        });
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    async fn commit(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let effect = NetEffect::of(batch)?;
        self.write(Write::Apply(effect)).await
    }

    async fn clear(&self, table: Option<&str>) -> Result<()> {
        self.write(Write::Clear(table.map(str::to_owned))).await
    }

    async fn tables(&self) -> Result<Vec<String>> {
        let mut session = self.conn.lock().await;
        let rows = on_session!(session, |conn| async {
            let rows = conn.client.query(&conn.tables, &[]).await;
            rows.map_err(Failed::at("tables"))
        });
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    async fn ping(&self) -> Result<()> {
        let mut session = self.conn.lock().await;
        on_session!(session, |conn| async {
            let answer = conn.client.simple_query("SELECT 1").await;
            answer.map(drop).map_err(Failed::at("ping"))
        });
        Ok(())
    }

    fn shared(&self) -> Option<Arc<dyn Shared>> {
        Some(Arc::new(PgShared {
            conn: Arc::clone(&self.conn),
            lock_session: Arc::clone(&self.lock_session),
        }))
    }
}

/// The coordination side of a [`PgStore`].
struct PgShared {
    conn: Arc<Mutex<Session>>,
    lock_session: Arc<Mutex<LockSession>>,
}

#[async_trait::async_trait]
impl Shared for PgShared {
    async fn generation(&self) -> Result<i64> {
        let mut session = self.conn.lock().await;
        let row = on_session!(session, |conn| async {
            let row = conn.client.query_one(&conn.generation, &[]).await;
            row.map_err(Failed::at("read the generation"))
        });
        Ok(row.get(0))
    }

    async fn lock_writes(&self) -> Result<()> {
        let mut session = self.lock_session.lock().await;
        let mut repeated = false;
        loop {
            let client = session.get().await?;
            let err = match client
                .execute("SELECT pg_advisory_lock($1)", &[&WRITE_LOCK_KEY])
                .await
            {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            // The lock dies with its session, so a lost one is simply taken again on a new one.
            if repeated || !session_lost(&err, client) {
                return Err(pg_error("take the write lock", &err));
            }
            tracing::warn!("the PostgreSQL lock session was lost; reconnecting");
            session.client = None;
            repeated = true;
        }
    }

    async fn unlock_writes(&self) -> Result<()> {
        let session = self.lock_session.lock().await;
        // A lost session took the lock with it: there is nothing left to release.
        let Some(client) = session.client.as_ref().filter(|c| !c.is_closed()) else {
            return Ok(());
        };
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&WRITE_LOCK_KEY])
            .await
            .map(drop)
            .map_err(|e| pg_error("release the write lock", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite;

    /// Where the PostgreSQL tests connect; `scripts/postgres.sh` sets it.
    const URL_VAR: &str = "TCLOCAL_TEST_POSTGRES_URL";

    /// The test database's URL, or `None` (after saying the test is skipped) when unset.
    fn test_url(test: &str) -> Option<String> {
        match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                println!("{test}: skipped: {URL_VAR} is not set (scripts/postgres.sh sets it)");
                None
            }
        }
    }

    /// The tests share one database and its advisory lock, so they take turns.
    static SERIAL: Mutex<()> = Mutex::const_new(());

    /// Drops the test tables, so a test starts from a database tclocal never saw.
    async fn drop_schema(url: &str) {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
        let task = tokio::spawn(connection);
        client
            .batch_execute(
                "DROP TABLE IF EXISTS tclocal_kv; DROP TABLE IF EXISTS tclocal_schema_version; \
                 DROP TABLE IF EXISTS tclocal_generation;",
            )
            .await
            .unwrap();
        drop(client);
        let _ = task.await;
    }

    /// Runs `sql` on a separate session.
    async fn execute(url: &str, sql: &str) {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
        let task = tokio::spawn(connection);
        client.batch_execute(sql).await.unwrap();
        drop(client);
        let _ = task.await;
    }

    /// The PostgreSQL backend passes the shared conformance suite.
    #[tokio::test]
    async fn conformance() {
        let Some(url) = test_url("postgres::tests::conformance") else {
            return;
        };
        let _serial = SERIAL.lock().await;
        drop_schema(&url).await;
        let store = PgStore::open(&url).await.unwrap();
        testsuite::conformance(&store).await;
    }

    /// The suite also holds on a multi-threaded runtime, and parallel tasks' commits all land.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn conformance_multi_thread() {
        let Some(url) = test_url("postgres::tests::conformance_multi_thread") else {
            return;
        };
        let _serial = SERIAL.lock().await;
        let store = Arc::new(PgStore::open(&url).await.unwrap());
        testsuite::conformance(store.as_ref()).await;
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..16 {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                for i in 0..10 {
                    let mut batch = Batch::new();
                    batch.put("load", format!("t{task:02}/{i:02}"), vec![1]);
                    batch.put("load.index", format!("t{task:02}/{i:02}"), vec![2]);
                    store.commit(batch).await.unwrap();
                }
            });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap();
        }
        assert_eq!(store.scan("load", "").await.unwrap().len(), 160);
        assert_eq!(store.scan("load.index", "t03/").await.unwrap().len(), 10);
        store.clear(None).await.unwrap();
    }

    /// Ends every session of the application `name` and waits until the server has dropped
    /// them, blocking the calling thread: on a current-thread runtime the store's connection
    /// tasks do not run meanwhile, so the store learns of the loss only from the statement that
    /// meets it, the case a repeat must bridge.
    fn end_sessions(url: &str, name: &str) {
        let (url, name) = (url.to_owned(), name.to_owned());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
                let task = tokio::spawn(connection);
                let terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                                 WHERE application_name = $1 AND pid <> pg_backend_pid()";
                let count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1";
                client.execute(terminate, &[&name]).await.unwrap();
                for _ in 0..200 {
                    let left: i64 = client.query_one(count, &[&name]).await.unwrap().get(0);
                    if left == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                drop(client);
                let _ = task.await;
            });
        })
        .join()
        .unwrap();
    }

    /// A session ended while idle (an administrator, a server restart) is noticed by the
    /// statement that meets it; reads, the write lock and commits then run again on a new
    /// session, so no call fails.
    #[tokio::test]
    async fn sessions_ended_while_idle_cost_no_failed_call() {
        let Some(url) = test_url("postgres::tests::sessions_ended_while_idle_cost_no_failed_call")
        else {
            return;
        };
        let _serial = SERIAL.lock().await;
        let name = format!("tclocal_idle_loss_{}", std::process::id());
        let separator = if url.contains('?') { '&' } else { '?' };
        let store = PgStore::open(&format!("{url}{separator}application_name={name}"))
            .await
            .unwrap();
        store.clear(None).await.unwrap();
        let shared = store.shared().unwrap();

        // The lock session has been idle since the open.
        end_sessions(&url, &name);
        shared.lock_writes().await.unwrap();
        shared.unlock_writes().await.unwrap();
        end_sessions(&url, &name);
        let mut batch = Batch::new();
        batch.put("cvm.instances", "ins-1", b"one".to_vec());
        store.commit(batch).await.unwrap();
        end_sessions(&url, &name);
        assert_eq!(
            store.get("cvm.instances", "ins-1").await.unwrap(),
            Some(b"one".to_vec())
        );
        end_sessions(&url, &name);
        assert_eq!(store.scan("cvm.instances", "").await.unwrap().len(), 1);
        end_sessions(&url, &name);
        let generation = shared.generation().await.unwrap();
        assert!(generation > 0, "{generation}");
        end_sessions(&url, &name);
        store.ping().await.unwrap();
        end_sessions(&url, &name);
        store.clear(None).await.unwrap();
    }

    /// A statement the server refuses (the session is fine) is not run again: its own error
    /// comes back, naming the operation. A repeat would reconnect and fail elsewhere
    /// (preparing the statements), so the message tells the two apart.
    #[tokio::test]
    async fn a_refused_statement_is_reported_not_repeated() {
        let Some(url) = test_url("postgres::tests::a_refused_statement_is_reported_not_repeated")
        else {
            return;
        };
        let _serial = SERIAL.lock().await;
        drop_schema(&url).await;
        let store = PgStore::open(&url).await.unwrap();
        execute(&url, "DROP TABLE tclocal_kv").await;
        let got = store.get("cvm.instances", "ins-1").await;
        drop(store);
        // The next test opens a database tclocal never saw, whatever this one found.
        drop_schema(&url).await;
        let err = got.unwrap_err().to_string();
        assert!(err.contains("postgres: get: ERROR 42P01"), "{err}");
    }

    /// Two stores open the same database at once (two processes): each sees the other's
    /// commits, every commit and clear moves the generation both read, and the write lock
    /// keeps the second taker waiting until the first releases it. Data survives a reopen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_stores_share_one_database() {
        let Some(url) = test_url("postgres::tests::two_stores_share_one_database") else {
            return;
        };
        let _serial = SERIAL.lock().await;
        let (first, second) = tokio::join!(PgStore::open(&url), PgStore::open(&url));
        let (first, second) = (first.unwrap(), second.unwrap());
        first.clear(None).await.unwrap();
        let (a, b) = (first.shared().unwrap(), second.shared().unwrap());
        let g0 = a.generation().await.unwrap();
        assert_eq!(b.generation().await.unwrap(), g0);

        let mut batch = Batch::new();
        batch.put("cvm.instances", "ins-1", b"one".to_vec());
        batch.put("cvm.instances", "ins-2", b"two".to_vec());
        first.commit(batch).await.unwrap();
        let g1 = b.generation().await.unwrap();
        assert!(g1 > g0, "a commit moves the generation: {g0} -> {g1}");
        let mut batch = Batch::new();
        batch.delete("cvm.instances", "ins-2");
        second.commit(batch).await.unwrap();
        let g2 = a.generation().await.unwrap();
        assert!(
            g2 > g1,
            "the other store's commit moves it too: {g1} -> {g2}"
        );
        assert_eq!(
            first.scan("cvm.instances", "").await.unwrap(),
            vec![("ins-1".to_owned(), b"one".to_vec())]
        );

        a.lock_writes().await.unwrap();
        let taken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waiter = {
            let (b, taken) = (Arc::clone(&b), Arc::clone(&taken));
            tokio::spawn(async move {
                b.lock_writes().await.unwrap();
                taken.store(true, std::sync::atomic::Ordering::SeqCst);
                b.unlock_writes().await.unwrap();
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !taken.load(std::sync::atomic::Ordering::SeqCst),
            "the second process waits while the first holds the write lock"
        );
        a.unlock_writes().await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the second process gets the lock once it is released")
            .unwrap();
        assert!(taken.load(std::sync::atomic::Ordering::SeqCst));

        drop((first, a));
        second.clear(Some("other")).await.unwrap();
        assert!(
            b.generation().await.unwrap() > g2,
            "a clear moves the generation"
        );
        drop((second, b));
        let third = PgStore::open(&url).await.unwrap();
        assert_eq!(
            third.scan("cvm.instances", "").await.unwrap(),
            vec![("ins-1".to_owned(), b"one".to_vec())]
        );
        assert!(
            third.describe().starts_with("postgres://"),
            "{}",
            third.describe()
        );
        third.clear(None).await.unwrap();
    }

    /// A database whose schema version is above this build's is refused, and left untouched.
    #[tokio::test]
    async fn refuses_newer_schema() {
        let Some(url) = test_url("postgres::tests::refuses_newer_schema") else {
            return;
        };
        let _serial = SERIAL.lock().await;
        drop(PgStore::open(&url).await.unwrap());
        let future = supported_version() + 1;
        execute(
            &url,
            &format!("UPDATE tclocal_schema_version SET version = {future}"),
        )
        .await;
        let err = PgStore::open(&url).await.unwrap_err();
        assert_eq!(
            err,
            StoreError::SchemaTooNew {
                found: future,
                supported: supported_version()
            }
        );
        execute(
            &url,
            &format!(
                "UPDATE tclocal_schema_version SET version = {}",
                supported_version()
            ),
        )
        .await;
        drop(PgStore::open(&url).await.unwrap());
    }

    /// Migrating a fresh database creates the tables and records the newest version; opening it
    /// again keeps its rows.
    #[tokio::test]
    async fn migrates_a_fresh_database() {
        let Some(url) = test_url("postgres::tests::migrates_a_fresh_database") else {
            return;
        };
        let _serial = SERIAL.lock().await;
        drop_schema(&url).await;
        let store = PgStore::open(&url).await.unwrap();
        let mut batch = Batch::new();
        batch.put("t", "k", vec![7]);
        store.commit(batch).await.unwrap();
        let version: i32 = {
            let mut session = store.conn.lock().await;
            let conn = session.get().await.unwrap();
            conn.client
                .query_one("SELECT version FROM tclocal_schema_version", &[])
                .await
                .unwrap()
                .get(0)
        };
        assert_eq!(version as u32, supported_version());
        drop(store);
        let store = PgStore::open(&url).await.unwrap();
        assert_eq!(store.get("t", "k").await.unwrap(), Some(vec![7]));
        store.clear(None).await.unwrap();
    }

    /// A NUL in a key is refused before it reaches the server, without quoting the key.
    #[tokio::test]
    async fn nul_in_key_is_a_clear_error() {
        let Some(url) = test_url("postgres::tests::nul_in_key_is_a_clear_error") else {
            return;
        };
        let _serial = SERIAL.lock().await;
        let store = PgStore::open(&url).await.unwrap();
        let mut batch = Batch::new();
        batch.put("t", "secret\0key", vec![1]);
        let err = store.commit(batch).await.unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    /// A server that does not answer gives a Backend error that names the URL without its password.
    #[tokio::test]
    async fn unreachable_server_error_hides_the_password() {
        // Port 1 on loopback: nothing listens there.
        let err = PgStore::open("postgres://me:hunter2@127.0.0.1:1/db")
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        assert!(message.contains("postgres: connect"), "{message}");
        assert!(
            message.contains("postgres://me:***@127.0.0.1:1/db"),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }

    /// Passwords are redacted in every form a connection string can carry them.
    #[test]
    fn redacts_passwords() {
        for (url, expected) in [
            ("postgres://u:p@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgresql://u:p%40x@h/db", "postgresql://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?password=p&sslmode=disable",
                "postgres://h/db?password=***&sslmode=disable",
            ),
            ("postgres://u:p@h", "postgres://u:***@h"),
            ("host=h password=p user=u", "host=h password=*** user=u"),
            (
                "host=h password = 'a b\\' c' user=u",
                "host=h password=*** user=u",
            ),
        ] {
            assert_eq!(redact_postgres_url(url), expected, "{url}");
        }
    }

    /// The last op on a key wins, and each key appears once in the net effect.
    #[test]
    fn net_effect_keeps_the_last_op() {
        let mut batch = Batch::new();
        batch
            .put("t", "a", vec![1])
            .put("t", "b", vec![2])
            .delete("t", "a")
            .put("t", "b", vec![3])
            .put("u", "a", vec![4]);
        let effect = NetEffect::of(batch).unwrap();
        assert_eq!(effect.put_tables, ["t", "u"]);
        assert_eq!(effect.put_keys, ["b", "a"]);
        assert_eq!(effect.put_values, [vec![3], vec![4]]);
        assert_eq!(effect.delete_tables, ["t"]);
        assert_eq!(effect.delete_keys, ["a"]);
    }
}

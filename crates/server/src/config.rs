//! The server configuration, validated before anything starts.

use std::net::SocketAddr;
use std::path::PathBuf;

use tclocal_services::cvm::CvmSettings;
use tclocal_sign::SecretKey;

use crate::ratelimit::RateMode;
use tclocal_services::identity::RootCredential;
use tclocal_wire::Language;

/// How strictly requests are authenticated (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Check signatures and credentials; refuse failures.
    #[default]
    Strict,
    /// Check, log and journal failures, then serve the request anyway.
    Soft,
    /// Check nothing.
    Off,
}

impl std::str::FromStr for AuthMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(AuthMode::Strict),
            "soft" => Ok(AuthMode::Soft),
            "off" => Ok(AuthMode::Off),
            other => Err(format!("unknown auth mode {other:?} (strict, soft or off)")),
        }
    }
}

/// Where state lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// In memory only (`--ephemeral`).
    Memory,
    /// Embedded SQLite in this directory (`--data-dir`).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`--store postgres://user@host:port/db`), used by this process
    /// alone. `Debug` shows the URL without its password.
    Postgres(String),
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Memory => f.write_str("Memory"),
            StoreConfig::Sqlite(dir) => f.debug_tuple("Sqlite").field(dir).finish(),
            StoreConfig::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&tclocal_store::redact_postgres_url(url))
                .finish(),
        }
    }
}

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where state lives.
    pub store: StoreConfig,
    /// Signature and credential checks.
    pub auth: AuthMode,
    /// CAM policy evaluation for sub-users, roles and federated users.
    pub cam: AuthMode,
    /// Language of answers to requests that name none.
    pub language: Language,
    /// Largest accepted difference between a request's timestamp and server time.
    pub max_skew_secs: i64,
    /// Root key of the default account, used at first start.
    pub root: RootCredential,
    /// Limits on request sizes.
    pub limits: Limits,
    /// `--stub-responses`: answer actions tclocal validates but does not emulate with a
    /// deterministic stub that follows the action's output model.
    pub stub_responses: bool,
    /// CVM's quota, capacity and transition timings.
    pub cvm: CvmSettings,
    /// Request journal entries kept in memory.
    pub journal_size: usize,
    /// Which rate limits apply.
    pub rate_mode: RateMode,
    /// Custom rate limits: `Action=N` or `service:Action=N`.
    pub rate_limits: Vec<String>,
    /// When set, the control plane answers any client presenting it (and no one else);
    /// when unset, only loopback clients. Redacted in `Debug`.
    pub admin_token: Option<SecretKey>,
    /// State files (or folders of them, applied in name order) merged into the state at every
    /// start, before `/ready` answers 200.
    pub seeds: Vec<PathBuf>,
    /// What an acknowledged write survives (SQLite store).
    pub durability: Durability,
}

/// What a write survives once its request was answered (`--durability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A crash of the process (`kill -9`, panic): SQLite `synchronous=NORMAL` in WAL mode.
    #[default]
    Process,
    /// Power loss and OS crashes too: one fsync per commit group (`synchronous=FULL`).
    Power,
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "process" => Ok(Durability::Process),
            "power" => Ok(Durability::Power),
            other => Err(format!("unknown durability {other:?} (process or power)")),
        }
    }
}

/// Request size limits (protocol.md §2.1).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest POST body (TC3: 10 MB).
    pub max_body_bytes: usize,
    /// Largest body signed with v1 (1 MB).
    pub max_v1_body_bytes: usize,
    /// Largest query string (GET: 32 KB).
    pub max_query_bytes: usize,
    /// Largest total size of the request headers.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 10 * 1024 * 1024,
            max_v1_body_bytes: 1024 * 1024,
            max_query_bytes: 32 * 1024,
            max_header_bytes: 64 * 1024,
        }
    }
}

impl Config {
    /// A configuration for tests: loopback on a free port, memory store, strict auth, the
    /// development key.
    #[must_use]
    pub fn for_tests() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store: StoreConfig::Memory,
            auth: AuthMode::Strict,
            cam: AuthMode::Strict,
            language: Language::ZhCn,
            max_skew_secs: 300,
            root: RootCredential::development(),
            limits: Limits::default(),
            stub_responses: false,
            cvm: CvmSettings::default(),
            journal_size: 10_000,
            rate_mode: RateMode::Off,
            rate_limits: Vec::new(),
            admin_token: None,
            seeds: Vec::new(),
            durability: Durability::Process,
        }
    }
}

//! Building the shared state and the router.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use tclocal_services::cam::Cam;
use tclocal_services::cvm::Cvm;
use tclocal_services::identity::{Identity, IdentityError};
use tclocal_services::sts::Sts;
use tclocal_services::tag::Tag;
use tclocal_services::{Product, Products};
use tclocal_store::{MemoryStore, PgStore, SqliteOptions, SqliteStore, Store, StoreError};
use tclocal_wire::clock::{Clock, SystemClock};
use tclocal_wire::ids::{RandomResourceIds, RequestIds, ResourceIds, UuidRequestIds};
use tower::ServiceExt;

use crate::clock::EmulatedTime;
use crate::coherence::Coherence;
use crate::config::{Config, Durability, StoreConfig};
use crate::control;
use crate::faults::Faults;
use crate::gateway::{Gateway, GatewayConfig};
use crate::journal::Journal;
use crate::ratelimit::RateLimits;
use crate::snapshot::{Mode, Scope, Snapshot, States};
use tclocal_sign::SecretKey;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The store failed to open.
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// Identity data could not be loaded.
    #[error("cannot load accounts and keys: {0}")]
    Identity(#[from] IdentityError),
    /// A setting does not parse.
    #[error("{0}")]
    Config(String),
    /// A `--seed` file could not be read or applied.
    #[error("cannot apply the seed {path}: {reason}")]
    Seed {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The settings `/_tclocal/info` shows: what a user may need to know, never a secret.
fn settings_summary(config: &Config) -> serde_json::Value {
    serde_json::json!({
        "listen": config.listen.to_string(),
        "auth": format!("{:?}", config.auth).to_lowercase(),
        "cam": format!("{:?}", config.cam).to_lowercase(),
        "language": config.language.as_str(),
        "max_skew_secs": config.max_skew_secs,
        "stub_responses": config.stub_responses,
        "journal_size": config.journal_size,
        "rate_limits": format!("{:?}", config.rate_mode).to_lowercase(),
        "custom_rate_limits": config.rate_limits,
        "admin_token": config.admin_token.is_some(),
        "durability": format!("{:?}", config.durability).to_lowercase(),
        "seeds": config.seeds.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "cvm": {
            "instance_quota": config.cvm.instance_quota,
            "timings_ms": {
                "launch": config.cvm.timings.launch_ms,
                "start": config.cvm.timings.start_ms,
                "stop": config.cvm.timings.stop_ms,
                "reboot": config.cvm.timings.reboot_ms,
                "terminate": config.cvm.timings.terminate_ms,
            },
        },
    })
}

/// What the app is built from besides the configuration: time, ids, and products that
/// replace built-in ones (tests).
pub struct Deps {
    /// Wall-clock time: what request timestamps are checked against.
    pub wall: Arc<dyn Clock>,
    /// Emulated time: what resource lifecycles follow; `/_tclocal/clock/advance` moves it.
    pub emulated: Arc<dyn Clock>,
    /// RequestId source.
    pub request_ids: Arc<dyn RequestIds>,
    /// Resource id source.
    pub resource_ids: Arc<dyn ResourceIds>,
    /// Products that replace the built-in ones of the same name.
    pub replacements: Vec<Arc<dyn Product>>,
}

impl Default for Deps {
    fn default() -> Self {
        Deps {
            wall: Arc::new(SystemClock::new()),
            emulated: Arc::new(SystemClock::new()),
            request_ids: Arc::new(UuidRequestIds),
            resource_ids: Arc::new(RandomResourceIds),
            replacements: Vec::new(),
        }
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("gateway", &self.inner.gateway)
            .field("store", &self.inner.store_name)
            .finish_non_exhaustive()
    }
}

/// Everything a request handler can reach; cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    gateway: Gateway,
    ready: AtomicBool,
    store: Arc<dyn Store>,
    store_name: String,
    clock: Arc<dyn Clock>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    identity: Arc<Identity>,
    resource_ids: Arc<dyn ResourceIds>,
    admin_token: Option<SecretKey>,
    started: std::time::Instant,
    settings: serde_json::Value,
    states: States,
}

impl App {
    /// Opens the store, loads state and builds the gateway, with the system clock and random
    /// request ids.
    ///
    /// # Errors
    /// When the store or the identity data cannot be opened.
    pub async fn build(config: &Config) -> Result<App, AppError> {
        App::build_with(config, Deps::default()).await
    }

    /// [`App::build`] with injected time, ids and products.
    ///
    /// # Errors
    /// When the store or the identity data cannot be opened.
    pub async fn build_with(config: &Config, deps: Deps) -> Result<App, AppError> {
        let store: Arc<dyn Store> = match &config.store {
            StoreConfig::Memory => Arc::new(MemoryStore::new()),
            StoreConfig::Sqlite(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| AppError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
                let options = SqliteOptions {
                    synchronous_full: config.durability == Durability::Power,
                };
                Arc::new(SqliteStore::open_with(
                    &dir.join("tclocal.sqlite3"),
                    options,
                )?)
            }
            // Durability is the server's (`synchronous_commit`); describe() hides the password.
            StoreConfig::Postgres(url) => Arc::new(PgStore::open(url).await?),
        };
        // Before anything reads emulated time: products settle transitions at start-up.
        let time = Arc::new(EmulatedTime::open(deps.emulated.clone(), store.clone()).await?);
        let identity = Arc::new(
            Identity::open(
                store.clone(),
                config.root.clone(),
                deps.resource_ids.clone(),
            )
            .await?,
        );
        let mut products = Products::default();
        let cvm = Cvm::open(
            store.clone(),
            deps.resource_ids.clone(),
            config.cvm.clone(),
            deps.emulated.now_millis(),
        )
        .await?;
        let cvm = Arc::new(cvm);
        products.register(cvm.clone());
        products.register(Arc::new(Tag::new(vec![cvm])));
        products.register(Arc::new(Cam::new(identity.clone())));
        products.register(Arc::new(Sts::new(identity.clone())));
        for product in deps.replacements {
            products.register(product);
        }
        let states = States::new(store.clone(), products.clone(), time.clone());
        // Seeds are applied under the processes' write lock, so two processes starting on one
        // shared database do not interleave them.
        let coherence = match store.shared() {
            Some(shared) => {
                let start = Coherence::new(shared, products.clone(), time, 0);
                let section = start.before_write(deps.emulated.now_millis()).await?;
                for path in seed_files(&config.seeds)? {
                    apply_seed(&states, &path, deps.emulated.now_millis()).await?;
                }
                drop(section);
                Some(Arc::new(start))
            }
            None => {
                for path in seed_files(&config.seeds)? {
                    apply_seed(&states, &path, deps.emulated.now_millis()).await?;
                }
                None
            }
        };
        let journal = Arc::new(Journal::new(config.journal_size));
        let faults = Arc::new(Faults::default());
        let rates =
            RateLimits::new(config.rate_mode, &config.rate_limits).map_err(AppError::Config)?;
        let gateway = Gateway {
            config: GatewayConfig {
                auth: config.auth,
                cam: config.cam,
                language: config.language,
                max_skew_secs: config.max_skew_secs,
                limits: config.limits,
                stub_responses: config.stub_responses,
            },
            wall: deps.wall,
            clock: deps.emulated.clone(),
            ids: deps.request_ids,
            resource_ids: deps.resource_ids.clone(),
            identity: identity.clone(),
            products,
            specs: tclocal_specs::registry(),
            journal: journal.clone(),
            faults: faults.clone(),
            rates,
            coherence,
        };
        Ok(App {
            inner: Arc::new(Inner {
                gateway,
                ready: AtomicBool::new(true),
                store_name: store.describe(),
                store,
                clock: deps.emulated,
                journal,
                faults,
                identity,
                resource_ids: deps.resource_ids,
                admin_token: config.admin_token.clone(),
                started: std::time::Instant::now(),
                settings: settings_summary(config),
                states,
            }),
        })
    }

    /// The HTTP router: `/_tclocal/*` for the control plane, everything else is the API.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/_tclocal", control::router(self))
            .fallback(api)
            .with_state(self.clone())
    }

    /// Serves one request of a connection from `peer`: what [`App::router`] does, with API
    /// requests handed to the gateway directly. The router's matching, boxing and
    /// per-request extensions cost an API request about 4 % of its CPU, and the API has one
    /// route; the control plane keeps the router. `router` must be this app's.
    pub(crate) async fn dispatch(
        &self,
        router: Router,
        mut req: http::Request<hyper::body::Incoming>,
        peer: std::net::SocketAddr,
    ) -> Response {
        if is_control_path(req.uri().path()) {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            match router.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        } else {
            self.inner
                .gateway
                .handle(req.map(axum::body::Body::new), Some(peer))
                .await
        }
    }

    /// True once start-up work has finished.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Emulated time.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The request journal.
    pub(crate) fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// The fault rules.
    pub(crate) fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Accounts and keys.
    pub(crate) fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// Id source (fault rule ids).
    pub(crate) fn resource_ids(&self) -> &dyn ResourceIds {
        self.inner.resource_ids.as_ref()
    }

    /// The admin token, when one is set.
    pub(crate) fn admin_token(&self) -> Option<&SecretKey> {
        self.inner.admin_token.as_ref()
    }

    /// Time since start.
    pub(crate) fn uptime(&self) -> std::time::Duration {
        self.inner.started.elapsed()
    }

    /// The settings shown by `/_tclocal/info` (no secrets).
    pub(crate) fn settings(&self) -> &serde_json::Value {
        &self.inner.settings
    }

    /// Set when several processes share the store.
    pub(crate) fn coherence(&self) -> Option<&Arc<Coherence>> {
        self.inner.gateway.coherence.as_ref()
    }

    /// Snapshots, imports and resets.
    pub(crate) fn states(&self) -> &States {
        &self.inner.states
    }

    /// Emulated time, persisted (`/_tclocal/clock/advance`).
    pub(crate) fn time(&self) -> &EmulatedTime {
        self.inner.states.time()
    }

    /// Forgets the request journal and the fault rules (a full reset).
    pub(crate) fn forget_history(&self) {
        self.inner.journal.clear();
        self.inner.faults.clear();
    }

    /// The emulated products (also what `tclocal coverage` asks which actions are emulated).
    #[must_use]
    pub fn products(&self) -> &Products {
        &self.inner.gateway.products
    }

    /// The store.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// A description of the store, e.g. `sqlite:/path` or `memory`.
    #[must_use]
    pub fn store_name(&self) -> &str {
        &self.inner.store_name
    }
}

/// The files `--seed` names: each file itself, each folder's `*.json` files in name order.
fn seed_files(seeds: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let mut files = Vec::new();
    for seed in seeds {
        let failed = |e: std::io::Error| AppError::Seed {
            path: seed.display().to_string(),
            reason: e.to_string(),
        };
        if seed.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(seed)
                .map_err(failed)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(seed.clone());
        }
    }
    Ok(files)
}

async fn apply_seed(states: &States, path: &Path, now_ms: i64) -> Result<(), AppError> {
    let failed = |reason: String| AppError::Seed {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    let snapshot: Snapshot = serde_json::from_slice(&text).map_err(|e| failed(e.to_string()))?;
    let rows = states
        .import(snapshot, &Scope::default(), Mode::Merge, now_ms)
        .await
        .map_err(|e| failed(e.to_string()))?;
    tracing::info!(seed = %path.display(), rows, "applied a seed");
    Ok(())
}

async fn api(State(app): State<App>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    app.inner.gateway.handle(req, peer).await
}

/// The paths [`App::router`] nests under `/_tclocal`.
fn is_control_path(path: &str) -> bool {
    path.strip_prefix("/_tclocal")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

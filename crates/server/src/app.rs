//! Building the shared state and the router.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use tclocal_services::cvm::{Cvm, Instances};
use tclocal_services::identity::{Identity, IdentityError};
use tclocal_services::{Product, Products};
use tclocal_store::{MemoryStore, SqliteStore, Store, StoreError};
use tclocal_wire::clock::{Clock, SystemClock};
use tclocal_wire::ids::{RequestIds, UuidRequestIds};

use crate::config::{Config, StoreConfig};
use crate::control;
use crate::gateway::{Gateway, GatewayConfig};

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
}

/// Everything a request handler can reach; cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    gateway: Gateway,
    ready: AtomicBool,
    store_name: String,
}

impl App {
    /// Opens the store, loads state and builds the gateway, with the system clock and random
    /// request ids.
    ///
    /// # Errors
    /// When the store or the identity data cannot be opened.
    pub async fn build(config: &Config) -> Result<App, AppError> {
        App::build_with(
            config,
            Arc::new(SystemClock::new()),
            Arc::new(UuidRequestIds),
            Vec::new(),
        )
        .await
    }

    /// [`App::build`] with an injected clock and request ids, and products that replace the
    /// built-in ones of the same name (for tests).
    ///
    /// # Errors
    /// When the store or the identity data cannot be opened.
    pub async fn build_with(
        config: &Config,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn RequestIds>,
        replacements: Vec<Arc<dyn Product>>,
    ) -> Result<App, AppError> {
        let store: Arc<dyn Store> = match &config.store {
            StoreConfig::Memory => Arc::new(MemoryStore::new()),
            StoreConfig::Sqlite(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| AppError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
                Arc::new(SqliteStore::open(&dir.join("tclocal.sqlite3"))?)
            }
        };
        let identity = Arc::new(Identity::open(store.as_ref(), config.root.clone()).await?);
        let mut products = Products::default();
        products.register(Arc::new(Cvm::new(Arc::new(Instances::default()))));
        for product in replacements {
            products.register(product);
        }
        let gateway = Gateway::new(
            GatewayConfig {
                auth: config.auth,
                language: config.language,
                max_skew_secs: config.max_skew_secs,
                limits: config.limits,
            },
            clock,
            ids,
            identity,
            products,
            tclocal_specs::registry(),
        );
        Ok(App {
            inner: Arc::new(Inner {
                gateway,
                ready: AtomicBool::new(true),
                store_name: store.describe(),
            }),
        })
    }

    /// The HTTP router: `/_tclocal/*` for the control plane, everything else is the API.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/_tclocal", control::router())
            .fallback(api)
            .with_state(self.clone())
    }

    /// True once start-up work has finished.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// A description of the store, e.g. `sqlite:/path` or `memory`.
    #[must_use]
    pub fn store_name(&self) -> &str {
        &self.inner.store_name
    }
}

async fn api(State(app): State<App>, req: Request) -> Response {
    app.inner.gateway.handle(req).await
}

//! tclocal's HTTP side: the API gateway, the control plane and the listener.
//!
//! The gateway ([`gateway`]) turns an HTTP request into a product call the way the cloud's
//! API gateway does, in the documented check order (method → common parameters →
//! Authorization → timestamp → SecretId → signature → product → version → action → region →
//! parameters → business logic), and every answer into the `{"Response": …}` envelope with
//! HTTP 200. Products (`tclocal-services`) never see HTTP; this crate never reads a table.
//!
//! - [`config`]: the validated server configuration.
//! - [`app`]: building the shared state and the router.
//! - [`gateway`]: the API pipeline.
//! - [`control`]: the `/_tclocal/*` endpoints.
//! - [`journal`], [`faults`], [`ratelimit`]: what the control plane shows and steers.
//! - `coherence`: several processes on one PostgreSQL database.
//! - [`snapshot`]: state export, import, reset and seeds (rows moved whole; products only say
//!   which account a row belongs to).
//! - [`clock`]: emulated time's offset, kept in the store across restarts.
//! - [`serve`]: the TCP listener, connection limits and graceful shutdown.
//! - [`tls`], [`proxy`]: transparent mode (`serve --tls`): the local CA, HTTPS, and the
//!   HTTP proxy for the Tencent Cloud API hosts.
//! - [`telemetry`]: the one place logging is set up.

pub mod app;
pub mod clock;
mod coherence;
pub mod config;
pub mod control;
pub mod faults;
pub mod gateway;
pub mod journal;
pub mod proxy;
pub mod ratelimit;
pub mod serve;
pub mod snapshot;
pub mod telemetry;
pub mod tls;

pub use app::{App, AppError};
pub use config::{AuthMode, Config, Durability, StoreConfig};

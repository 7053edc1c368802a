//! Logging set-up: the one place a subscriber is installed.
//!
//! The filter comes from `TCLOCAL_LOG` (e.g. `tclocal=debug`), default `tclocal=info`.
//! Nothing secret is ever logged: the gateway logs codes, ids and, at debug level, the
//! canonical request and string to sign, which hold no secret.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (a second call is a no-op).
pub fn init() {
    let filter = EnvFilter::try_from_env("TCLOCAL_LOG").unwrap_or_else(|_| {
        EnvFilter::new("tclocal=info,tclocal_server=info,tclocal_services=info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

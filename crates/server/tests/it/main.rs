//! tclocal-server integration tests: one binary (style rule 7).
//!
//! Most tests drive a real server over a loopback socket with raw HTTP bytes, because the
//! wire details (raw Host, header limits, exact Content-Type) are what they prove; the
//! official-SDK suites in `compat/` cover the same ground through real clients.

mod common;

mod auth;
mod bad_input;
mod control;
mod cvm;
mod envelope;
mod identity;
mod language;
mod params;
mod persistence;
mod routing;
mod services;
mod state;
mod tls;

//! Integration tests of tclocal-sdk, one binary (style rule 7).
//!
//! Everything runs on loopback: a tclocal started in process on `127.0.0.1:0`, or a fake
//! HTTP server on `127.0.0.1:0` that answers what a test scripts. Nothing leaves the machine.

mod common;

/// Success against tclocal: typed and untyped calls, GET, languages, a CVM lifecycle.
mod calls;
/// Each error class: API, transport, decode, credentials, invalid.
mod errors;
/// Retries: rate limits, network failures, ClientToken, what is never retried.
mod retries;
/// The SDK's request builder against the signing vectors of protocol.md §5.
mod signing;
/// The STS AssumeRole provider's refresh logic against a fake STS.
mod sts;

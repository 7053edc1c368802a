//! An async Rust client for the Tencent Cloud API 3.0, for the real cloud and for tclocal.
//!
//! * **Signing**: TC3-HMAC-SHA256 through `tclocal-sign`, the same code tclocal verifies with,
//!   pinned by the published vectors.
//! * **Calls**: [`Client::call`] sends any action of any product with JSON parameters; typed
//!   requests, responses and methods for CVM ([`cvm`]) are generated from the spec data.
//! * **Credentials**: static, environment, tccli profiles, STS `AssumeRole` with refresh
//!   ([`credentials`]). Secrets never show in `Debug` output or error messages.
//! * **Errors**: one [`Error`] that separates the API's answer ([`ApiError`]: typed [`Code`],
//!   message, `RequestId`) from transport, decoding and credential failures.
//! * **Retries**: opt-in ([`RetryPolicy`]), exponential backoff with jitter for
//!   `RequestLimitExceeded` and network failures, never for `InternalError`; a `ClientToken`
//!   is filled in where the action has one, so a retried create is not a second create.
//!
//! # Example
//!
//! Against a tclocal on loopback (the hidden lines start one in process; against the real
//! cloud, leave out `endpoint` and take keys from [`EnvCredentials`]):
//!
//! ```
//! use tclocal_sdk::{Client, Code, Credential, Error};
//! use tclocal_sdk::cvm::{DescribeInstancesStatusRequest, DescribeZonesRequest};
//! use tclocal_wire::CommonCode;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let config = tclocal_server::Config::for_tests();
//! # let app = tclocal_server::App::build(&config).await?;
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let endpoint = format!("http://{}", listener.local_addr()?);
//! # tokio::spawn(tclocal_server::serve::serve(listener, app, std::future::pending()));
//! let client = Client::builder()
//!     .endpoint(endpoint) // e.g. "http://127.0.0.1:4570"
//!     .region("ap-guangzhou")
//!     .credentials(Credential::new(
//!         "AKIDtclocalDevelopmentKey00000000000",
//!         "tclocalDevelopmentSecretKey00000",
//!     ))
//!     .build()?;
//!
//! // Typed: one method per action.
//! let zones = client.cvm().describe_zones(&DescribeZonesRequest::default()).await?;
//! assert!(zones.total_count > 0);
//! assert!(zones.zone_set.iter().any(|z| z.zone == "ap-guangzhou-3"));
//!
//! // Untyped: any action, JSON in and out.
//! let answer = client
//!     .call("cvm", "2017-03-12", "DescribeInstancesStatus", serde_json::json!({"Limit": 10}))
//!     .await?;
//! assert_eq!(answer["TotalCount"], 0);
//!
//! // API errors carry the code, the message and the RequestId.
//! let bad = DescribeInstancesStatusRequest { limit: Some(1000), ..Default::default() };
//! match client.cvm().describe_instances_status(&bad).await {
//!     Err(Error::Api(e)) => {
//!         assert_eq!(e.code, Code::Common(CommonCode::InvalidParameterValue));
//!         assert!(!e.request_id.is_empty());
//!     }
//!     other => panic!("expected an API error, got {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! * [`client`]: [`Client`], its builder, request preparation and sending.
//! * [`credentials`]: where keys come from.
//! * [`error`]: [`Error`] and its parts.
//! * [`retry`]: [`RetryPolicy`] and jitter.
//! * [`cvm`]: CVM 2017-03-12 (generated from `specs/cvm/2017-03-12.json`).

pub mod client;
pub mod credentials;
pub mod cvm;
pub mod error;
pub mod retry;

mod de;
mod flatten;

pub use client::{Client, ClientBuilder, HttpMethod, PreparedRequest};
pub use credentials::{
    Credential, DefaultCredentials, EnvCredentials, ProvideCredentials, SessionToken,
    StsAssumeRole, StsAssumeRoleBuilder, TccliProfile,
};
pub use error::{
    ApiError, Code, CredentialsError, DecodeError, DecodeKind, Error, Result, TransportError,
    TransportKind,
};
pub use retry::RetryPolicy;
pub use tclocal_wire::{CommonCode, Language};

/// Stands for a secret member (a password, a private key) in the `Debug` of generated types.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// True when the typed data says `action`'s request has a `ClientToken`.
pub(crate) fn has_client_token(service: &str, version: &str, action: &str) -> bool {
    match (service, version) {
        (cvm::SERVICE, cvm::VERSION) => cvm::CLIENT_TOKEN_ACTIONS.contains(&action),
        _ => false,
    }
}

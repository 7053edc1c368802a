//! The Tencent Cloud API 3.0 wire model, shared by the server and clients.
//!
//! What every product shares on the wire lives here: the `{"Response": …}` envelope, the
//! catalogue of common error codes with messages in the three languages of the seeds
//! (`zh-CN`, `en-US`, `ja-JP`), the spec model derived from the official published
//! models, and the parameter validator that types a request against it. Nothing here does
//! I/O or knows about HTTP.
//!
//! Layout:
//! - [`lang`]: the request language.
//! - [`catalogue`]: common error codes and message templates (data in `data/errors.json`).
//! - [`error`]: [`ApiError`], the one error type every API failure becomes.
//! - [`envelope`]: serialising success and error bodies.
//! - [`spec`]: the structure-only API model (`specs/<service>/<version>.json`).
//! - [`params`]: rebuilding flattened parameters and validating them against a spec.
//! - [`clock`], [`ids`]: injected time and request ids.
//! - [`context`]: what a service learns about the request it serves.

pub mod catalogue;
pub mod clock;
pub mod context;
pub mod envelope;
pub mod error;
pub mod ids;
pub mod lang;
pub mod params;
pub mod spec;

pub use catalogue::CommonCode;
pub use error::{ApiError, ApiResult};
pub use lang::Language;

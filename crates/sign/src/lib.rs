//! Request signing for the Tencent Cloud API 3.0, shared by the emulator's verifier and the
//! clients (SDK, CLI, tests) that sign requests.
//!
//! The crate is a leaf of pure functions: no I/O, no clock, no async. Callers pass the
//! timestamp and the raw request pieces, so signing and verification are deterministic and
//! every step can be pinned by the published test vectors (design notes `protocol.md` §5).
//!
//! # Layout
//!
//! * [`tc3`]: TC3-HMAC-SHA256 ("Signature v3"): canonical request, string to sign, key
//!   derivation, the `Authorization` header, client-side [`tc3::sign`] and server-side
//!   [`tc3::verify`] (protocol.md §3).
//! * [`v1`]: the legacy `HmacSHA1` / `HmacSHA256` signature carried in the query string or
//!   form body (protocol.md §4).
//! * [`SecretKey`] and [`SigningKey`]: redacted, zeroized secret types (style rule 4).
//!
//! Spec: <https://www.tencentcloud.com/zh/document/product/1021/34193> (签名方法 v3).

pub mod tc3;
pub mod v1;

mod secret;

pub use secret::{SecretKey, SigningKey};

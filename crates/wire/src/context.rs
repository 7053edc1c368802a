//! What a product learns about the request it serves.
//!
//! The gateway builds a [`RequestContext`] once authentication and routing are done; products
//! read it and never see HTTP.

use crate::Language;

/// What kind of identity signed a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PrincipalKind {
    /// The account's root: allowed everything.
    #[default]
    Root,
    /// A CAM sub-user: allowed what its policies allow.
    User,
    /// A CAM role assumed through STS.
    Role {
        /// The role's id.
        role_id: String,
        /// `RoleSessionName`.
        session: String,
    },
    /// A federated user (STS `GetFederationToken`).
    Federated {
        /// `Name`.
        name: String,
    },
}

/// The identity a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account's AppId.
    pub app_id: u64,
    /// The account's root UIN (`OwnerUin`).
    pub owner_uin: String,
    /// The UIN that signed: the root UIN, or a sub-user's.
    pub uin: String,
    /// The SecretId that signed, when the request was signed.
    pub secret_id: Option<String>,
    /// Root, sub-user, role session or federated user.
    pub kind: PrincipalKind,
    /// The credential carries a fresh MFA proof (STS credentials obtained with a token code).
    pub mfa: bool,
}

impl Principal {
    /// An account's root identity.
    #[must_use]
    pub fn root(app_id: u64, owner_uin: &str) -> Principal {
        Principal {
            app_id,
            owner_uin: owner_uin.to_owned(),
            uin: owner_uin.to_owned(),
            secret_id: None,
            kind: PrincipalKind::Root,
            mfa: false,
        }
    }
}

/// Everything about a request that products may depend on.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The id that goes back in `Response.RequestId`.
    pub request_id: String,
    /// Who is calling (shared with the key that signed: no copy per request).
    pub principal: std::sync::Arc<Principal>,
    /// The product, e.g. `cvm`.
    pub service: String,
    /// The API version, e.g. `2017-03-12`.
    pub version: String,
    /// The action, e.g. `DescribeInstancesStatus`.
    pub action: String,
    /// `X-TC-Region` / `Region`, already checked against the product's regions.
    pub region: Option<String>,
    /// The language answers are written in.
    pub language: Language,
    /// Server time when the request arrived, in Unix milliseconds.
    pub received_at_ms: i64,
}

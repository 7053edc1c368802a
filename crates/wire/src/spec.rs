//! The structure-only API model: `specs/<service>/<version>.json`.
//!
//! The files are derived from the official published models by `cargo xtask import-specs`
//! (see `specs/README.md`): actions with their status, request and response members with
//! types and flags, referenced structures and the product's error codes. No prose.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One product version's model.
#[derive(Debug, Deserialize)]
pub struct ServiceSpec {
    /// Product short name, e.g. `cvm`.
    pub service: String,
    /// API version, e.g. `2017-03-12`.
    pub version: String,
    /// Actions by name.
    pub actions: BTreeMap<String, ActionSpec>,
    /// Request, response and data structures by name.
    pub objects: BTreeMap<String, Vec<Member>>,
    /// The product's error codes.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Lifecycle status of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    /// Callable.
    #[default]
    Online,
    /// Callable, but slated for removal.
    Deprecated,
    /// Removed: calls get `ActionOffline`.
    Offline,
}

/// One action.
#[derive(Debug, Deserialize)]
pub struct ActionSpec {
    /// Status; absent in the model means online.
    #[serde(default)]
    pub status: ActionStatus,
    /// Name of the request object.
    pub input: String,
    /// Name of the response object.
    pub output: String,
    /// Called without a signature (`Authorization: SKIP`), e.g. STS `AssumeRoleWithSAML`.
    #[serde(default)]
    pub skip_sign: bool,
    /// The documented request rate limit, requests per second per account.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Error codes the official SDK documents for this action (besides the common ones).
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The outer type of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A string (possibly a date or timestamp by its `member`).
    String,
    /// An integer (`int64` or `uint64` by its `member`).
    Int,
    /// A boolean.
    Bool,
    /// A floating-point number.
    Float,
    /// A list of `member`.
    List,
    /// A structure named by `member`.
    Object,
    /// Binary content (multipart uploads).
    Binary,
}

/// One member of a structure.
#[derive(Debug, Deserialize)]
pub struct Member {
    /// Wire name (PascalCase).
    pub name: String,
    /// Outer type.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Element or primitive type: `string`, `int64`, `uint64`, `bool`, `float`, `datetime`,
    /// `datetime_iso`, `date`, `binary`, or an object name.
    pub member: String,
    /// Must be present in a request.
    #[serde(default)]
    pub required: bool,
    /// Always present in an answer.
    #[serde(default)]
    pub output_required: bool,
    /// May be JSON `null`.
    #[serde(default)]
    pub nullable: bool,
    /// Hidden in the model; still accepted.
    #[serde(default)]
    pub disabled: bool,
}

impl ServiceSpec {
    /// Parses a spec file.
    ///
    /// # Errors
    /// When the JSON does not follow the format.
    pub fn from_json(json: &str) -> Result<ServiceSpec, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The members of the named structure.
    #[must_use]
    pub fn object(&self, name: &str) -> Option<&[Member]> {
        self.objects.get(name).map(Vec::as_slice)
    }

    /// True when the product's catalogue lists `code`.
    #[must_use]
    pub fn has_error(&self, code: &str) -> bool {
        self.errors
            .binary_search_by(|c| c.as_str().cmp(code))
            .is_ok()
    }
}

//! [`Error`]: the one error type of the SDK.
//!
//! It keeps apart what the caller reacts to differently:
//!
//! * [`Error::Api`]: the service answered, and the answer is `Response.Error` (code, message,
//!   `RequestId`). The request reached the service; retrying the same call gives the same answer
//!   unless the code says otherwise (`RequestLimitExceeded`).
//! * [`Error::Transport`]: no answer came back (connection refused, timeout, TLS, reset).
//! * [`Error::Decode`]: an answer came back but it is not what API 3.0 promises (not JSON, no
//!   envelope, a non-200 status without an envelope, fields of the wrong type).
//! * [`Error::Credentials`]: no credential could be had (nothing in the environment, a broken
//!   profile file, an STS call that failed).
//! * [`Error::Invalid`]: the call cannot be sent as asked (a malformed endpoint, parameters
//!   that are not a JSON object).
//!
//! No variant ever carries a secret: messages name SecretIds at most.

use std::fmt;

use tclocal_wire::CommonCode;

/// Result of an SDK call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with `Response.Error`.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No answer came back.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An answer came back that is not a valid API 3.0 answer.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// No credential could be had.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The call cannot be sent as asked.
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl Error {
    /// The API error, when the service answered with one.
    #[must_use]
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The `RequestId` of the answer, when there was one.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.request_id),
            Error::Decode(e) => e.request_id.as_deref(),
            _ => None,
        }
    }
}

/// An error code: one of the common codes of the catalogue, or any other code (product codes
/// such as `InvalidInstanceId.NotFound`, or common codes newer than this SDK).
///
/// ```
/// use tclocal_sdk::Code;
/// use tclocal_wire::CommonCode;
///
/// let code = Code::parse("RequestLimitExceeded.UinLimitExceeded");
/// assert_eq!(code, Code::Common(CommonCode::RequestLimitExceededUinLimitExceeded));
/// assert!(code.is_rate_limit());
/// assert_eq!(Code::parse("InvalidInstanceId.NotFound").as_str(), "InvalidInstanceId.NotFound");
/// assert_eq!(Code::parse("InvalidInstanceId.NotFound").family(), "InvalidInstanceId");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Code {
    /// A common code of the catalogue (`tclocal_wire::CommonCode`).
    Common(CommonCode),
    /// Any other code, verbatim.
    Other(String),
}

impl Code {
    /// Types a wire code.
    #[must_use]
    pub fn parse(code: &str) -> Code {
        CommonCode::from_wire(code).map_or_else(|| Code::Other(code.to_owned()), Code::Common)
    }

    /// The code as it appears in `Response.Error.Code`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Code::Common(c) => c.as_str(),
            Code::Other(s) => s,
        }
    }

    /// The part before the first `.` (`AuthFailure` for `AuthFailure.SignatureFailure`).
    #[must_use]
    pub fn family(&self) -> &str {
        let s = self.as_str();
        s.split_once('.').map_or(s, |(family, _)| family)
    }

    /// True for `code` itself.
    #[must_use]
    pub fn is(&self, code: CommonCode) -> bool {
        *self == Code::Common(code)
    }

    /// True for `RequestLimitExceeded` and its sub-codes: the answers a retry may cure.
    #[must_use]
    pub fn is_rate_limit(&self) -> bool {
        self.family() == CommonCode::RequestLimitExceeded.as_str()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<CommonCode> for Code {
    fn from(code: CommonCode) -> Code {
        Code::Common(code)
    }
}

/// `Response.Error` of a failed call, with the answer's `RequestId`.
///
/// `Display` is `Code: Message (RequestId)`, the line `tclocal call` prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message} ({request_id})")]
pub struct ApiError {
    /// `Error.Code`.
    pub code: Code,
    /// `Error.Message`, in the request's language.
    pub message: String,
    /// `RequestId`: quote it when asking the provider about a failure.
    pub request_id: String,
}

/// What kind of transport failure happened; it decides whether a retry is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be made: the request never left, so a retry is always safe.
    Connect,
    /// No answer within the timeout: the service may have acted on the request.
    Timeout,
    /// Anything else (reset mid-answer, TLS, a broken body): the service may have acted.
    Other,
}

/// No answer came back.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct TransportError {
    kind: TransportKind,
    what: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportKind,
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> TransportError {
        TransportError {
            kind,
            what: what.into(),
            source: source.into(),
        }
    }

    /// The kind of failure.
    #[must_use]
    pub fn kind(&self) -> TransportKind {
        self.kind
    }
}

/// What was wrong with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeKind {
    /// The body is not JSON.
    NotJson,
    /// JSON, but not `{"Response": {…, "RequestId": …}}`.
    NotEnvelope,
    /// An HTTP status other than 200 without an error envelope (a proxy or gateway page).
    HttpStatus(u16),
    /// A valid envelope whose fields do not fit the typed response.
    Shape,
}

/// An answer that is not a valid API 3.0 answer.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DecodeError {
    kind: DecodeKind,
    /// The `RequestId`, when the envelope had one.
    request_id: Option<String>,
    /// The start of the body, for diagnostics.
    excerpt: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DecodeError {
    const EXCERPT: usize = 200;

    pub(crate) fn new(kind: DecodeKind, body: &[u8]) -> DecodeError {
        let text = String::from_utf8_lossy(body);
        let excerpt = match text.char_indices().nth(Self::EXCERPT) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text.into_owned(),
        };
        DecodeError {
            kind,
            request_id: None,
            excerpt,
            source: None,
        }
    }

    pub(crate) fn with_request_id(mut self, request_id: impl Into<String>) -> DecodeError {
        self.request_id = Some(request_id.into());
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> DecodeError {
        self.source = Some(source.into());
        self
    }

    /// What was wrong.
    #[must_use]
    pub fn kind(&self) -> DecodeKind {
        self.kind
    }

    /// The `RequestId`, when the answer was an envelope.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The first characters of the body.
    #[must_use]
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }

    fn describe(&self) -> String {
        let what = match self.kind {
            DecodeKind::NotJson => "the answer is not JSON".to_owned(),
            DecodeKind::NotEnvelope => "the answer is not an API 3.0 envelope".to_owned(),
            DecodeKind::HttpStatus(s) => format!("HTTP status {s} without an API answer"),
            DecodeKind::Shape => "the answer does not fit the response type".to_owned(),
        };
        let mut out = what;
        if let Some(source) = &self.source {
            out.push_str(&format!(" ({source})"));
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!(", RequestId {id}"));
        }
        if !self.excerpt.is_empty() {
            out.push_str(&format!(": {:?}", self.excerpt));
        }
        out
    }
}

/// No credential could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The source has no credential (variables unset, no profile file).
    #[error("no credentials: {0}")]
    NotFound(String),
    /// A profile file exists but cannot be used.
    #[error("profile {path}: {reason}")]
    Profile {
        /// The file.
        path: String,
        /// What is wrong with it (never its content).
        reason: String,
    },
    /// The STS call that issues temporary credentials failed.
    #[error("STS AssumeRole failed: {0}")]
    Sts(#[source] Box<Error>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_type_common_ones_and_keep_others_verbatim() {
        assert_eq!(
            Code::parse("InternalError"),
            Code::Common(CommonCode::InternalError)
        );
        assert!(Code::parse("InternalError").is(CommonCode::InternalError));
        assert!(!Code::parse("InternalError").is_rate_limit());
        assert!(Code::parse("RequestLimitExceeded").is_rate_limit());
        assert!(Code::parse("RequestLimitExceeded.SomethingNew").is_rate_limit());
        assert!(!Code::parse("RequestLimitExceededX").is_rate_limit());
        assert_eq!(Code::parse("X.Y").to_string(), "X.Y");
        assert_eq!(Code::from(CommonCode::AuthFailure).family(), "AuthFailure");
    }

    #[test]
    fn api_error_displays_code_message_and_request_id() {
        let e = ApiError {
            code: Code::parse("InvalidParameter"),
            message: "bad".to_owned(),
            request_id: "r-1".to_owned(),
        };
        assert_eq!(e.to_string(), "InvalidParameter: bad (r-1)");
        let e = Error::from(e);
        assert_eq!(e.request_id(), Some("r-1"));
        assert!(e.as_api().is_some());
    }

    #[test]
    fn decode_error_excerpt_is_bounded() {
        let body = "x".repeat(1000);
        let e = DecodeError::new(DecodeKind::NotJson, body.as_bytes());
        assert!(e.excerpt().chars().count() <= DecodeError::EXCERPT + 1);
        assert!(e.to_string().starts_with("the answer is not JSON"));
        let e = DecodeError::new(DecodeKind::HttpStatus(502), b"").with_request_id("r");
        assert_eq!(
            e.to_string(),
            "HTTP status 502 without an API answer, RequestId r"
        );
    }
}

//! Authentication: Authorization syntax, timestamp skew, SecretId, signature.
//!
//! The checks run in the documented order and each failure has its own code:
//! `AuthFailure.InvalidAuthorization` (header syntax), `AuthFailure.SignatureExpire` (skew),
//! `AuthFailure.InvalidSecretId` (not a cloud API key), `AuthFailure.SecretIdNotFound`
//! (never issued, or disabled), `AuthFailure.SignatureFailure` (no match). The signature
//! arithmetic itself lives in `tclocal-sign`.

use std::sync::Arc;

use http::HeaderMap;
use tclocal_services::identity::{ApiKey, Identity, TokenProblem, is_key_shaped};
use tclocal_sign::tc3::{self, Authorization, VerifyError, VerifyInput};
use tclocal_sign::v1;
use tclocal_wire::{ApiError, ApiResult, CommonCode};

use super::incoming::{Incoming, Scheme};
use crate::config::Limits;
use crate::journal::SignatureDiagnostics;

/// What the checks need besides the request.
pub(crate) struct Checker<'a> {
    pub(crate) identity: &'a Identity,
    pub(crate) max_skew_secs: i64,
    pub(crate) now_secs: i64,
    /// Emulated time: what temporary credentials expire against.
    pub(crate) emulated_now_ms: i64,
    pub(crate) limits: Limits,
}

/// The request as the signature covers it.
pub(crate) struct Signed<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    pub(crate) incoming: &'a Incoming<'a>,
    /// The TC3 Authorization header, parsed once per request ([`parse_tc3`]).
    pub(crate) tc3: Option<&'a Tc3Header<'a>>,
}

/// A TC3 `Authorization` header after parsing.
pub(crate) type Tc3Header<'a> = Result<Authorization<'a>, tc3::AuthorizationError>;

/// Parses the request's TC3 `Authorization` header, if it has one other than `SKIP`: the
/// route, the journal and the check all read it, and parsing it once is cheaper.
pub(crate) fn parse_tc3<'h>(incoming: &Incoming<'h>) -> Option<Tc3Header<'h>> {
    match &incoming.scheme {
        Scheme::Tc3 {
            authorization: Some(a),
        } if *a != "SKIP" => Some(tc3::parse_authorization(a)),
        _ => None,
    }
}

/// A failed check, with what the server signed when the signature did not match.
pub(crate) struct AuthFailure {
    pub(crate) error: ApiError,
    pub(crate) diagnostics: Option<SignatureDiagnostics>,
}

impl From<ApiError> for Box<AuthFailure> {
    fn from(error: ApiError) -> Self {
        Box::new(AuthFailure {
            error,
            diagnostics: None,
        })
    }
}

/// Redacts header values that are credentials (`x-tc-token`) if a client chose to sign them.
fn redact(canonical_request: String) -> String {
    if !canonical_request.contains("x-tc-token:") {
        return canonical_request;
    }
    canonical_request
        .lines()
        .map(|l| {
            if l.starts_with("x-tc-token:") {
                "x-tc-token:***"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Who signed, once the signature holds.
pub(crate) enum Authenticated {
    /// A valid signature by this key.
    Key(Arc<ApiKey>),
    /// `Authorization: SKIP` on an action the model marks as unsigned.
    Unsigned,
}

/// The SecretId a request names, whether or not its signature holds.
pub(crate) fn claimed_secret_id(
    incoming: &Incoming,
    tc3: Option<&Tc3Header<'_>>,
) -> Option<String> {
    match &incoming.scheme {
        Scheme::Tc3 { .. } => tc3
            .and_then(|parsed| parsed.as_ref().ok())
            .map(|a| a.secret_id.to_owned()),
        Scheme::V1 { secret_id, .. } => secret_id.clone(),
    }
}

fn missing(name: &str) -> ApiError {
    ApiError::new(CommonCode::MissingParameter).arg(name)
}

fn type_error(name: &str) -> ApiError {
    ApiError::with_template(CommonCode::InvalidParameter, "InvalidParameter.Type").arg(name)
}

fn signature_failure() -> ApiError {
    ApiError::new(CommonCode::AuthFailureSignatureFailure)
}

impl Checker<'_> {
    /// Runs every authentication check. `skip_sign_allowed` is true when the routed action is
    /// one the model marks as called without a signature.
    pub(crate) fn check(
        &self,
        req: &Signed<'_>,
        skip_sign_allowed: bool,
    ) -> Result<Authenticated, Box<AuthFailure>> {
        match &req.incoming.scheme {
            Scheme::Tc3 { authorization } => {
                let header = authorization
                    .as_deref()
                    .ok_or_else(|| missing("Authorization"))?;
                if header == "SKIP" {
                    return if skip_sign_allowed {
                        Ok(Authenticated::Unsigned)
                    } else {
                        Err(ApiError::new(CommonCode::AuthFailureInvalidAuthorization)
                            .arg("`SKIP` is accepted only for actions called without a signature")
                            .into())
                    };
                }
                let timestamp = self.timestamp(req.incoming)?;
                let parsed = match req.tc3 {
                    Some(parsed) => *parsed,
                    None => tc3::parse_authorization(header),
                };
                let auth = parsed.map_err(|e| {
                    ApiError::new(CommonCode::AuthFailureInvalidAuthorization).arg(e)
                })?;
                self.check_skew(timestamp)?;
                let key = self.key(auth.secret_id)?;
                self.verify_tc3(req, &auth, timestamp, &key)?;
                self.token(&key, req.incoming.token.as_deref())?;
                Ok(Authenticated::Key(key))
            }
            Scheme::V1 {
                signed_params,
                signature,
                method,
                nonce,
                secret_id,
            } => {
                let timestamp = self.timestamp(req.incoming)?;
                let nonce = nonce.as_deref().ok_or_else(|| missing("Nonce"))?;
                nonce
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| type_error("Nonce"))?;
                let secret_id = secret_id.as_deref().ok_or_else(|| missing("SecretId"))?;
                let signature = signature.as_deref().ok_or_else(|| missing("Signature"))?;
                let method = v1::SignatureMethod::parse(method.as_deref()).map_err(|_| {
                    ApiError::new(CommonCode::InvalidParameterValue).arg("SignatureMethod")
                })?;
                self.check_skew(timestamp)?;
                let key = self.key(secret_id)?;
                if req.body.len() > self.limits.max_v1_body_bytes {
                    return Err(ApiError::with_template(
                        CommonCode::AuthFailureSignatureFailure,
                        "AuthFailure.SignatureFailure.SizeLimit",
                    )
                    .into());
                }
                let params: Vec<(&str, &str)> = signed_params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let host = req.incoming.host;
                let hosts = std::iter::once(host).chain(tc3::strip_port(host));
                let ok = hosts.into_iter().any(|h| {
                    let sts = v1::string_to_sign(req.method, h, req.path, &params);
                    v1::verify(&key.secret_key, method, &sts, signature)
                });
                if !ok {
                    let sts = v1::string_to_sign(req.method, host, req.path, &params);
                    tracing::debug!(string_to_sign = %sts, "v1 signature mismatch");
                    return Err(Box::new(AuthFailure {
                        error: signature_failure(),
                        diagnostics: Some(SignatureDiagnostics::new(String::new(), sts)),
                    }));
                }
                self.token(&key, req.incoming.token.as_deref())?;
                Ok(Authenticated::Key(key))
            }
        }
    }

    /// Temporary credentials need their own token, before they expire.
    fn token(&self, key: &ApiKey, token: Option<&str>) -> ApiResult<()> {
        let template = match self.identity.check_token(key, token, self.emulated_now_ms) {
            Ok(()) => return Ok(()),
            Err(TokenProblem::Missing) => "AuthFailure.TokenFailure.Missing",
            Err(TokenProblem::Wrong) => "AuthFailure.TokenFailure",
            Err(TokenProblem::Expired) => "AuthFailure.TokenFailure.Expired",
        };
        Err(ApiError::with_template(
            CommonCode::AuthFailureTokenFailure,
            template,
        ))
    }

    fn timestamp(&self, incoming: &Incoming) -> ApiResult<i64> {
        let raw = incoming
            .timestamp
            .as_deref()
            .ok_or_else(|| missing("Timestamp"))?;
        raw.trim()
            .parse::<i64>()
            .map_err(|_| type_error("Timestamp"))
    }

    fn check_skew(&self, timestamp: i64) -> ApiResult<()> {
        if self.now_secs.abs_diff(timestamp) > self.max_skew_secs.unsigned_abs() {
            return Err(ApiError::new(CommonCode::AuthFailureSignatureExpire));
        }
        Ok(())
    }

    fn key(&self, secret_id: &str) -> ApiResult<Arc<ApiKey>> {
        if !is_key_shaped(secret_id) {
            return Err(ApiError::new(CommonCode::AuthFailureInvalidSecretId).arg(secret_id));
        }
        match self.identity.lookup(secret_id) {
            Some(key) if key.enabled => Ok(key),
            _ => Err(ApiError::new(CommonCode::AuthFailureSecretIdNotFound)),
        }
    }

    fn verify_tc3(
        &self,
        req: &Signed<'_>,
        auth: &Authorization<'_>,
        timestamp: i64,
        key: &ApiKey,
    ) -> Result<(), Box<AuthFailure>> {
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(req.headers.len());
        headers.extend(
            req.headers
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
        );
        let input = VerifyInput {
            method: req.method,
            query: req.query,
            headers: &headers,
            payload: req.body,
            unsigned_payload: req.incoming.unsigned_payload,
            timestamp,
            authorization: auth,
        };
        let signing_key = tc3::signing_key(&key.secret_key, auth.date, auth.service);
        match tc3::verify(&input, &signing_key) {
            Ok(_) => Ok(()),
            Err(VerifyError::MissingSignedHeader(name)) => {
                Err(ApiError::new(CommonCode::AuthFailureInvalidAuthorization)
                    .arg(format!(
                        "the signed header `{name}` is required and must be sent"
                    ))
                    .into())
            }
            Err(VerifyError::ScopeDateMismatch { expected, got }) => {
                tracing::debug!(%expected, %got, "credential scope date does not match the timestamp");
                Err(signature_failure().into())
            }
            Err(VerifyError::Mismatch(diag)) => {
                let diagnostics =
                    SignatureDiagnostics::new(redact(diag.canonical_request), diag.string_to_sign);
                // Safe to log: the canonical request and string to sign hold no secret.
                tracing::debug!(
                    canonical_request = %diagnostics.canonical_request,
                    string_to_sign = %diagnostics.string_to_sign,
                    "TC3 signature mismatch"
                );
                Err(Box::new(AuthFailure {
                    error: signature_failure(),
                    diagnostics: Some(diagnostics),
                }))
            }
        }
    }
}

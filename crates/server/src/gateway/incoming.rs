//! Reading an HTTP request into the parts the API pipeline checks.
//!
//! TC3 requests carry their common parameters in `X-TC-*` headers and their business
//! parameters in a JSON body (POST) or the query string (GET). v1 requests carry everything,
//! common and business, in the query string (GET) or a form body (POST). This module finds
//! out which it is and splits the two kinds of parameter; it checks only what must hold
//! before anything else can be read (single-valued headers, text where text is needed).

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use tclocal_wire::{ApiError, ApiResult, CommonCode};

/// Headers that must appear at most once: a second copy would make the request ambiguous.
const SINGLETON_HEADERS: [&str; 11] = [
    "authorization",
    "content-type",
    "host",
    "x-tc-action",
    "x-tc-version",
    "x-tc-timestamp",
    "x-tc-region",
    "x-tc-token",
    "x-tc-language",
    "x-tc-content-sha256",
    "x-tc-traceid",
];

/// The v1 common parameters: never passed on to products.
const V1_COMMON: [&str; 11] = [
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

/// Which signature scheme the request uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scheme<'h> {
    /// TC3-HMAC-SHA256: common parameters in headers.
    Tc3 {
        /// The `Authorization` header, if any.
        authorization: Option<&'h str>,
    },
    /// v1 HmacSHA1/HmacSHA256: everything in parameters.
    V1 {
        /// Every decoded parameter except `Signature`, for the string to sign.
        signed_params: Vec<(String, String)>,
        /// `Signature`.
        signature: Option<String>,
        /// `SignatureMethod`.
        method: Option<String>,
        /// `Nonce`.
        nonce: Option<String>,
        /// `SecretId`.
        secret_id: Option<String>,
    },
}

/// Business parameters as they arrived.
#[derive(Debug)]
pub(crate) enum Business {
    /// A JSON body, not parsed yet: it is parsed after authentication.
    Json(Bytes),
    /// Decoded pairs from a query string or form body.
    Flat(Vec<(String, String)>),
}

/// The common parameters and the raw material for signature checks. TC3 values borrow the
/// request's headers; v1 values are decoded from parameters and owned.
#[derive(Debug)]
pub(crate) struct Incoming<'h> {
    pub(crate) scheme: Scheme<'h>,
    pub(crate) action: Option<Cow<'h, str>>,
    pub(crate) version: Option<Cow<'h, str>>,
    pub(crate) region: Option<Cow<'h, str>>,
    pub(crate) timestamp: Option<Cow<'h, str>>,
    pub(crate) language: Option<Cow<'h, str>>,
    /// `X-TC-Token` / `Token`: the token of temporary credentials.
    pub(crate) token: Option<Cow<'h, str>>,
    /// `X-TC-RequestClient` / `RequestClient`: which SDK sent it, for the journal.
    pub(crate) client: Option<Cow<'h, str>>,
    pub(crate) host: &'h str,
    pub(crate) unsigned_payload: bool,
    pub(crate) business: Business,
    /// The raw body as received: what the signature covers.
    pub(crate) body: Bytes,
}

/// The headers the pipeline reads, found in one pass over the header block.
#[derive(Debug, Default)]
pub(crate) struct Common<'h> {
    /// Indexed like [`SINGLETON_HEADERS`].
    singletons: [Option<&'h HeaderValue>; SINGLETON_HEADERS.len()],
    /// `x-tc-requestclient` (may repeat; the first counts).
    client: Option<&'h HeaderValue>,
}

const AUTHORIZATION: usize = 0;
const CONTENT_TYPE: usize = 1;
const HOST: usize = 2;
const ACTION: usize = 3;
const VERSION: usize = 4;
const TIMESTAMP: usize = 5;
const REGION: usize = 6;
const TOKEN: usize = 7;
const LANGUAGE: usize = 8;
const CONTENT_SHA256: usize = 9;

impl<'h> Common<'h> {
    fn text(&self, i: usize) -> ApiResult<Option<&'h str>> {
        value_text(self.singletons[i], SINGLETON_HEADERS[i])
    }
}

fn value_text<'h>(value: Option<&'h HeaderValue>, name: &str) -> ApiResult<Option<&'h str>> {
    match value {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            ApiError::new(CommonCode::InvalidParameter)
                .arg(format!("header `{name}` is not printable ASCII"))
        }),
    }
}

/// Checks the header block as a whole (size, single-valued headers) and picks out the
/// headers the pipeline reads, in one pass: looking each up by name would hash it.
pub(crate) fn check_headers(headers: &HeaderMap, max_bytes: usize) -> ApiResult<Common<'_>> {
    let mut common = Common::default();
    let mut size = 0usize;
    let mut repeated = 0u16;
    for (name, value) in headers {
        size += name.as_str().len() + value.len() + 4;
        let name = name.as_str();
        if name == "x-tc-requestclient" {
            common.client.get_or_insert(value);
            continue;
        }
        if let Some(i) = SINGLETON_HEADERS.iter().position(|s| *s == name) {
            if common.singletons[i].is_some() {
                repeated |= 1 << i;
            } else {
                common.singletons[i] = Some(value);
            }
        }
    }
    if size > max_bytes {
        return Err(ApiError::new(CommonCode::RequestSizeLimitExceeded).arg(max_bytes));
    }
    if repeated != 0 {
        let first = repeated.trailing_zeros() as usize;
        return Err(ApiError::with_template(
            CommonCode::InvalidParameter,
            "InvalidParameter.Duplicate",
        )
        .arg(SINGLETON_HEADERS[first]));
    }
    Ok(common)
}

fn decode_pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn is_form(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|t| {
        t.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

impl<'h> Incoming<'h> {
    /// Splits a request. `is_get` selects the query string as the parameter source.
    pub(crate) fn read(
        common: &Common<'h>,
        is_get: bool,
        query: &str,
        body: Bytes,
    ) -> ApiResult<Incoming<'h>> {
        let text = |i| common.text(i).map(|v| v.map(Cow::Borrowed));
        let host = common.text(HOST)?.unwrap_or_default();
        let content_type = common.text(CONTENT_TYPE)?.unwrap_or_default();
        let authorization = common.text(AUTHORIZATION)?;
        let action = text(ACTION)?;
        let unsigned_payload = common
            .text(CONTENT_SHA256)?
            .is_some_and(|v| v.eq_ignore_ascii_case("UNSIGNED-PAYLOAD"));

        if authorization.is_some() || action.is_some() {
            let business = if is_get {
                Business::Flat(decode_pairs(query.as_bytes()))
            } else if is_json(content_type) || body.is_empty() {
                Business::Json(body.clone())
            } else if is_form(content_type) {
                Business::Flat(decode_pairs(&body))
            } else {
                return Err(ApiError::with_template(
                    CommonCode::InvalidParameter,
                    "InvalidParameter.ContentType",
                )
                .arg(content_type));
            };
            return Ok(Incoming {
                scheme: Scheme::Tc3 { authorization },
                action,
                version: text(VERSION)?,
                region: text(REGION)?,
                timestamp: text(TIMESTAMP)?,
                language: text(LANGUAGE)?,
                token: text(TOKEN)?,
                client: value_text(common.client, "x-tc-requestclient")?.map(Cow::Borrowed),
                host,
                unsigned_payload,
                business,
                body,
            });
        }

        let pairs = if is_get {
            decode_pairs(query.as_bytes())
        } else if is_form(content_type) {
            decode_pairs(&body)
        } else {
            Vec::new()
        };
        Incoming::v1(pairs, host, body)
    }

    fn v1(pairs: Vec<(String, String)>, host: &'h str, body: Bytes) -> ApiResult<Incoming<'h>> {
        let mut common: [Option<String>; V1_COMMON.len()] = Default::default();
        let mut business = Vec::new();
        let mut signed_params = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            if let Some(i) = V1_COMMON.iter().position(|c| *c == k) {
                if common[i].is_some() {
                    return Err(ApiError::with_template(
                        CommonCode::InvalidParameter,
                        "InvalidParameter.Duplicate",
                    )
                    .arg(&k));
                }
                if k != "Signature" {
                    signed_params.push((k.clone(), v.clone()));
                }
                common[i] = Some(v);
            } else {
                signed_params.push((k.clone(), v.clone()));
                business.push((k, v));
            }
        }
        let [
            action,
            version,
            region,
            timestamp,
            nonce,
            secret_id,
            signature,
            method,
            token,
            language,
            client,
        ] = common.map(|v| v.map(Cow::Owned));
        let owned = |v: Option<Cow<'h, str>>| v.map(Cow::into_owned);
        Ok(Incoming {
            scheme: Scheme::V1 {
                signed_params,
                signature: owned(signature),
                method: owned(method),
                nonce: owned(nonce),
                secret_id: owned(secret_id),
            },
            action,
            version,
            region,
            timestamp,
            language,
            token,
            client,
            host,
            unsigned_payload: false,
            business: Business::Flat(business),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn tc3_post_reads_common_parameters_from_headers() {
        let h = headers(&[
            ("host", "127.0.0.1:4570"),
            ("content-type", "application/json"),
            ("authorization", "TC3-HMAC-SHA256 x"),
            ("x-tc-action", "DescribeZones"),
            ("x-tc-version", "2017-03-12"),
            ("x-tc-region", "ap-guangzhou"),
            ("x-tc-timestamp", "1"),
        ]);
        let common = check_headers(&h, 1 << 16).unwrap();
        let got = Incoming::read(&common, false, "", Bytes::from_static(b"{}")).unwrap();
        assert!(matches!(got.scheme, Scheme::Tc3 { .. }));
        assert_eq!(got.action.as_deref(), Some("DescribeZones"));
        assert_eq!(got.region.as_deref(), Some("ap-guangzhou"));
        assert!(matches!(got.business, Business::Json(_)));
    }

    #[test]
    fn v1_splits_common_from_business_parameters() {
        let h = headers(&[
            ("host", "h"),
            ("content-type", "application/x-www-form-urlencoded"),
        ]);
        let body =
            "Action=DescribeInstances&InstanceIds.0=ins-1&Nonce=1&Signature=a%2Bb&SecretId=AKID";
        let common = check_headers(&h, 1 << 16).unwrap();
        let got = Incoming::read(&common, false, "", Bytes::from(body)).unwrap();
        let Scheme::V1 {
            signed_params,
            signature,
            ..
        } = got.scheme
        else {
            panic!("not v1")
        };
        assert_eq!(signature.as_deref(), Some("a+b"));
        assert_eq!(signed_params.len(), 4);
        let Business::Flat(b) = got.business else {
            panic!()
        };
        assert_eq!(b, [("InstanceIds.0".to_owned(), "ins-1".to_owned())]);
    }

    #[test]
    fn duplicated_common_parameters_and_headers_are_refused() {
        let h = headers(&[("host", "h")]);
        let common = check_headers(&h, 1 << 16).unwrap();
        let e = Incoming::read(&common, true, "Action=A&Action=B", Bytes::new()).unwrap_err();
        assert_eq!(e.code(), "InvalidParameter");
        let h = headers(&[("x-tc-action", "A"), ("x-tc-action", "B")]);
        assert_eq!(
            check_headers(&h, 1 << 16).unwrap_err().code(),
            "InvalidParameter"
        );
    }

    #[test]
    fn oversized_header_blocks_are_refused() {
        let mut h = HeaderMap::new();
        let big = HeaderValue::from_str(&"x".repeat(70_000)).unwrap();
        h.insert("x-big", big);
        assert_eq!(
            check_headers(&h, 64 * 1024).unwrap_err().code(),
            "RequestSizeLimitExceeded"
        );
    }

    #[test]
    fn unknown_body_type_for_tc3_is_invalid_parameter() {
        let h = headers(&[("x-tc-action", "A"), ("content-type", "text/plain")]);
        let common = check_headers(&h, 1 << 16).unwrap();
        let e = Incoming::read(&common, false, "", Bytes::from_static(b"hi")).unwrap_err();
        assert_eq!(e.code(), "InvalidParameter");
    }
}

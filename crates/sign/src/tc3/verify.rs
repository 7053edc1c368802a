//! Server-side TC3 verification: rebuild the canonical request from what was received and
//! compare signatures in constant time.
//!
//! The official SDKs do not agree on what they sign (protocol.md §1.3, §3.2), so one request
//! may need several candidate canonical forms before it is rejected:
//!
//! 1. header values as received (trimmed): Python, Go, Java, tccli;
//! 2. values lower-cased: the official demo and the documented rule;
//! 3. and 4. the same two with the `:port` suffix removed from `Host`: the Node SDK signs
//!    `URL.hostname` but sends `URL.host`.
//!
//! `Host` is otherwise used verbatim; it may even be `http://127.0.0.1:18080` when a Python
//! client was given an endpoint with a scheme, so it is never parsed as a URL.

use subtle::ConstantTimeEq;

use std::borrow::Cow;

use super::{
    Authorization, canonical_request, date_bytes, date_of, hashed_payload_hex, signature_hex,
    string_to_sign,
};
use crate::SigningKey;

/// The received request, as the server saw it.
#[derive(Debug, Clone, Copy)]
pub struct VerifyInput<'a> {
    /// The HTTP method as received (`POST`, `GET`).
    pub method: &'a str,
    /// The raw query string as received, without `?`. Signed only for `GET`: for other
    /// methods the documented canonical query string is empty.
    pub query: &'a str,
    /// The received headers: name in any case and raw value; may contain duplicates, whose
    /// values are joined with `,` in the order received.
    pub headers: &'a [(&'a str, &'a str)],
    /// The raw body bytes.
    pub payload: &'a [u8],
    /// Whether the request carried `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
    pub unsigned_payload: bool,
    /// The `X-TC-Timestamp` value.
    pub timestamp: i64,
    /// The parsed `Authorization` header; its date and service form the scope.
    pub authorization: &'a Authorization<'a>,
}

/// Why verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `SignedHeaders` lacks `content-type` or `host`, or a signed header is absent from the
    /// request. Carries the lower-case header name.
    #[error("signed header {0} is missing")]
    MissingSignedHeader(String),
    /// The credential scope date is not the UTC date of `X-TC-Timestamp`.
    #[error("credential scope date {got} does not match the timestamp's date {expected}")]
    ScopeDateMismatch {
        /// The date of the timestamp (`(out of range)` if it has none).
        expected: String,
        /// The date in the credential scope.
        got: String,
    },
    /// No candidate canonical form produced the received signature.
    #[error("signature mismatch")]
    Mismatch(Box<Diagnostics>),
}

/// What the server computed for the primary candidate (values as received), to show the
/// client why its signature did not match. Contains no secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// The server's canonical request.
    pub canonical_request: String,
    /// The server's string to sign.
    pub string_to_sign: String,
}

/// A successful verification, with the canonical form that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The canonical request that produced the signature.
    pub canonical_request: String,
    /// The string to sign that produced the signature.
    pub string_to_sign: String,
    /// True when the signature matched only with the port stripped from `Host` (Node SDK).
    pub used_host_fallback: bool,
}

/// Verifies a TC3 signature. `key` must be
/// [`signing_key`](super::signing_key)`(secret, authorization.date, authorization.service)`;
/// the caller derives (and may cache) it. Checking the timestamp skew, the SecretId and the
/// scope service is the caller's job.
///
/// ```
/// use tclocal_sign::SecretKey;
/// use tclocal_sign::tc3::{SignInput, VerifyInput, parse_authorization, sign, signing_key, verify};
///
/// let secret = SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
/// let signed = sign(
///     &SignInput {
///         method: "POST",
///         host: "127.0.0.1:4570",
///         query: "",
///         content_type: "application/json",
///         payload: b"{}",
///         unsigned_payload: false,
///         timestamp: 1_551_113_065,
///         service: "cvm",
///         secret_id: "AKIDEXAMPLE",
///     },
///     &secret,
/// );
/// let auth = parse_authorization(&signed.authorization)?;
/// let key = signing_key(&secret, auth.date, auth.service);
/// let headers = [("Host", "127.0.0.1:4570"), ("Content-Type", "application/json")];
/// let verified = verify(
///     &VerifyInput {
///         method: "POST",
///         query: "",
///         headers: &headers,
///         payload: b"{}",
///         unsigned_payload: false,
///         timestamp: 1_551_113_065,
///         authorization: &auth,
///     },
///     &key,
/// )?;
/// assert!(!verified.used_host_fallback);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify(input: &VerifyInput<'_>, key: &SigningKey) -> Result<Verified, VerifyError> {
    let auth = input.authorization;

    for required in ["content-type", "host"] {
        if !auth
            .signed_header_names()
            .any(|name| name.eq_ignore_ascii_case(required))
        {
            return Err(VerifyError::MissingSignedHeader(required.to_owned()));
        }
    }

    let expected_date = date_bytes(input.timestamp);
    if expected_date.as_ref().map(<[u8; 10]>::as_slice) != Some(auth.date.as_bytes()) {
        return Err(VerifyError::ScopeDateMismatch {
            expected: date_of(input.timestamp).unwrap_or_else(|| "(out of range)".to_owned()),
            got: auth.date.to_owned(),
        });
    }

    // Canonical names and values as received (trimmed), in SignedHeaders order. Borrowed
    // when nothing had to change: a request is usually verified by its first candidate.
    let count = auth.signed_header_names().count();
    let mut names: Vec<Cow<'_, str>> = Vec::with_capacity(count);
    let mut received: Vec<Cow<'_, str>> = Vec::with_capacity(count);
    for name in auth.signed_header_names() {
        let name = lower_ascii(name);
        let value = received_value(input.headers, &name)
            .ok_or_else(|| VerifyError::MissingSignedHeader(name.clone().into_owned()))?;
        names.push(name);
        received.push(value);
    }
    let host_index = names.iter().position(|n| n == "host");

    // The canonical query string is the raw query for GET and empty otherwise (签名方法 v3:
    // "对于 POST 请求，固定为空字符串"); the SDKs follow the same rule.
    let query = if input.method == "GET" {
        input.query
    } else {
        ""
    };
    let payload_hash = hashed_payload_hex(input.payload, input.unsigned_payload);
    // ASCII hex, so this cannot fail.
    let payload_hash = std::str::from_utf8(&payload_hash).unwrap_or_default();

    let attempt = |values: &[Cow<'_, str>]| {
        let headers: Vec<(&str, &str)> = names
            .iter()
            .map(AsRef::as_ref)
            .zip(values.iter().map(AsRef::as_ref))
            .collect();
        let canonical_request = canonical_request(
            input.method,
            "/",
            query,
            &headers,
            auth.signed_headers,
            payload_hash,
        );
        let string_to_sign =
            string_to_sign(input.timestamp, auth.date, auth.service, &canonical_request);
        let computed = signature_hex(key, &string_to_sign);
        let matched = bool::from(computed.as_slice().ct_eq(auth.signature.as_bytes()));
        (matched, canonical_request, string_to_sign)
    };

    // 1. As received.
    let (matched, canonical_request, string_to_sign) = attempt(&received);
    if matched {
        return Ok(Verified {
            canonical_request,
            string_to_sign,
            used_host_fallback: false,
        });
    }
    let primary = Diagnostics {
        canonical_request,
        string_to_sign,
    };

    // 2. Lower-cased; 3. and 4. both with the port stripped from Host. Each is tried once.
    let lowered: Vec<Cow<'_, str>> = received.iter().map(|v| lower(v)).collect();
    let mut tried: Vec<Vec<Cow<'_, str>>> = vec![received.clone()];
    let mut candidates: Vec<(Vec<Cow<'_, str>>, bool)> = Vec::new();
    if lowered != received {
        candidates.push((lowered.clone(), false));
    }
    if let Some(i) = host_index {
        for values in [&received, &lowered] {
            if let Some(stripped) = strip_port(&values[i]) {
                let mut values = values.clone();
                values[i] = Cow::Owned(stripped.to_owned());
                candidates.push((values, true));
            }
        }
    }
    for (values, used_host_fallback) in candidates {
        if tried.contains(&values) {
            continue;
        }
        let (matched, canonical_request, string_to_sign) = attempt(&values);
        if matched {
            return Ok(Verified {
                canonical_request,
                string_to_sign,
                used_host_fallback,
            });
        }
        tried.push(values);
    }
    Err(VerifyError::Mismatch(Box::new(primary)))
}

/// `name` in lower case, borrowed when it already is.
fn lower_ascii(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// `value` lower-cased (Unicode rules, as the demo signs), borrowed when nothing changes.
fn lower<'v>(value: &Cow<'v, str>) -> Cow<'v, str> {
    if value
        .bytes()
        .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
    {
        let lowered = value.to_lowercase();
        if lowered != **value {
            return Cow::Owned(lowered);
        }
    }
    value.clone()
}

/// The trimmed value of header `name` (lower case), or `None` if absent. Repeated headers
/// are joined with `,`, the usual HTTP rule for combining field lines.
fn received_value<'h>(headers: &[(&str, &'h str)], name: &str) -> Option<Cow<'h, str>> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim_ascii());
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut joined = format!("{first},{second}");
    for v in values {
        joined.push(',');
        joined.push_str(v);
    }
    Some(Cow::Owned(joined))
}

/// Removes a trailing `:digits` port from a raw Host value, if it has one.
///
/// Handles `host:port`, `[v6]:port` and `scheme://host:port` (the Python SDK sends the
/// endpoint string verbatim); leaves a bare IPv6 literal such as `::1` alone.
pub fn strip_port(host: &str) -> Option<&str> {
    let (head, port) = host.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let authority = head.split_once("://").map_or(head, |(_, rest)| rest);
    if authority.is_empty() {
        return None;
    }
    (authority.ends_with(']') || !authority.contains(':')).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use crate::tc3::{SignInput, parse_authorization, sign, signing_key};

    #[test]
    fn strip_port_cases() {
        assert_eq!(strip_port("127.0.0.1:4566"), Some("127.0.0.1"));
        assert_eq!(strip_port("localhost:18080"), Some("localhost"));
        assert_eq!(strip_port("cvm.localhost:4570"), Some("cvm.localhost"));
        assert_eq!(
            strip_port("http://127.0.0.1:18080"),
            Some("http://127.0.0.1")
        );
        assert_eq!(strip_port("[::1]:8080"), Some("[::1]"));
        assert_eq!(strip_port("http://[::1]:8080"), Some("http://[::1]"));
        assert_eq!(strip_port("cvm.tencentcloudapi.com"), None);
        assert_eq!(strip_port("http://127.0.0.1"), None);
        assert_eq!(strip_port("[::1]"), None);
        assert_eq!(strip_port("::1"), None);
        assert_eq!(strip_port("fe80::1:8080"), None);
        assert_eq!(strip_port("localhost:"), None);
        assert_eq!(strip_port(":8080"), None);
        assert_eq!(strip_port("http://:8080"), None);
        assert_eq!(strip_port("host:80a"), None);
    }

    #[test]
    fn received_value_joins_duplicates_case_insensitively() {
        let headers = [("X-A", " 1 "), ("x-b", "2"), ("x-a", "\t3")];
        assert_eq!(received_value(&headers, "x-a").as_deref(), Some("1,3"));
        let three = [("x-a", "1"), ("x-a", "2"), ("x-a", "3")];
        assert_eq!(received_value(&three, "x-a").as_deref(), Some("1,2,3"));
        assert_eq!(received_value(&headers, "x-b").as_deref(), Some("2"));
        assert_eq!(received_value(&headers, "x-c"), None);
    }

    const SECRET: &str = "secret";
    const TS: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z

    fn signed_post(host: &str, content_type: &str, body: &[u8]) -> String {
        sign(
            &SignInput {
                method: "POST",
                host,
                query: "",
                content_type,
                payload: body,
                unsigned_payload: false,
                timestamp: TS,
                service: "cvm",
                secret_id: "AKID",
            },
            &SecretKey::new(SECRET),
        )
        .authorization
    }

    fn run(
        header: &str,
        method: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timestamp: i64,
    ) -> Result<Verified, VerifyError> {
        let auth = parse_authorization(header).unwrap();
        let key = signing_key(&SecretKey::new(SECRET), auth.date, auth.service);
        verify(
            &VerifyInput {
                method,
                query,
                headers,
                payload: body,
                unsigned_payload: false,
                timestamp,
                authorization: &auth,
            },
            &key,
        )
    }

    #[test]
    fn round_trip_with_trimmed_values() {
        let header = signed_post("localhost:4570", "application/json", b"{}");
        let headers = [
            ("HOST", "  localhost:4570 "),
            ("content-TYPE", "application/json\t"),
        ];
        let ok = run(&header, "POST", "", &headers, b"{}", TS).unwrap();
        assert!(!ok.used_host_fallback);
    }

    #[test]
    fn post_ignores_query_but_get_signs_it() {
        let header = signed_post("h", "application/json", b"{}");
        let headers = [("Host", "h"), ("Content-Type", "application/json")];
        assert!(run(&header, "POST", "Action=X", &headers, b"{}", TS).is_ok());

        let get = sign(
            &SignInput {
                method: "GET",
                host: "h",
                query: "Limit=1",
                content_type: "application/x-www-form-urlencoded",
                payload: b"",
                unsigned_payload: false,
                timestamp: TS,
                service: "cvm",
                secret_id: "AKID",
            },
            &SecretKey::new(SECRET),
        );
        let headers = [
            ("Host", "h"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        assert!(run(&get.authorization, "GET", "Limit=1", &headers, b"", TS).is_ok());
        assert!(matches!(
            run(&get.authorization, "GET", "Limit=2", &headers, b"", TS),
            Err(VerifyError::Mismatch(_))
        ));
    }

    #[test]
    fn upper_case_host_verifies_as_received_or_lower_cased() {
        // An SDK given an upper-case endpoint signs it as is.
        let header = signed_post("CVM.Localhost:4570", "application/json", b"{}");
        let headers = [
            ("Host", "CVM.Localhost:4570"),
            ("Content-Type", "application/json"),
        ];
        assert!(
            !run(&header, "POST", "", &headers, b"{}", TS)
                .unwrap()
                .used_host_fallback
        );
        // A client that lower-cased before signing, while the header kept its case.
        let header = signed_post("cvm.localhost:4570", "application/json", b"{}");
        let ok = run(&header, "POST", "", &headers, b"{}", TS).unwrap();
        assert!(!ok.used_host_fallback);
        assert!(ok.canonical_request.contains("host:cvm.localhost:4570\n"));
        // Lower-cased and without the port.
        let header = signed_post("cvm.localhost", "application/json", b"{}");
        assert!(
            run(&header, "POST", "", &headers, b"{}", TS)
                .unwrap()
                .used_host_fallback
        );
    }

    #[test]
    fn host_fallback_for_scheme_and_ipv6_hosts() {
        let header = signed_post("http://127.0.0.1", "application/json", b"{}");
        let headers = [
            ("Host", "http://127.0.0.1:18080"),
            ("Content-Type", "application/json"),
        ];
        assert!(
            run(&header, "POST", "", &headers, b"{}", TS)
                .unwrap()
                .used_host_fallback
        );

        let header = signed_post("[::1]", "application/json", b"{}");
        let headers = [("Host", "[::1]:8080"), ("Content-Type", "application/json")];
        assert!(
            run(&header, "POST", "", &headers, b"{}", TS)
                .unwrap()
                .used_host_fallback
        );

        // Verbatim scheme-carrying Host (tccli --endpoint http://…) needs no fallback.
        let header = signed_post("http://127.0.0.1:18080", "application/json", b"{}");
        let headers = [
            ("Host", "http://127.0.0.1:18080"),
            ("Content-Type", "application/json"),
        ];
        assert!(
            !run(&header, "POST", "", &headers, b"{}", TS)
                .unwrap()
                .used_host_fallback
        );
    }

    #[test]
    fn missing_signed_header() {
        let header = signed_post("h", "application/json", b"{}");
        // Host absent from the request.
        let headers = [("Content-Type", "application/json")];
        assert_eq!(
            run(&header, "POST", "", &headers, b"{}", TS).unwrap_err(),
            VerifyError::MissingSignedHeader("host".into())
        );
        // content-type absent from SignedHeaders.
        let sig = "0".repeat(64);
        let header = format!(
            "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/cvm/tc3_request, SignedHeaders=host, Signature={sig}"
        );
        let headers = [("Host", "h"), ("Content-Type", "application/json")];
        assert_eq!(
            run(&header, "POST", "", &headers, b"{}", TS).unwrap_err(),
            VerifyError::MissingSignedHeader("content-type".into())
        );
        // host absent from SignedHeaders.
        let header = format!(
            "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/cvm/tc3_request, SignedHeaders=content-type;x-tc-action, Signature={sig}"
        );
        assert_eq!(
            run(&header, "POST", "", &headers, b"{}", TS).unwrap_err(),
            VerifyError::MissingSignedHeader("host".into())
        );
        // An extra signed header that was not sent.
        let header = format!(
            "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/cvm/tc3_request, SignedHeaders=content-type;host;X-TC-Action, Signature={sig}"
        );
        assert_eq!(
            run(&header, "POST", "", &headers, b"{}", TS).unwrap_err(),
            VerifyError::MissingSignedHeader("x-tc-action".into())
        );
    }

    #[test]
    fn scope_date_mismatch() {
        let header = signed_post("h", "application/json", b"{}");
        let headers = [("Host", "h"), ("Content-Type", "application/json")];
        // One day later: the scope still says 2023-11-14.
        assert_eq!(
            run(&header, "POST", "", &headers, b"{}", TS + 86_400).unwrap_err(),
            VerifyError::ScopeDateMismatch {
                expected: "2023-11-15".into(),
                got: "2023-11-14".into()
            }
        );
        assert_eq!(
            run(&header, "POST", "", &headers, b"{}", i64::MAX).unwrap_err(),
            VerifyError::ScopeDateMismatch {
                expected: "(out of range)".into(),
                got: "2023-11-14".into()
            }
        );
    }

    #[test]
    fn mismatch_reports_primary_candidate_without_secret() {
        let header = signed_post("h", "application/json", b"{}");
        let headers = [("Host", "H:80"), ("Content-Type", "Text/Plain")];
        let Err(VerifyError::Mismatch(diag)) = run(&header, "POST", "", &headers, b"{}", TS) else {
            panic!("expected a mismatch");
        };
        assert!(
            diag.canonical_request
                .contains("content-type:Text/Plain\nhost:H:80\n")
        );
        assert!(
            diag.string_to_sign
                .starts_with("TC3-HMAC-SHA256\n1700000000\n2023-11-14/cvm/")
        );
        assert!(!format!("{diag:?}").contains(SECRET));
    }

    #[test]
    fn hand_built_authorization_with_bad_signature_is_a_mismatch() {
        let auth = Authorization {
            secret_id: "AKID",
            date: "2023-11-14",
            service: "cvm",
            signed_headers: "content-type;host",
            signature: "not hex",
        };
        let key = signing_key(&SecretKey::new(SECRET), auth.date, auth.service);
        let headers = [("Host", "h"), ("Content-Type", "application/json")];
        let result = verify(
            &VerifyInput {
                method: "POST",
                query: "",
                headers: &headers,
                payload: b"{}",
                unsigned_payload: false,
                timestamp: TS,
                authorization: &auth,
            },
            &key,
        );
        assert!(matches!(result, Err(VerifyError::Mismatch(_))));
    }
}

//! The TC3 `Authorization` header: a borrowed parser that never panics, and the exact
//! formatter the SDKs use.
//!
//! Format (protocol.md §3.1): `TC3-HMAC-SHA256 Credential=<SecretId>/<Date>/<Service>/tc3_request,
//! SignedHeaders=<h1;h2>, Signature=<64 hex>`. The parser accepts any whitespace around the
//! commas and `=` signs (hand-written clients vary), but is strict about content, because a
//! malformed header must become `AuthFailure.InvalidAuthorization` rather than a signature
//! mismatch further down.

use std::fmt;

use super::{ALGORITHM, TERMINATOR};

/// A parsed `Authorization` header, borrowing from the header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The SecretId from the credential.
    pub secret_id: &'a str,
    /// The scope date, `YYYY-MM-DD` (shape checked, not the calendar).
    pub date: &'a str,
    /// The scope service (e.g. `cvm`; Node/Java clients may put `127` or `localhost:4566`).
    pub service: &'a str,
    /// The `SignedHeaders` value, verbatim (e.g. `content-type;host`).
    pub signed_headers: &'a str,
    /// The signature: 64 lowercase hex digits.
    pub signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// The names listed in `SignedHeaders`, in order, as written by the client.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.signed_headers.split(';')
    }
}

impl fmt::Display for Authorization<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Credential={}/{}/{}/{TERMINATOR}, SignedHeaders={}, Signature={}",
            self.secret_id, self.date, self.service, self.signed_headers, self.signature
        )
    }
}

/// Why an `Authorization` header could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// The header is empty or only whitespace.
    #[error("the Authorization header is empty")]
    Empty,
    /// The header does not start with `TC3-HMAC-SHA256` followed by whitespace.
    #[error("the Authorization header does not start with TC3-HMAC-SHA256")]
    WrongAlgorithm,
    /// A comma-separated part is not `Key=Value` (this includes empty parts).
    #[error("an Authorization field is not of the form Key=Value")]
    MalformedField,
    /// A field other than `Credential`, `SignedHeaders` and `Signature`.
    #[error("the Authorization header has an unknown field")]
    UnknownField,
    /// A field appears twice.
    #[error("the Authorization field {0} appears more than once")]
    DuplicateField(&'static str),
    /// A required field is absent.
    #[error("the Authorization field {0} is missing")]
    MissingField(&'static str),
    /// The credential is not `SecretId/YYYY-MM-DD/service/tc3_request`; the text says which
    /// part is wrong.
    #[error("malformed Credential: {0}")]
    MalformedCredential(&'static str),
    /// `SignedHeaders` is empty or has an empty or invalid header name.
    #[error("malformed SignedHeaders")]
    MalformedSignedHeaders,
    /// The signature is not 64 lowercase hex digits.
    #[error("malformed Signature: expected 64 lowercase hex digits")]
    MalformedSignature,
}

/// Parses a TC3 `Authorization` header value. Never panics; borrows from `header`.
///
/// ```
/// use tclocal_sign::tc3::parse_authorization;
///
/// let auth = parse_authorization(
///     "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, \
///      SignedHeaders=content-type;host, \
///      Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
/// )?;
/// assert_eq!(auth.secret_id, "AKIDEXAMPLE");
/// assert_eq!(auth.date, "2019-02-25");
/// assert_eq!(auth.service, "cvm");
/// assert_eq!(auth.signed_header_names().collect::<Vec<_>>(), ["content-type", "host"]);
/// # Ok::<(), tclocal_sign::tc3::AuthorizationError>(())
/// ```
pub fn parse_authorization(header: &str) -> Result<Authorization<'_>, AuthorizationError> {
    use AuthorizationError as E;

    let header = header.trim_ascii();
    if header.is_empty() {
        return Err(E::Empty);
    }
    let (algorithm, fields) = match header.find(|c: char| c.is_ascii_whitespace()) {
        // ASCII whitespace is one byte, so `i` and `i + 1` are char boundaries.
        Some(i) => (&header[..i], header[i + 1..].trim_ascii_start()),
        None => (header, ""),
    };
    if algorithm != ALGORITHM {
        return Err(E::WrongAlgorithm);
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if !fields.is_empty() {
        for part in fields.split(',') {
            let (key, value) = part.split_once('=').ok_or(E::MalformedField)?;
            let (slot, name) = match key.trim_ascii() {
                "Credential" => (&mut credential, "Credential"),
                "SignedHeaders" => (&mut signed_headers, "SignedHeaders"),
                "Signature" => (&mut signature, "Signature"),
                _ => return Err(E::UnknownField),
            };
            if slot.is_some() {
                return Err(E::DuplicateField(name));
            }
            *slot = Some(value.trim_ascii());
        }
    }
    let credential = credential.ok_or(E::MissingField("Credential"))?;
    let signed_headers = signed_headers.ok_or(E::MissingField("SignedHeaders"))?;
    let signature = signature.ok_or(E::MissingField("Signature"))?;

    let (secret_id, date, service) = parse_credential(credential)?;
    if !signed_headers.split(';').all(is_header_name) {
        return Err(E::MalformedSignedHeaders);
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(E::MalformedSignature);
    }
    Ok(Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

fn parse_credential(credential: &str) -> Result<(&str, &str, &str), AuthorizationError> {
    let malformed = AuthorizationError::MalformedCredential;
    let mut parts = credential.split('/');
    let (Some(secret_id), Some(date), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(malformed("expected SecretId/Date/Service/tc3_request"));
    };
    if !is_token(secret_id) {
        return Err(malformed("empty or invalid SecretId"));
    }
    if !is_date_shaped(date) {
        return Err(malformed("date is not YYYY-MM-DD"));
    }
    if !is_token(service) {
        return Err(malformed("empty or invalid service"));
    }
    if terminator != TERMINATOR {
        return Err(malformed("scope does not end with tc3_request"));
    }
    Ok((secret_id, date, service))
}

/// Non-empty, printable ASCII without whitespace or the header's own separators.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b',' | b';' | b'='))
}

fn is_header_name(s: &str) -> bool {
    // RFC 9110 token characters.
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_date_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Formats an `Authorization` header exactly as every SDK does: one space after the
/// algorithm, `", "` between the fields.
///
/// ```
/// # use tclocal_sign::tc3::format_authorization;
/// assert_eq!(
///     format_authorization("AKID", "2019-02-25", "cvm", "content-type;host", "ab"),
///     "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/cvm/tc3_request, \
///      SignedHeaders=content-type;host, Signature=ab"
/// );
/// ```
pub fn format_authorization(
    secret_id: &str,
    date: &str,
    service: &str,
    signed_headers: &str,
    signature: &str,
) -> String {
    Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthorizationError as E;
    use proptest::prelude::*;

    const SIG: &str = "683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8";
    const VALID: &str = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8";

    fn with(credential: &str, signed_headers: &str, signature: &str) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}"
        )
    }

    #[test]
    fn parses_sdk_header() {
        let auth = parse_authorization(VALID).unwrap();
        assert_eq!(
            auth,
            Authorization {
                secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                date: "2019-02-25",
                service: "cvm",
                signed_headers: "content-type;host",
                signature: SIG,
            }
        );
        assert_eq!(auth.to_string(), VALID);
    }

    #[test]
    fn tolerates_whitespace_and_field_order() {
        let header = format!(
            "  TC3-HMAC-SHA256\t Signature = {SIG} ,SignedHeaders=content-type;host;x-tc-action,\
             Credential=AKID/2019-02-25/127/tc3_request  "
        );
        let auth = parse_authorization(&header).unwrap();
        assert_eq!(auth.secret_id, "AKID");
        assert_eq!(auth.service, "127");
        assert_eq!(auth.signature, SIG);
        assert_eq!(
            auth.signed_header_names().collect::<Vec<_>>(),
            ["content-type", "host", "x-tc-action"]
        );
        // No space at all after the commas.
        let compact = VALID.replace(", ", ",");
        assert_eq!(
            parse_authorization(&compact).unwrap(),
            parse_authorization(VALID).unwrap()
        );
    }

    #[test]
    fn service_may_contain_a_port() {
        // Java derives the service from the endpoint, e.g. "localhost:18080".
        let header = with(
            "AKID/2019-02-25/localhost:18080/tc3_request",
            "content-type;host",
            SIG,
        );
        let auth = parse_authorization(&header).unwrap();
        assert_eq!(auth.service, "localhost:18080");
    }

    #[test]
    fn rejects_malformed_inputs() {
        let cases: Vec<(String, AuthorizationError)> = vec![
            (String::new(), E::Empty),
            ("   \t ".into(), E::Empty),
            ("SKIP".into(), E::WrongAlgorithm),
            (
                VALID.replacen("TC3-HMAC-SHA256", "TC3-HMAC-SHA1", 1),
                E::WrongAlgorithm,
            ),
            (
                VALID.replacen("TC3-HMAC-SHA256", "tc3-hmac-sha256", 1),
                E::WrongAlgorithm,
            ),
            (
                VALID.replacen("TC3-HMAC-SHA256 ", "TC3-HMAC-SHA256", 1),
                E::WrongAlgorithm,
            ),
            ("TC3-HMAC-SHA256".into(), E::MissingField("Credential")),
            ("TC3-HMAC-SHA256 ".into(), E::MissingField("Credential")),
            (format!("{VALID},"), E::MalformedField),
            (format!("{VALID}, Foo"), E::MalformedField),
            (format!("{VALID}, Foo=bar"), E::UnknownField),
            (format!("{VALID}, credential=x"), E::UnknownField),
            (
                format!("{VALID}, Signature={SIG}"),
                E::DuplicateField("Signature"),
            ),
            (
                format!("TC3-HMAC-SHA256 SignedHeaders=host, Signature={SIG}"),
                E::MissingField("Credential"),
            ),
            (
                format!("TC3-HMAC-SHA256 Credential=A/2019-02-25/cvm/tc3_request, Signature={SIG}"),
                E::MissingField("SignedHeaders"),
            ),
            (
                "TC3-HMAC-SHA256 Credential=A/2019-02-25/cvm/tc3_request, SignedHeaders=host"
                    .into(),
                E::MissingField("Signature"),
            ),
            (
                with("", "host", SIG),
                E::MalformedCredential("expected SecretId/Date/Service/tc3_request"),
            ),
            (
                with("A/2019-02-25/cvm", "host", SIG),
                E::MalformedCredential("expected SecretId/Date/Service/tc3_request"),
            ),
            (
                with("A/2019-02-25/cvm/tc3_request/x", "host", SIG),
                E::MalformedCredential("expected SecretId/Date/Service/tc3_request"),
            ),
            (
                with("/2019-02-25/cvm/tc3_request", "host", SIG),
                E::MalformedCredential("empty or invalid SecretId"),
            ),
            (
                with("A B/2019-02-25/cvm/tc3_request", "host", SIG),
                E::MalformedCredential("empty or invalid SecretId"),
            ),
            (
                with("A/20190225/cvm/tc3_request", "host", SIG),
                E::MalformedCredential("date is not YYYY-MM-DD"),
            ),
            (
                with("A/2019-2-25/cvm/tc3_request", "host", SIG),
                E::MalformedCredential("date is not YYYY-MM-DD"),
            ),
            (
                with("A/2019-02-2x/cvm/tc3_request", "host", SIG),
                E::MalformedCredential("date is not YYYY-MM-DD"),
            ),
            (
                with("A/2019-02-25//tc3_request", "host", SIG),
                E::MalformedCredential("empty or invalid service"),
            ),
            (
                with("A/2019-02-25/cvm/tc3-request", "host", SIG),
                E::MalformedCredential("scope does not end with tc3_request"),
            ),
            (
                with("A/2019-02-25/cvm/TC3_REQUEST", "host", SIG),
                E::MalformedCredential("scope does not end with tc3_request"),
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "", SIG),
                E::MalformedSignedHeaders,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "host;", SIG),
                E::MalformedSignedHeaders,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "content-type;;host", SIG),
                E::MalformedSignedHeaders,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "content type;host", SIG),
                E::MalformedSignedHeaders,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "host", ""),
                E::MalformedSignature,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "host", &SIG[1..]),
                E::MalformedSignature,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "host", &format!("{SIG}0")),
                E::MalformedSignature,
            ),
            (
                with("A/2019-02-25/cvm/tc3_request", "host", &SIG.to_uppercase()),
                E::MalformedSignature,
            ),
            (
                with(
                    "A/2019-02-25/cvm/tc3_request",
                    "host",
                    &SIG.replacen('6', "g", 1),
                ),
                E::MalformedSignature,
            ),
            (
                with(
                    "A/2019-02-25/cvm/tc3_request",
                    "host",
                    &SIG.replacen('6', "é", 1)[..64],
                ),
                E::MalformedSignature,
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                parse_authorization(&header),
                Err(expected),
                "header: {header:?}"
            );
        }
    }

    #[test]
    fn errors_display_names_the_problem() {
        assert_eq!(
            E::MissingField("Signature").to_string(),
            "the Authorization field Signature is missing"
        );
        assert!(
            E::MalformedCredential("date is not YYYY-MM-DD")
                .to_string()
                .contains("date")
        );
    }

    const FRAGMENTS: &[&str] = &[
        "TC3-HMAC-SHA256",
        " ",
        "\t",
        ",",
        ", ",
        "=",
        "/",
        ";",
        "Credential=",
        "SignedHeaders=",
        "Signature=",
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "2019-02-25",
        "cvm",
        "tc3_request",
        "content-type",
        "host",
        SIG,
        "683bd0b5",
        "未命名",
        "é",
        "",
    ];

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = parse_authorization(&s);
        }

        #[test]
        fn never_panics_on_arbitrary_fragments(
            parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..32)
        ) {
            let header = parts.concat();
            if let Ok(auth) = parse_authorization(&header) {
                // Whatever parses must survive a format/parse round trip unchanged.
                let again = auth.to_string();
                prop_assert_eq!(parse_authorization(&again), Ok(auth));
            }
        }

        #[test]
        fn never_panics_on_mutated_valid_header(
            cut in 0usize..VALID.len(),
            insert in any::<String>(),
        ) {
            let mut header = VALID.to_owned();
            if header.is_char_boundary(cut) {
                header.insert_str(cut, &insert);
            }
            let _ = parse_authorization(&header);
            let _ = parse_authorization(&VALID[..cut]);
            let _ = parse_authorization(&VALID[cut..]);
        }

        #[test]
        fn format_then_parse_round_trips(
            secret_id in "[A-Za-z0-9]{1,40}",
            date in "[0-9]{4}-[0-9]{2}-[0-9]{2}",
            service in "[a-z0-9:.-]{1,20}",
            signed_headers in "[a-z-]{1,12}(;[a-z-]{1,12}){0,4}",
            signature in "[0-9a-f]{64}",
        ) {
            let header = format_authorization(&secret_id, &date, &service, &signed_headers, &signature);
            let auth = parse_authorization(&header).unwrap();
            prop_assert_eq!(auth, Authorization {
                secret_id: &secret_id,
                date: &date,
                service: &service,
                signed_headers: &signed_headers,
                signature: &signature,
            });
        }
    }
}

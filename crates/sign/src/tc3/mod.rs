//! TC3-HMAC-SHA256 ("Signature v3"), the signature every API 3.0 SDK uses by default.
//!
//! The building blocks (canonical request, string to sign, key derivation, signature) are
//! public one by one so the vector tests can pin each intermediate, as the published examples
//! do. On top of them sit [`sign`] (what a client does) and [`verify`] (what the emulator
//! does, including the fallbacks the real SDKs force on a server: protocol.md §1.3 and §3.2).
//!
//! Everything here is a pure function of its inputs; the caller supplies the timestamp.
//!
//! Spec: <https://www.tencentcloud.com/zh/document/product/1021/34193> (签名方法 v3), and
//! protocol.md §3.

mod authorization;
mod verify;

pub use authorization::{
    Authorization, AuthorizationError, format_authorization, parse_authorization,
};
pub use verify::{Diagnostics, Verified, VerifyError, VerifyInput, strip_port, verify};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{SecretKey, SigningKey};

/// The algorithm name, first token of the `Authorization` header and first line of the
/// string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// Value of `X-TC-Content-SHA256` when the client chose not to sign the body; the hashed
/// payload is then the hash of this literal string.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The last component of every TC3 credential scope.
pub(crate) const TERMINATOR: &str = "tc3_request";

/// Lowercase hex SHA-256 of `data`.
///
/// ```
/// # use tclocal_sign::tc3::sha256_hex;
/// assert_eq!(
///     sha256_hex(b""),
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/// );
/// ```
pub fn sha256_hex(data: &[u8]) -> String {
    hex_string(&hex32(&Sha256::digest(data).into()))
}

/// Lowercase hex of a 32-byte digest, on the stack: verification runs on every request.
pub(crate) fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    // Both lengths are fixed (64 = 2 × 32), so this cannot fail.
    hex::encode_to_slice(bytes, &mut out).expect("64 bytes hold the hex of 32");
    out
}

fn hex_string(hex: &[u8; 64]) -> String {
    hex.iter().map(|&b| char::from(b)).collect()
}

/// The `HashedRequestPayload` line: `sha256_hex(body)`, or `sha256_hex(b"UNSIGNED-PAYLOAD")`
/// when the request carries `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
///
/// The body must be the raw bytes as sent: every SDK formats JSON differently, and the hash
/// covers the exact bytes.
pub fn hashed_payload(body: &[u8], unsigned: bool) -> String {
    hex_string(&hashed_payload_hex(body, unsigned))
}

pub(crate) fn hashed_payload_hex(body: &[u8], unsigned: bool) -> [u8; 64] {
    let data = if unsigned {
        UNSIGNED_PAYLOAD.as_bytes()
    } else {
        body
    };
    hex32(&Sha256::digest(data).into())
}

/// The `YYYY-MM-DD` UTC date of a Unix timestamp, as used in the credential scope.
///
/// Returns `None` when the date is outside the years 0000–9999 (it could not be written in
/// that format).
///
/// ```
/// # use tclocal_sign::tc3::date_of;
/// assert_eq!(date_of(1_551_113_065).as_deref(), Some("2019-02-25"));
/// assert_eq!(date_of(i64::MAX), None);
/// ```
pub fn date_of(timestamp: i64) -> Option<String> {
    date_bytes(timestamp).map(|d| d.iter().map(|&b| char::from(b)).collect())
}

/// [`date_of`] as ASCII bytes on the stack.
pub(crate) fn date_bytes(timestamp: i64) -> Option<[u8; 10]> {
    let date = time::OffsetDateTime::from_unix_timestamp(timestamp)
        .ok()?
        .date();
    let year = u16::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let digit = |n: u16| b'0' + u8::try_from(n % 10).unwrap_or(0);
    let (month, day) = (u16::from(u8::from(date.month())), u16::from(date.day()));
    Some([
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(day / 10),
        digit(day),
    ])
}

/// Builds the canonical request.
///
/// `headers` are the canonical headers, in `SignedHeaders` order, as (lower-case name, value
/// exactly as it goes into the canonical form): this function neither trims, lower-cases nor
/// sorts, because the verifier has to try several spellings of the same headers.
///
/// ```
/// # use tclocal_sign::tc3::canonical_request;
/// let headers = [("content-type", "application/json"), ("host", "cvm.tencentcloudapi.com")];
/// let cr = canonical_request("POST", "/", "", &headers, "content-type;host", "e3b0…");
/// assert_eq!(
///     cr,
///     "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\n\
///      content-type;host\ne3b0…"
/// );
/// ```
pub fn canonical_request(
    method: &str,
    uri: &str,
    query: &str,
    headers: &[(&str, &str)],
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    let headers_len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(
        method.len()
            + uri.len()
            + query.len()
            + headers_len
            + signed_headers.len()
            + hashed_payload.len()
            + 5,
    );
    for part in [method, uri, query] {
        out.push_str(part);
        out.push('\n');
    }
    for (name, value) in headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    // Each canonical header ends with '\n' and the block is followed by one more: the SDKs
    // all produce this blank line.
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(hashed_payload);
    out
}

/// Builds the string to sign:
/// `TC3-HMAC-SHA256\n<timestamp>\n<date>/<service>/tc3_request\n<sha256_hex(canonical_request)>`.
pub fn string_to_sign(
    timestamp: i64,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    use std::fmt::Write as _;
    let hash = hex32(&Sha256::digest(canonical_request.as_bytes()).into());
    let mut out = String::with_capacity(
        ALGORITHM.len() + 20 + date.len() + service.len() + TERMINATOR.len() + hash.len() + 5,
    );
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{ALGORITHM}\n{timestamp}\n{date}/{service}/{TERMINATOR}\n"
    );
    out.extend(hash.iter().map(|&b| char::from(b)));
    out
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// `kDate = HMAC_SHA256("TC3" + SecretKey, date)`; public so the vectors can pin it.
pub fn k_date(secret: &SecretKey, date: &str) -> [u8; 32] {
    let secret = secret.expose().as_bytes();
    // A usual SecretKey (32 characters) fits a stack buffer; wiped either way.
    let mut small = Zeroizing::new([0u8; 64]);
    if let Some(buf) = small.get_mut(..3 + secret.len()) {
        buf[..3].copy_from_slice(b"TC3");
        buf[3..].copy_from_slice(secret);
        return hmac_sha256(buf, date.as_bytes());
    }
    let mut key = Zeroizing::new(Vec::with_capacity(3 + secret.len()));
    key.extend_from_slice(b"TC3");
    key.extend_from_slice(secret);
    hmac_sha256(&key, date.as_bytes())
}

/// `kService = HMAC_SHA256(kDate, service)`; public so the vectors can pin it.
pub fn k_service(k_date: &[u8; 32], service: &str) -> [u8; 32] {
    hmac_sha256(k_date, service.as_bytes())
}

/// Derives the signing key `kSigning = HMAC_SHA256(kService, "tc3_request")`.
///
/// It depends only on the secret, the date and the service, so a server may cache it per
/// (SecretId, date, service).
pub fn signing_key(secret: &SecretKey, date: &str, service: &str) -> SigningKey {
    let k_date = Zeroizing::new(k_date(secret, date));
    let k_service = Zeroizing::new(k_service(&k_date, service));
    SigningKey::from_bytes(hmac_sha256(&*k_service, TERMINATOR.as_bytes()))
}

/// The signature: lowercase hex of `HMAC_SHA256(kSigning, string_to_sign)`.
pub fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    hex_string(&signature_hex(key, string_to_sign))
}

pub(crate) fn signature_hex(key: &SigningKey, string_to_sign: &str) -> [u8; 64] {
    hex32(&hmac_sha256(key.expose(), string_to_sign.as_bytes()))
}

/// What a client needs to sign one request.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The `Host` value to sign, exactly as it will be sent (it may carry a port).
    pub host: &'a str,
    /// The canonical query string: for `GET` the query exactly as it appears in the URL
    /// (without `?`); for `POST` the empty string.
    pub query: &'a str,
    /// The `Content-Type` value, exactly as it will be sent.
    pub content_type: &'a str,
    /// The raw body bytes (empty for `GET`).
    pub payload: &'a [u8],
    /// Whether the request carries `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
    pub unsigned_payload: bool,
    /// The `X-TC-Timestamp` value (Unix seconds); the scope date is derived from it.
    pub timestamp: i64,
    /// The service in the credential scope (e.g. `cvm`).
    pub service: &'a str,
    /// The SecretId that goes into the credential.
    pub secret_id: &'a str,
}

/// The result of [`sign`]: the `Authorization` header plus the intermediates, for debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The complete `Authorization` header value.
    pub authorization: String,
    /// The canonical request that was signed.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
}

/// Signs a request the way the official SDKs do: `SignedHeaders=content-type;host`, header
/// values not altered, scope date derived from the timestamp.
///
/// # Panics
///
/// If `timestamp` falls outside the years 0000–9999 (see [`date_of`]); a client reading a
/// real clock never gets there.
///
/// ```
/// use tclocal_sign::SecretKey;
/// use tclocal_sign::tc3::{SignInput, sign};
///
/// let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
/// let signed = sign(
///     &SignInput {
///         method: "POST",
///         host: "cvm.tencentcloudapi.com",
///         query: "",
///         content_type: "application/json",
///         payload: body,
///         unsigned_payload: false,
///         timestamp: 1_551_113_065,
///         service: "cvm",
///         secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
///     },
///     &SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
/// );
/// assert!(signed.authorization.ends_with(
///     "Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8"
/// ));
/// ```
pub fn sign(input: &SignInput<'_>, secret: &SecretKey) -> Signed {
    const SIGNED_HEADERS: &str = "content-type;host";
    let date = date_of(input.timestamp).unwrap_or_else(|| {
        panic!(
            "timestamp {} is outside the years 0000-9999",
            input.timestamp
        )
    });
    let headers = [("content-type", input.content_type), ("host", input.host)];
    let canonical_request = canonical_request(
        input.method,
        "/",
        input.query,
        &headers,
        SIGNED_HEADERS,
        &hashed_payload(input.payload, input.unsigned_payload),
    );
    let string_to_sign = string_to_sign(input.timestamp, &date, input.service, &canonical_request);
    let key = signing_key(secret, &date, input.service);
    let signature = signature(&key, &string_to_sign);
    Signed {
        authorization: format_authorization(
            input.secret_id,
            &date,
            input.service,
            SIGNED_HEADERS,
            &signature,
        ),
        canonical_request,
        string_to_sign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_of_edges() {
        assert_eq!(date_of(0).as_deref(), Some("1970-01-01"));
        assert_eq!(date_of(-1).as_deref(), Some("1969-12-31"));
        // 2019-02-25T23:59:59Z and the next second.
        assert_eq!(date_of(1_551_139_199).as_deref(), Some("2019-02-25"));
        assert_eq!(date_of(1_551_139_200).as_deref(), Some("2019-02-26"));
        assert_eq!(date_of(253_402_300_799).as_deref(), Some("9999-12-31"));
        assert_eq!(date_of(253_402_300_800), None);
        assert_eq!(date_of(-62_167_219_200).as_deref(), Some("0000-01-01"));
        assert_eq!(date_of(-62_167_219_201), None);
        assert_eq!(date_of(i64::MIN), None);
        assert_eq!(date_of(i64::MAX), None);
    }

    #[test]
    fn hashed_payload_unsigned_ignores_body() {
        assert_eq!(
            hashed_payload(b"{}", true),
            hashed_payload(b"anything", true)
        );
        assert_eq!(hashed_payload(b"{}", true), sha256_hex(b"UNSIGNED-PAYLOAD"));
        assert_eq!(hashed_payload(b"{}", false), sha256_hex(b"{}"));
    }

    #[test]
    fn canonical_request_layout() {
        let cr = canonical_request("GET", "/", "a=1", &[("host", "h")], "host", "p");
        assert_eq!(cr, "GET\n/\na=1\nhost:h\n\nhost\np");
        let cr = canonical_request("POST", "/", "", &[], "", "p");
        assert_eq!(cr, "POST\n/\n\n\n\np");
    }

    #[test]
    fn string_to_sign_layout() {
        let sts = string_to_sign(7, "1970-01-01", "cvm", "");
        assert_eq!(
            sts,
            "TC3-HMAC-SHA256\n7\n1970-01-01/cvm/tc3_request\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn signing_key_matches_manual_chain() {
        let secret = SecretKey::new("s");
        let kd = k_date(&secret, "2020-01-01");
        let ks = k_service(&kd, "cvm");
        let manual = hmac_sha256(&ks, b"tc3_request");
        assert_eq!(signing_key(&secret, "2020-01-01", "cvm").expose(), &manual);
    }

    #[test]
    #[should_panic(expected = "outside the years")]
    fn sign_panics_on_absurd_timestamp() {
        let input = SignInput {
            method: "POST",
            host: "h",
            query: "",
            content_type: "application/json",
            payload: b"{}",
            unsigned_payload: false,
            timestamp: i64::MAX,
            service: "cvm",
            secret_id: "id",
        };
        let _ = sign(&input, &SecretKey::new("k"));
    }
}

//! The legacy v1 signature (`HmacSHA1` / `HmacSHA256`), still produced by every SDK when a
//! client selects it and by old hand-written integrations.
//!
//! All parameters travel in the query string (GET) or the form body (POST); the signature is
//! Base64 of an HMAC over `Method + Host + Path + "?" + sorted k=v pairs`, with the values
//! *decoded* (protocol.md §4). The server decodes the query or form, drops `Signature`, and
//! rebuilds the string with the received Host.
//!
//! Spec: the API 3.0 "Signature" page (v1 method) and protocol.md §4, which records what
//! the Python, Go and Node SDKs actually compute.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::SecretKey;

/// The v1 `SignatureMethod` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureMethod {
    /// `HmacSHA1`, the default when the parameter is absent.
    HmacSha1,
    /// `HmacSHA256`.
    HmacSha256,
}

/// A `SignatureMethod` value other than `HmacSHA1` or `HmacSHA256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported SignatureMethod: expected HmacSHA1 or HmacSHA256")]
pub struct UnsupportedSignatureMethod;

impl SignatureMethod {
    /// Parses the `SignatureMethod` parameter; absent means `HmacSHA1`.
    ///
    /// ```
    /// # use tclocal_sign::v1::SignatureMethod;
    /// assert_eq!(SignatureMethod::parse(None)?, SignatureMethod::HmacSha1);
    /// assert_eq!(SignatureMethod::parse(Some("HmacSHA256"))?, SignatureMethod::HmacSha256);
    /// assert!(SignatureMethod::parse(Some("hmacsha256")).is_err());
    /// # Ok::<(), tclocal_sign::v1::UnsupportedSignatureMethod>(())
    /// ```
    pub fn parse(value: Option<&str>) -> Result<Self, UnsupportedSignatureMethod> {
        match value {
            None | Some("HmacSHA1") => Ok(Self::HmacSha1),
            Some("HmacSHA256") => Ok(Self::HmacSha256),
            Some(_) => Err(UnsupportedSignatureMethod),
        }
    }

    /// The parameter value, `HmacSHA1` or `HmacSHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HmacSHA1",
            Self::HmacSha256 => "HmacSHA256",
        }
    }
}

/// Builds the v1 string to sign: `method + host + path + "?" + k1=v1&k2=v2…`.
///
/// `params` are the decoded (key, value) pairs, excluding `Signature`; they are sorted here
/// by key, bytewise (a stable sort, so repeated keys keep their received order). Values are
/// used raw, not URL-encoded.
///
/// ```
/// # use tclocal_sign::v1::string_to_sign;
/// let s = string_to_sign("GET", "cvm.tencentcloudapi.com", "/", &[("Nonce", "1"), ("Action", "X")]);
/// assert_eq!(s, "GETcvm.tencentcloudapi.com/?Action=X&Nonce=1");
/// ```
pub fn string_to_sign(method: &str, host: &str, path: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = format!("{method}{host}{path}?");
    for (i, (key, value)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn mac_bytes(secret: &SecretKey, method: SignatureMethod, string_to_sign: &str) -> Vec<u8> {
    let key = secret.expose().as_bytes();
    let msg = string_to_sign.as_bytes();
    // HMAC accepts keys of any length, so `new_from_slice` never fails.
    match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("any key length");
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
    }
}

/// Signs a v1 string to sign; returns the standard Base64 signature (before URL-encoding).
///
/// ```
/// use tclocal_sign::SecretKey;
/// use tclocal_sign::v1::{SignatureMethod, sign};
///
/// let sts = "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg\
///            &Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou\
///            &SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12";
/// let secret = SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
/// assert_eq!(sign(&secret, SignatureMethod::HmacSha1, sts), "EliP9YW3pW28FpsEdkXt/+WcGeI=");
/// ```
pub fn sign(secret: &SecretKey, method: SignatureMethod, string_to_sign: &str) -> String {
    STANDARD.encode(mac_bytes(secret, method, string_to_sign))
}

/// Checks a received v1 signature (already URL-decoded) in constant time.
///
/// The signature is Base64-decoded and the raw MAC compared with `Mac::verify_slice`. A
/// signature whose `+` became a space (a client that forgot to URL-encode it, decoded as a
/// form) is accepted too: `+` cannot otherwise appear as a space in Base64.
pub fn verify(
    secret: &SecretKey,
    method: SignatureMethod,
    string_to_sign: &str,
    signature_b64: &str,
) -> bool {
    let signature_b64 = signature_b64.trim_ascii();
    let decoded = match STANDARD.decode(signature_b64) {
        Ok(bytes) => bytes,
        Err(_) if signature_b64.contains(' ') => {
            match STANDARD.decode(signature_b64.replace(' ', "+")) {
                Ok(bytes) => bytes,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    let key = secret.expose().as_bytes();
    let msg = string_to_sign.as_bytes();
    match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("any key length");
            mac.update(msg);
            mac.verify_slice(&decoded).is_ok()
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
            mac.update(msg);
            mac.verify_slice(&decoded).is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_signature_method() {
        assert_eq!(SignatureMethod::parse(None), Ok(SignatureMethod::HmacSha1));
        assert_eq!(
            SignatureMethod::parse(Some("HmacSHA1")),
            Ok(SignatureMethod::HmacSha1)
        );
        assert_eq!(
            SignatureMethod::parse(Some("HmacSHA256")),
            Ok(SignatureMethod::HmacSha256)
        );
        for bad in [
            "",
            "hmacsha1",
            "HMACSHA256",
            "HmacSHA512",
            "TC3-HMAC-SHA256",
            " HmacSHA1",
        ] {
            assert_eq!(
                SignatureMethod::parse(Some(bad)),
                Err(UnsupportedSignatureMethod),
                "{bad}"
            );
        }
        for m in [SignatureMethod::HmacSha1, SignatureMethod::HmacSha256] {
            assert_eq!(SignatureMethod::parse(Some(m.as_str())), Ok(m));
        }
    }

    #[test]
    fn string_to_sign_sorts_bytewise_and_keeps_values_raw() {
        let params = [("b", "2"), ("B", "x y"), ("a.1", "é&="), ("a", "")];
        assert_eq!(
            string_to_sign("POST", "h:1", "/", &params),
            "POSTh:1/?B=x y&a=&a.1=é&=&b=2"
        );
        assert_eq!(string_to_sign("GET", "h", "/", &[]), "GETh/?");
    }

    #[test]
    fn verify_rejects_garbage_and_wrong_method() {
        let secret = SecretKey::new("k");
        let sig = sign(&secret, SignatureMethod::HmacSha256, "s");
        assert!(verify(&secret, SignatureMethod::HmacSha256, "s", &sig));
        assert!(!verify(&secret, SignatureMethod::HmacSha1, "s", &sig));
        assert!(!verify(&secret, SignatureMethod::HmacSha256, "t", &sig));
        assert!(!verify(&secret, SignatureMethod::HmacSha256, "s", ""));
        assert!(!verify(&secret, SignatureMethod::HmacSha256, "s", "!!!"));
        assert!(!verify(
            &secret,
            SignatureMethod::HmacSha256,
            "s",
            &sig[..sig.len() - 4]
        ));
    }

    #[test]
    fn verify_accepts_plus_decoded_as_space() {
        let secret = SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
        let sts = "s";
        // Find a string whose signature contains '+' to exercise the fallback.
        let (sts, sig) = (0..1000)
            .map(|i| format!("{sts}{i}"))
            .map(|s| {
                let sig = sign(&secret, SignatureMethod::HmacSha1, &s);
                (s, sig)
            })
            .find(|(_, sig)| sig.contains('+'))
            .unwrap();
        assert!(verify(
            &secret,
            SignatureMethod::HmacSha1,
            &sts,
            &sig.replace('+', " ")
        ));
    }
}

//! Authentication: each AuthFailure code for its real reason, and every accepted way to sign.

use crate::common::{Call, NOW, Server, V1Call};
use tclocal_server::{AuthMode, Config};
use tclocal_wire::clock::Clock;

fn code(resp: &crate::common::RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// TC3 over POST (JSON) and over GET (query string) verify.
#[tokio::test]
async fn tc3_post_and_get_are_accepted() {
    let server = Server::start().await;
    assert_eq!(
        code(
            &server
                .call(&Call::tc3("DescribeInstancesStatus", r#"{"Limit": 1}"#))
                .await
        ),
        "ok"
    );
    let get = Call::tc3_get(
        "DescribeInstancesStatus",
        "Limit=1&InstanceIds.0=ins-r8hr2upy",
    );
    assert_eq!(code(&server.call(&get).await), "ok");
}

/// v1 HmacSHA1 and HmacSHA256 verify over GET and POST form.
#[tokio::test]
async fn v1_hmac_sha1_and_sha256_are_accepted() {
    let server = Server::start().await;
    for method in ["GET", "POST"] {
        for sig in [Some("HmacSHA1"), Some("HmacSHA256"), None] {
            let mut call = V1Call::new(method, "DescribeInstancesStatus", &[("Limit", "5")]);
            call.signature_method = sig;
            let resp = server.raw(&call.to_bytes(&server.host())).await;
            assert_eq!(code(&resp), "ok", "{method} {sig:?}");
        }
    }
}

/// `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` signs without the body.
#[tokio::test]
async fn unsigned_payload_is_accepted() {
    let server = Server::start().await;
    let call = Call::tc3("DescribeZones", "{}").with(|c| c.unsigned_payload = true);
    assert_eq!(code(&server.call(&call).await), "ok");
}

/// A Host holding `http://` (Python SDK endpoint with scheme) is verified verbatim.
#[tokio::test]
async fn host_with_scheme_is_verified_verbatim() {
    let server = Server::start().await;
    let host = format!("http://{}", server.addr);
    let call = Call::tc3("DescribeZones", "{}").with(|c| c.host = Some(host));
    assert_eq!(code(&server.call(&call).await), "ok");
}

/// The Node SDK signs the host without its port and puts `127` in the credential scope.
#[tokio::test]
async fn node_style_signature_without_port_is_accepted() {
    let server = Server::start().await;
    let call = Call::tc3("DescribeZones", "{}").with(|c| {
        c.signed_host = Some("127.0.0.1".into());
        c.scope_service = "127".into();
    });
    assert_eq!(code(&server.call(&call).await), "ok");
}

/// The documentation's extra signed header (`x-tc-action`, lower-cased) verifies.
#[tokio::test]
async fn extra_signed_headers_are_honoured() {
    use tclocal_sign::{SecretKey, tc3};
    let server = Server::start().await;
    let host = server.host();
    let body = b"{}";
    let canonical = tc3::canonical_request(
        "POST",
        "/",
        "",
        &[
            ("content-type", "application/json"),
            ("host", &host),
            ("x-tc-action", "describezones"),
        ],
        "content-type;host;x-tc-action",
        &tc3::hashed_payload(body, false),
    );
    let date = tc3::date_of(NOW).unwrap();
    let sts = tc3::string_to_sign(NOW, &date, "cvm", &canonical);
    let key = tc3::signing_key(
        &SecretKey::new(tclocal_services::identity::DEV_SECRET_KEY),
        &date,
        "cvm",
    );
    let auth = tc3::format_authorization(
        tclocal_services::identity::DEV_SECRET_ID,
        &date,
        "cvm",
        "content-type;host;x-tc-action",
        &tc3::signature(&key, &sts),
    );
    let call = Call::tc3("DescribeZones", "{}").with(|c| c.authorization = Some(auth));
    assert_eq!(code(&server.call(&call).await), "ok");
}

/// A wrong secret, a tampered body and a wrong scope date are SignatureFailure.
#[tokio::test]
async fn bad_signatures_are_signature_failure() {
    let server = Server::start().await;
    let wrong_key = Call::tc3("DescribeZones", "{}").with(|c| c.secret_key = "x".repeat(32));
    assert_eq!(
        code(&server.call(&wrong_key).await),
        "AuthFailure.SignatureFailure"
    );

    let signed = Call::tc3("DescribeInstancesStatus", r#"{"Limit": 1}"#);
    let mut bytes = signed.to_bytes(&server.host());
    let last = bytes.len() - 2;
    bytes[last] = b'2';
    assert_eq!(
        code(&server.raw(&bytes).await),
        "AuthFailure.SignatureFailure"
    );

    // Signed one day later than X-TC-Timestamp says: the scope date does not match.
    let auth = Call::tc3("DescribeZones", "{}")
        .with(|c| c.timestamp = NOW + 86_400)
        .to_bytes(&server.host());
    let auth_line = String::from_utf8_lossy(&auth)
        .lines()
        .find(|l| l.starts_with("Authorization: "))
        .unwrap()
        .trim_start_matches("Authorization: ")
        .to_owned();
    let shifted = Call::tc3("DescribeZones", "{}").with(|c| c.authorization = Some(auth_line));
    assert_eq!(
        code(&server.call(&shifted).await),
        "AuthFailure.SignatureFailure"
    );
}

/// Timestamps past the skew window, in the past or the future, are SignatureExpire; the
/// boundary itself is accepted.
#[tokio::test]
async fn skewed_timestamps_are_signature_expire() {
    let server = Server::start().await;
    for (offset, expected) in [
        (-301, "AuthFailure.SignatureExpire"),
        (301, "AuthFailure.SignatureExpire"),
        (-300, "ok"),
        (300, "ok"),
        (-86_400 * 365, "AuthFailure.SignatureExpire"),
    ] {
        let call = Call::tc3("DescribeZones", "{}").with(|c| c.timestamp = NOW + offset);
        assert_eq!(code(&server.call(&call).await), expected, "offset {offset}");
    }
    let v1 =
        V1Call::new("GET", "DescribeZones", &[]).set("Timestamp", Some(&(NOW - 1000).to_string()));
    assert_eq!(
        code(&server.raw(&v1.to_bytes(&server.host())).await),
        "AuthFailure.SignatureExpire"
    );
}

/// `--max-skew` moves the window.
#[tokio::test]
async fn max_skew_is_configurable() {
    let config = Config {
        max_skew_secs: 10,
        ..Config::for_tests()
    };
    let server = Server::start_with(config, Vec::new()).await;
    let call = Call::tc3("DescribeZones", "{}").with(|c| c.timestamp = NOW - 11);
    assert_eq!(
        code(&server.call(&call).await),
        "AuthFailure.SignatureExpire"
    );
    server.clock.advance_millis(-5_000);
    assert_eq!(
        code(&server.call(&call).await),
        "ok",
        "the clock is injected"
    );
}

/// Malformed Authorization headers are InvalidAuthorization; an absent one is MissingParameter.
#[tokio::test]
async fn malformed_authorization_is_invalid_authorization() {
    let server = Server::start().await;
    for bad in [
        "garbage",
        "TC3-HMAC-SHA256",
        "TC3-HMAC-SHA256 Credential=AKIDtclocalDevelopmentKey00000000000/2023-11-14/cvm/tc3_request",
        "TC3-HMAC-SHA256 Credential=x, SignedHeaders=content-type;host, Signature=00",
        "HMAC-SHA1 Credential=a, SignedHeaders=b, Signature=c",
        "TC3-HMAC-SHA256 Credential=AKIDtclocalDevelopmentKey00000000000/2023-11-14/cvm/tc3_request, SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let call = Call::tc3("DescribeZones", "{}").with(|c| c.authorization = Some(bad.into()));
        assert_eq!(
            code(&server.call(&call).await),
            "AuthFailure.InvalidAuthorization",
            "{bad}"
        );
    }
    // SKIP is only for actions the model marks as unsigned (STS AssumeRoleWithSAML…).
    let skip = Call::tc3("DescribeZones", "{}").with(|c| c.authorization = Some("SKIP".into()));
    assert_eq!(
        code(&server.call(&skip).await),
        "AuthFailure.InvalidAuthorization"
    );

    let bytes = crate::common::raw_request(
        "POST",
        "/",
        &[
            ("Host".into(), server.host()),
            ("Content-Type".into(), "application/json".into()),
            ("X-TC-Action".into(), "DescribeZones".into()),
            ("X-TC-Version".into(), "2017-03-12".into()),
            ("X-TC-Region".into(), "ap-guangzhou".into()),
            ("X-TC-Timestamp".into(), NOW.to_string()),
        ],
        b"{}",
    );
    let resp = server.raw(&bytes).await;
    assert_eq!(code(&resp), "MissingParameter");
    assert!(resp.message().contains("Authorization"));
}

/// A SecretId that is not a cloud API key is InvalidSecretId; a key-shaped one never issued is
/// SecretIdNotFound.
#[tokio::test]
async fn secret_id_shape_and_existence_have_their_own_codes() {
    let server = Server::start().await;
    let not_a_key = Call::tc3("DescribeZones", "{}").with(|c| c.secret_id = "not-a-key".into());
    assert_eq!(
        code(&server.call(&not_a_key).await),
        "AuthFailure.InvalidSecretId"
    );
    let unknown = Call::tc3("DescribeZones", "{}")
        .with(|c| c.secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into());
    let resp = server.call(&unknown).await;
    assert_eq!(code(&resp), "AuthFailure.SecretIdNotFound");
    let en = Call::tc3("DescribeZones", "{}").with(|c| {
        c.secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into();
        c.language = Some("en-US".into());
    });
    assert_eq!(
        server.call(&en).await.message(),
        "The SecretId is not found, please ensure that your SecretId is correct."
    );
    let v1 = V1Call::new("GET", "DescribeZones", &[]).set("SecretId", Some("nope"));
    assert_eq!(
        code(&server.raw(&v1.to_bytes(&server.host())).await),
        "AuthFailure.InvalidSecretId"
    );
}

/// v1 common parameters: Nonce, SecretId and Signature are required; Nonce is a number; an
/// unknown SignatureMethod is refused; a body over 1 MB cannot be signed with v1.
#[tokio::test]
async fn v1_common_parameter_rules() {
    let server = Server::start().await;
    let host = server.host();
    let no_nonce = V1Call::new("GET", "DescribeZones", &[]).set("Nonce", None);
    assert_eq!(
        code(&server.raw(&no_nonce.to_bytes(&host)).await),
        "MissingParameter"
    );
    let bad_nonce = V1Call::new("GET", "DescribeZones", &[]).set("Nonce", Some("abc"));
    let resp = server.raw(&bad_nonce.to_bytes(&host)).await;
    assert_eq!(code(&resp), "InvalidParameter");
    assert!(resp.message().contains("`Nonce`"));
    let mut bad_method = V1Call::new("GET", "DescribeZones", &[]);
    bad_method.signature_method = Some("HmacMD5");
    assert_eq!(
        code(&server.raw(&bad_method.to_bytes(&host)).await),
        "InvalidParameterValue"
    );
    let big = "x".repeat(1024 * 1024 + 10);
    let huge = V1Call::new("POST", "DescribeZones", &[("Pad", &big)]);
    let resp = server.raw(&huge.to_bytes(&host)).await;
    assert_eq!(code(&resp), "AuthFailure.SignatureFailure");
    assert!(resp.message().contains("TC3-HMAC-SHA256") || resp.message().contains("v1"));
    let wrong = V1Call::new("POST", "DescribeZones", &[]).with_key("wrong");
    assert_eq!(
        code(&server.raw(&wrong.to_bytes(&host)).await),
        "AuthFailure.SignatureFailure"
    );
}

impl V1Call {
    fn with_key(mut self, key: &str) -> V1Call {
        self.secret_key = key.into();
        self
    }
}

/// `--auth off` checks nothing; `--auth soft` checks, logs and serves anyway.
#[tokio::test]
async fn auth_off_and_soft_serve_bad_signatures() {
    for mode in [AuthMode::Off, AuthMode::Soft] {
        let config = Config {
            auth: mode,
            ..Config::for_tests()
        };
        let server = Server::start_with(config, Vec::new()).await;
        let wrong = Call::tc3("DescribeInstancesStatus", "{}").with(|c| {
            c.secret_key = "wrong".into();
            c.timestamp = NOW - 10_000;
        });
        assert_eq!(code(&server.call(&wrong).await), "ok", "{mode:?}");
        let garbage =
            Call::tc3("DescribeZones", "{}").with(|c| c.authorization = Some("nope".into()));
        assert_eq!(code(&server.call(&garbage).await), "ok", "{mode:?}");
        // Parameter checks still apply.
        let bad = Call::tc3("DescribeInstancesStatus", r#"{"Limit": "x"}"#);
        assert_eq!(
            code(&server.call(&bad).await),
            "InvalidParameter",
            "{mode:?}"
        );
    }
}

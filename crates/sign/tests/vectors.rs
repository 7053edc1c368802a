//! The published test vectors of protocol.md §5 (V1–V8, N1, N2), produced by the real SDKs;
//! every intermediate is pinned, then each TC3 vector is fed through the server-side
//! verifier as received, and mutated to prove the verifier actually looks at each input.

use tclocal_sign::tc3::{self, SignInput, VerifyError, VerifyInput};
use tclocal_sign::v1::{self, SignatureMethod};
use tclocal_sign::{SecretKey, SigningKey};

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const TIMESTAMP: i64 = 1_551_113_065;
const DATE: &str = "2019-02-25";

const K_DATE: &str = "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a";
const K_SERVICE_CVM: &str = "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050";
const K_SIGNING_CVM: &str = "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1";

/// Python `json.dumps` body shared by V1 and V8 (86 bytes, `\uXXXX` escapes included).
const DESCRIBE_INSTANCES_BODY: &[u8] =
    br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

/// One TC3 vector: what was received, what the client signed, and every intermediate.
struct Tc3Vector<'a> {
    method: &'a str,
    /// Raw query string as received (GET only).
    query: &'a str,
    /// Headers as received, in the order the SDK sent them.
    received: &'a [(&'a str, &'a str)],
    body: &'a [u8],
    unsigned_payload: bool,
    service: &'a str,
    /// Canonical headers exactly as the client signed them.
    canonical_headers: &'a [(&'a str, &'a str)],
    signed_headers: &'a str,
    hashed_payload: &'a str,
    canonical_request: &'a str,
    string_to_sign: Option<&'a str>,
    /// kDate, kService, kSigning.
    keys: Option<[&'a str; 3]>,
    signature: &'a str,
    authorization: Option<&'a str>,
    /// The verifier must succeed only through the port-stripping fallback.
    host_fallback: bool,
}

fn secret() -> SecretKey {
    SecretKey::new(SECRET)
}

fn key(service: &str) -> SigningKey {
    tc3::signing_key(&secret(), DATE, service)
}

fn header<'a>(headers: &[(&'a str, &'a str)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
        .unwrap()
}

/// Flips the low bit of byte `at`, keeping ASCII text ASCII and changing the letter itself
/// (not only its case, which the lower-cased candidate would forgive). An empty input gets
/// one byte instead.
fn mutate(s: &[u8], at: usize) -> Vec<u8> {
    let mut out = s.to_vec();
    match out.get_mut(at) {
        Some(b) => *b ^= 0x01,
        None => out.push(b'x'),
    }
    out
}

fn mutate_str(s: &str, at: usize) -> String {
    String::from_utf8(mutate(s.as_bytes(), at)).unwrap()
}

fn run_verify(
    v: &Tc3Vector<'_>,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timestamp: i64,
) -> Result<tc3::Verified, VerifyError> {
    let authorization =
        tc3::format_authorization(SECRET_ID, DATE, v.service, v.signed_headers, v.signature);
    let auth = tc3::parse_authorization(&authorization).unwrap();
    tc3::verify(
        &VerifyInput {
            method: v.method,
            query,
            headers,
            payload: body,
            unsigned_payload: v.unsigned_payload,
            timestamp,
            authorization: &auth,
        },
        &key(auth.service),
    )
}

fn assert_mismatch(result: Result<tc3::Verified, VerifyError>, what: &str) {
    match result {
        Err(VerifyError::Mismatch(diag)) => {
            assert!(!diag.canonical_request.is_empty(), "{what}");
            assert!(!format!("{diag:?}").contains(SECRET), "{what}");
        }
        other => panic!("{what}: expected Mismatch, got {other:?}"),
    }
}

fn check_tc3(v: &Tc3Vector<'_>) {
    // 1. Every intermediate, step by step.
    let hashed = tc3::hashed_payload(v.body, v.unsigned_payload);
    assert_eq!(hashed, v.hashed_payload, "HashedRequestPayload");

    let canonical = tc3::canonical_request(
        v.method,
        "/",
        v.query,
        v.canonical_headers,
        v.signed_headers,
        &hashed,
    );
    assert_eq!(canonical, v.canonical_request, "CanonicalRequest");

    let date = tc3::date_of(TIMESTAMP).unwrap();
    assert_eq!(date, DATE);
    let sts = tc3::string_to_sign(TIMESTAMP, &date, v.service, &canonical);
    if let Some(expected) = v.string_to_sign {
        assert_eq!(sts, expected, "StringToSign");
    }

    let k_date = tc3::k_date(&secret(), &date);
    let k_service = tc3::k_service(&k_date, v.service);
    let k_signing = tc3::signing_key(&secret(), &date, v.service);
    if let Some([kd, ks, kg]) = v.keys {
        assert_eq!(hex::encode(k_date), kd, "kDate");
        assert_eq!(hex::encode(k_service), ks, "kService");
        assert_eq!(hex::encode(k_signing.expose()), kg, "kSigning");
    }

    let signature = tc3::signature(&k_signing, &sts);
    assert_eq!(signature, v.signature, "Signature");

    let authorization =
        tc3::format_authorization(SECRET_ID, &date, v.service, v.signed_headers, &signature);
    if let Some(expected) = v.authorization {
        assert_eq!(authorization, expected, "Authorization");
        assert_eq!(
            header(v.received, "Authorization"),
            expected,
            "Authorization sent"
        );
    }
    let parsed = tc3::parse_authorization(&authorization).unwrap();
    assert_eq!(parsed.signature, v.signature);
    assert_eq!(parsed.service, v.service);

    // 2. The client-side one-shot signer reproduces the SDK (it signs content-type;host).
    if v.signed_headers == "content-type;host" {
        let signed = tc3::sign(
            &SignInput {
                method: v.method,
                host: header(v.canonical_headers, "host"),
                query: v.query,
                content_type: header(v.canonical_headers, "content-type"),
                payload: v.body,
                unsigned_payload: v.unsigned_payload,
                timestamp: TIMESTAMP,
                service: v.service,
                secret_id: SECRET_ID,
            },
            &secret(),
        );
        assert_eq!(signed.canonical_request, v.canonical_request);
        assert_eq!(signed.string_to_sign, sts);
        assert_eq!(signed.authorization, authorization);
    }

    // 3. The server verifies the request exactly as received.
    let ok = run_verify(v, v.query, v.received, v.body, TIMESTAMP).unwrap();
    assert_eq!(ok.used_host_fallback, v.host_fallback, "used_host_fallback");
    assert_eq!(ok.canonical_request, v.canonical_request);
    assert_eq!(ok.string_to_sign, sts);

    // 4. Any change to a signed input is caught.
    let body_mutated = run_verify(
        v,
        v.query,
        v.received,
        &mutate(v.body, v.body.len() / 2),
        TIMESTAMP,
    );
    if v.unsigned_payload {
        assert!(
            body_mutated.is_ok(),
            "UNSIGNED-PAYLOAD does not cover the body"
        );
    } else {
        assert_mismatch(body_mutated, "body");
    }

    let host = header(v.received, "host");
    let mutated_host = mutate_str(host, 0);
    let headers: Vec<(&str, &str)> = v
        .received
        .iter()
        .map(|&(n, val)| {
            if n.eq_ignore_ascii_case("host") {
                (n, mutated_host.as_str())
            } else {
                (n, val)
            }
        })
        .collect();
    assert_mismatch(run_verify(v, v.query, &headers, v.body, TIMESTAMP), "host");

    let content_type = header(v.received, "content-type");
    let mutated_ct = mutate_str(content_type, 0);
    let headers: Vec<(&str, &str)> = v
        .received
        .iter()
        .map(|&(n, val)| {
            if n.eq_ignore_ascii_case("content-type") {
                (n, mutated_ct.as_str())
            } else {
                (n, val)
            }
        })
        .collect();
    assert_mismatch(
        run_verify(v, v.query, &headers, v.body, TIMESTAMP),
        "content-type",
    );

    // One second later is still the same scope date, so only the signature can object.
    assert_mismatch(
        run_verify(v, v.query, v.received, v.body, TIMESTAMP + 1),
        "timestamp",
    );

    if v.method == "GET" {
        let query = mutate_str(v.query, v.query.len() / 2);
        assert_mismatch(
            run_verify(v, &query, v.received, v.body, TIMESTAMP),
            "query",
        );
    }

    // Unsigned-payload flag flipped.
    let flipped = Tc3Vector {
        unsigned_payload: !v.unsigned_payload,
        ..*v
    };
    assert_mismatch(
        run_verify(&flipped, v.query, v.received, v.body, TIMESTAMP),
        "unsigned payload flag",
    );
}

#[test]
fn v1_tc3_post_json() {
    check_tc3(&Tc3Vector {
        method: "POST",
        query: "",
        received: &[
            ("X-TC-TraceId", "00000000-0000-4000-8000-000000000001"),
            ("Content-Type", "application/json"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
            ),
        ],
        body: DESCRIBE_INSTANCES_BODY,
        unsigned_payload: false,
        service: "cvm",
        canonical_headers: &[
            ("content-type", "application/json"),
            ("host", "cvm.tencentcloudapi.com"),
        ],
        signed_headers: "content-type;host",
        hashed_payload: "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
        canonical_request: "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
        string_to_sign: Some(
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\ndf142fa7176428137ac6a6b25b5efcb6b4c08a91fc30d75ecebe47877d3143d8",
        ),
        keys: Some([K_DATE, K_SERVICE_CVM, K_SIGNING_CVM]),
        signature: "683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
        authorization: Some(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
        ),
        host_fallback: false,
    });
    assert_eq!(DESCRIBE_INSTANCES_BODY.len(), 86);
}

#[test]
fn v2_tc3_get_query() {
    let query =
        "Limit=1&Filters.0.Values.0=%E6%9C%AA%E5%91%BD%E5%90%8D&Filters.0.Name=instance-name";
    check_tc3(&Tc3Vector {
        method: "GET",
        query,
        received: &[
            ("X-TC-TraceId", "00000000-0000-4000-8000-000000000001"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=e51447a2740cdd0620c58e8e78e535a472238d1a6bb3296238466f581a694a01",
            ),
        ],
        body: b"",
        unsigned_payload: false,
        service: "cvm",
        canonical_headers: &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "cvm.tencentcloudapi.com"),
        ],
        signed_headers: "content-type;host",
        hashed_payload: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        canonical_request: "GET\n/\nLimit=1&Filters.0.Values.0=%E6%9C%AA%E5%91%BD%E5%90%8D&Filters.0.Name=instance-name\ncontent-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        string_to_sign: Some(
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\nc8a73de0dba313f34231abb701e4cd8a95bebb0892b1eb43fefb5a75d48ec318",
        ),
        keys: Some([K_DATE, K_SERVICE_CVM, K_SIGNING_CVM]),
        signature: "e51447a2740cdd0620c58e8e78e535a472238d1a6bb3296238466f581a694a01",
        authorization: Some(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=e51447a2740cdd0620c58e8e78e535a472238d1a6bb3296238466f581a694a01",
        ),
        host_fallback: false,
    });
}

#[test]
fn v3_tc3_post_to_local_endpoint_with_token() {
    check_tc3(&Tc3Vector {
        method: "POST",
        query: "",
        received: &[
            ("X-TC-TraceId", "00000000-0000-4000-8000-000000000001"),
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:4566"),
            ("X-TC-Action", "DescribeInstancesStatus"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Token", "tmp-token-abc"),
            ("X-TC-Language", "en-US"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=8a75728d033a4328d1d61557d4816b1a3b6f862e83e1b2252ff8c42253277f52",
            ),
        ],
        body: br#"{"InstanceIds": ["ins-r8hr2upy"], "Limit": 10}"#,
        unsigned_payload: false,
        service: "cvm",
        canonical_headers: &[
            ("content-type", "application/json"),
            ("host", "127.0.0.1:4566"),
        ],
        signed_headers: "content-type;host",
        hashed_payload: "20072ba74e42354f344d3067de22fc623e6898bbb00a80ee72d6273746917848",
        canonical_request: "POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:4566\n\ncontent-type;host\n20072ba74e42354f344d3067de22fc623e6898bbb00a80ee72d6273746917848",
        string_to_sign: Some(
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\nf3cbc91076a3e545985d5fcd28ab4541cfb3bfc80a93b3efee171709d7ffba68",
        ),
        keys: Some([K_DATE, K_SERVICE_CVM, K_SIGNING_CVM]),
        signature: "8a75728d033a4328d1d61557d4816b1a3b6f862e83e1b2252ff8c42253277f52",
        authorization: Some(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=8a75728d033a4328d1d61557d4816b1a3b6f862e83e1b2252ff8c42253277f52",
        ),
        host_fallback: false,
    });
}

#[test]
fn v4_tc3_unsigned_payload() {
    check_tc3(&Tc3Vector {
        method: "POST",
        query: "",
        received: &[
            ("X-TC-TraceId", "00000000-0000-4000-8000-000000000001"),
            ("Content-Type", "application/json"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeZones"),
            ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=6ca8818cc1b871a25d6f13dad67f0a6069a1979f11eddcd2087aee26addd80e6",
            ),
        ],
        body: b"{}",
        unsigned_payload: true,
        service: "cvm",
        canonical_headers: &[
            ("content-type", "application/json"),
            ("host", "cvm.tencentcloudapi.com"),
        ],
        signed_headers: "content-type;host",
        hashed_payload: "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96",
        canonical_request: "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96",
        string_to_sign: Some(
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n08ca61ccea5c4f36a3d4ba244ffe6984977e068524eacd007c466f121f299ad6",
        ),
        keys: Some([K_DATE, K_SERVICE_CVM, K_SIGNING_CVM]),
        signature: "6ca8818cc1b871a25d6f13dad67f0a6069a1979f11eddcd2087aee26addd80e6",
        authorization: Some(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=6ca8818cc1b871a25d6f13dad67f0a6069a1979f11eddcd2087aee26addd80e6",
        ),
        host_fallback: false,
    });
    assert_eq!(
        tc3::hashed_payload(b"{}", true),
        tc3::sha256_hex(tc3::UNSIGNED_PAYLOAD.as_bytes())
    );
}

#[test]
fn v8_extra_signed_header_lower_cased_value() {
    let expected_canonical = "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";
    let v = Tc3Vector {
        method: "POST",
        query: "",
        // What a client following the official demo sends: the action keeps its case on the
        // wire, but the demo lower-cases it in the canonical headers.
        received: &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
        ],
        body: DESCRIBE_INSTANCES_BODY,
        unsigned_payload: false,
        service: "cvm",
        canonical_headers: &[
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cvm.tencentcloudapi.com"),
            ("x-tc-action", "describeinstances"),
        ],
        signed_headers: "content-type;host;x-tc-action",
        hashed_payload: "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
        canonical_request: expected_canonical,
        string_to_sign: Some(
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84",
        ),
        keys: Some([K_DATE, K_SERVICE_CVM, K_SIGNING_CVM]),
        signature: "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26",
        authorization: None,
        host_fallback: false,
    };
    check_tc3(&v);

    // The match came from the lower-cased candidate: the as-received form differs from it.
    let ok = run_verify(&v, "", v.received, v.body, TIMESTAMP).unwrap();
    assert!(
        ok.canonical_request
            .contains("x-tc-action:describeinstances\n")
    );
    // Changing the action (not only its case) breaks the signature.
    let received: Vec<(&str, &str)> = v
        .received
        .iter()
        .map(|&(n, val)| {
            if n == "X-TC-Action" {
                (n, "DescribeZones")
            } else {
                (n, val)
            }
        })
        .collect();
    assert_mismatch(
        run_verify(&v, "", &received, v.body, TIMESTAMP),
        "x-tc-action",
    );
    // A signed header that was not sent.
    let received: Vec<(&str, &str)> = v
        .received
        .iter()
        .copied()
        .filter(|(n, _)| *n != "X-TC-Action")
        .collect();
    assert_eq!(
        run_verify(&v, "", &received, v.body, TIMESTAMP).unwrap_err(),
        VerifyError::MissingSignedHeader("x-tc-action".to_owned())
    );
}

#[test]
fn n1_node_sdk_compact_utf8_json() {
    let body = r#"{"Limit":1,"Filters":[{"Values":["未命名"],"Name":"instance-name"}]}"#.as_bytes();
    check_tc3(&Tc3Vector {
        method: "POST",
        query: "",
        received: &[
            ("Content-Type", "application/json"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=024dc09760376e08599efbec5b4308222599fed5bc1758190a52c1dc485a7faf",
            ),
        ],
        body,
        unsigned_payload: false,
        service: "cvm",
        canonical_headers: &[
            ("content-type", "application/json"),
            ("host", "cvm.tencentcloudapi.com"),
        ],
        signed_headers: "content-type;host",
        hashed_payload: "f643cb841f2ce4b3d453493f34421d410f716a251ea100610b562ea1a20f78dc",
        // Derived from the vector's stated inputs (§3.1 layout).
        canonical_request: "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\nf643cb841f2ce4b3d453493f34421d410f716a251ea100610b562ea1a20f78dc",
        string_to_sign: None,
        keys: Some([K_DATE, K_SERVICE_CVM, K_SIGNING_CVM]),
        signature: "024dc09760376e08599efbec5b4308222599fed5bc1758190a52c1dc485a7faf",
        authorization: Some(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=024dc09760376e08599efbec5b4308222599fed5bc1758190a52c1dc485a7faf",
        ),
        host_fallback: false,
    });
}

#[test]
fn n2_node_sdk_signs_host_without_port() {
    let body = br#"{"InstanceIds":["ins-r8hr2upy"],"Limit":10}"#;
    let hashed = "23e947167cddcf67c9fa9f0fe75e643b74ada910376fe4e6888dda2bb4b00a28";
    let v = Tc3Vector {
        method: "POST",
        query: "",
        received: &[
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:4566"),
            ("X-TC-Action", "DescribeInstancesStatus"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            (
                "Authorization",
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/127/tc3_request, SignedHeaders=content-type;host, Signature=9b129aa5b83ff118ce5f539a5f48163c9678e7d3bd288a8cd709847c8b0ef505",
            ),
        ],
        body,
        unsigned_payload: false,
        // Node derives the service from the endpoint's first label.
        service: "127",
        canonical_headers: &[("content-type", "application/json"), ("host", "127.0.0.1")],
        signed_headers: "content-type;host",
        hashed_payload: hashed,
        canonical_request: "POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1\n\ncontent-type;host\n23e947167cddcf67c9fa9f0fe75e643b74ada910376fe4e6888dda2bb4b00a28",
        string_to_sign: None,
        keys: None,
        signature: "9b129aa5b83ff118ce5f539a5f48163c9678e7d3bd288a8cd709847c8b0ef505",
        authorization: Some(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/127/tc3_request, SignedHeaders=content-type;host, Signature=9b129aa5b83ff118ce5f539a5f48163c9678e7d3bd288a8cd709847c8b0ef505",
        ),
        host_fallback: true,
    };
    check_tc3(&v);

    // The vector's stated counter-check: with the port kept, the signature would differ.
    let canonical = tc3::canonical_request(
        "POST",
        "/",
        "",
        &[
            ("content-type", "application/json"),
            ("host", "127.0.0.1:4566"),
        ],
        "content-type;host",
        hashed,
    );
    let sts = tc3::string_to_sign(TIMESTAMP, DATE, "127", &canonical);
    assert_eq!(
        tc3::signature(&key("127"), &sts),
        "07acc6af5142b9fba47172d0a743de73c5904b15e57e2e3812d8e56d4036c9f1"
    );

    // The host part before the port is signed; the port itself is not.
    let received: Vec<(&str, &str)> = v
        .received
        .iter()
        .map(|&(n, val)| {
            if n == "Host" {
                (n, "127.0.0.2:4566")
            } else {
                (n, val)
            }
        })
        .collect();
    assert_mismatch(
        run_verify(&v, "", &received, body, TIMESTAMP),
        "host address",
    );
    let received: Vec<(&str, &str)> = v
        .received
        .iter()
        .map(|&(n, val)| {
            if n == "Host" {
                (n, "127.0.0.1:4570")
            } else {
                (n, val)
            }
        })
        .collect();
    assert!(
        run_verify(&v, "", &received, body, TIMESTAMP)
            .unwrap()
            .used_host_fallback
    );
}

/// The worked example reproduced in style-anchors.md rule 4: the documentation page signs
/// with its masked secret literally.
#[test]
fn doc_example_with_masked_secret() {
    let headers = [
        ("content-type", "application/json; charset=utf-8"),
        ("host", "cvm.tencentcloudapi.com"),
    ];
    let canonical = tc3::canonical_request(
        "POST",
        "/",
        "",
        &headers,
        "content-type;host",
        &tc3::hashed_payload(DESCRIBE_INSTANCES_BODY, false),
    );
    assert_eq!(
        tc3::sha256_hex(canonical.as_bytes()),
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    let sts = tc3::string_to_sign(TIMESTAMP, DATE, "cvm", &canonical);
    let key = tc3::signing_key(
        &SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3*******"),
        DATE,
        "cvm",
    );
    assert_eq!(
        tc3::signature(&key, &sts),
        "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    );
}

#[test]
fn scope_date_must_match_timestamp() {
    let auth = tc3::parse_authorization(
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-24/cvm/tc3_request, SignedHeaders=content-type;host, Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
    )
    .unwrap();
    let headers = [
        ("Content-Type", "application/json"),
        ("Host", "cvm.tencentcloudapi.com"),
    ];
    let err = tc3::verify(
        &VerifyInput {
            method: "POST",
            query: "",
            headers: &headers,
            payload: DESCRIBE_INSTANCES_BODY,
            unsigned_payload: false,
            timestamp: TIMESTAMP,
            authorization: &auth,
        },
        &tc3::signing_key(&secret(), auth.date, auth.service),
    )
    .unwrap_err();
    assert_eq!(
        err,
        VerifyError::ScopeDateMismatch {
            expected: DATE.to_owned(),
            got: "2019-02-24".to_owned()
        }
    );
}

#[test]
fn wrong_secret_is_a_mismatch() {
    let auth = tc3::parse_authorization(
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
    )
    .unwrap();
    let headers = [
        ("Content-Type", "application/json"),
        ("Host", "cvm.tencentcloudapi.com"),
    ];
    let input = VerifyInput {
        method: "POST",
        query: "",
        headers: &headers,
        payload: DESCRIBE_INSTANCES_BODY,
        unsigned_payload: false,
        timestamp: TIMESTAMP,
        authorization: &auth,
    };
    assert!(tc3::verify(&input, &tc3::signing_key(&secret(), DATE, "cvm")).is_ok());
    let wrong = tc3::signing_key(
        &SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLF"),
        DATE,
        "cvm",
    );
    assert!(matches!(
        tc3::verify(&input, &wrong),
        Err(VerifyError::Mismatch(_))
    ));
    let wrong_service = tc3::signing_key(&secret(), DATE, "cbs");
    assert!(matches!(
        tc3::verify(&input, &wrong_service),
        Err(VerifyError::Mismatch(_))
    ));
}

// ---- v1 -----------------------------------------------------------------------------------

/// Minimal `application/x-www-form-urlencoded` decoder for the test inputs.
fn form_decode(s: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }
    s.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect()
}

/// Server-side v1 check of a received query/form: returns the rebuilt string to sign.
fn check_v1(method: &str, host: &str, encoded: &str, expected_sts: &str, expected_sig: &str) {
    let params = form_decode(encoded);
    let signature = params
        .iter()
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v.as_str())
        .unwrap();
    assert_eq!(signature, expected_sig);
    let unsigned: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let sig_method = SignatureMethod::parse(
        unsigned
            .iter()
            .find(|(k, _)| *k == "SignatureMethod")
            .map(|(_, v)| *v),
    )
    .unwrap();

    let sts = v1::string_to_sign(method, host, "/", &unsigned);
    assert_eq!(sts, expected_sts, "StringToSign");
    assert_eq!(
        v1::sign(&secret(), sig_method, &sts),
        expected_sig,
        "Signature"
    );
    assert!(v1::verify(&secret(), sig_method, &sts, signature));

    // Wrong key, wrong method, changed parameter, changed host: all rejected.
    assert!(!v1::verify(
        &SecretKey::new("wrong"),
        sig_method,
        &sts,
        signature
    ));
    let other = match sig_method {
        SignatureMethod::HmacSha1 => SignatureMethod::HmacSha256,
        SignatureMethod::HmacSha256 => SignatureMethod::HmacSha1,
    };
    assert!(!v1::verify(&secret(), other, &sts, signature));
    let mut changed = unsigned.clone();
    for p in &mut changed {
        if p.0 == "Limit" {
            p.1 = "21";
        }
    }
    assert!(!v1::verify(
        &secret(),
        sig_method,
        &v1::string_to_sign(method, host, "/", &changed),
        signature
    ));
    assert!(!v1::verify(
        &secret(),
        sig_method,
        &v1::string_to_sign(method, "cvm.tencentcloudapi.com:443", "/", &unsigned),
        signature
    ));
}

#[test]
fn v5_v1_hmac_sha256_get() {
    check_v1(
        "GET",
        "cvm.tencentcloudapi.com",
        "InstanceIds.0=ins-09dx96dg&Limit=20&Offset=0&Action=DescribeInstances&RequestClient=SDK_PYTHON_3.1.195&Nonce=11886&Timestamp=1551113065&Version=2017-03-12&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Language=zh-CN&Signature=UkUQl2s0JaNQGCpwmJ3ElqspKDTFr51%2BbM89zUY7HEA%3D",
        "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Language=zh-CN&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA256&Timestamp=1551113065&Version=2017-03-12",
        "UkUQl2s0JaNQGCpwmJ3ElqspKDTFr51+bM89zUY7HEA=",
    );
}

#[test]
fn v6_v1_hmac_sha1_post_form() {
    check_v1(
        "POST",
        "cvm.tencentcloudapi.com",
        "InstanceIds.0=ins-09dx96dg&Limit=20&Offset=0&Action=DescribeInstances&RequestClient=SDK_PYTHON_3.1.195&Nonce=11886&Timestamp=1551113065&Version=2017-03-12&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&Language=zh-CN&Signature=UT4OYW%2Bm%2FtOj%2BC2pqHhkKgv%2BOm8%3D",
        "POSTcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Language=zh-CN&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&Timestamp=1551113065&Version=2017-03-12",
        "UT4OYW+m/tOj+C2pqHhkKgv+Om8=",
    );
    // A client that forgot to URL-encode the signature: form decoding turns '+' into ' '.
    let sts = "POSTcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Language=zh-CN&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.195&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&SignatureMethod=HmacSHA1&Timestamp=1551113065&Version=2017-03-12";
    assert!(v1::verify(
        &secret(),
        SignatureMethod::HmacSha1,
        sts,
        "UT4OYW m/tOj C2pqHhkKgv Om8="
    ));
}

#[test]
fn v7_v1_official_doc_example() {
    let sts = "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12";
    // SignatureMethod absent: HmacSHA1.
    let method = SignatureMethod::parse(None).unwrap();
    assert_eq!(method, SignatureMethod::HmacSha1);
    assert_eq!(
        v1::sign(&secret(), method, sts),
        "EliP9YW3pW28FpsEdkXt/+WcGeI="
    );
    assert!(v1::verify(
        &secret(),
        method,
        sts,
        "EliP9YW3pW28FpsEdkXt/+WcGeI="
    ));
    assert!(!v1::verify(
        &SecretKey::new("wrong"),
        method,
        sts,
        "EliP9YW3pW28FpsEdkXt/+WcGeI="
    ));
    assert!(!v1::verify(
        &secret(),
        SignatureMethod::HmacSha256,
        sts,
        "EliP9YW3pW28FpsEdkXt/+WcGeI="
    ));

    // Rebuilt from unordered, decoded params, as a server would.
    let params = [
        ("Version", "2017-03-12"),
        ("Timestamp", "1465185768"),
        ("SecretId", SECRET_ID),
        ("Region", "ap-guangzhou"),
        ("Offset", "0"),
        ("Nonce", "11886"),
        ("Limit", "20"),
        ("InstanceIds.0", "ins-09dx96dg"),
        ("Action", "DescribeInstances"),
    ];
    assert_eq!(
        v1::string_to_sign("GET", "cvm.tencentcloudapi.com", "/", &params),
        sts
    );
}

#[test]
fn secrets_never_appear_in_debug() {
    let secret = SecretKey::new(SECRET);
    assert!(!format!("{secret:?}").contains(SECRET));
    let key = tc3::signing_key(&secret, DATE, "cvm");
    let debug = format!("{key:?}");
    assert!(!debug.contains(K_SIGNING_CVM));
    assert!(!debug.contains(SECRET));
}

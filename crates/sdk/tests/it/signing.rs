//! The SDK's request builder reproduces the signing vectors of protocol.md §5.
//!
//! Every vector uses the documentation key pair, timestamp 1551113065 (2019-02-25), service
//! `cvm`, version 2017-03-12 and region ap-guangzhou. The Python vectors' bodies are
//! `json.dumps` output (spaces, `\uXXXX` escapes), so they go through `prepare_json`, which
//! sends and signs given bytes; the Node vector's compact body is what the SDK's own
//! serialiser writes.

use std::sync::Arc;

use serde_json::json;
use tclocal_sdk::{Client, ClientBuilder, Credential, HttpMethod, Language};
use tclocal_wire::clock::ManualClock;

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const NOW: i64 = 1_551_113_065;

fn builder() -> ClientBuilder {
    Client::builder()
        .credentials(Credential::new(SECRET_ID, SECRET_KEY))
        .region("ap-guangzhou")
        .clock(Arc::new(ManualClock::at(NOW)))
}

fn authorization(signature: &str) -> String {
    format!(
        "TC3-HMAC-SHA256 Credential={SECRET_ID}/2019-02-25/cvm/tc3_request, \
         SignedHeaders=content-type;host, Signature={signature}"
    )
}

/// V1: POST JSON to the default endpoint.
#[tokio::test]
async fn v1_post_json() {
    let body = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    let client = builder().language(Language::ZhCn).build().unwrap();
    let req = client
        .prepare_json("cvm", "2017-03-12", "DescribeInstances", body.to_vec())
        .await
        .unwrap();
    assert_eq!(req.url(), "https://cvm.tencentcloudapi.com/");
    assert_eq!(req.body(), body);
    assert_eq!(
        req.canonical_request(),
        "POST\n/\n\ncontent-type:application/json\nhost:cvm.tencentcloudapi.com\n\n\
         content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        req.string_to_sign(),
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
         df142fa7176428137ac6a6b25b5efcb6b4c08a91fc30d75ecebe47877d3143d8"
    );
    assert_eq!(
        req.header("Authorization").unwrap(),
        authorization("683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8")
    );
    let headers: Vec<(&str, &str)> = req
        .headers()
        .filter(|(k, _)| *k != "X-TC-RequestClient")
        .collect();
    assert_eq!(
        headers[..8],
        [
            ("Content-Type", "application/json"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
            ("X-TC-Timestamp", "1551113065"),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
            ("X-TC-Language", "zh-CN"),
            (
                "Authorization",
                authorization("683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8")
                    .as_str()
            ),
        ]
    );
}

/// V2: GET with flattened parameters; the SDK's own flattening gives the vector's query.
#[tokio::test]
async fn v2_get_query() {
    let client = builder().method(HttpMethod::Get).build().unwrap();
    let req = client
        .prepare(
            "cvm",
            "2017-03-12",
            "DescribeInstances",
            json!({"Limit": 1, "Filters": [{"Values": ["未命名"], "Name": "instance-name"}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        req.url(),
        "https://cvm.tencentcloudapi.com/?Limit=1&Filters.0.Values.0=%E6%9C%AA%E5%91%BD%E5%90%8D&Filters.0.Name=instance-name"
    );
    assert_eq!(
        req.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(req.body().is_empty());
    assert_eq!(
        req.string_to_sign(),
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
         c8a73de0dba313f34231abb701e4cd8a95bebb0892b1eb43fefb5a75d48ec318"
    );
    assert_eq!(
        req.header("Authorization").unwrap(),
        authorization("e51447a2740cdd0620c58e8e78e535a472238d1a6bb3296238466f581a694a01")
    );
}

/// V3: a loopback endpoint with a port, a session token and en-US.
#[tokio::test]
async fn v3_loopback_endpoint_with_token() {
    let client = builder()
        .endpoint("http://127.0.0.1:4566")
        .language(Language::EnUs)
        .credentials(Credential::new(SECRET_ID, SECRET_KEY).with_token("tmp-token-abc"))
        .build()
        .unwrap();
    let req = client
        .prepare_json(
            "cvm",
            "2017-03-12",
            "DescribeInstancesStatus",
            br#"{"InstanceIds": ["ins-r8hr2upy"], "Limit": 10}"#.to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(req.url(), "http://127.0.0.1:4566/");
    assert_eq!(req.header("Host"), Some("127.0.0.1:4566"));
    assert_eq!(req.header("X-TC-Token"), Some("tmp-token-abc"));
    assert_eq!(req.header("X-TC-Language"), Some("en-US"));
    assert_eq!(
        req.header("Authorization").unwrap(),
        authorization("8a75728d033a4328d1d61557d4816b1a3b6f862e83e1b2252ff8c42253277f52")
    );
    // The token is a secret: Debug hides it.
    let debug = format!("{req:?}");
    assert!(!debug.contains("tmp-token-abc"), "{debug}");
}

/// V4: UNSIGNED-PAYLOAD.
#[tokio::test]
async fn v4_unsigned_payload() {
    let client = builder().unsigned_payload(true).build().unwrap();
    let req = client
        .prepare_json("cvm", "2017-03-12", "DescribeZones", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(req.header("X-TC-Content-SHA256"), Some("UNSIGNED-PAYLOAD"));
    assert_eq!(
        req.header("Authorization").unwrap(),
        authorization("6ca8818cc1b871a25d6f13dad67f0a6069a1979f11eddcd2087aee26addd80e6")
    );
}

/// N1: the SDK's compact JSON is the Node SDK's body byte for byte, so it signs the same.
#[tokio::test]
async fn n1_compact_json_body() {
    let client = builder().build().unwrap();
    let req = client
        .prepare(
            "cvm",
            "2017-03-12",
            "DescribeInstances",
            json!({"Limit": 1, "Filters": [{"Values": ["未命名"], "Name": "instance-name"}]}),
        )
        .await
        .unwrap();
    assert_eq!(
        std::str::from_utf8(req.body()).unwrap(),
        r#"{"Limit":1,"Filters":[{"Values":["未命名"],"Name":"instance-name"}]}"#
    );
    assert!(
        req.canonical_request()
            .ends_with("f643cb841f2ce4b3d453493f34421d410f716a251ea100610b562ea1a20f78dc")
    );
    assert_eq!(
        req.header("Authorization").unwrap(),
        authorization("024dc09760376e08599efbec5b4308222599fed5bc1758190a52c1dc485a7faf")
    );
}

/// What the SDK signs (GET and POST), tclocal-sign's verifier accepts, and rejects once a
/// byte of the body changes.
#[tokio::test]
async fn prepared_requests_verify() {
    use tclocal_sign::SecretKey;
    use tclocal_sign::tc3::{VerifyInput, parse_authorization, signing_key, verify};

    for method in [HttpMethod::Post, HttpMethod::Get] {
        let client = builder()
            .endpoint("http://127.0.0.1:4570")
            .method(method)
            .build()
            .unwrap();
        let req = client
            .prepare(
                "cvm",
                "2017-03-12",
                "DescribeZones",
                json!({"Zones": ["ap-guangzhou-3"], "A": "b c"}),
            )
            .await
            .unwrap();
        let auth = parse_authorization(req.header("Authorization").unwrap()).unwrap();
        let key = signing_key(&SecretKey::new(SECRET_KEY), auth.date, auth.service);
        let headers: Vec<(&str, &str)> = req.headers().collect();
        let query = req.url().split_once('?').map_or("", |(_, q)| q);
        let input = VerifyInput {
            method: method.as_str(),
            query,
            headers: &headers,
            payload: req.body(),
            unsigned_payload: false,
            timestamp: NOW,
            authorization: &auth,
        };
        let verified = verify(&input, &key).unwrap();
        assert_eq!(verified.canonical_request, req.canonical_request());
        assert!(!verified.used_host_fallback);
        let tampered = [req.body(), b" "].concat();
        let query_tampered = format!("{query}&x=1");
        let bad = VerifyInput {
            payload: &tampered,
            query: &query_tampered,
            ..input
        };
        assert!(verify(&bad, &key).is_err(), "{method:?}");
    }
}

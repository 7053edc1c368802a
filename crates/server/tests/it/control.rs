//! The control plane over the wire: journal, faults, rate limits, info and resources.

use serde_json::{Value, json};

use crate::common::{Call, RawResponse, Server};
use tclocal_server::Config;
use tclocal_services::identity::DEV_SECRET_KEY;
use tclocal_wire::clock::Clock;

fn code(resp: &RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// A TC3 signature failure on a GET with a 30 KB query keeps a capped canonical request in
/// the journal, so failing clients cannot grow the journal past its entry count.
#[tokio::test]
async fn signature_diagnostics_in_the_journal_are_capped() {
    let server = Server::start().await;
    let query = format!("Pad={}", "x".repeat(30 * 1024));
    let call = Call::tc3_get("DescribeZones", &query).with(|c| c.secret_key = "wrong".into());
    let resp = server.call(&call).await;
    assert_eq!(code(&resp), "AuthFailure.SignatureFailure");
    let id = resp.envelope().request_id;
    let (status, entry) = server
        .control("GET", &format!("/_tclocal/requests/{id}"), "")
        .await;
    assert_eq!(status, 200);
    let canonical = entry["signature"]["canonical_request"].as_str().unwrap();
    let cap = tclocal_server::journal::MAX_DIAGNOSTIC_BYTES;
    assert!(canonical.len() <= cap + 64, "{}", canonical.len());
    assert!(
        canonical.starts_with("GET\n/\nPad=xxx"),
        "{}",
        &canonical[..40]
    );
    assert!(
        canonical.ends_with("more bytes not kept)"),
        "the cut is marked"
    );
}

/// Every request, success or error, can be looked up by its RequestId; a signature failure
/// shows what the server signed, and never the key.
#[tokio::test]
async fn journal_finds_every_request_by_request_id() {
    let server = Server::start().await;
    let ok = server.call(&Call::tc3("DescribeZones", "{}")).await;
    let ok_id = ok.envelope().request_id;
    let bad = server
        .call(&Call::tc3("DescribeZones", "{}").with(|c| c.secret_key = "wrong".into()))
        .await;
    let bad_id = bad.envelope().request_id;

    let (status, entry) = server
        .control("GET", &format!("/_tclocal/requests/{ok_id}"), "")
        .await;
    assert_eq!(status, 200);
    assert_eq!(entry["code"], Value::Null);
    assert_eq!(entry["action"], "DescribeZones");
    assert_eq!(entry["service"], "cvm");
    assert_eq!(entry["region"], "ap-guangzhou");
    assert_eq!(entry["auth"], "verified");
    assert_eq!(entry["app_id"], 1_250_000_000);

    let (_, entry) = server
        .control("GET", &format!("/_tclocal/requests/{bad_id}"), "")
        .await;
    assert_eq!(entry["code"], "AuthFailure.SignatureFailure");
    let canonical = entry["signature"]["canonical_request"].as_str().unwrap();
    assert!(
        canonical.starts_with("POST\n/\n\ncontent-type:application/json\nhost:127.0.0.1:"),
        "{canonical}"
    );
    assert!(
        entry["signature"]["string_to_sign"]
            .as_str()
            .unwrap()
            .starts_with("TC3-HMAC-SHA256\n")
    );
    let whole = serde_json::to_string(&entry).unwrap();
    assert!(
        !whole.contains(DEV_SECRET_KEY) && !whole.contains("wrong"),
        "no secret in the journal"
    );

    let (_, list) = server
        .control(
            "GET",
            "/_tclocal/requests?code=AuthFailure.SignatureFailure",
            "",
        )
        .await;
    let ids: Vec<&str> = list["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [bad_id.as_str()]);
    let (_, list) = server
        .control(
            "GET",
            "/_tclocal/requests?code=Success&action=DescribeZones&limit=5",
            "",
        )
        .await;
    assert_eq!(list["requests"].as_array().unwrap().len(), 1);
    let (status, _) = server.control("GET", "/_tclocal/requests/nope", "").await;
    assert_eq!(status, 404);
    let (status, _) = server
        .control("GET", "/_tclocal/requests?limit=lots", "")
        .await;
    assert_eq!(status, 400);
}

/// A fault rule makes an action fail with the chosen code until it is removed; a count
/// limits it; bad rules are refused.
#[tokio::test]
async fn fault_rules_fail_calls_until_removed() {
    let server = Server::start().await;
    let rule = r#"{"service": "cvm", "action": "DescribeInstancesStatus", "code": "InternalError", "probability": 1.0}"#;
    let (status, created) = server.control("POST", "/_tclocal/faults", rule).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let call = Call::tc3("DescribeInstancesStatus", "{}");
    let resp = server.call(&call).await;
    assert_eq!(code(&resp), "InternalError");
    let rid = resp.envelope().request_id;
    let (_, entry) = server
        .control("GET", &format!("/_tclocal/requests/{rid}"), "")
        .await;
    assert_eq!(entry["fault"], id.as_str());
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeZones", "{}")).await),
        "ok",
        "other actions unaffected"
    );
    let (status, _) = server
        .control("DELETE", &format!("/_tclocal/faults/{id}"), "")
        .await;
    assert_eq!(status, 204);
    assert_eq!(code(&server.call(&call).await), "ok");

    let counted = r#"{"action": "DescribeZones", "code": "ResourceUnavailable", "count": 2, "message": "zone maintenance"}"#;
    server.control("POST", "/_tclocal/faults", counted).await;
    let first = server.call(&Call::tc3("DescribeZones", "{}")).await;
    assert_eq!(code(&first), "ResourceUnavailable");
    assert_eq!(first.message(), "zone maintenance");
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeZones", "{}")).await),
        "ResourceUnavailable"
    );
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeZones", "{}")).await),
        "ok",
        "the count ran out"
    );

    let product_code =
        r#"{"service": "cvm", "code": "ResourceInsufficient.SpecifiedInstanceType"}"#;
    assert_eq!(
        server
            .control("POST", "/_tclocal/faults", product_code)
            .await
            .0,
        201
    );
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeRegions", "{}")).await),
        "ResourceInsufficient.SpecifiedInstanceType"
    );
    assert_eq!(
        server.control("DELETE", "/_tclocal/faults", "").await.0,
        204
    );
    let (_, listed) = server.control("GET", "/_tclocal/faults", "").await;
    assert_eq!(listed["faults"], json!([]));

    for bad in [
        r#"{"code": "Made.Up"}"#,
        r#"{"code": "InternalError", "probability": 2}"#,
        r#"{"action": "X"}"#,
        r#"{"code": "InternalError", "colour": "red"}"#,
        "not json",
    ] {
        assert_eq!(
            server.control("POST", "/_tclocal/faults", bad).await.0,
            400,
            "{bad}"
        );
    }
}

/// Latency-only rules slow a call down and let it succeed.
#[tokio::test]
async fn latency_rules_delay_without_failing() {
    let server = Server::start().await;
    server
        .control(
            "POST",
            "/_tclocal/faults",
            r#"{"action": "DescribeZones", "latency_ms": 20}"#,
        )
        .await;
    let started = std::time::Instant::now();
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeZones", "{}")).await),
        "ok"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(20));
}

/// Custom rate limits answer RequestLimitExceeded past the limit, per second.
#[tokio::test]
async fn rate_limits_answer_request_limit_exceeded() {
    let config = Config {
        rate_limits: vec!["DescribeZones=2".into()],
        ..Config::for_tests()
    };
    let server = Server::start_with(config, Vec::new()).await;
    let call = Call::tc3("DescribeZones", "{}").with(|c| c.language = Some("en-US".into()));
    assert_eq!(code(&server.call(&call).await), "ok");
    assert_eq!(code(&server.call(&call).await), "ok");
    let third = server.call(&call).await;
    assert_eq!(code(&third), "RequestLimitExceeded");
    assert!(
        third.message().contains("`3`") && third.message().contains("`2`"),
        "{}",
        third.message()
    );
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeRegions", "{}")).await),
        "ok",
        "other actions unaffected"
    );
    server.clock.advance_millis(1000);
    let next = call.clone().with(|c| c.timestamp += 1);
    assert_eq!(code(&server.call(&next).await), "ok", "a new second");
}

/// /info shows versions, services and settings; /resources shows accounts, key ids and
/// instances; neither shows a secret.
#[tokio::test]
async fn info_and_resources_show_no_secrets() {
    let server = Server::start().await;
    let run = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i"}"#;
    assert_eq!(
        code(&server.call(&Call::tc3("RunInstances", run)).await),
        "ok"
    );
    let (status, info) = server.control("GET", "/_tclocal/info", "").await;
    assert_eq!(status, 200);
    assert!(
        info["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "cvm" && s["emulated"] == true)
    );
    assert_eq!(info["settings"]["auth"], "strict");
    let (_, res) = server.control("GET", "/_tclocal/resources", "").await;
    assert_eq!(
        res["keys"][0]["SecretId"],
        "AKIDtclocalDevelopmentKey00000000000"
    );
    assert_eq!(
        res["products"]["cvm"]["instances"][0]["InstanceState"],
        "PENDING"
    );
    for body in [
        serde_json::to_string(&info).unwrap(),
        serde_json::to_string(&res).unwrap(),
    ] {
        assert!(!body.contains(DEV_SECRET_KEY));
    }
}

/// `--rate-limits documented` applies the limit the model documents for an action (OCR's
/// RecognizeStoreName: 1 per second), even where tclocal does not emulate the action.
#[tokio::test]
async fn documented_rate_limits_come_from_the_model() {
    let config = Config {
        rate_mode: tclocal_server::ratelimit::RateMode::Documented,
        ..Config::for_tests()
    };
    let server = Server::start_with(config, Vec::new()).await;
    let call = Call::tc3("RecognizeStoreName", "{}").with(|c| {
        c.version = Some("2018-11-19".into());
        c.scope_service = "ocr".into();
    });
    assert_eq!(
        code(&server.call(&call).await),
        "UnsupportedOperation",
        "the first call passes the limit"
    );
    assert_eq!(code(&server.call(&call).await), "RequestLimitExceeded");
    // CVM's models document no limits: documented mode leaves CVM alone.
    for _ in 0..30 {
        assert_eq!(
            code(&server.call(&Call::tc3("DescribeZones", "{}")).await),
            "ok"
        );
    }
}

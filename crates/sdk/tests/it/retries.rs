//! Retries against a scripted fake server: what is retried, how often, and what never is.

use std::sync::Arc;

use serde_json::json;
use tclocal_sdk::cvm::{DescribeZonesRequest, RunInstancesRequest};
use tclocal_sdk::{Client, Code, CommonCode, Error, TransportKind};
use tclocal_wire::ids::SeqRequestIds;

use crate::common::{Fake, Reply, closed_port, dev_credential, fixed_jitter, quick_retries};

fn zones_ok(request_id: &str) -> Reply {
    Reply::json(json!({"Response": {"TotalCount": 0, "ZoneSet": [], "RequestId": request_id}}))
}

/// RequestLimitExceeded twice, then success: three attempts, and the caller sees the success.
#[tokio::test]
async fn rate_limit_is_retried_until_success() {
    let fake = Fake::start(|n, _| match n {
        0 | 1 => Reply::error("RequestLimitExceeded", &format!("r-{n}")),
        _ => zones_ok("r-ok"),
    })
    .await;
    let answer = fake
        .client(3)
        .cvm()
        .describe_zones(&DescribeZonesRequest::default())
        .await
        .unwrap();
    assert_eq!(answer.request_id, "r-ok");
    assert_eq!(fake.count(), 3);
    // Each attempt is signed anew.
    assert!(
        fake.seen()
            .iter()
            .all(|s| s.header("Authorization").is_some())
    );
}

/// Sub-codes of RequestLimitExceeded are retried too.
#[tokio::test]
async fn rate_limit_sub_codes_are_retried() {
    let fake = Fake::start(|n, _| match n {
        0 => Reply::error("RequestLimitExceeded.UinLimitExceeded", "r-0"),
        1 => Reply::error("RequestLimitExceeded.IPLimitExceeded", "r-1"),
        _ => zones_ok("r-ok"),
    })
    .await;
    fake.client(2)
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap();
    assert_eq!(fake.count(), 3);
}

/// InternalError is never retried, whatever the budget.
#[tokio::test]
async fn internal_error_is_not_retried() {
    let fake = Fake::start(|_, _| Reply::error("InternalError", "r-int")).await;
    let err = fake
        .client(5)
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(err.as_api().unwrap().code.is(CommonCode::InternalError));
    assert_eq!(fake.count(), 1);
}

/// Other API errors are not retried either.
#[tokio::test]
async fn other_api_errors_are_not_retried() {
    let fake =
        Fake::start(|_, _| Reply::error("ResourceInsufficient.SpecifiedInstanceType", "r")).await;
    let err = fake
        .client(5)
        .call("cvm", "2017-03-12", "RunInstances", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.as_api().unwrap().code,
        Code::Other("ResourceInsufficient.SpecifiedInstanceType".to_owned())
    );
    assert_eq!(fake.count(), 1);
}

/// Retries are opt-in: without a policy the first RequestLimitExceeded is the answer.
#[tokio::test]
async fn no_retries_by_default() {
    let fake = Fake::start(|_, _| Reply::error("RequestLimitExceeded", "r")).await;
    let client = Client::builder()
        .endpoint(fake.endpoint())
        .credentials(dev_credential())
        .build()
        .unwrap();
    let err = client
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(err.as_api().unwrap().code.is_rate_limit());
    assert_eq!(fake.count(), 1);
}

/// When the budget runs out, the last answer is returned.
#[tokio::test]
async fn budget_exhausted_returns_the_last_answer() {
    let fake = Fake::start(|n, _| Reply::error("RequestLimitExceeded", &format!("r-{n}"))).await;
    let err = fake
        .client(2)
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.request_id(), Some("r-2"));
    assert_eq!(fake.count(), 3);
}

/// A retried RunInstances carries one ClientToken, filled in once, on every attempt.
#[tokio::test]
async fn client_token_is_filled_once_and_reused() {
    let fake = Fake::start(|n, _| match n {
        0 => Reply::error("RequestLimitExceeded", "r-0"),
        _ => Reply::json(json!({"Response": {"InstanceIdSet": ["ins-1"], "RequestId": "r-1"}})),
    })
    .await;
    let client = Client::builder()
        .endpoint(fake.endpoint())
        .credentials(dev_credential())
        .retry(quick_retries(2))
        .jitter(fixed_jitter())
        .client_tokens(Arc::new(SeqRequestIds::default()))
        .build()
        .unwrap();
    let run = client
        .cvm()
        .run_instances(&RunInstancesRequest::default())
        .await
        .unwrap();
    assert_eq!(run.instance_id_set, ["ins-1"]);
    let tokens: Vec<_> = fake
        .seen()
        .iter()
        .map(|s| s.json()["ClientToken"].clone())
        .collect();
    assert_eq!(
        tokens,
        vec![json!("00000000-0000-4000-8000-000000000001"); 2]
    );

    // A token the caller gave is kept; the untyped call knows RunInstances has one.
    let fake = Fake::start(|_, _| Reply::json(json!({"Response": {"RequestId": "r"}}))).await;
    let client = fake.client(1);
    client
        .call(
            "cvm",
            "2017-03-12",
            "RunInstances",
            json!({"ClientToken": "mine"}),
        )
        .await
        .unwrap();
    client
        .call("cvm", "2017-03-12", "RunInstances", json!({}))
        .await
        .unwrap();
    client
        .call("cvm", "2017-03-12", "StartInstances", json!({}))
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(seen[0].json()["ClientToken"], "mine");
    assert_eq!(seen[1].json()["ClientToken"].as_str().unwrap().len(), 36);
    assert!(
        seen[2].json().get("ClientToken").is_none(),
        "StartInstances has no ClientToken"
    );
}

/// Without retries no ClientToken is invented (the request goes out as written).
#[tokio::test]
async fn no_client_token_without_retries() {
    let fake = Fake::start(|_, _| Reply::json(json!({"Response": {"RequestId": "r"}}))).await;
    fake.client(0)
        .call("cvm", "2017-03-12", "RunInstances", json!({}))
        .await
        .unwrap();
    assert_eq!(fake.seen()[0].json(), json!({}));
}

/// A dropped connection is retried for a read-only action and for one with a ClientToken,
/// but not for an action that may have acted and has no token.
#[tokio::test]
async fn network_failures_are_retried_only_when_safe() {
    let script = |n: usize, _: &_| match n {
        0 => Reply::Hangup,
        _ => Reply::json(json!({"Response": {"RequestId": "r"}})),
    };
    for (action, attempts) in [
        ("DescribeZones", 2),
        ("RunInstances", 2),
        ("TerminateInstances", 1),
    ] {
        let fake = Fake::start(script).await;
        let result = fake
            .client(3)
            .call("cvm", "2017-03-12", action, json!({}))
            .await;
        assert_eq!(fake.count(), attempts, "{action}");
        if attempts == 1 {
            let Err(Error::Transport(t)) = result else {
                panic!("{action}: expected a transport error")
            };
            assert_eq!(t.kind(), TransportKind::Other);
        } else {
            result.unwrap();
        }
    }
    // Unless the caller accepts the risk.
    let fake = Fake::start(script).await;
    let client = Client::builder()
        .endpoint(fake.endpoint())
        .credentials(dev_credential())
        .retry(quick_retries(3).retry_unsafe_network(true))
        .jitter(fixed_jitter())
        .build()
        .unwrap();
    client
        .call("cvm", "2017-03-12", "TerminateInstances", json!({}))
        .await
        .unwrap();
    assert_eq!(fake.count(), 2);
}

/// A refused connection never reached the service, so it is retried for any action; when
/// nothing ever listens, the budget runs out and the transport error comes back.
#[tokio::test]
async fn connection_refused_is_retried() {
    let addr = closed_port().await;
    let client = Client::builder()
        .endpoint(format!("http://{addr}"))
        .credentials(dev_credential())
        .retry(quick_retries(2))
        .jitter(fixed_jitter())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client
        .call("cvm", "2017-03-12", "TerminateInstances", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.kind() == TransportKind::Connect),
        "{err:?}"
    );
    // Two backoffs of about 1 ms and 2 ms happened; nothing slow.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

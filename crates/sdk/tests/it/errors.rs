//! Each error class, raised for its real reason.

use std::time::Duration;

use serde_json::json;
use tclocal_sdk::cvm::{
    DescribeInstancesStatusRequest, DescribeZonesRequest, TerminateInstancesRequest,
};
use tclocal_sdk::{
    Client, Code, CommonCode, Credential, CredentialsError, DecodeKind, Error, Language,
    TccliProfile, TransportKind,
};

use crate::common::{Fake, Reply, Tclocal, closed_port, dev_credential};

/// An API error carries the typed code, the message in the request's language and the
/// RequestId; `Display` is `Code: Message (RequestId)`.
#[tokio::test]
async fn api_error_has_code_message_and_request_id() {
    let tc = Tclocal::start().await;
    let client = tc.builder().language(Language::EnUs).build().unwrap();
    let err = client
        .cvm()
        .describe_instances_status(&DescribeInstancesStatusRequest {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("expected an API error, got {err:?}")
    };
    assert_eq!(api.code, Code::Common(CommonCode::InvalidParameterValue));
    assert!(!api.message.is_empty());
    assert!(api.message.is_ascii(), "en-US message: {}", api.message);
    assert_eq!(api.request_id.len(), 36);
    assert_eq!(err.request_id(), Some(api.request_id.as_str()));
    assert_eq!(
        err.to_string(),
        format!(
            "InvalidParameterValue: {} ({})",
            api.message, api.request_id
        )
    );
}

/// A product's own code is kept verbatim as `Code::Other`.
#[tokio::test]
async fn product_codes_are_other() {
    let tc = Tclocal::start().await;
    let err = tc
        .client()
        .cvm()
        .terminate_instances(&TerminateInstancesRequest {
            instance_ids: Some(vec!["ins-00000000".to_owned()]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let api = err.as_api().expect("API error");
    assert_eq!(
        api.code,
        Code::Other("InvalidInstanceId.NotFound".to_owned())
    );
    assert_eq!(api.code.family(), "InvalidInstanceId");
}

/// A wrong key is the service's answer, not a client failure.
#[tokio::test]
async fn authentication_failures_are_api_errors() {
    let tc = Tclocal::start().await;
    let client = tc
        .builder()
        .credentials(Credential::new(
            "AKIDtclocalUnknownKey000000000000000",
            "nope",
        ))
        .build()
        .unwrap();
    let err = client
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(
        err.as_api()
            .unwrap()
            .code
            .is(CommonCode::AuthFailureSecretIdNotFound),
        "{err}"
    );
    let client = tc
        .builder()
        .credentials(Credential::new(
            tclocal_services::identity::DEV_SECRET_ID,
            "wrongSecretKey",
        ))
        .build()
        .unwrap();
    let err = client
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(
        err.as_api()
            .unwrap()
            .code
            .is(CommonCode::AuthFailureSignatureFailure),
        "{err}"
    );
}

/// Nothing listening: a transport error of kind Connect, naming the cause.
#[tokio::test]
async fn transport_error_when_nothing_listens() {
    let addr = closed_port().await;
    let client = Client::builder()
        .endpoint(format!("http://{addr}"))
        .credentials(dev_credential())
        .build()
        .unwrap();
    let err = client
        .cvm()
        .describe_zones(&DescribeZonesRequest::default())
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("expected a transport error, got {err:?}")
    };
    assert_eq!(t.kind(), TransportKind::Connect);
    let text = err.to_string();
    assert!(text.contains(&addr.to_string()), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert_eq!(err.request_id(), None);
}

/// No answer within the timeout: a transport error of kind Timeout.
#[tokio::test]
async fn transport_error_on_timeout() {
    let fake = Fake::start(|_, _| Reply::Stall).await;
    let client = Client::builder()
        .endpoint(fake.endpoint())
        .credentials(dev_credential())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .call("cvm", "2017-03-12", "RunInstances", json!({}))
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("expected a transport error, got {err:?}")
    };
    assert_eq!(t.kind(), TransportKind::Timeout);
}

/// Answers that are not API 3.0 answers are decoding errors, each of its kind.
#[tokio::test]
async fn decode_errors() {
    let fake = Fake::start(|n, _| match n {
        0 => Reply::Http(200, "text/html", b"<html>not json</html>".to_vec()),
        1 => Reply::json(json!({"Response": {"TotalCount": 1}})),
        2 => Reply::Http(502, "text/html", b"<html>bad gateway</html>".to_vec()),
        3 => Reply::json(
            json!({"Response": {"TotalCount": "many", "ZoneSet": [], "RequestId": "r-3"}}),
        ),
        _ => Reply::Hangup,
    })
    .await;
    let client = fake.client(0);
    let kind_of = |err: Error| match err {
        Error::Decode(d) => (d.kind(), d.request_id().map(str::to_owned), d.to_string()),
        other => panic!("expected a decode error, got {other:?}"),
    };
    let (kind, _, text) = kind_of(
        client
            .call("cvm", "2017-03-12", "DescribeZones", json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(kind, DecodeKind::NotJson);
    assert!(text.contains("not json"), "{text}");
    let (kind, ..) = kind_of(
        client
            .call("cvm", "2017-03-12", "DescribeZones", json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(kind, DecodeKind::NotEnvelope);
    let (kind, ..) = kind_of(
        client
            .call("cvm", "2017-03-12", "DescribeZones", json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(kind, DecodeKind::HttpStatus(502));
    let (kind, request_id, _) = kind_of(
        client
            .cvm()
            .describe_zones(&DescribeZonesRequest::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(kind, DecodeKind::Shape);
    assert_eq!(request_id.as_deref(), Some("r-3"));
}

/// An error envelope under a non-200 status is still the API error (the Go SDK's rule).
#[tokio::test]
async fn error_envelope_wins_over_status() {
    let fake = Fake::start(|_, _| {
        Reply::Http(
            500,
            "application/json",
            br#"{"Response": {"Error": {"Code": "InternalError", "Message": "m"}, "RequestId": "r"}}"#.to_vec(),
        )
    })
    .await;
    let err = fake
        .client(0)
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(err.as_api().unwrap().code.is(CommonCode::InternalError));
}

/// No keys: a credentials error before anything is sent.
#[tokio::test]
async fn credentials_error_sends_nothing() {
    let fake = Fake::start(|_, _| Reply::json(json!({}))).await;
    let dir = tempfile::tempdir().unwrap();
    let profile = TccliProfile::load(dir.path(), "default").unwrap();
    let client = Client::builder()
        .endpoint(fake.endpoint())
        .credentials(profile)
        .build()
        .unwrap();
    let err = client
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Credentials(CredentialsError::NotFound(_))),
        "{err:?}"
    );
    assert_eq!(fake.count(), 0);
}

/// Calls that cannot be sent as asked are refused locally.
#[tokio::test]
async fn invalid_requests_are_refused_locally() {
    let err = Client::builder().endpoint("ftp://x").build().unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let err = Client::builder()
        .endpoint("http://h:1/some/path")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let fake = Fake::start(|_, _| Reply::json(json!({}))).await;
    let err = fake
        .client(0)
        .call("cvm", "2017-03-12", "DescribeZones", json!([1, 2]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert_eq!(fake.count(), 0);
}

//! Routing to a product, versions, actions and regions.

use crate::common::{Call, Server};

fn code(resp: &crate::common::RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// A product is found from the Host label even when the scope names none (Node/Java SDKs).
#[tokio::test]
async fn host_label_routes_the_request() {
    let server = Server::start().await;
    let host = format!("cvm.localhost:{}", server.addr.port());
    let call = Call::tc3("DescribeZones", "{}").with(|c| {
        c.host = Some(host);
        c.scope_service = "localhost".into();
    });
    assert_eq!(code(&server.call(&call).await), "ok");
}

/// With neither host nor scope naming a product, the (Action, Version) pair decides.
#[tokio::test]
async fn unique_action_routes_the_request() {
    let server = Server::start().await;
    let call = Call::tc3("DescribeRegions", "{}").with(|c| c.scope_service = "127".into());
    assert_eq!(code(&server.call(&call).await), "ok");
}

/// A version the product does not have is NoSuchVersion; an unknown action is InvalidAction.
#[tokio::test]
async fn unknown_versions_and_actions_have_their_own_codes() {
    let server = Server::start().await;
    let v = Call::tc3("DescribeZones", "{}").with(|c| c.version = Some("2099-01-01".into()));
    let resp = server.call(&v).await;
    assert_eq!(code(&resp), "NoSuchVersion");
    assert!(resp.message().contains("2099-01-01"));
    let a = Call::tc3("NoSuchAction", "{}");
    assert_eq!(code(&server.call(&a).await), "InvalidAction");
    let unroutable = Call::tc3("NoSuchAction", "{}").with(|c| c.scope_service = "127".into());
    assert_eq!(code(&server.call(&unroutable).await), "InvalidAction");
}

/// Missing Action or Version is MissingParameter, before anything else is checked.
#[tokio::test]
async fn missing_action_or_version_is_missing_parameter() {
    let server = Server::start().await;
    let no_action = Call::tc3("x", "{}").with(|c| c.action = None);
    // Without X-TC-Action the request reads as v1 only if it has no Authorization; it has one.
    let resp = server.call(&no_action).await;
    assert_eq!(code(&resp), "MissingParameter");
    assert!(resp.message().contains("`Action`"));
    let no_version = Call::tc3("DescribeZones", "{}").with(|c| c.version = None);
    let resp = server.call(&no_version).await;
    assert_eq!(code(&resp), "MissingParameter");
    assert!(resp.message().contains("`Version`"));
}

/// A region is required by CVM; an unknown one is InvalidParameterValue; a known one CVM does
/// not serve is UnsupportedRegion.
#[tokio::test]
async fn regions_are_checked_against_the_product() {
    let server = Server::start().await;
    let cases = [
        (None, "MissingParameter"),
        (Some("gz"), "InvalidParameterValue"),
        (Some("na-toronto"), "UnsupportedRegion"),
        (Some("ap-singapore"), "ok"),
    ];
    for (region, expected) in cases {
        let call = Call::tc3("DescribeZones", "{}").with(|c| {
            c.region = region.map(Into::into);
            c.language = Some("en-US".into());
        });
        let resp = server.call(&call).await;
        assert_eq!(code(&resp), expected, "{region:?}");
        if expected == "InvalidParameterValue" {
            assert_eq!(
                resp.message(),
                "A value specified in `Region` is not valid, is unsupported, or cannot be used."
            );
        }
        if expected == "UnsupportedRegion" {
            assert_eq!(resp.message(), "The action not support this region.");
        }
    }
}

/// An action in the model but not emulated validates its parameters, then says so.
#[tokio::test]
async fn actions_not_emulated_are_validated_then_unsupported() {
    let server = Server::start().await;
    let missing = Call::tc3("ResizeInstanceDisks", "{}");
    assert_eq!(code(&server.call(&missing).await), "MissingParameter");
    let valid = Call::tc3("ResizeInstanceDisks", r#"{"InstanceId": "ins-r8hr2upy"}"#)
        .with(|c| c.language = Some("en-US".into()));
    let resp = server.call(&valid).await;
    assert_eq!(code(&resp), "UnsupportedOperation");
    assert!(
        resp.message().contains("ResizeInstanceDisks"),
        "{}",
        resp.message()
    );
}

//! Parameters: validation against the model, flattened forms and CVM's own value rules.

use crate::common::{Call, Server, V1Call};

fn code(resp: &crate::common::RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// Unknown members, wrong types and missing required members each have their code.
#[tokio::test]
async fn members_are_checked_against_the_model() {
    let server = Server::start().await;
    let cases = [
        (r#"{"Foo": 1}"#, "UnknownParameter"),
        (r#"{"Limit": "abc"}"#, "InvalidParameter"),
        (r#"{"InstanceIds": "ins-r8hr2upy"}"#, "InvalidParameter"),
        (r#"{"Limit": 1.5}"#, "InvalidParameter"),
        (r#"{"Limit": null}"#, "ok"),
    ];
    for (body, expected) in cases {
        let resp = server
            .call(&Call::tc3("DescribeInstancesStatus", body))
            .await;
        assert_eq!(code(&resp), expected, "{body}");
    }
    let en = Call::tc3("DescribeInstancesStatus", r#"{"EngSerViceType": 1}"#)
        .with(|c| c.language = Some("en-US".into()));
    assert_eq!(
        server.call(&en).await.message(),
        "The parameter `EngSerViceType` is not recognized."
    );
}

/// CVM's own rules for DescribeInstancesStatus: Limit 1..100, Offset ≥ 0, ≤ 100 ids, id shape.
#[tokio::test]
async fn describe_instances_status_value_rules() {
    let server = Server::start().await;
    let ids: Vec<String> = (0..101).map(|i| format!("\"ins-{i:08}\"")).collect();
    let too_many = format!(r#"{{"InstanceIds": [{}]}}"#, ids.join(","));
    let cases = [
        (r#"{"Limit": 101}"#.to_owned(), "InvalidParameterValue"),
        (r#"{"Limit": 100}"#.to_owned(), "ok"),
        (r#"{"Offset": -1}"#.to_owned(), "InvalidParameterValue"),
        (too_many, "InvalidParameterValue.LimitExceeded"),
        (
            r#"{"InstanceIds": ["bad-id"]}"#.to_owned(),
            "InvalidInstanceId.Malformed",
        ),
    ];
    for (body, expected) in cases {
        let resp = server
            .call(&Call::tc3("DescribeInstancesStatus", &body))
            .await;
        assert_eq!(code(&resp), expected, "{body}");
    }
}

/// GET and v1 parameters are flattened strings: rebuilt and coerced, `True` included.
#[tokio::test]
async fn flattened_parameters_are_rebuilt_and_coerced() {
    let server = Server::start().await;
    let get = Call::tc3_get(
        "DescribeInstancesStatus",
        "InstanceIds.0=ins-r8hr2upy&InstanceIds.1=ins-abcdefgh&Offset=0&Limit=100",
    );
    assert_eq!(code(&server.call(&get).await), "ok");
    let bad = Call::tc3_get("DescribeInstancesStatus", "Limit=abc");
    assert_eq!(code(&server.call(&bad).await), "InvalidParameter");
    let unknown = Call::tc3_get("DescribeInstancesStatus", "Filters.0.Name=zone");
    assert_eq!(code(&server.call(&unknown).await), "UnknownParameter");
    // A boolean member written the Python way (RunInstances.DryRun=True) types correctly: the
    // dry run passes every check and says so.
    let v1 = V1Call::new(
        "GET",
        "RunInstances",
        &[
            ("DryRun", "True"),
            ("InstanceCount", "1"),
            ("Placement.Zone", "ap-guangzhou-3"),
            ("ImageId", "img-zsxdft8i"),
        ],
    );
    assert_eq!(
        code(&server.raw(&v1.to_bytes(&server.host())).await),
        "DryRunOperation"
    );
    let v1_bad = V1Call::new("GET", "RunInstances", &[("DryRun", "maybe")]);
    assert_eq!(
        code(&server.raw(&v1_bad.to_bytes(&server.host())).await),
        "InvalidParameter"
    );
}

/// A body that is not a JSON object is InvalidParameter (after the signature is checked).
#[tokio::test]
async fn malformed_bodies_are_invalid_parameter() {
    let server = Server::start().await;
    for body in ["{", "[]", "\"x\"", "{\"Limit\": 1", "nul"] {
        let resp = server
            .call(&Call::tc3("DescribeInstancesStatus", body))
            .await;
        assert_eq!(code(&resp), "InvalidParameter", "{body}");
    }
    let non_utf8 =
        Call::tc3("DescribeInstancesStatus", "").with(|c| c.body = vec![b'{', 0xff, 0xfe, b'}']);
    assert_eq!(code(&server.call(&non_utf8).await), "InvalidParameter");
    let text =
        Call::tc3("DescribeInstancesStatus", "hi").with(|c| c.content_type = "text/plain".into());
    assert_eq!(code(&server.call(&text).await), "InvalidParameter");
    // An empty body is an empty parameter object.
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeInstancesStatus", "")).await),
        "ok"
    );
}

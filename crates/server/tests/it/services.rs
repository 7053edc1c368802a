//! Every published product through the gateway: routing by host label, credential scope or
//! (Action, Version); versions, offline and unknown actions; parameter validation driven by
//! the model for a sample of actions across all products; the not-emulated answer and
//! `--stub-responses`.

use serde_json::{Map, Value, json};
use tclocal_server::Config;
use tclocal_wire::spec::{Kind, Member, ServiceSpec};

use crate::common::{Call, RawResponse, Server};

fn code(resp: &RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// A TC3 call addressed to `service` by its host label (`vpc.localhost:PORT`), signed with
/// that service in the credential scope.
fn call_to(server: &Server, service: &str, version: &str, action: &str, body: &Value) -> Call {
    let host = format!("{service}.localhost:{}", server.addr.port());
    Call::tc3(action, &body.to_string()).with(|c| {
        c.host = Some(host);
        c.scope_service = service.to_owned();
        c.version = Some(version.to_owned());
        c.language = Some("en-US".into());
    })
}

/// The smallest valid request for a structure: its required members, lists of one element.
fn minimal(spec: &ServiceSpec, object: &str, depth: usize) -> Map<String, Value> {
    let mut out = Map::new();
    for m in spec.object(object).unwrap_or_default() {
        if m.required {
            out.insert(
                m.name.clone(),
                minimal_value(spec, m.kind, &m.member, depth),
            );
        }
    }
    out
}

fn minimal_value(spec: &ServiceSpec, kind: Kind, member: &str, depth: usize) -> Value {
    assert!(depth < 32, "required members nest too deep at {member}");
    match kind {
        Kind::String | Kind::Binary => json!("tclocal"),
        Kind::Int => json!(1),
        Kind::Float => json!(1.5),
        Kind::Bool => json!(true),
        Kind::Object => Value::Object(minimal(spec, member, depth + 1)),
        Kind::List => {
            let elem = match member {
                "string" | "datetime" | "datetime_iso" | "date" => Kind::String,
                "binary" => Kind::Binary,
                "int64" | "uint64" => Kind::Int,
                "float" | "double" => Kind::Float,
                "bool" => Kind::Bool,
                _ => Kind::Object,
            };
            json!([minimal_value(spec, elem, member, depth + 1)])
        }
    }
}

fn wrong_value(m: &Member) -> Value {
    match m.kind {
        Kind::String | Kind::Binary => json!(7),
        _ => json!("tclocal"),
    }
}

/// One online action of every product version tclocal does not emulate, picked by a fixed
/// stride through its sorted action list: about 300 actions across 260 products.
fn sample() -> Vec<(&'static str, &'static str, &'static str)> {
    let r = tclocal_specs::registry();
    let mut out = Vec::new();
    for (n, (service, versions)) in r.all().into_iter().enumerate() {
        if matches!(service, "cvm" | "cam" | "sts") {
            continue;
        }
        for version in versions {
            let actions: Vec<_> = r
                .actions(service, version)
                .unwrap()
                .into_iter()
                .filter(|(_, s)| *s != tclocal_wire::spec::ActionStatus::Offline)
                .collect();
            if let Some((action, _)) = actions.get((n * 7) % actions.len().max(1)) {
                out.push((service, version, *action));
            }
        }
    }
    out
}

/// For a sample of actions across every product: a valid request passes validation and is
/// answered `UnsupportedOperation` (not emulated); without a required member it is
/// MissingParameter; with an unknown member UnknownParameter; with a member of the wrong
/// type InvalidParameter.
#[tokio::test]
async fn every_product_validates_against_its_model() {
    let server = Server::start().await;
    let r = tclocal_specs::registry();
    let sample = sample();
    assert!(sample.len() > 250, "{}", sample.len());
    let mut checked = [0usize; 4];
    for (service, version, action) in sample {
        let spec = r.spec(service, version).unwrap();
        let input = &spec.actions[action].input;
        let members = spec.object(input).unwrap();
        let valid = minimal(spec, input, 0);
        let what = format!("{service}/{version} {action}");

        let resp = server
            .call(&call_to(
                &server,
                service,
                version,
                action,
                &Value::Object(valid.clone()),
            ))
            .await;
        assert_eq!(
            code(&resp),
            "UnsupportedOperation",
            "{what}: {}",
            resp.message()
        );
        assert!(
            resp.message().contains(action),
            "{what}: {}",
            resp.message()
        );
        checked[0] += 1;

        let mut unknown = valid.clone();
        unknown.insert("TclocalNoSuchMember".into(), json!("x"));
        let resp = server
            .call(&call_to(
                &server,
                service,
                version,
                action,
                &Value::Object(unknown),
            ))
            .await;
        assert_eq!(code(&resp), "UnknownParameter", "{what}");
        checked[1] += 1;

        if let Some(m) = members.iter().find(|m| m.required) {
            let mut missing = valid.clone();
            missing.remove(&m.name);
            let resp = server
                .call(&call_to(
                    &server,
                    service,
                    version,
                    action,
                    &Value::Object(missing),
                ))
                .await;
            assert_eq!(code(&resp), "MissingParameter", "{what} {}", m.name);
            assert!(
                resp.message().contains(&m.name),
                "{what}: {}",
                resp.message()
            );
            checked[2] += 1;
        }

        if let Some(m) = members.last() {
            let mut wrong = valid.clone();
            wrong.insert(m.name.clone(), wrong_value(m));
            let resp = server
                .call(&call_to(
                    &server,
                    service,
                    version,
                    action,
                    &Value::Object(wrong),
                ))
                .await;
            assert_eq!(code(&resp), "InvalidParameter", "{what} {}", m.name);
            checked[3] += 1;
        }
    }
    assert!(checked[2] > 50 && checked[3] > 200, "{checked:?}");
}

/// With `--stub-responses`, the same sample is answered with a stub that follows the
/// output model: every `output_required` member present, `RequestId` last.
#[tokio::test]
async fn stub_responses_follow_the_output_model() {
    let config = Config {
        stub_responses: true,
        ..Config::for_tests()
    };
    let server = Server::start_with(config, Vec::new()).await;
    let r = tclocal_specs::registry();
    for (service, version, action) in sample() {
        let spec = r.spec(service, version).unwrap();
        let a = &spec.actions[action];
        let valid = minimal(spec, &a.input, 0);
        let resp = server
            .call(&call_to(
                &server,
                service,
                version,
                action,
                &Value::Object(valid),
            ))
            .await;
        let what = format!("{service}/{version} {action}");
        assert_eq!(code(&resp), "ok", "{what}: {}", resp.message());
        let body: Value = serde_json::from_slice(&resp.body).unwrap();
        let fields = body["Response"].as_object().unwrap();
        assert_eq!(fields.keys().next_back().unwrap(), "RequestId", "{what}");
        for m in spec.object(&a.output).unwrap() {
            if m.output_required && !m.disabled {
                assert!(fields.contains_key(&m.name), "{what}: {} missing", m.name);
            }
        }
        // Validation still comes first.
        let resp = server
            .call(&call_to(
                &server,
                service,
                version,
                action,
                &json!({"TclocalNoSuchMember": 1}),
            ))
            .await;
        assert_eq!(code(&resp), "UnknownParameter", "{what}");
    }

    // Emulated actions are untouched by the flag.
    let resp = server
        .call(&Call::tc3("DescribeInstancesStatus", "{}"))
        .await;
    assert_eq!(code(&resp), "ok");
    assert_eq!(resp.fields()["TotalCount"], 0);
    // A product that is emulated: its other actions are stubbed too.
    let resp = server
        .call(&Call::tc3(
            "ResizeInstanceDisks",
            r#"{"InstanceId": "ins-r8hr2upy"}"#,
        ))
        .await;
    assert_eq!(code(&resp), "ok", "{}", resp.message());

    let vpcs = server
        .call(&call_to(
            &server,
            "vpc",
            "2017-03-12",
            "DescribeVpcs",
            &json!({}),
        ))
        .await;
    let body: Value = serde_json::from_slice(&vpcs.body).unwrap();
    let keys: Vec<&String> = body["Response"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["TotalCount", "VpcSet", "RequestId"]);
    assert_eq!(body["Response"]["TotalCount"], 0);
    assert_eq!(body["Response"]["VpcSet"], json!([]));
}

/// Host label, credential scope and (Action, Version) each reach a product tclocal does not
/// emulate; versions, offline and unknown actions get their codes.
#[tokio::test]
async fn any_product_is_routed_and_checked() {
    let server = Server::start().await;
    let not_emulated = |resp: &RawResponse| {
        assert_eq!(code(resp), "UnsupportedOperation", "{}", resp.message());
        assert_eq!(
            resp.message(),
            "The action `DescribeVpcs` of `vpc` (version `2017-03-12`) is valid but tclocal does not emulate it yet."
        );
    };
    // Host label.
    not_emulated(
        &server
            .call(&call_to(
                &server,
                "vpc",
                "2017-03-12",
                "DescribeVpcs",
                &json!({}),
            ))
            .await,
    );
    // Credential scope (the Python and Go SDKs sign with the product name), IP host.
    let scoped = Call::tc3("DescribeVpcs", "{}").with(|c| {
        c.scope_service = "vpc".into();
        c.language = Some("en-US".into());
    });
    not_emulated(&server.call(&scoped).await);
    // (Action, Version) alone: the Node SDK signs `127` for an IP endpoint.
    let unscoped = scoped.clone().with(|c| c.scope_service = "127".into());
    not_emulated(&server.call(&unscoped).await);

    let bad_version = call_to(&server, "vpc", "2099-01-01", "DescribeVpcs", &json!({}));
    let resp = server.call(&bad_version).await;
    assert_eq!(code(&resp), "NoSuchVersion");
    assert!(resp.message().contains("2099-01-01"), "{}", resp.message());

    let unknown = call_to(&server, "vpc", "2017-03-12", "DescribeNothing", &json!({}));
    assert_eq!(code(&server.call(&unknown).await), "InvalidAction");

    // chdfs 2019-07-18 is offline in the model; the offline check comes before parameters.
    let offline = call_to(
        &server,
        "chdfs",
        "2019-07-18",
        "CreateFileSystem",
        &json!({}),
    );
    assert_eq!(code(&server.call(&offline).await), "ActionOffline");

    // A product with several versions: each is its own model.
    let r = tclocal_specs::registry();
    let (service, versions) = r
        .all()
        .into_iter()
        .find(|(s, v)| v.len() > 1 && !matches!(*s, "cvm" | "cam" | "sts"))
        .unwrap();
    for version in versions {
        let (action, _) = r.actions(service, version).unwrap()[0];
        let spec = r.spec(service, version).unwrap();
        let valid = minimal(spec, &spec.actions[action].input, 0);
        let resp = server
            .call(&call_to(
                &server,
                service,
                version,
                action,
                &Value::Object(valid),
            ))
            .await;
        let expected = match r.action_status(service, version, action) {
            Some(tclocal_wire::spec::ActionStatus::Offline) => "ActionOffline",
            _ => "UnsupportedOperation",
        };
        assert_eq!(code(&resp), expected, "{service}/{version} {action}");
    }
}

/// Action names shared by several products: with no product named by host or scope, the one
/// emulated product wins (DescribeZones is in cvm and postgres 2017-03-12); when none or
/// several are emulated, the request must name its product.
#[tokio::test]
async fn shared_action_names_route_to_the_emulated_product_or_ask_for_one() {
    let server = Server::start().await;
    for action in [
        "DescribeZones",
        "DescribeRegions",
        "DescribeInstancesStatus",
    ] {
        let call = Call::tc3(action, "{}").with(|c| c.scope_service = "127".into());
        assert_eq!(code(&server.call(&call).await), "ok", "{action}");
    }
    // mariadb and postgres both have DescribeDBInstances in 2017-03-12.
    let ambiguous = Call::tc3("DescribeDBInstances", "{}").with(|c| {
        c.scope_service = "127".into();
        c.language = Some("en-US".into());
    });
    let resp = server.call(&ambiguous).await;
    assert_eq!(code(&resp), "NoSuchProduct");
    assert!(
        resp.message().contains("DescribeDBInstances"),
        "{}",
        resp.message()
    );
    // Naming the product settles it.
    let named = ambiguous
        .clone()
        .with(|c| c.scope_service = "postgres".into());
    assert_eq!(code(&server.call(&named).await), "UnsupportedOperation");
    let by_host = call_to(
        &server,
        "postgres",
        "2017-03-12",
        "DescribeZones",
        &json!({}),
    );
    assert_eq!(code(&server.call(&by_host).await), "UnsupportedOperation");
}

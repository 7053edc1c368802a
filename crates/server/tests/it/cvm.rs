//! CVM over the wire: lifecycle in emulated time moved by the control plane, and state that
//! survives a restart on the embedded store.

use crate::common::{Call, Server};
use tclocal_server::{Config, StoreConfig};

fn code(resp: &crate::common::RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

const RUN: &str = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i", "InstanceType": "S5.MEDIUM2"}"#;

async fn state(server: &Server, id: &str) -> String {
    let body = format!(r#"{{"InstanceIds": ["{id}"]}}"#);
    let resp = server
        .call(&Call::tc3("DescribeInstancesStatus", &body))
        .await;
    resp.fields()["InstanceStatusSet"][0]["InstanceState"]
        .as_str()
        .unwrap_or("GONE")
        .to_owned()
}

async fn advance(server: &Server, seconds: &str) -> u16 {
    let req = format!(
        "POST /_tclocal/clock/advance?seconds={seconds} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    server.raw(req.as_bytes()).await.status
}

/// `POST /_tclocal/clock/advance` moves emulated time, and instances follow it; signatures
/// keep being checked against wall time.
#[tokio::test]
async fn clock_advance_moves_instances_through_their_lifecycle() {
    let server = Server::start().await;
    let resp = server.call(&Call::tc3("RunInstances", RUN)).await;
    assert_eq!(code(&resp), "ok");
    let id = resp.fields()["InstanceIdSet"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(state(&server, &id).await, "PENDING");
    assert_eq!(advance(&server, "9").await, 200);
    assert_eq!(state(&server, &id).await, "PENDING");
    assert_eq!(advance(&server, "1").await, 200);
    assert_eq!(state(&server, &id).await, "RUNNING");
    assert_eq!(
        advance(&server, "-5").await,
        400,
        "emulated time only moves forward"
    );
    assert_eq!(advance(&server, "soon").await, 400);
}

/// Instances written to the SQLite store are there after a restart.
#[tokio::test]
async fn instances_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        store: StoreConfig::Sqlite(dir.path().to_path_buf()),
        ..Config::for_tests()
    };
    let id = {
        let server = Server::start_with(config.clone(), Vec::new()).await;
        let resp = server.call(&Call::tc3("RunInstances", RUN)).await;
        resp.fields()["InstanceIdSet"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let server = Server::start_with(config, Vec::new()).await;
    assert_eq!(state(&server, &id).await, "PENDING");
    let all = server.call(&Call::tc3("DescribeInstances", "{}")).await;
    assert_eq!(all.fields()["TotalCount"], 1);
}

/// DryRun over the wire is the common DryRunOperation code.
#[tokio::test]
async fn dry_run_is_dry_run_operation() {
    let server = Server::start().await;
    let body =
        r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i", "DryRun": true}"#;
    let resp = server.call(&Call::tc3("RunInstances", body)).await;
    assert_eq!(code(&resp), "DryRunOperation");
    let all = server.call(&Call::tc3("DescribeInstances", "{}")).await;
    assert_eq!(all.fields()["TotalCount"], 0);
}

/// A Windows image takes no key pairs: RunInstances with LoginSettings.KeyIds is
/// UnsupportedOperation.KeyPairUnsupportedWindows (RunInstances' code) naming the image, and
/// creates nothing; binding a key pair to a Windows instance is
/// UnsupportedOperation.InstanceOsWindows (AssociateInstancesKeyPairs' code) naming the
/// instance.
#[tokio::test]
async fn windows_refuses_key_pairs_with_each_actions_code() {
    let server = Server::start().await;
    let created = server
        .call(&Call::tc3(
            "CreateKeyPair",
            r#"{"KeyName": "deploy", "ProjectId": 0}"#,
        ))
        .await;
    let key = created.fields()["KeyPair"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let launch = format!(
        r#"{{"Placement": {{"Zone": "ap-guangzhou-3"}}, "ImageId": "img-hxrksczu", "InstanceType": "S5.MEDIUM2", "LoginSettings": {{"KeyIds": ["{key}"]}}}}"#
    );
    let resp = server.call(&Call::tc3("RunInstances", &launch)).await;
    assert_eq!(
        code(&resp),
        "UnsupportedOperation.KeyPairUnsupportedWindows"
    );
    assert!(
        resp.message().contains("img-hxrksczu"),
        "{}",
        resp.message()
    );
    let all = server.call(&Call::tc3("DescribeInstances", "{}")).await;
    assert_eq!(all.fields()["TotalCount"], 0);

    let windows = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-hxrksczu", "InstanceType": "S5.MEDIUM2"}"#;
    let resp = server.call(&Call::tc3("RunInstances", windows)).await;
    let id = resp.fields()["InstanceIdSet"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(advance(&server, "10").await, 200);
    let bind = format!(r#"{{"InstanceIds": ["{id}"], "KeyIds": ["{key}"], "ForceStop": true}}"#);
    let resp = server
        .call(&Call::tc3("AssociateInstancesKeyPairs", &bind))
        .await;
    assert_eq!(code(&resp), "UnsupportedOperation.InstanceOsWindows");
    assert!(resp.message().contains(&id), "{}", resp.message());
}

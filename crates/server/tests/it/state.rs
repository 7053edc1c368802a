//! Snapshots, resets and seeds over the control plane (`/_tclocal/state`, `/_tclocal/reset`,
//! `--seed`), and the upgrade path from every stored snapshot version.

use serde_json::{Value, json};

use crate::common::{Call, RawResponse, Server};
use tclocal_server::{Config, StoreConfig};
use tclocal_services::identity::{DEV_SECRET_ID, DEV_SECRET_KEY};

/// A snapshot written by format version 1: account 1250000000 with sub-user `fixture` and
/// its key, one instance `ins-fixture1` in ap-guangzhou-3 and key pair `skey-fixture1`.
const STATE_V1: &str = include_str!("../fixtures/state-v1.json");
const FIXTURE_KEY: (&str, &str) = (
    "AKIDfixtureUserKey0000000000000000000",
    "fixtureUserSecretKey000000000000",
);

const RUN: &str = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i", "InstanceType": "S5.MEDIUM2"}"#;

fn code(resp: &RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

fn cam(action: &str, body: &Value) -> Call {
    Call::tc3(action, &body.to_string()).with(|c| {
        c.version = Some("2019-01-16".into());
        c.scope_service = "cam".into();
        c.region = None;
    })
}

async fn run_instance(server: &Server) -> String {
    let resp = server.call(&Call::tc3("RunInstances", RUN)).await;
    assert_eq!(code(&resp), "ok", "{}", resp.message());
    resp.fields()["InstanceIdSet"][0]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn instance_ids(server: &Server, key: (&str, &str)) -> Vec<String> {
    let resp = server
        .call(&Call::tc3("DescribeInstances", "{}").with(|c| {
            c.secret_id = key.0.into();
            c.secret_key = key.1.into();
        }))
        .await;
    assert_eq!(code(&resp), "ok", "{}", resp.message());
    let mut ids: Vec<String> = resp.fields()["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Creates sub-user `name` and answers its (SecretId, SecretKey).
async fn add_user(server: &Server, name: &str) -> (String, String) {
    let resp = server
        .call(&cam(
            "AddUser",
            &json!({"Name": name, "UseApi": 1, "ConsoleLogin": 0}),
        ))
        .await;
    assert_eq!(code(&resp), "ok", "{}", resp.message());
    let f = resp.fields();
    (
        f["SecretId"].as_str().unwrap().to_owned(),
        f["SecretKey"].as_str().unwrap().to_owned(),
    )
}

async fn user_exists(server: &Server, name: &str) -> bool {
    let resp = server.call(&cam("GetUser", &json!({"Name": name}))).await;
    match code(&resp).as_str() {
        "ok" => true,
        "ResourceNotFound.UserNotExist" => false,
        other => panic!("GetUser answered {other}"),
    }
}

async fn put_state(server: &Server, query: &str, body: &str) -> (u16, Value) {
    server
        .control("PUT", &format!("/_tclocal/state{query}"), body)
        .await
}

/// Resetting one service empties it and leaves the others; a full reset also forgets the
/// journal, and the root key of a first start works again.
#[tokio::test]
async fn reset_empties_one_service_or_everything() {
    let server = Server::start().await;
    run_instance(&server).await;
    add_user(&server, "alice").await;

    let (status, body) = server
        .control("POST", "/_tclocal/reset?service=cvm", "")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], "cvm");
    assert!(
        instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY))
            .await
            .is_empty()
    );
    assert!(user_exists(&server, "alice").await, "cam is untouched");
    // Capacity and quota are freed with the instances: a new one can be placed.
    run_instance(&server).await;

    let (status, _) = server.control("POST", "/_tclocal/reset", "").await;
    assert_eq!(status, 200);
    assert!(!user_exists(&server, "alice").await, "users are gone");
    assert!(
        instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY))
            .await
            .is_empty()
    );
    let (_, journal) = server.control("GET", "/_tclocal/requests", "").await;
    let entries = journal["requests"].as_array().map_or(usize::MAX, Vec::len);
    assert!(entries <= 2, "only calls made after the reset: {journal}");

    let (status, body) = server
        .control("POST", "/_tclocal/reset?service=nope", "")
        .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("cvm"), "{body}");
}

/// A snapshot taken with secrets restores instances, users and their keys in another server.
#[tokio::test]
async fn a_snapshot_with_secrets_restores_everything_in_a_fresh_server() {
    let source = Server::start().await;
    let a = run_instance(&source).await;
    let b = run_instance(&source).await;
    let (user_id, user_key) = add_user(&source, "builder").await;
    let (status, snapshot) = source
        .control("GET", "/_tclocal/state?secrets=true", "")
        .await;
    assert_eq!(status, 200);
    assert_eq!(snapshot["format"], "tclocal-state");
    assert_eq!(snapshot["version"], 1);

    let target = Server::start().await;
    let (status, body) = put_state(&target, "", &snapshot.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["imported_rows"].as_u64().unwrap() >= 4, "{body}");
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(
        instance_ids(&target, (DEV_SECRET_ID, DEV_SECRET_KEY)).await,
        expected
    );
    assert!(user_exists(&target, "builder").await);
    let as_user = target
        .call(&Call::tc3("DescribeZones", "{}").with(|c| {
            c.secret_id.clone_from(&user_id);
            c.secret_key.clone_from(&user_key);
        }))
        .await;
    // The key authenticates; the user has no policy, so CAM refuses the action.
    assert_eq!(code(&as_user), "AuthFailure.UnauthorizedOperation");
}

/// By default a snapshot leaves secret keys, tokens and MFA seeds out and says so; importing
/// it keeps the target's own keys, so nobody is locked out.
#[tokio::test]
async fn snapshots_leave_secrets_out_unless_asked() {
    let server = Server::start().await;
    let (_, user_key) = add_user(&server, "carol").await;
    let resp = server
        .raw(b"GET /_tclocal/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(resp.status, 200);
    let text = String::from_utf8(resp.body.clone()).unwrap();
    assert!(!text.contains(DEV_SECRET_KEY), "root secret leaked");
    assert!(!text.contains(&user_key), "user secret leaked");
    let snapshot: Value = serde_json::from_str(&text).unwrap();
    assert!(snapshot["tables"].get("identity.keys").is_none());
    let omitted = snapshot["omitted"].as_array().unwrap();
    assert!(omitted.iter().any(|t| t == "identity.keys"), "{omitted:?}");

    let (_, with) = server
        .control("GET", "/_tclocal/state?secrets=true", "")
        .await;
    assert!(with.to_string().contains(&user_key), "asked for secrets");

    // Replace into a fresh server: its root key still works.
    let target = Server::start().await;
    let (status, body) = put_state(&target, "", &text).await;
    assert_eq!(status, 200, "{body}");
    assert!(user_exists(&target, "carol").await);
    assert_eq!(
        code(&target.call(&Call::tc3("DescribeZones", "{}")).await),
        "ok"
    );
}

/// `mode=merge` keeps rows the file lacks; `replace` (the default) makes the file the state.
#[tokio::test]
async fn merge_keeps_rows_the_file_lacks_and_replace_drops_them() {
    let source = Server::start().await;
    let from_file = run_instance(&source).await;
    let (_, snapshot) = source
        .control("GET", "/_tclocal/state?service=cvm", "")
        .await;
    assert!(
        snapshot["tables"].get("identity.accounts").is_none(),
        "cvm only"
    );

    let target = Server::start().await;
    // Same sequential ids in both servers: advance the target's so they differ.
    run_instance(&target).await;
    let own = run_instance(&target).await;
    assert_ne!(own, from_file);
    let (status, _) = put_state(&target, "?mode=merge&service=cvm", &snapshot.to_string()).await;
    assert_eq!(status, 200);
    let ids = instance_ids(&target, (DEV_SECRET_ID, DEV_SECRET_KEY)).await;
    assert!(ids.contains(&own) && ids.contains(&from_file), "{ids:?}");

    let (status, _) = put_state(&target, "?service=cvm", &snapshot.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        instance_ids(&target, (DEV_SECRET_ID, DEV_SECRET_KEY)).await,
        vec![from_file]
    );
}

/// A file that is not a snapshot, is too new, names an unknown table, or holds a record the
/// product cannot load is refused with a reason, and the state is unchanged.
#[tokio::test]
async fn bad_snapshots_are_refused_and_change_nothing() {
    let server = Server::start().await;
    let id = run_instance(&server).await;
    let cases = [
        ("", "not json".to_owned(), "not a tclocal state file"),
        ("", json!({"format": "other", "version": 1, "tables": {}}).to_string(), "format"),
        ("", json!({"format": "tclocal-state", "version": 99, "tables": {}}).to_string(), "newer"),
        (
            "",
            json!({"format": "tclocal-state", "version": 1, "tables": {"s3.buckets": {"b": {"v": 1, "d": {}}}}}).to_string(),
            "s3.buckets",
        ),
        (
            "?service=cam",
            json!({"format": "tclocal-state", "version": 1, "tables": {"cvm.instances": {}}}).to_string(),
            "cvm.instances",
        ),
        (
            "",
            json!({"format": "tclocal-state", "version": 1, "tables": {"cvm.instances": {"1250000000/ap-guangzhou/ins-bad": {"v": 1, "d": {"nonsense": true}}}}}).to_string(),
            "does not load",
        ),
        ("?mode=sideways", json!({"format": "tclocal-state", "version": 1, "tables": {}}).to_string(), "mode"),
    ];
    for (query, body, reason) in cases {
        let (status, answer) = put_state(&server, query, &body).await;
        assert_eq!(status, 400, "{query} {body}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{reason:?} not in {message:?}");
        assert_eq!(
            instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY)).await,
            vec![id.clone()],
            "state unchanged after {body}"
        );
    }
}

/// Every stored snapshot version loads into this build (the upgrade path).
#[tokio::test]
async fn a_version_1_snapshot_loads_into_this_build() {
    let server = Server::start().await;
    let (status, body) = put_state(&server, "", STATE_V1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY)).await,
        vec!["ins-fixture1".to_owned()]
    );
    assert!(user_exists(&server, "fixture").await);
    let as_user = server
        .call(&Call::tc3("DescribeZones", "{}").with(|c| {
            c.secret_id = FIXTURE_KEY.0.into();
            c.secret_key = FIXTURE_KEY.1.into();
        }))
        .await;
    assert_eq!(
        code(&as_user),
        "AuthFailure.UnauthorizedOperation",
        "the key authenticates"
    );
    let pairs = server.call(&Call::tc3("DescribeKeyPairs", "{}")).await;
    assert_eq!(pairs.fields()["KeyPairSet"][0]["KeyId"], "skey-fixture1");
}

/// `--seed` files (and folders of them) are applied at start, before the first request, and
/// again at every start of a durable store, so seeded rows come back as seeded.
#[tokio::test]
async fn seeds_are_applied_at_every_start() {
    let seeds = tempfile::tempdir().unwrap();
    std::fs::write(seeds.path().join("10-state.json"), STATE_V1).unwrap();
    std::fs::write(seeds.path().join("README.txt"), "not a seed").unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = Config {
        store: StoreConfig::Sqlite(data.path().to_path_buf()),
        seeds: vec![seeds.path().to_path_buf()],
        ..Config::for_tests()
    };
    {
        let server = Server::start_with(config.clone(), Vec::new()).await;
        let (status, _) = server.control("GET", "/_tclocal/ready", "").await;
        assert_eq!(status, 200);
        assert_eq!(
            instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY)).await,
            vec!["ins-fixture1".to_owned()]
        );
        let resp = server
            .call(&Call::tc3(
                "TerminateInstances",
                r#"{"InstanceIds": ["ins-fixture1"]}"#,
            ))
            .await;
        assert_eq!(code(&resp), "ok", "{}", resp.message());
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let server = Server::start_with(config, Vec::new()).await;
    let ids = instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY)).await;
    assert_eq!(ids, vec!["ins-fixture1".to_owned()]);
}

/// A seed that does not load stops the start with the file's name, rather than serving a
/// half-seeded cloud.
#[tokio::test]
async fn a_bad_seed_stops_the_start() {
    let seeds = tempfile::tempdir().unwrap();
    let path = seeds.path().join("broken.json");
    std::fs::write(&path, "{").unwrap();
    let config = Config {
        seeds: vec![path],
        ..Config::for_tests()
    };
    let err = tclocal_server::App::build(&config).await.unwrap_err();
    assert!(err.to_string().contains("broken.json"), "{err}");
}

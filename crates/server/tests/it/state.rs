//! Snapshots, resets and seeds over the control plane (`/_tclocal/state`, `/_tclocal/reset`,
//! `--seed`), and the upgrade path from every stored snapshot version.

use serde_json::{Value, json};

use crate::common::{Call, RawResponse, Server};
use tclocal_server::{Config, StoreConfig};
use tclocal_services::identity::{DEV_SECRET_ID, DEV_SECRET_KEY};

/// A snapshot written by format version 1: account 1250000000 with sub-user `fixture` and
/// its key, one instance `ins-fixture1` in ap-guangzhou-3 and key pair `skey-fixture1`.
const STATE_V1: &str = include_str!("../fixtures/state-v1.json");
/// The same state in format version 2, taken with emulated time one minute ahead.
const STATE_V2: &str = include_str!("../fixtures/state-v2.json");
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
    assert_eq!(snapshot["version"], 2);

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
/// product cannot load is refused with a reason that quotes none of the file, and the state is
/// unchanged.
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
        // A value where the file has another type: the reason gives its place, never its text.
        (
            "",
            json!({"format": "tclocal-state", "version": "s3cr3t-in-the-file", "tables": {}}).to_string(),
            "line 1 column",
        ),
    ];
    for (query, body, reason) in cases {
        let (status, answer) = put_state(&server, query, &body).await;
        assert_eq!(status, 400, "{query} {body}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{reason:?} not in {message:?}");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert_eq!(
            instance_ids(&server, (DEV_SECRET_ID, DEV_SECRET_KEY)).await,
            vec![id.clone()],
            "state unchanged after {body}"
        );
    }
}

/// Every stored snapshot version loads into this build (the upgrade path).
#[tokio::test]
async fn every_stored_snapshot_version_loads_into_this_build() {
    for (version, file) in [(1, STATE_V1), (2, STATE_V2)] {
        let server = Server::start().await;
        let (status, body) = put_state(&server, "", file).await;
        assert_eq!(status, 200, "version {version}: {body}");
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
        let (_, clock) = server.control("GET", "/_tclocal/clock", "").await;
        let offset = if version >= 2 { 60_000 } else { 0 };
        assert_eq!(clock["offset_ms"], offset, "version {version}");
    }
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

/// A second account with a root key: (AppId, OwnerUin, SecretId, SecretKey).
async fn new_account(server: &Server) -> (u64, String, String, String) {
    let (status, body) = server.control("POST", "/_tclocal/accounts", "").await;
    assert_eq!(status, 201, "{body}");
    (
        body["AppId"].as_u64().unwrap(),
        body["OwnerUin"].as_str().unwrap().to_owned(),
        body["SecretId"].as_str().unwrap().to_owned(),
        body["SecretKey"].as_str().unwrap().to_owned(),
    )
}

/// `RunInstances` signed with `key`.
async fn run_instance_as(server: &Server, key: (&str, &str)) -> String {
    let resp = server
        .call(&Call::tc3("RunInstances", RUN).with(|c| {
            c.secret_id = key.0.into();
            c.secret_key = key.1.into();
        }))
        .await;
    assert_eq!(code(&resp), "ok", "{}", resp.message());
    resp.fields()["InstanceIdSet"][0]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates sub-user `name` in the account of `key`.
async fn add_user_as(server: &Server, key: (&str, &str), name: &str) -> (String, String) {
    let resp = server
        .call(
            &cam(
                "AddUser",
                &json!({"Name": name, "UseApi": 1, "ConsoleLogin": 0}),
            )
            .with(|c| {
                c.secret_id = key.0.into();
                c.secret_key = key.1.into();
            }),
        )
        .await;
    assert_eq!(code(&resp), "ok", "{}", resp.message());
    let f = resp.fields();
    (
        f["SecretId"].as_str().unwrap().to_owned(),
        f["SecretKey"].as_str().unwrap().to_owned(),
    )
}

async fn user_exists_as(server: &Server, key: (&str, &str), name: &str) -> bool {
    let resp = server
        .call(&cam("GetUser", &json!({"Name": name})).with(|c| {
            c.secret_id = key.0.into();
            c.secret_key = key.1.into();
        }))
        .await;
    match code(&resp).as_str() {
        "ok" => true,
        "ResourceNotFound.UserNotExist" => false,
        other => panic!("GetUser answered {other}"),
    }
}

fn row_keys(snapshot: &Value, table: &str) -> Vec<String> {
    snapshot["tables"][table]
        .as_object()
        .map(|rows| rows.keys().cloned().collect())
        .unwrap_or_default()
}

/// `?account=` (AppId or OwnerUin) exports only that account's rows, alone or with
/// `?service=`; the file names the account by AppId; an unknown account is a 404.
#[tokio::test]
async fn an_account_snapshot_holds_only_that_account() {
    let server = Server::start().await;
    let dev = (DEV_SECRET_ID, DEV_SECRET_KEY);
    run_instance(&server).await;
    add_user(&server, "dev-user").await;
    let (app_id, owner, sid, skey) = new_account(&server).await;
    let other = (sid.as_str(), skey.as_str());
    let theirs = run_instance_as(&server, other).await;
    add_user_as(&server, other, "their-user").await;
    assert_eq!(instance_ids(&server, dev).await.len(), 1);

    for name in [app_id.to_string(), owner.clone()] {
        let (status, snapshot) = server
            .control("GET", &format!("/_tclocal/state?account={name}"), "")
            .await;
        assert_eq!(status, 200, "{snapshot}");
        assert_eq!(snapshot["scope"]["account"], app_id.to_string());
        assert_eq!(
            row_keys(&snapshot, "cvm.instances"),
            vec![format!("{app_id}/ap-guangzhou/{theirs}")]
        );
        assert_eq!(
            row_keys(&snapshot, "identity.accounts"),
            vec![app_id.to_string()]
        );
        let users = &snapshot["tables"]["identity.users"];
        assert_eq!(users.as_object().unwrap().len(), 1, "{users}");
        assert!(users.to_string().contains("their-user"), "{users}");
        assert!(!snapshot.to_string().contains("dev-user"));
        assert!(
            !snapshot.to_string().contains(&skey),
            "no secrets unless asked"
        );
    }
    let (_, with_secrets) = server
        .control(
            "GET",
            &format!("/_tclocal/state?account={app_id}&secrets=true"),
            "",
        )
        .await;
    let keys = row_keys(&with_secrets, "identity.keys");
    assert!(keys.contains(&sid), "{keys:?}");
    assert!(!keys.iter().any(|k| k == DEV_SECRET_ID), "{keys:?}");

    let (status, cvm_only) = server
        .control(
            "GET",
            &format!("/_tclocal/state?account={owner}&service=cvm"),
            "",
        )
        .await;
    assert_eq!(status, 200);
    let tables: Vec<&String> = cvm_only["tables"].as_object().unwrap().keys().collect();
    assert_eq!(tables, ["cvm.instances"]);

    let (status, body) = server
        .control("GET", "/_tclocal/state?account=999", "")
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("999"), "{body}");
}

/// Resetting one account empties its instances, sub-users and keys but keeps the account and
/// its root key; every other account is untouched; it takes milliseconds.
#[tokio::test]
async fn an_account_reset_leaves_the_other_accounts() {
    let server = Server::start().await;
    let dev = (DEV_SECRET_ID, DEV_SECRET_KEY);
    let mine = run_instance(&server).await;
    add_user(&server, "dev-user").await;
    let (app_id, owner, sid, skey) = new_account(&server).await;
    let other = (sid.as_str(), skey.as_str());
    run_instance_as(&server, other).await;
    run_instance_as(&server, other).await;
    let (user_id, user_key) = add_user_as(&server, other, "their-user").await;

    let (status, body) = server
        .control("POST", &format!("/_tclocal/reset?account={owner}"), "")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reset"], format!("account {owner}"));
    assert!(body["took_ms"].as_f64().unwrap() < 1000.0, "{body}");
    assert!(instance_ids(&server, other).await.is_empty());
    assert!(!user_exists_as(&server, other, "their-user").await);
    let as_gone_user = server
        .call(&Call::tc3("DescribeZones", "{}").with(|c| {
            c.secret_id = user_id.clone();
            c.secret_key = user_key.clone();
        }))
        .await;
    assert_eq!(code(&as_gone_user), "AuthFailure.SecretIdNotFound");
    // The account and its root key stay: it can work again at once.
    run_instance_as(&server, other).await;
    let (_, accounts) = server.control("GET", "/_tclocal/accounts", "").await;
    assert!(
        accounts.to_string().contains(&app_id.to_string()),
        "{accounts}"
    );
    // The default account is untouched.
    assert_eq!(instance_ids(&server, dev).await, vec![mine]);
    assert!(user_exists(&server, "dev-user").await);

    // One service of one account.
    let (status, _) = server
        .control(
            "POST",
            &format!("/_tclocal/reset?account={app_id}&service=cvm"),
            "",
        )
        .await;
    assert_eq!(status, 200);
    assert!(instance_ids(&server, other).await.is_empty());
    assert_eq!(instance_ids(&server, dev).await.len(), 1);

    let (status, _) = server
        .control("POST", "/_tclocal/reset?account=42", "")
        .await;
    assert_eq!(status, 404);
}

/// `PUT ?account=` replaces that account's rows with the file's and leaves the other accounts;
/// the file's own scope applies when the query gives none; rows of another account are
/// refused and change nothing.
#[tokio::test]
async fn an_account_import_replaces_only_that_account() {
    let server = Server::start().await;
    let dev = (DEV_SECRET_ID, DEV_SECRET_KEY);
    let (app_id, _, sid, skey) = new_account(&server).await;
    let other = (sid.as_str(), skey.as_str());
    let kept = run_instance_as(&server, other).await;
    add_user_as(&server, other, "saved-user").await;
    let (status, snapshot) = server
        .control(
            "GET",
            &format!("/_tclocal/state?account={app_id}&secrets=true"),
            "",
        )
        .await;
    assert_eq!(status, 200);

    // Both accounts change after the save.
    let mine = run_instance(&server).await;
    run_instance_as(&server, other).await;
    add_user_as(&server, other, "later-user").await;
    add_user(&server, "dev-later").await;

    let (status, body) = put_state(
        &server,
        &format!("?account={app_id}"),
        &snapshot.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(instance_ids(&server, other).await, vec![kept.clone()]);
    assert!(user_exists_as(&server, other, "saved-user").await);
    assert!(!user_exists_as(&server, other, "later-user").await);
    assert_eq!(instance_ids(&server, dev).await, vec![mine.clone()]);
    assert!(user_exists(&server, "dev-later").await);

    // Without ?account=, the file's scope (its account) applies: still only that account.
    run_instance_as(&server, other).await;
    let (status, body) = put_state(&server, "", &snapshot.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(instance_ids(&server, other).await, vec![kept]);
    assert_eq!(instance_ids(&server, dev).await, vec![mine.clone()]);

    // The default account's file cannot be loaded as this account.
    let (_, dev_file) = server
        .control("GET", "/_tclocal/state?account=1250000000", "")
        .await;
    let (status, body) = put_state(
        &server,
        &format!("?account={app_id}"),
        &dev_file.to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("another account"),
        "{body}"
    );
    assert_eq!(instance_ids(&server, dev).await, vec![mine]);
}

/// An account file brings the account into a server that lacks it, keys and all; a server
/// where its OwnerUin is another account's sub-user refuses it.
#[tokio::test]
async fn an_account_file_moves_the_account_to_another_server() {
    let source = Server::start().await;
    let (app_id, _, sid, skey) = new_account(&source).await;
    let other = (sid.as_str(), skey.as_str());
    let id = run_instance_as(&source, other).await;
    let (_, snapshot) = source
        .control(
            "GET",
            &format!("/_tclocal/state?account={app_id}&secrets=true"),
            "",
        )
        .await;

    let target = Server::start().await;
    let (status, body) = put_state(&target, "", &snapshot.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(instance_ids(&target, other).await, vec![id]);

    // Here the UIN the account owns is a sub-user of the default account.
    let taken = Server::start().await;
    add_user(&taken, "squatter").await;
    let (status, body) = put_state(&taken, "", &snapshot.to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("another account"),
        "{body}"
    );
}

/// Emulated time's offset is stored: after a restart on the same data the clock resumes where
/// it was, so a pending transition neither restarts nor jumps; a full reset keeps it; a
/// snapshot carries it and an import of everything moves a fresh server's clock forward.
#[tokio::test]
async fn the_clock_offset_survives_a_restart_and_travels_in_snapshots() {
    let data = tempfile::tempdir().unwrap();
    let config = Config {
        store: StoreConfig::Sqlite(data.path().to_path_buf()),
        ..Config::for_tests()
    };
    let hour_ms = 3_600_000;
    let (id, snapshot) = {
        let server = Server::start_with(config.clone(), Vec::new()).await;
        let (status, clock) = server
            .control("POST", "/_tclocal/clock/advance?seconds=3600", "")
            .await;
        assert_eq!(status, 200, "{clock}");
        assert_eq!(clock["offset_ms"], hour_ms);
        let id = run_instance(&server).await;
        let (status, _) = server
            .control("POST", "/_tclocal/reset?service=cam", "")
            .await;
        assert_eq!(status, 200);
        let (_, snapshot) = server.control("GET", "/_tclocal/state", "").await;
        assert_eq!(snapshot["version"], 2);
        assert_eq!(snapshot["clock"]["offset_ms"], hour_ms);
        (id, snapshot)
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let server = Server::start_with(config.clone(), Vec::new()).await;
    let (_, clock) = server.control("GET", "/_tclocal/clock", "").await;
    assert_eq!(clock["offset_ms"], hour_ms);
    assert_eq!(
        clock["now_ms"].as_i64().unwrap(),
        crate::common::NOW * 1000 + hour_ms
    );
    // The instance was created an hour into emulated time, not an hour in the future.
    let resp = server
        .call(&Call::tc3(
            "DescribeInstances",
            &json!({"InstanceIds": [id]}).to_string(),
        ))
        .await;
    let created = resp.fields()["InstanceSet"][0]["CreatedTime"].clone();
    assert_eq!(created, "2023-11-14T23:13:20Z");

    let (status, _) = server.control("POST", "/_tclocal/reset", "").await;
    assert_eq!(status, 200);
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let server = Server::start_with(config, Vec::new()).await;
    let (_, clock) = server.control("GET", "/_tclocal/clock", "").await;
    assert_eq!(
        clock["offset_ms"], hour_ms,
        "a reset does not move time back"
    );

    let fresh = Server::start().await;
    let (status, body) = put_state(&fresh, "", &snapshot.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let (_, clock) = fresh.control("GET", "/_tclocal/clock", "").await;
    assert_eq!(clock["offset_ms"], hour_ms, "an import moves time forward");
}

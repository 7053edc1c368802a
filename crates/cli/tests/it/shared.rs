//! Two `tclocal serve` processes on one PostgreSQL database behave as one cloud: a quota is
//! never exceeded across them, a ClientToken creates once, a transition happens once, and
//! what one process creates (instances, keys) the other sees at once.
//!
//! Needs `TCLOCAL_TEST_POSTGRES_URL` (scripts/postgres.sh sets it); skips with a message
//! without it.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tclocal_sdk::{Client, Credential, Error};

use super::{Served, spawn_serve};

const DEV_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
const DEV_KEY: &str = "tclocalDevelopmentSecretKey00000";
const QUOTA: usize = 10;

fn client(endpoint: &str, id: &str, key: &str) -> Client {
    Client::builder()
        .endpoint(endpoint)
        .region("ap-guangzhou")
        .credentials(Credential::new(id, key))
        .build()
        .expect("client builds")
}

fn run(token: Option<&str>) -> Value {
    let mut run = json!({
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-zsxdft8i",
        "InstanceType": "S5.MEDIUM2",
        "InstanceCount": 1,
    });
    if let Some(token) = token {
        run["ClientToken"] = json!(token);
    }
    run
}

fn ids(answer: &Value, field: &str) -> Vec<String> {
    answer[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} in {answer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn code(result: &Result<Value, Error>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(Error::Api(e)) => e.code.to_string(),
        Err(other) => panic!("not an API answer: {other}"),
    }
}

async fn described(client: &Client) -> BTreeSet<String> {
    let answer = client
        .call(
            "cvm",
            "2017-03-12",
            "DescribeInstances",
            json!({"Limit": 100}),
        )
        .await
        .expect("DescribeInstances");
    answer["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect()
}

fn start(url: &str, home: &std::path::Path) -> (Served, String) {
    let quota = QUOTA.to_string();
    spawn_serve(
        &[
            "--store",
            url,
            "--cvm-timings",
            "instant",
            "--cvm-instance-quota",
            &quota,
        ],
        home,
    )
}

/// Quota, ClientToken, a transition and a key, each raced or read across two processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_postgres_act_as_one_cloud() {
    let Ok(url) = std::env::var("TCLOCAL_TEST_POSTGRES_URL") else {
        println!("skipped: TCLOCAL_TEST_POSTGRES_URL is not set (scripts/postgres.sh sets it)");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (_a, a_url) = start(&url, home.path());
    // A clean slate: the database may hold an earlier test's rows.
    let reset = reqwest::Client::new()
        .post(format!("{a_url}/_tclocal/reset"))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success(), "{}", reset.status());
    let (_b, b_url) = start(&url, home.path());
    let a = client(&a_url, DEV_ID, DEV_KEY);
    let b = client(&b_url, DEV_ID, DEV_KEY);

    // One ClientToken raced through both processes creates one instance.
    let calls = (0..8).map(|i| {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            c.call(
                "cvm",
                "2017-03-12",
                "RunInstances",
                run(Some("shared-token-1")),
            )
            .await
        }
    });
    let answers = join_all(calls).await;
    let created: BTreeSet<Vec<String>> = answers
        .iter()
        .map(|r| {
            ids(
                r.as_ref().expect("RunInstances with a token"),
                "InstanceIdSet",
            )
        })
        .collect();
    assert_eq!(
        created.len(),
        1,
        "every answer names the same instance: {created:?}"
    );
    let token_instance = created.into_iter().next().unwrap();
    assert_eq!(token_instance.len(), 1);

    // 16 launches raced through both processes: the quota of 10 admits exactly 9 more.
    let calls = (0..16).map(|i| {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { c.call("cvm", "2017-03-12", "RunInstances", run(None)).await }
    });
    let answers = join_all(calls).await;
    let codes: Vec<String> = answers.iter().map(code).collect();
    let admitted = codes.iter().filter(|c| *c == "ok").count();
    assert_eq!(admitted, QUOTA - 1, "{codes:?}");
    assert!(
        codes
            .iter()
            .filter(|c| *c != "ok")
            .all(|c| c.starts_with("LimitExceeded")),
        "{codes:?}"
    );
    let on_a = described(&a).await;
    let on_b = described(&b).await;
    assert_eq!(on_a.len(), QUOTA, "{on_a:?}");
    assert_eq!(on_a, on_b, "both processes show the same instances");

    // StopInstances raced through both processes: it happens once.
    let target = token_instance[0].clone();
    let stop = json!({"InstanceIds": [target]});
    let (first, second) = tokio::join!(
        a.call("cvm", "2017-03-12", "StopInstances", stop.clone()),
        b.call("cvm", "2017-03-12", "StopInstances", stop.clone())
    );
    let codes = [code(&first), code(&second)];
    assert_eq!(
        codes.iter().filter(|c| *c == "ok").count(),
        1,
        "exactly one stop succeeds: {codes:?}"
    );

    // A key created through one process signs requests to the other at once.
    let http = reqwest::Client::new();
    let accounts: Value = http
        .get(format!("{b_url}/_tclocal/accounts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uin = accounts["accounts"][0]["OwnerUin"]
        .as_str()
        .expect("OwnerUin")
        .to_owned();
    let created: Value = http
        .post(format!("{a_url}/_tclocal/keys"))
        .json(&json!({"uin": uin}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, key) = (
        created["SecretId"].as_str().expect("SecretId"),
        created["SecretKey"].as_str().expect("SecretKey"),
    );
    let through_b = client(&b_url, id, key);
    let seen = described(&through_b).await;
    assert_eq!(seen, on_a, "the new key's account is the default one");
}

/// One control-plane request; the JSON answer.
async fn control(method: reqwest::Method, url: String) -> Value {
    let resp = reqwest::Client::new()
        .request(method, url)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap()
}

/// Emulated time is shared: an advance through one process is the other's time at its next
/// request, and a process started later resumes at it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advance_of_emulated_time_reaches_every_process() {
    let Ok(url) = std::env::var("TCLOCAL_TEST_POSTGRES_URL") else {
        println!("skipped: TCLOCAL_TEST_POSTGRES_URL is not set (scripts/postgres.sh sets it)");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (_a, a_url) = start(&url, home.path());
    let (_b, b_url) = start(&url, home.path());
    let offset = |v: &Value| v["offset_ms"].as_i64().expect("offset_ms");
    let before = offset(&control(reqwest::Method::GET, format!("{b_url}/_tclocal/clock")).await);
    let advanced = control(
        reqwest::Method::POST,
        format!("{a_url}/_tclocal/clock/advance?seconds=60"),
    )
    .await;
    assert!(offset(&advanced) >= before + 60_000, "{advanced}");
    let on_b = control(reqwest::Method::GET, format!("{b_url}/_tclocal/clock")).await;
    assert_eq!(offset(&on_b), offset(&advanced), "{on_b}");
    let (_c, c_url) = start(&url, home.path());
    let on_c = control(reqwest::Method::GET, format!("{c_url}/_tclocal/clock")).await;
    assert!(offset(&on_c) >= offset(&advanced), "{on_c}");
}

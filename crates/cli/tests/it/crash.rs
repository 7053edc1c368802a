//! The crash test: clients create and terminate instances while the server is killed with
//! SIGKILL at random moments; after each restart every answered change is there, nothing
//! unanswered is half there, and nothing else appeared.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tclocal_sdk::{Client, Credential, Error};

const DEV_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
const DEV_KEY: &str = "tclocalDevelopmentSecretKey00000";
const CLIENTS: usize = 4;
const KILLS: usize = 6;

/// What the clients learnt from the answers they got.
#[derive(Default)]
struct Ledger {
    /// RunInstances answered with success: InstanceName → the ids it answered.
    created: BTreeMap<String, Vec<String>>,
    /// RunInstances sent without an answer: InstanceName → InstanceCount.
    unanswered_runs: BTreeMap<String, usize>,
    /// TerminateInstances answered with success.
    terminated: BTreeSet<String>,
    /// TerminateInstances sent without an answer.
    unanswered_terminations: BTreeSet<String>,
    /// Calls answered with an API error (nothing changed).
    refused: usize,
}

fn client(endpoint: &str) -> Client {
    Client::builder()
        .endpoint(endpoint)
        .region("ap-guangzhou")
        .credentials(Credential::new(DEV_ID, DEV_KEY))
        .build()
        .expect("client builds")
}

/// A small xorshift generator: the kill moments are random, and the seed is printed so a
/// failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn work(
    endpoint: String,
    me: usize,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
    round: usize,
) {
    let client = client(&endpoint);
    let mut n = 0;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        // Several instances of one call get the name with 1, 2, … appended, as in the cloud.
        let name = format!("r{round}c{me}n{n}-");
        let count = 1 + n % 3;
        let run = json!({
            "Placement": {"Zone": "ap-guangzhou-3"},
            "ImageId": "img-zsxdft8i",
            "InstanceType": "S5.MEDIUM2",
            "InstanceCount": count,
            "InstanceName": name,
        });
        let ids: Vec<String> = match client.call("cvm", "2017-03-12", "RunInstances", run).await {
            Ok(answer) => {
                let ids: Vec<String> = answer["InstanceIdSet"]
                    .as_array()
                    .expect("InstanceIdSet")
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(ids.len(), count, "a batch answers every id");
                ledger.lock().unwrap().created.insert(name, ids.clone());
                ids
            }
            Err(Error::Api(_)) => {
                ledger.lock().unwrap().refused += 1;
                continue;
            }
            Err(_) => {
                ledger.lock().unwrap().unanswered_runs.insert(name, count);
                return;
            }
        };
        // Terminate every other batch, so both kinds of change are in flight at a kill.
        if n % 2 == 0 {
            continue;
        }
        let terminate = json!({"InstanceIds": ids});
        match client
            .call("cvm", "2017-03-12", "TerminateInstances", terminate)
            .await
        {
            Ok(_) => ledger.lock().unwrap().terminated.extend(ids),
            Err(Error::Api(_)) => ledger.lock().unwrap().refused += 1,
            Err(_) => {
                ledger.lock().unwrap().unanswered_terminations.extend(ids);
                return;
            }
        }
    }
}

/// The InstanceName a call gave, from an instance's name (the call's name, plus an index when
/// the call created several).
fn call_name(instance_name: &str) -> String {
    instance_name
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_owned()
}

/// Every instance the restarted server holds, as InstanceId → the InstanceName of its call.
async fn inventory(endpoint: &str) -> BTreeMap<String, String> {
    let client = client(endpoint);
    let mut out = BTreeMap::new();
    let mut offset = 0;
    loop {
        let page = client
            .call(
                "cvm",
                "2017-03-12",
                "DescribeInstances",
                json!({"Offset": offset, "Limit": 100}),
            )
            .await
            .expect("DescribeInstances after restart");
        let set = page["InstanceSet"].as_array().cloned().unwrap_or_default();
        for inst in &set {
            out.insert(
                inst["InstanceId"].as_str().unwrap().to_owned(),
                call_name(inst["InstanceName"].as_str().unwrap()),
            );
        }
        offset += set.len();
        if set.is_empty() || offset as u64 >= page["TotalCount"].as_u64().unwrap_or(0) {
            return out;
        }
    }
}

/// Checks the restarted server against the ledger; answers the number of instances whose
/// unanswered creation turned out to have committed.
fn check(ledger: &Ledger, present: &BTreeMap<String, String>) -> usize {
    for (name, ids) in &ledger.created {
        for id in ids {
            if ledger.terminated.contains(id) {
                assert!(
                    !present.contains_key(id),
                    "{id} was terminated (answered) but is back"
                );
            } else if !ledger.unanswered_terminations.contains(id) {
                assert_eq!(
                    present.get(id),
                    Some(name),
                    "{id} of {name} was created (answered) but is lost"
                );
            }
        }
    }
    let answered: BTreeSet<&String> = ledger.created.values().flatten().collect();
    let mut by_name: BTreeMap<&String, usize> = BTreeMap::new();
    for (id, name) in present {
        if !answered.contains(id) {
            *by_name.entry(name).or_default() += 1;
        }
    }
    let mut committed_unanswered = 0;
    for (name, found) in by_name {
        let Some(count) = ledger.unanswered_runs.get(name) else {
            panic!("{found} instance(s) named {name:?} appeared that no call created");
        };
        assert_eq!(
            found, *count,
            "{name}: a batch RunInstances is all or nothing"
        );
        committed_unanswered += found;
    }
    committed_unanswered
}

/// SIGKILL at random moments under write load loses no answered change and applies no
/// batch in part.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_write_load_loses_no_answered_change() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let args = [
        "--data-dir",
        data_arg.as_str(),
        "--cvm-timings",
        "instant",
        "--cvm-instance-quota",
        "100000",
    ];
    // TCLOCAL_CRASH_SEED replays a run; otherwise std's per-process random hasher keys pick one.
    let seed = std::env::var("TCLOCAL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(0u8)
        })
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..KILLS {
        let (mut child, endpoint) = crate::spawn_serve(&args, home.path());
        let present = inventory(&endpoint).await;
        check(&ledger.lock().unwrap(), &present);
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|me| {
                tokio::spawn(work(
                    endpoint.clone(),
                    me,
                    stop.clone(),
                    ledger.clone(),
                    round,
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100 + rng.next(500))).await;
        child.kill();
        stop.store(true, Ordering::Release);
        for w in workers {
            w.await.expect("client task");
        }
    }
    let (mut child, endpoint) = crate::spawn_serve(&args, home.path());
    let present = inventory(&endpoint).await;
    let ledger = ledger.lock().unwrap();
    let late_commits = check(&ledger, &present);
    child.kill();
    let answered_runs = ledger.created.len();
    let answered_terminations = ledger.terminated.len();
    assert!(
        answered_runs > KILLS,
        "the clients got work done: {answered_runs}"
    );
    assert!(
        !ledger.unanswered_runs.is_empty() || !ledger.unanswered_terminations.is_empty(),
        "the kills hit calls in flight"
    );
    println!(
        "crash test: {KILLS} kills, {answered_runs} answered RunInstances ({} instances), \
         {answered_terminations} answered terminations, {} unanswered runs ({late_commits} \
         instances of them committed whole), {} refused, 0 lost",
        ledger.created.values().map(Vec::len).sum::<usize>(),
        ledger.unanswered_runs.len(),
        ledger.refused,
    );
}

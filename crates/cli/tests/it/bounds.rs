//! Bounded disk and memory under sustained writes: thousands of instances created and
//! terminated and many more journaled calls leave the data directory, the WAL, the store's rows,
//! the request journal and the process's resident memory within fixed bounds.

use std::io::{Read as _, Write as _};
use std::path::Path;

use serde_json::{Value, json};
use tclocal_sdk::{Client, Credential};

const DEV_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
const DEV_KEY: &str = "tclocalDevelopmentSecretKey00000";
const JOURNAL: usize = 200;
const ROUNDS: usize = 40;
const PER_ROUND: usize = 50;
const MIB: u64 = 1024 * 1024;

/// One control-plane GET over a plain socket; the JSON body.
fn control(endpoint: &str, path: &str) -> Value {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("the server answers");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let at = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    serde_json::from_slice(&answer[at..]).expect("a JSON body")
}

/// Resident memory of process `pid`, in bytes (Linux).
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

async fn round(client: &Client) {
    let run = json!({
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-zsxdft8i",
        "InstanceType": "S5.MEDIUM2",
        "InstanceCount": PER_ROUND,
    });
    let answer = client
        .call("cvm", "2017-03-12", "RunInstances", run)
        .await
        .expect("RunInstances");
    let ids = answer["InstanceIdSet"].clone();
    assert_eq!(ids.as_array().map(Vec::len), Some(PER_ROUND));
    client
        .call(
            "cvm",
            "2017-03-12",
            "TerminateInstances",
            json!({"InstanceIds": ids}),
        )
        .await
        .expect("TerminateInstances");
    for _ in 0..20 {
        client
            .call("cvm", "2017-03-12", "DescribeZones", json!({}))
            .await
            .expect("DescribeZones");
    }
}

/// 2 000 instances created and terminated, 800 more journaled calls: the journal keeps its
/// size, terminated instances leave the store, the WAL is checkpointed and stays small, and
/// memory after the first quarter of the load does not keep growing with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_writes_stay_within_bounds() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let journal = JOURNAL.to_string();
    let (mut child, endpoint) = crate::spawn_serve(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--journal-size",
            &journal,
            "--cvm-timings",
            "instant",
        ],
        home.path(),
    );
    let client = Client::builder()
        .endpoint(&endpoint)
        .region("ap-guangzhou")
        .credentials(Credential::new(DEV_ID, DEV_KEY))
        .build()
        .unwrap();
    let wal = data.join("tclocal.sqlite3-wal");
    let mut wal_peak = 0;
    let mut warm = 0;
    for n in 0..ROUNDS {
        round(&client).await;
        wal_peak = wal_peak.max(file_size(&wal));
        if n + 1 == ROUNDS / 4 {
            warm = rss(child.id());
        }
    }
    let end = rss(child.id());

    // The journal holds its capacity, not the history.
    let journal = control(&endpoint, "/_tclocal/requests?limit=10000");
    let kept = journal["requests"].as_array().unwrap().len();
    let total = journal["total"].as_u64().unwrap();
    assert_eq!(kept, JOURNAL, "{total} requests seen");
    assert!(total >= (ROUNDS * 22) as u64, "{total}");

    // Terminated instances are gone from the store once the next write of their account and
    // region lands (here: one more launch).
    let one = json!({
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-zsxdft8i",
        "InstanceType": "S5.MEDIUM2",
    });
    client
        .call("cvm", "2017-03-12", "RunInstances", one)
        .await
        .expect("RunInstances");
    let state = control(&endpoint, "/_tclocal/state?service=cvm");
    let rows = state["tables"]["cvm.instances"]
        .as_object()
        .map_or(0, serde_json::Map::len);
    assert_eq!(
        rows, 1,
        "instance rows after 2 000 terminations and one launch"
    );

    // The WAL is checkpointed (SQLite's auto-checkpoint, every ~4 MiB) and cut back
    // (journal_size_limit), whatever was written through it.
    assert!(wal_peak < 16 * MIB, "WAL peaked at {wal_peak} bytes");
    let disk = dir_size(&data);
    assert!(disk < 32 * MIB, "data directory {disk} bytes");
    // Memory: what the first quarter needed is what the whole run needs, give or take the
    // allocator's slack.
    assert!(
        end < warm + 32 * MIB,
        "resident memory grew from {warm} to {end} bytes"
    );
    eprintln!(
        "bounds: {total} requests, journal {kept}, {rows} instance rows, WAL peak {} KiB, data dir {} KiB, RSS {} -> {} MiB",
        wal_peak / 1024,
        disk / 1024,
        warm / MIB,
        end / MIB
    );
    child.kill();
}

//! Shows that a CVM request costs the same with 10, 1,000 or 100,000 instances in the account.
//!
//! `cargo bench -p tclocal-services --bench flat_cost` prints, for each account size, the mean
//! time of DescribeInstancesStatus (100 InstanceIds), DescribeInstances (one indexed filter,
//! two intersected filters, a tag), and a StopInstances/StartInstances pair, and the ratio to
//! the smallest account. Two filters that each match a quarter of the account cost in
//! proportion to those matches (the count is part of the answer); every other row is flat. It asserts nothing: a benchmark reports, a person judges
//! (`TCLOCAL_BENCH_QUICK=1` runs a few iterations only, for CI).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};
use tclocal_services::Product;
use tclocal_services::cvm::{Cvm, CvmSettings, Timings};
use tclocal_store::MemoryStore;
use tclocal_wire::Language;
use tclocal_wire::context::{Principal, RequestContext};
use tclocal_wire::ids::SeqResourceIds;

const NOW: i64 = 1_700_000_000_000;

fn cx(action: &str, now: i64) -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        principal: Principal::root(1, "1").into(),
        service: "cvm".into(),
        version: "2017-03-12".into(),
        action: action.into(),
        region: Some("ap-guangzhou".into()),
        language: Language::EnUs,
        received_at_ms: now,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

async fn populated(n: usize) -> (Cvm, Vec<String>) {
    let settings = CvmSettings {
        timings: Timings::instant(),
        instance_quota: u64::MAX,
        ..CvmSettings::default()
    };
    let cvm = Cvm::open(
        Arc::new(MemoryStore::new()),
        Arc::new(SeqResourceIds::default()),
        settings,
        NOW,
    )
    .await
    .unwrap();
    let zones = [
        "ap-guangzhou-3",
        "ap-guangzhou-4",
        "ap-guangzhou-6",
        "ap-guangzhou-7",
    ];
    let mut ids = Vec::with_capacity(n);
    let mut made = 0;
    while made < n {
        let count = (n - made).min(100);
        let zone = zones[(made / 100) % zones.len()];
        let tag = format!("team-{}", made / 1000);
        let p = json!({"Placement": {"Zone": zone}, "ImageId": "img-zsxdft8i",
                       "InstanceType": "S5.MEDIUM2", "InstanceCount": count,
                       "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": tag}]}]});
        let got = cvm
            .call(&cx("RunInstances", NOW), obj(p))
            .await
            .unwrap()
            .into_map();
        for id in got["InstanceIdSet"].as_array().unwrap() {
            ids.push(id.as_str().unwrap().to_owned());
        }
        made += count;
    }
    (cvm, ids)
}

async fn time(iterations: u32, mut f: impl AsyncFnMut()) -> f64 {
    for _ in 0..iterations / 10 + 1 {
        f().await;
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f().await;
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let quick = std::env::var_os("TCLOCAL_BENCH_QUICK").is_some();
    let sizes: &[usize] = if quick {
        &[10, 1_000]
    } else {
        &[10, 1_000, 100_000]
    };
    let iterations = if quick { 50 } else { 2_000 };
    let names = [
        "DescribeInstancesStatus, 100 ids",
        "DescribeInstances, zone, Limit 20",
        "DescribeInstances, zone + state, Limit 20",
        "DescribeInstances, tag:team, Limit 20",
        "StopInstances + StartInstances, 1 id",
    ];
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for &n in sizes {
        let (cvm, ids) = populated(n).await;
        let sample: Vec<&String> = ids
            .iter()
            .step_by((ids.len() / 100).max(1))
            .take(100)
            .collect();
        let status = obj(json!({"InstanceIds": sample, "Limit": 100}));
        let by_zone =
            obj(json!({"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}], "Limit": 20}));
        let filtered = obj(
            json!({"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]},
                                              {"Name": "instance-state", "Values": ["RUNNING"]}], "Limit": 20}),
        );
        let tagged =
            obj(json!({"Filters": [{"Name": "tag:team", "Values": ["team-0"]}], "Limit": 20}));
        let one = obj(json!({"InstanceIds": [ids[ids.len() / 2]]}));
        let now = NOW + 1;
        let mut row = Vec::new();
        row.push(
            time(iterations, async || {
                black_box(
                    cvm.call(&cx("DescribeInstancesStatus", now), status.clone())
                        .await
                        .unwrap(),
                );
            })
            .await,
        );
        row.push(
            time(iterations, async || {
                black_box(
                    cvm.call(&cx("DescribeInstances", now), by_zone.clone())
                        .await
                        .unwrap(),
                );
            })
            .await,
        );
        row.push(
            time(iterations, async || {
                black_box(
                    cvm.call(&cx("DescribeInstances", now), filtered.clone())
                        .await
                        .unwrap(),
                );
            })
            .await,
        );
        row.push(
            time(iterations, async || {
                black_box(
                    cvm.call(&cx("DescribeInstances", now), tagged.clone())
                        .await
                        .unwrap(),
                );
            })
            .await,
        );
        row.push(
            time(iterations, async || {
                cvm.call(&cx("StopInstances", now), one.clone())
                    .await
                    .unwrap();
                cvm.call(&cx("StartInstances", now), one.clone())
                    .await
                    .unwrap();
            })
            .await,
        );
        rows.push(row);
    }
    println!("mean µs per call (ratio to the smallest account)");
    print!("{:<44}", "call \\ instances in the account");
    for n in sizes {
        print!("{n:>18}");
    }
    println!();
    for (i, name) in names.iter().enumerate() {
        print!("{name:<44}");
        for row in &rows {
            print!("{:>10.1} ({:>4.2}x)", row[i], row[i] / rows[0][i]);
        }
        println!();
    }
}

//! The whole benchmark, in one run: tclocal, the floor and moto side by side, then flat cost,
//! start-up and memory. Each step prints a line as it goes; the results feed the report.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::api::{self, Api};
use crate::load::{self, Client, Mix, Outcome, Plan};
use crate::procs::{Server, clean_command, free_port};

/// How big and how long.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The tclocal binary.
    pub(crate) tclocal: PathBuf,
    /// `moto_server`, or `None` to leave moto out.
    pub(crate) moto: Option<PathBuf>,
    /// Warm-up before each window.
    pub(crate) warmup: Duration,
    /// Each measured window.
    pub(crate) measure: Duration,
    /// Connections of the read benchmarks.
    pub(crate) read_connections: usize,
    /// Connections of the write benchmark.
    pub(crate) write_connections: usize,
    /// Instances in the account for the main benchmarks.
    pub(crate) base_instances: usize,
    /// Instances in the account for the large flat-cost, start-up and memory figures.
    pub(crate) large_instances: usize,
    /// Start-ups timed for each figure (the median is reported).
    pub(crate) startup_runs: usize,
    /// Load-generator worker threads.
    pub(crate) client_threads: usize,
}

/// CPU seconds a process has used (user + system), from `/proc/PID/stat`.
pub(crate) fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// One measurement with where the CPU went.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    pub(crate) outcome: Outcome,
    /// Server CPU time per answered request, µs.
    pub(crate) server_cpu_us: f64,
    /// Load-generator CPU time per answered request, µs.
    pub(crate) client_cpu_us: f64,
}

/// Everything one run found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Results {
    pub(crate) startup_empty: Vec<Duration>,
    pub(crate) rss_idle_fresh: u64,
    pub(crate) rss_idle: u64,
    pub(crate) floor_dis: Option<Measured>,
    pub(crate) tclocal_dis: Option<Measured>,
    pub(crate) moto_dis: Option<Measured>,
    pub(crate) tclocal_di: Option<Measured>,
    pub(crate) tclocal_rt: Option<Measured>,
    pub(crate) moto_rt: Option<Measured>,
    /// Flat cost rounds with the base account (alternating with the large one).
    pub(crate) flat_small: Vec<Measured>,
    /// Flat cost rounds with the large account.
    pub(crate) flat_large: Vec<Measured>,
    pub(crate) base_populate: Duration,
    pub(crate) large_populate: Duration,
    pub(crate) moto_populate: Duration,
    pub(crate) rss_large_running: u64,
    pub(crate) rss_large_loaded: u64,
    pub(crate) startup_large: Vec<Duration>,
    pub(crate) moto_rss_idle: u64,
    pub(crate) moto_rss_loaded: u64,
    pub(crate) moto_startup: Duration,
    pub(crate) errors: u64,
    pub(crate) load_before: String,
    pub(crate) load_after: String,
    pub(crate) total: Duration,
}

/// The median of some durations.
pub(crate) fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// A tclocal started by the bench.
fn start_tclocal(s: &Settings, data_dir: &Path, log: &Path) -> Result<Server, String> {
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut command = clean_command(&s.tclocal);
    command
        .arg("serve")
        .args(["--listen", &addr.to_string()])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--auth", "strict"])
        .args(["--cvm-timings", "instant"])
        .args(["--cvm-instance-quota", "200000"])
        .env("TCLOCAL_SECRET_ID", api::SECRET_ID)
        .env("TCLOCAL_SECRET_KEY", api::SECRET_KEY);
    Server::start("tclocal", command, addr, log)
}

fn tc3(server: &Server) -> Api {
    Api::Tc3 {
        host: server.addr.to_string(),
    }
}

/// Runs one measurement and accounts for the CPU of the server and of the load generator.
async fn measure(
    s: &Settings,
    server: &mut Server,
    api: Api,
    mix: Mix,
    connections: usize,
    label: &str,
) -> Result<Measured, String> {
    server.alive()?;
    let pid = server.pid().to_string();
    let (server_before, client_before) = (cpu_seconds(&pid), cpu_seconds("self"));
    let outcome = load::run(Plan {
        addr: server.addr,
        api,
        mix,
        connections,
        warmup: s.warmup,
        measure: s.measure,
    })
    .await;
    let (server_after, client_after) = (cpu_seconds(&pid), cpu_seconds("self"));
    server.alive()?;
    let per = |before: Option<f64>, after: Option<f64>| match (before, after) {
        (Some(b), Some(a)) if outcome.answered > 0 => (a - b) * 1e6 / outcome.answered as f64,
        _ => f64::NAN,
    };
    let m = Measured {
        server_cpu_us: per(server_before, server_after),
        client_cpu_us: per(client_before, client_after),
        outcome,
    };
    println!(
        "  {label:<52} {}  cpu µs/req: server {:.0}, load-gen {:.0}",
        m.outcome.summary(),
        m.server_cpu_us,
        m.client_cpu_us
    );
    Ok(m)
}

/// Creates `count` instances in calls of 100 over 4 connections; returns their ids in order.
async fn populate_tclocal(
    server: &Server,
    from: usize,
    count: usize,
) -> Result<Vec<String>, String> {
    populate(server.addr, from, count).await
}

/// Creates `count` instances in the tclocal at `addr` (numbered from `from`, which picks
/// their zones and tags) in calls of 100 over 4 connections; returns their ids in order.
pub(crate) async fn populate(
    addr: SocketAddr,
    from: usize,
    count: usize,
) -> Result<Vec<String>, String> {
    const ZONES: [&str; 4] = [
        "ap-guangzhou-3",
        "ap-guangzhou-4",
        "ap-guangzhou-6",
        "ap-guangzhou-7",
    ];
    let calls: Vec<(usize, usize)> = (0..count)
        .step_by(100)
        .map(|i| (from + i, (count - i).min(100)))
        .collect();
    let lanes = 4;
    let mut tasks = Vec::new();
    for lane in 0..lanes {
        let mine: Vec<(usize, usize)> = calls.iter().copied().skip(lane).step_by(lanes).collect();
        let mut client = Client::new(
            addr,
            Api::Tc3 {
                host: addr.to_string(),
            },
        );
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for (first, n) in mine {
                let zone = ZONES[(first / 100) % ZONES.len()];
                let body = api::tc3_run_many(n, zone, first / 1000);
                let answer = client.call("RunInstances", body).await?;
                let ids = client.api().instance_ids(&answer);
                if ids.len() != n {
                    return Err(format!("RunInstances made {} of {n}", ids.len()));
                }
                made.push((first, ids));
            }
            Ok::<_, String>(made)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    all.sort_by_key(|(first, _)| *first);
    Ok(all.into_iter().flat_map(|(_, ids)| ids).collect())
}

/// `n` ids spread evenly over `ids`.
fn spread(ids: &[String], n: usize) -> Vec<String> {
    let step = (ids.len() / n).max(1);
    ids.iter().step_by(step).take(n).cloned().collect()
}

fn status_body(ids: &[String]) -> Bytes {
    Bytes::from(serde_json::json!({"InstanceIds": ids, "Limit": 100}).to_string())
}

/// Times `runs` start-ups of tclocal on `data_dir` (fresh copies when `fresh`), to
/// `/_tclocal/ready`. Returns the times and the last server, still running.
async fn startups(
    s: &Settings,
    work: &Path,
    data_dir: Option<&Path>,
    runs: usize,
) -> Result<(Vec<Duration>, Server), String> {
    let mut times = Vec::new();
    let mut last = None;
    for i in 0..runs {
        let dir = match data_dir {
            Some(d) => d.to_owned(),
            None => work.join(format!("empty-{i}")),
        };
        let mut server = start_tclocal(s, &dir, &work.join(format!("startup-{i}.log")))?;
        times.push(server.wait_ready("/_tclocal/ready", Some(200), Duration::from_secs(60))?);
        if i + 1 < runs {
            server.stop();
        } else {
            last = Some(server);
        }
    }
    let server = last.ok_or("no start-up run")?;
    Ok((times, server))
}

/// The whole benchmark.
pub(crate) async fn run(s: &Settings) -> Result<Results, String> {
    let began = Instant::now();
    let mut r = Results {
        load_before: loadavg(),
        ..Results::default()
    };
    let work = tempfile::Builder::new()
        .prefix("tclocal-bench-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let work = work.path();

    // Start-up on an empty data dir, and idle memory.
    println!("start-up on an empty data dir ({} runs)", s.startup_runs);
    let (times, mut idle) = startups(s, work, None, s.startup_runs).await?;
    println!(
        "  median {:.1} ms (runs: {:?})",
        median(&times).as_secs_f64() * 1e3,
        times
            .iter()
            .map(|t| format!("{:.1}", t.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );
    r.startup_empty = times;
    tokio::time::sleep(Duration::from_millis(500)).await;
    r.rss_idle_fresh = idle.rss_bytes().unwrap_or(0);
    let mut c = Client::new(idle.addr, tc3(&idle));
    c.call("DescribeInstancesStatus", Bytes::from_static(b"{}"))
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    r.rss_idle = idle.rss_bytes().unwrap_or(0);
    println!(
        "  RSS idle: {} just started, {} after one call",
        mb(r.rss_idle_fresh),
        mb(r.rss_idle)
    );
    idle.stop();

    // The main tclocal: persistent store, strict auth, the base account.
    let data = work.join("tclocal-data");
    let mut tclocal = start_tclocal(s, &data, &work.join("tclocal.log"))?;
    tclocal.wait_ready("/_tclocal/ready", Some(200), Duration::from_secs(60))?;
    let tapi = tc3(&tclocal);
    let t = Instant::now();
    let mut ids = populate_tclocal(&tclocal, 0, s.base_instances).await?;
    r.base_populate = t.elapsed();
    println!(
        "tclocal: {} instances created in {:.2} s",
        ids.len(),
        r.base_populate.as_secs_f64()
    );

    // The floor, then tclocal, on the same request.
    println!(
        "DescribeInstancesStatus, Limit 20, {} connections",
        s.read_connections
    );
    let floor_port = free_port()?;
    let floor_addr: SocketAddr = ([127, 0, 0, 1], floor_port).into();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut floor_cmd = clean_command(&exe);
    floor_cmd.args(["floor", "--listen", &floor_addr.to_string()]);
    let mut floor = Server::start("floor", floor_cmd, floor_addr, &work.join("floor.log"))?;
    floor.wait_ready("/", None, Duration::from_secs(10))?;
    let dis = Mix::Repeat {
        action: "DescribeInstancesStatus",
        body: Bytes::from_static(br#"{"Limit":20}"#),
    };
    let floor_api = Api::Tc3 {
        host: floor_addr.to_string(),
    };
    r.floor_dis = Some(
        measure(
            s,
            &mut floor,
            floor_api,
            dis.clone(),
            s.read_connections,
            "floor",
        )
        .await?,
    );
    floor.stop();
    r.tclocal_dis = Some(
        measure(
            s,
            &mut tclocal,
            tapi.clone(),
            dis,
            s.read_connections,
            "tclocal",
        )
        .await?,
    );

    println!("tclocal, other requests");
    let di = Mix::Repeat {
        action: "DescribeInstances",
        body: Bytes::from_static(
            br#"{"Filters":[{"Name":"zone","Values":["ap-guangzhou-3"]}],"Limit":20}"#,
        ),
    };
    r.tclocal_di = Some(
        measure(
            s,
            &mut tclocal,
            tapi.clone(),
            di,
            s.read_connections,
            "DescribeInstances, zone filter, Limit 20",
        )
        .await?,
    );
    r.tclocal_rt = Some(
        measure(
            s,
            &mut tclocal,
            tapi.clone(),
            Mix::RunTerminate,
            s.write_connections,
            &format!(
                "RunInstances(1) + TerminateInstances, {} conns",
                s.write_connections
            ),
        )
        .await?,
    );

    // The large account.
    let more = s.large_instances.saturating_sub(ids.len());
    let t = Instant::now();
    let extra = populate_tclocal(&tclocal, ids.len(), more).await?;
    r.large_populate = t.elapsed();
    ids.extend(extra);
    println!(
        "tclocal: grown to {} instances ({} created in {:.1} s)",
        ids.len(),
        more,
        r.large_populate.as_secs_f64()
    );
    // Flat cost: a second tclocal holds a base-size account; the two are measured in turn,
    // twice each, so a disturbance of the machine during one window shows as a spread
    // between rounds instead of a false ratio.
    let small_data = work.join("tclocal-small");
    let mut small = start_tclocal(s, &small_data, &work.join("tclocal-small.log"))?;
    small.wait_ready("/_tclocal/ready", Some(200), Duration::from_secs(60))?;
    let small_ids = populate_tclocal(&small, 0, s.base_instances).await?;
    let small_api = tc3(&small);
    let small_mix = Mix::Repeat {
        action: "DescribeInstancesStatus",
        body: status_body(&spread(&small_ids, 100)),
    };
    let large_mix = Mix::Repeat {
        action: "DescribeInstancesStatus",
        body: status_body(&spread(&ids, 100)),
    };
    println!("flat cost: DescribeInstancesStatus naming 100 ids, two rounds");
    for round in 1..=2 {
        r.flat_small.push(
            measure(
                s,
                &mut small,
                small_api.clone(),
                small_mix.clone(),
                s.read_connections,
                &format!(
                    "round {round}: {} instances in the account",
                    small_ids.len()
                ),
            )
            .await?,
        );
        r.flat_large.push(
            measure(
                s,
                &mut tclocal,
                tapi.clone(),
                large_mix.clone(),
                s.read_connections,
                &format!("round {round}: {} instances in the account", ids.len()),
            )
            .await?,
        );
    }
    small.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    r.rss_large_running = tclocal.rss_bytes().unwrap_or(0);
    println!(
        "  RSS with {} instances (the process that made them): {}",
        ids.len(),
        mb(r.rss_large_running)
    );
    tclocal.stop();

    println!(
        "start-up with {} instances ({} runs)",
        ids.len(),
        s.startup_runs
    );
    let (times, loaded) = startups(s, work, Some(&data), s.startup_runs).await?;
    println!(
        "  median {:.1} ms (runs: {:?})",
        median(&times).as_secs_f64() * 1e3,
        times
            .iter()
            .map(|t| format!("{:.1}", t.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );
    r.startup_large = times;
    let mut c = Client::new(loaded.addr, tc3(&loaded));
    let answer = c
        .call(
            "DescribeInstancesStatus",
            Bytes::from_static(b"{\"Limit\":1}"),
        )
        .await?;
    let total = serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v["Response"]["TotalCount"].as_u64())
        .unwrap_or(0);
    if total as usize != ids.len() {
        return Err(format!(
            "after a restart the account holds {total} instances, not {}",
            ids.len()
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    r.rss_large_loaded = loaded.rss_bytes().unwrap_or(0);
    println!("  RSS after loading them: {}", mb(r.rss_large_loaded));
    drop(loaded);

    // moto.
    if let Some(moto_bin) = &s.moto {
        moto(s, moto_bin, work, &mut r).await?;
    }

    r.errors = [
        &r.floor_dis,
        &r.tclocal_dis,
        &r.moto_dis,
        &r.tclocal_di,
        &r.tclocal_rt,
        &r.moto_rt,
    ]
    .iter()
    .filter_map(|m| m.as_ref())
    .chain(r.flat_small.iter())
    .chain(r.flat_large.iter())
    .map(|m| m.outcome.errors)
    .sum();
    r.load_after = loadavg();
    r.total = began.elapsed();
    Ok(r)
}

async fn moto(s: &Settings, bin: &Path, work: &Path, r: &mut Results) -> Result<(), String> {
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut command = Command::new(bin);
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let mut moto = Server::start("moto", command, addr, &work.join("moto.log"))?;
    r.moto_startup = moto.wait_ready("/moto-api/", None, Duration::from_secs(120))?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    r.moto_rss_idle = moto.rss_bytes().unwrap_or(0);
    let api = Api::Moto {
        host: addr.to_string(),
    };
    let mut client = Client::new(addr, api.clone());
    let t = Instant::now();
    let mut ids = Vec::new();
    while ids.len() < s.base_instances {
        let n = (s.base_instances - ids.len()).min(100);
        let answer = client.call("RunInstances", api::moto_run_many(n)).await?;
        let made = api.instance_ids(&answer);
        if made.len() != n {
            return Err(format!("moto RunInstances made {} of {n}", made.len()));
        }
        ids.extend(made);
    }
    r.moto_populate = t.elapsed();
    println!(
        "moto: {} instances created in {:.2} s",
        ids.len(),
        r.moto_populate.as_secs_f64()
    );
    let dis = Mix::Repeat {
        action: "DescribeInstanceStatus",
        body: api::moto_describe_status(&spread(&ids, 20)),
    };
    r.moto_dis = Some(
        measure(
            s,
            &mut moto,
            api.clone(),
            dis,
            s.read_connections,
            &format!(
                "moto DescribeInstanceStatus, 20 ids, {} conns",
                s.read_connections
            ),
        )
        .await?,
    );
    r.moto_rt = Some(
        measure(
            s,
            &mut moto,
            api,
            Mix::RunTerminate,
            s.write_connections,
            &format!(
                "moto RunInstances(1) + TerminateInstances, {} conns",
                s.write_connections
            ),
        )
        .await?,
    );
    r.moto_rss_loaded = moto.rss_bytes().unwrap_or(0);
    moto.stop();
    Ok(())
}

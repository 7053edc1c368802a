//! `tclocal-bench`: the benchmark of tclocal beside the bare-server floor and moto.
//!
//! `bench/run` builds the release binaries, installs moto into `.cache/bench/` and runs
//! `tclocal-bench all`, which measures everything in one run and rewrites the generated part
//! of `BENCHMARKS.md` and `bench/chart.svg`. `tclocal-bench smoke` is the seconds-long CI
//! version: same code paths, tiny sizes, no targets asserted, fails only on request errors.
//!
//! Layout:
//! - [`api`]: the requests (TC3-signed JSON for tclocal and the floor, EC2 query form for moto);
//! - [`load`]: the load generator (keep-alive connections, closed loop, HDR histograms);
//! - [`floor`]: the floor server;
//! - [`procs`]: child processes, readiness, RSS;
//! - [`suite`]: the sequence of measurements;
//! - [`report`]: `BENCHMARKS.md` and the SVG chart.

mod api;
mod floor;
mod load;
mod procs;
mod report;
mod suite;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::{Parser, Subcommand};

/// Benchmark of tclocal beside the floor and moto.
#[derive(Debug, Parser)]
#[command(name = "tclocal-bench")]
struct Opts {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The full benchmark; rewrites BENCHMARKS.md's generated part and bench/chart.svg.
    All(AllOpts),
    /// A seconds-long run of the same code paths for CI: no targets, fails on any request error.
    Smoke {
        /// The tclocal binary.
        #[arg(long, default_value = "target/debug/tclocal")]
        tclocal: PathBuf,
    },
    /// Serve the floor (used by `all`).
    Floor {
        /// Address to listen on.
        #[arg(long)]
        listen: SocketAddr,
        /// Request threads; default: what `tclocal serve` uses by default (one fewer than
        /// the machine's cores, at least one), so both serve on the same number of threads.
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Create instances in a running tclocal (for profiling).
    Populate {
        /// The server.
        #[arg(long)]
        addr: SocketAddr,
        /// How many.
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
    /// Load a running server with one request (for profiling).
    Load {
        /// The server.
        #[arg(long)]
        addr: SocketAddr,
        /// `tc3` (tclocal, floor) or `moto`.
        #[arg(long, default_value = "tc3")]
        api: String,
        /// The action (`RunTerminate` for the write pair).
        #[arg(long, default_value = "DescribeInstancesStatus")]
        action: String,
        /// The body.
        #[arg(long, default_value = r#"{"Limit":20}"#)]
        body: String,
        /// Connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Warm-up seconds.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Measured seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
}

#[derive(Debug, clap::Args)]
struct AllOpts {
    /// The tclocal binary (a release build).
    #[arg(long, default_value = "target/release/tclocal")]
    tclocal: PathBuf,
    /// `moto_server`.
    #[arg(long, default_value = ".cache/bench/moto/bin/moto_server")]
    moto: PathBuf,
    /// Leave moto out.
    #[arg(long)]
    no_moto: bool,
    /// The Markdown report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// The chart.
    #[arg(long, default_value = "bench/chart.svg")]
    chart: PathBuf,
    /// Warm-up seconds before each window.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Seconds of each measured window.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Instances in the large account.
    #[arg(long, default_value_t = 100_000)]
    large: usize,
    /// Load-generator worker threads.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Write no files (a trial run).
    #[arg(long)]
    dry_run: bool,
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// `tclocal serve`'s default number of request threads (its `default_workers`).
fn server_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn main() -> ExitCode {
    let opts = Opts::parse();
    match opts.command {
        Cmd::All(a) => all(&a),
        Cmd::Smoke { tclocal } => smoke(tclocal),
        Cmd::Floor { listen, workers } => {
            runtime(workers.unwrap_or_else(server_workers)).block_on(async {
                match tokio::net::TcpListener::bind(listen).await {
                    Ok(l) => {
                        floor::serve(l).await;
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("floor: cannot listen on {listen}: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
        Cmd::Populate { addr, count } => runtime(2).block_on(async {
            match suite::populate(addr, 0, count).await {
                Ok(ids) => {
                    println!("{} instances created", ids.len());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("populate: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
        Cmd::Load {
            addr,
            api,
            action,
            body,
            connections,
            warmup,
            seconds,
        } => {
            let api = if api == "moto" {
                api::Api::Moto {
                    host: addr.to_string(),
                }
            } else {
                api::Api::Tc3 {
                    host: addr.to_string(),
                }
            };
            let mix = if action == "RunTerminate" {
                load::Mix::RunTerminate
            } else {
                load::Mix::Repeat {
                    action: Box::leak(action.into_boxed_str()),
                    body: Bytes::from(body),
                }
            };
            let outcome = runtime(2).block_on(load::run(load::Plan {
                addr,
                api,
                mix,
                connections,
                warmup: secs(warmup),
                measure: secs(seconds),
            }));
            println!("{}", outcome.summary());
            println!("iterations/s {:.0}", outcome.ips());
            println!("answered {}", outcome.answered);
            if outcome.errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn all(a: &AllOpts) -> ExitCode {
    let settings = suite::Settings {
        tclocal: a.tclocal.clone(),
        moto: (!a.no_moto).then(|| a.moto.clone()),
        warmup: secs(a.warmup),
        measure: secs(a.seconds),
        read_connections: 64,
        write_connections: 16,
        base_instances: 1000,
        large_instances: a.large,
        startup_runs: 5,
        client_threads: a.client_threads,
    };
    for bin in [Some(&settings.tclocal), settings.moto.as_ref()]
        .into_iter()
        .flatten()
    {
        if !bin.exists() {
            eprintln!(
                "{} not found (bench/run builds and installs what is needed)",
                bin.display()
            );
            return ExitCode::FAILURE;
        }
    }
    let results = match runtime(settings.client_threads).block_on(suite::run(&settings)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let machine = report::Machine::probe(settings.moto.as_deref());
    println!();
    for t in report::targets(&results) {
        let met = match t.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "-",
        };
        println!("{:<72} {:>28}  {:<10} {met}", t.what, t.result, t.bound);
    }
    if !a.dry_run {
        let section = report::section(&settings, &results, &machine, "bench/run");
        if let Err(e) = report::write_markdown(&a.out, &section) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        if let Err(e) = std::fs::write(&a.chart, report::chart(&settings, &results)) {
            eprintln!("{}: {e}", a.chart.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {} and {}", a.out.display(), a.chart.display());
    }
    if results.errors > 0 {
        eprintln!("{} requests failed", results.errors);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn smoke(tclocal: PathBuf) -> ExitCode {
    let settings = suite::Settings {
        tclocal,
        moto: None,
        warmup: secs(0.3),
        measure: secs(1.0),
        read_connections: 8,
        write_connections: 4,
        base_instances: 200,
        large_instances: 1000,
        startup_runs: 1,
        client_threads: 2,
    };
    let results = match runtime(2).block_on(suite::run(&settings)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench smoke failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Render the report too, so its code runs; nothing is written.
    let machine = report::Machine::probe(None);
    let section = report::section(&settings, &results, &machine, "tclocal-bench smoke");
    let chart = report::chart(&settings, &results);
    if !section.contains("### Targets") || !chart.starts_with("<svg") {
        eprintln!("bench smoke: the report did not render");
        return ExitCode::FAILURE;
    }
    if results.errors > 0 {
        eprintln!("bench smoke: {} requests failed", results.errors);
        return ExitCode::FAILURE;
    }
    println!("bench smoke: every request succeeded");
    ExitCode::SUCCESS
}

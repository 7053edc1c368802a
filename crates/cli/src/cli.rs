//! Command-line options, their translation into a server [`Config`], and the commands.
//!
//! Precedence, in one place: flag > environment variable (`TCLOCAL_<FLAG>`) > default.
//! (`tclocal call` follows tccli's rules instead; see [`crate::call`].)

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tclocal_server::config::Limits;
use tclocal_server::ratelimit::RateMode;
use tclocal_server::{App, AuthMode, Config, Durability, StoreConfig};
use tclocal_services::cvm::{CvmSettings, Timings};
use tclocal_services::identity::{DEV_SECRET_ID, DEV_SECRET_KEY, RootCredential};
use tclocal_sign::SecretKey;
use tclocal_wire::Language;

/// Local emulator of the Tencent Cloud API 3.0.
#[derive(Debug, Parser)]
#[command(name = "tclocal", version, about)]
pub(crate) struct Opts {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the emulator.
    Serve(ServeOpts),
    /// Sign and send one API call, like tccli, and print its Response as JSON.
    Call(crate::call::CallOpts),
    /// List, create, disable and enable API keys of a running tclocal (control plane).
    Keys(crate::admin::KeysOpts),
    /// Add, list and remove fault rules of a running tclocal (control plane).
    Faults(crate::admin::FaultsOpts),
    /// Save the state of a running tclocal to a file, or load one into it (control plane).
    State(crate::admin::StateOpts),
    /// Empty the state of a running tclocal: everything, one service, or one account
    /// (control plane).
    Reset(crate::admin::ResetOpts),
    /// Print the variables that send unmodified tools to `tclocal serve --tls`
    /// (`eval "$(tclocal env)"`): proxy, CA bundle, development key, region.
    Env(crate::transparent::EnvOpts),
    /// Print where the local CA certificate is and its fingerprint (made if missing).
    Ca(crate::transparent::CaOpts),
    /// List the products and actions tclocal knows: emulated, validated only, offline.
    Coverage(crate::coverage::CoverageOpts),
}

#[derive(Debug, Args)]
struct ServeOpts {
    /// Address to listen on. Loopback by default: tclocal has no business on a network.
    #[arg(long, env = "TCLOCAL_LISTEN", default_value = "127.0.0.1:4570")]
    listen: SocketAddr,
    /// Directory of the embedded SQLite store; state survives restarts.
    #[arg(long, env = "TCLOCAL_DATA_DIR", default_value = "./.tclocal")]
    data_dir: PathBuf,
    /// Keep everything in memory; write nothing to disk.
    #[arg(long, env = "TCLOCAL_EPHEMERAL")]
    ephemeral: bool,
    /// Another store: a PostgreSQL database, `postgres://user[:password]@host[:port]/db`, used by
    /// this process alone.
    #[arg(long, env = "TCLOCAL_STORE")]
    store: Option<StoreUrl>,
    /// Signature and credential checks: strict, soft (check, log, serve anyway) or off.
    #[arg(long, env = "TCLOCAL_AUTH", default_value = "strict")]
    auth: AuthMode,
    /// CAM policy evaluation for sub-users and roles: strict, soft or off.
    #[arg(long, env = "TCLOCAL_CAM", default_value = "strict")]
    cam: AuthMode,
    /// Language of answers to requests that name none: zh-CN, en-US or ja-JP.
    #[arg(long, env = "TCLOCAL_LANGUAGE", default_value = "zh-CN")]
    language: Language,
    /// Largest accepted difference, in seconds, between a request's timestamp and server time.
    #[arg(long, env = "TCLOCAL_MAX_SKEW", default_value_t = 300)]
    max_skew: i64,
    /// CVM transition durations in emulated seconds: `default`, `instant`, or
    /// `launch=10,start=5,stop=5,reboot=5,terminate=3`.
    #[arg(long, env = "TCLOCAL_CVM_TIMINGS", default_value = "default")]
    cvm_timings: String,
    /// CVM instances one account may hold in one region.
    #[arg(long, env = "TCLOCAL_CVM_INSTANCE_QUOTA", default_value_t = 1000)]
    cvm_instance_quota: u64,
    /// CVM capacity left to sell: `ZONE/TYPE=N` or `ZONE=N`, comma-separated
    /// (e.g. `ap-guangzhou-3/S5.MEDIUM2=0` makes that type sold out there).
    #[arg(long, env = "TCLOCAL_CVM_CAPACITY", default_value = "")]
    cvm_capacity: String,
    /// `ZONE/TYPE` pairs whose launches end LAUNCH_FAILED, comma-separated.
    #[arg(long, env = "TCLOCAL_CVM_LAUNCH_FAILURES", default_value = "")]
    cvm_launch_failures: String,
    /// Request journal entries kept in memory (`GET /_tclocal/requests`).
    #[arg(long, env = "TCLOCAL_JOURNAL_SIZE", default_value_t = 10_000)]
    journal_size: usize,
    /// Rate limits: `off`, or `documented` (each action's documented requests per second).
    #[arg(long, env = "TCLOCAL_RATE_LIMITS", default_value = "off")]
    rate_limits: RateMode,
    /// A custom rate limit, `Action=N` or `service:Action=N` requests per second per account
    /// (repeatable, or comma-separated).
    #[arg(long = "rate-limit", env = "TCLOCAL_RATE_LIMIT", value_delimiter = ',')]
    rate_limit: Vec<String>,
    /// Answer actions tclocal validates but does not emulate with a deterministic stub that
    /// follows the action's output model (instead of `UnsupportedOperation.NotEmulated`).
    #[arg(long, env = "TCLOCAL_STUB_RESPONSES")]
    stub_responses: bool,
    /// Lets clients presenting this token use the control plane from anywhere (otherwise
    /// loopback only).
    #[arg(long, env = "TCLOCAL_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<SecretKey>,
    /// Transparent mode: the listener also serves HTTPS and is an HTTP proxy (`HTTPS_PROXY`)
    /// for the Tencent Cloud API hosts, with certificates from a local CA (`tclocal env`).
    #[arg(long, env = "TCLOCAL_TLS")]
    tls: bool,
    /// Where the local CA lives; default: the data directory (with `--ephemeral`: its key in
    /// memory only, its certificate in a temporary file).
    #[arg(long, env = "TCLOCAL_CA_DIR")]
    ca_dir: Option<PathBuf>,
    /// A state file, or a folder of them applied in name order, merged into the state at
    /// every start before `/_tclocal/ready` answers 200 (repeatable).
    #[arg(long = "seed", env = "TCLOCAL_SEED", value_delimiter = ',')]
    seeds: Vec<PathBuf>,
    /// What an answered write survives: `process` (a crash of tclocal, the default) or
    /// `power` (power loss too; one fsync per commit).
    #[arg(long, env = "TCLOCAL_DURABILITY", default_value = "process")]
    durability: Durability,
    /// Threads answering requests; default: one fewer than the machine's cores (at least
    /// one), leaving a core to the clients that share the machine.
    #[arg(long, env = "TCLOCAL_WORKERS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
}

/// The default number of request threads: tclocal runs beside its clients (a test suite,
/// an SDK script), and on a small machine a worker per core makes the two preempt each
/// other mid-request; one core left to them halved the benchmark's p99 on 2 cores
/// (BENCHMARKS.md).
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// A failure of a command, with its exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The options do not make a valid configuration.
    Usage(String),
    /// The server could not start or failed while running; a call got no valid answer.
    Runtime(String),
    /// A call was answered with an API error: `Code: Message (RequestId)`.
    Api(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Runtime(m) | CliError::Api(m) => f.write_str(m),
        }
    }
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) | CliError::Api(_) => 1,
        }
    }
}

/// The root credential: `TCLOCAL_SECRET_ID` / `TCLOCAL_SECRET_KEY` (read only from the
/// environment, so a secret never sits in the process list), else the development key.
/// `TENCENTCLOUD_*` are never read: they may hold a user's real keys.
pub(crate) fn root_credential() -> Result<RootCredential, CliError> {
    match (
        std::env::var("TCLOCAL_SECRET_ID").ok(),
        std::env::var("TCLOCAL_SECRET_KEY").ok(),
    ) {
        (None, None) => Ok(RootCredential::development()),
        (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => Ok(RootCredential {
            secret_id: id,
            secret_key: SecretKey::new(key),
        }),
        _ => Err(CliError::Usage(
            "set both TCLOCAL_SECRET_ID and TCLOCAL_SECRET_KEY, or neither".to_owned(),
        )),
    }
}

/// The `--store` URL; `Debug` hides its password.
#[derive(Clone)]
struct StoreUrl(String);

impl std::str::FromStr for StoreUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(StoreUrl(url.to_owned()))
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StoreUrl")
            .field(&tclocal_store::redact_postgres_url(&self.0))
            .finish()
    }
}

impl ServeOpts {
    fn into_config(self) -> Result<Config, CliError> {
        let store = match (self.ephemeral, self.store) {
            (true, Some(_)) => {
                return Err(CliError::Usage(
                    "--ephemeral and --store exclude each other".to_owned(),
                ));
            }
            (true, None) => StoreConfig::Memory,
            (false, None) => StoreConfig::Sqlite(self.data_dir),
            (false, Some(StoreUrl(url))) => {
                let scheme = url.split_once("://").map(|(scheme, _)| scheme);
                if !matches!(scheme, Some("postgres" | "postgresql")) {
                    return Err(CliError::Usage(format!(
                        "--store {:?}: not a store URL this version knows; use postgres://user@host:port/db \
                         (or --data-dir for the embedded SQLite store, --ephemeral for memory)",
                        tclocal_store::redact_postgres_url(&url)
                    )));
                }
                StoreConfig::Postgres(url)
            }
        };
        if self.max_skew < 0 {
            return Err(CliError::Usage("--max-skew must be 0 or more".to_owned()));
        }
        let mut cvm = CvmSettings {
            timings: Timings::parse(&self.cvm_timings)
                .map_err(|e| CliError::Usage(format!("--cvm-timings: {e}")))?,
            instance_quota: self.cvm_instance_quota,
            ..CvmSettings::default()
        };
        cvm.add_capacity(&self.cvm_capacity)
            .map_err(|e| CliError::Usage(format!("--cvm-capacity: {e}")))?;
        cvm.add_launch_failures(&self.cvm_launch_failures)
            .map_err(|e| CliError::Usage(format!("--cvm-launch-failures: {e}")))?;
        Ok(Config {
            listen: self.listen,
            store,
            auth: self.auth,
            cam: self.cam,
            language: self.language,
            max_skew_secs: self.max_skew,
            root: root_credential()?,
            limits: Limits::default(),
            stub_responses: self.stub_responses,
            cvm,
            journal_size: self.journal_size,
            rate_mode: self.rate_limits,
            rate_limits: self.rate_limit,
            admin_token: self.admin_token.filter(|t| !t.expose().is_empty()),
            seeds: self.seeds,
            durability: self.durability,
        })
    }
}

/// Runs the chosen command.
pub(crate) fn run(opts: Opts) -> Result<(), CliError> {
    match opts.command {
        Command::Serve(serve) => {
            let ca_plan = crate::transparent::CaPlan::new(
                serve.tls,
                serve.ca_dir.as_deref(),
                &serve.data_dir,
                serve.ephemeral,
            );
            let workers = serve.workers.map_or_else(default_workers, usize::from);
            let config = serve.into_config()?;
            let transparent = ca_plan.start()?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
            runtime.block_on(serve_forever(config, transparent))
        }
        Command::Call(call) => crate::call::run(call),
        Command::Keys(keys) => crate::admin::keys(keys),
        Command::Faults(faults) => crate::admin::faults(faults),
        Command::State(state) => crate::admin::state(state),
        Command::Reset(reset) => crate::admin::reset(&reset),
        Command::Env(env) => crate::transparent::env(&env),
        Command::Ca(ca) => crate::transparent::ca(&ca),
        Command::Coverage(coverage) => crate::coverage::run(&coverage),
    }
}

async fn serve_forever(
    config: Config,
    transparent: Option<tclocal_server::proxy::Transparent>,
) -> Result<(), CliError> {
    tclocal_server::telemetry::init();
    let app = App::build(&config)
        .await
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CliError::Runtime(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    println!(
        "tclocal listening on http://{addr} (store: {}, auth: {:?})",
        app.store_name(),
        config.auth
    );
    if config.root.secret_id == DEV_SECRET_ID {
        println!("development credentials: SecretId {DEV_SECRET_ID} SecretKey {DEV_SECRET_KEY}");
    } else {
        println!(
            "root SecretId {} (SecretKey from TCLOCAL_SECRET_KEY)",
            config.root.secret_id
        );
    }
    match transparent {
        Some(transparent) => {
            println!("{}", crate::transparent::describe(&transparent, addr));
            tclocal_server::serve::serve_transparent(listener, app, transparent, shutdown_signal())
                .await;
        }
        None => tclocal_server::serve::serve(listener, app, shutdown_signal()).await,
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Opts::command().debug_assert();
    }

    #[test]
    fn serve_defaults_match_the_documented_contract() {
        let opts = Opts::try_parse_from(["tclocal", "serve"]).unwrap();
        let Command::Serve(s) = opts.command else {
            unreachable!()
        };
        assert_eq!(s.listen.to_string(), "127.0.0.1:4570");
        assert_eq!(s.auth, AuthMode::Strict);
        assert_eq!(s.language, Language::ZhCn);
        assert_eq!(s.max_skew, 300);
    }

    #[test]
    fn conflicting_store_flags_are_a_usage_error() {
        let opts =
            Opts::try_parse_from(["tclocal", "serve", "--ephemeral", "--store", "postgres://x"])
                .unwrap();
        let Command::Serve(s) = opts.command else {
            unreachable!()
        };
        assert_eq!(s.into_config().unwrap_err().exit_code(), 2);
        assert!(Opts::try_parse_from(["tclocal", "serve", "--auth", "maybe"]).is_err());
        let with_token =
            Opts::try_parse_from(["tclocal", "serve", "--admin-token", "hunter2"]).unwrap();
        assert!(
            !format!("{with_token:?}").contains("hunter2"),
            "tokens stay out of Debug"
        );
        for bad in [
            ["--cvm-timings", "boot=1"],
            ["--cvm-capacity", "nonsense"],
            ["--cvm-launch-failures", "nozone"],
        ] {
            let opts = Opts::try_parse_from(["tclocal", "serve", bad[0], bad[1]]).unwrap();
            let Command::Serve(s) = opts.command else {
                unreachable!()
            };
            assert_eq!(s.into_config().unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn store_accepts_postgres_urls_and_refuses_others() {
        let serve = |url: &str| {
            let opts = Opts::try_parse_from(["tclocal", "serve", "--store", url]).unwrap();
            let Command::Serve(s) = opts.command else {
                unreachable!()
            };
            s
        };
        for url in [
            "postgres://me@127.0.0.1:5432/tclocal",
            "postgresql://me:hunter2@localhost/tclocal",
        ] {
            let s = serve(url);
            assert!(
                !format!("{s:?}").contains("hunter2"),
                "passwords stay out of Debug"
            );
            let config = s.into_config().unwrap();
            assert_eq!(config.store, StoreConfig::Postgres(url.to_owned()));
            assert!(!format!("{config:?}").contains("hunter2"), "{url}");
        }
        for url in [
            "mysql://me:hunter2@h/db",
            "sqlite:///tmp/x",
            "127.0.0.1:5432",
        ] {
            let err = serve(url).into_config().unwrap_err();
            assert_eq!(err.exit_code(), 2, "{url}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(err.to_string().contains("postgres://"), "{err}");
        }
    }
}

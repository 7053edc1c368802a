//! `tclocal keys …`, `tclocal faults …`, `tclocal state …` and `tclocal reset`: manage a running
//! tclocal through its control plane (`/_tclocal/*`), not through the API, so no signature or
//! CAM permission is involved.
//!
//! `state save|load` stream the file and show a progress bar on standard error when it is a
//! terminal; piped or redirected, they print only their one result line.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::cli::CliError;

/// Where the control plane is.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The running tclocal.
    #[arg(
        long,
        global = true,
        env = "TCLOCAL_ENDPOINT",
        default_value = "http://127.0.0.1:4570"
    )]
    endpoint: String,
    /// The admin token, when the server was started with `--admin-token`.
    #[arg(
        long,
        global = true,
        env = "TCLOCAL_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<tclocal_sign::SecretKey>,
}

/// `tclocal keys`.
#[derive(Debug, Args)]
pub(crate) struct KeysOpts {
    #[command(subcommand)]
    command: KeysCommand,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List every permanent key (ids only) with its account and UIN.
    List,
    /// Create a key for an account root or a sub-user; prints the SecretKey once.
    Create {
        /// The UIN (an account's OwnerUin or a sub-user's Uin).
        #[arg(long)]
        uin: String,
    },
    /// Disable a key: calls signed with it get AuthFailure.SecretIdNotFound.
    Disable {
        /// The SecretId.
        secret_id: String,
    },
    /// Enable a disabled key.
    Enable {
        /// The SecretId.
        secret_id: String,
    },
    /// Create another account with a root key; prints its SecretKey once.
    NewAccount,
}

/// `tclocal faults`.
#[derive(Debug, Args)]
pub(crate) struct FaultsOpts {
    #[command(subcommand)]
    command: FaultsCommand,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Subcommand)]
enum FaultsCommand {
    /// List the fault rules.
    List,
    /// Add a rule, e.g. `--action DescribeZones --code InternalError --count 3`.
    Add {
        /// Product short name.
        #[arg(long)]
        service: Option<String>,
        /// Action.
        #[arg(long)]
        action: Option<String>,
        /// Region.
        #[arg(long)]
        region: Option<String>,
        /// Account (AppId or UIN).
        #[arg(long)]
        account: Option<String>,
        /// Error code to answer.
        #[arg(long)]
        code: Option<String>,
        /// Message instead of the code's own.
        #[arg(long)]
        message: Option<String>,
        /// Chance of firing, 0 to 1.
        #[arg(long, default_value_t = 1.0)]
        probability: f64,
        /// Added latency in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Calls the rule hits before it goes.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Remove one rule by id.
    Delete {
        /// The rule id.
        id: String,
    },
    /// Remove every rule.
    Clear,
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))
}

/// One control-plane request; answers the body of a success, the server's reason otherwise.
fn request(
    target: &Target,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<String, CliError> {
    let url = format!("{}/_tclocal{path}", target.endpoint.trim_end_matches('/'));
    let method: reqwest::Method = method
        .parse()
        .map_err(|_| CliError::Usage(format!("bad method {method}")))?;
    runtime()?.block_on(async {
        let mut req = client()?.request(method, &url);
        if let Some(token) = &target.admin_token {
            req = req.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CliError::Runtime(format!("cannot reach {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(failure(resp).await);
        }
        Ok(resp.text().await.unwrap_or_default())
    })
}

/// One control-plane request; prints the JSON answer.
fn send(target: &Target, method: &str, path: &str, body: Option<Value>) -> Result<(), CliError> {
    let body = body.map(|b| b.to_string().into_bytes());
    let text = request(target, method, path, body)?;
    if !text.is_empty() {
        let pretty = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or(text);
        println!("{pretty}");
    }
    Ok(())
}

/// `tclocal state`.
#[derive(Debug, Args)]
pub(crate) struct StateOpts {
    #[command(subcommand)]
    command: StateCommand,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// Write the state to FILE (a versioned JSON snapshot; see docs/state.md).
    Save {
        /// Where to write it.
        file: PathBuf,
        /// Only this service's state (`cvm`, `cam`).
        #[arg(long)]
        service: Option<String>,
        /// Only this account's state (its AppId or OwnerUin).
        #[arg(long)]
        account: Option<String>,
        /// Include secret keys, session tokens and MFA seeds (left out by default).
        #[arg(long)]
        secrets: bool,
    },
    /// Load FILE into the running tclocal: the state becomes the file's (or, with --merge,
    /// the file's rows are written over the current ones).
    Load {
        /// The snapshot file.
        file: PathBuf,
        /// Only this service's tables (the file's own scope otherwise).
        #[arg(long)]
        service: Option<String>,
        /// Only this account's rows (AppId or OwnerUin); other accounts are left untouched
        /// (the file's own scope otherwise).
        #[arg(long)]
        account: Option<String>,
        /// Keep rows the file does not hold.
        #[arg(long)]
        merge: bool,
    },
}

/// `tclocal reset`.
#[derive(Debug, Args)]
pub(crate) struct ResetOpts {
    /// Only this service's state (`cvm`, `cam`); everything otherwise, including the request
    /// journal and fault rules.
    #[arg(long)]
    service: Option<String>,
    /// Only this account (AppId or OwnerUin): its instances, key pairs, sub-users, policies,
    /// roles, MFA devices and temporary keys go; the account and its root keys stay.
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    target: Target,
}

fn scope_query(service: Option<&str>, account: Option<&str>, more: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(service) = service {
        query.append_pair("service", service);
    }
    if let Some(account) = account {
        query.append_pair("account", account);
    }
    for (k, v) in more {
        query.append_pair(k, v);
    }
    let query = query.finish();
    if query.is_empty() {
        query
    } else {
        format!("?{query}")
    }
}

/// Runs `tclocal state …`.
pub(crate) fn state(opts: StateOpts) -> Result<(), CliError> {
    let t = &opts.target;
    match opts.command {
        StateCommand::Save {
            file,
            service,
            account,
            secrets,
        } => {
            let extra: &[(&str, &str)] = if secrets { &[("secrets", "true")] } else { &[] };
            let path = format!(
                "/state{}",
                scope_query(service.as_deref(), account.as_deref(), extra)
            );
            let bytes = download(t, &path, &file)?;
            let rows = count_records(&file)?;
            println!("saved {rows} records ({bytes} bytes) to {}", file.display());
            Ok(())
        }
        StateCommand::Load {
            file,
            service,
            account,
            merge,
        } => {
            let body = std::fs::read(&file)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            let mode = if merge { "merge" } else { "replace" };
            let path = format!(
                "/state{}",
                scope_query(service.as_deref(), account.as_deref(), &[("mode", mode)])
            );
            let text = upload(t, &path, body)?;
            println!("{text}");
            Ok(())
        }
    }
}

/// Bodies move in pieces of this size, so the bar moves and memory stays flat.
const CHUNK: usize = 64 * 1024;

/// A byte-count bar on standard error when it is a terminal; hidden otherwise, so piped and
/// redirected output stays exactly the result line.
fn progress(total: Option<u64>, verb: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_message(verb.to_owned());
    bar
}

fn client() -> Result<reqwest::Client, CliError> {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| CliError::Runtime(e.to_string()))
}

/// The server's reason for a failed control-plane answer.
async fn failure(resp: reqwest::Response) -> CliError {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let why = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or(text);
    CliError::Runtime(format!("{status}: {why}"))
}

/// Streams `GET path` into `file` (through a temporary file beside it, so a failed transfer
/// leaves no half-written snapshot); answers the byte count.
fn download(target: &Target, path: &str, file: &Path) -> Result<u64, CliError> {
    let url = format!("{}/_tclocal{path}", target.endpoint.trim_end_matches('/'));
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let cannot_write =
        |e: std::io::Error| CliError::Runtime(format!("cannot write {}: {e}", file.display()));
    let mut out = tempfile::NamedTempFile::new_in(dir).map_err(cannot_write)?;
    let written = runtime()?.block_on(async {
        let mut req = client()?.get(&url);
        if let Some(token) = &target.admin_token {
            req = req.bearer_auth(token.expose());
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| CliError::Runtime(format!("cannot reach {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(failure(resp).await);
        }
        let bar = progress(resp.content_length(), "saving");
        let mut written = 0u64;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| CliError::Runtime(format!("the state transfer broke off: {e}")))?
        {
            out.write_all(&chunk).map_err(cannot_write)?;
            written += chunk.len() as u64;
            bar.set_position(written);
        }
        bar.finish_and_clear();
        Ok(written)
    })?;
    out.as_file().sync_all().map_err(cannot_write)?;
    out.persist(file).map_err(|e| cannot_write(e.error))?;
    Ok(written)
}

/// Counts the records of a saved snapshot without holding the records in memory.
fn count_records(file: &Path) -> Result<usize, CliError> {
    #[derive(serde::Deserialize)]
    struct Counted {
        tables: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<String, serde::de::IgnoredAny>,
        >,
    }
    let reader = std::io::BufReader::new(
        std::fs::File::open(file)
            .map_err(|e| CliError::Runtime(format!("cannot read {}: {e}", file.display())))?,
    );
    let counted: Counted = serde_json::from_reader(reader).map_err(|e| {
        CliError::Runtime(format!(
            "the server sent something that is not a state file: {e}"
        ))
    })?;
    Ok(counted
        .tables
        .values()
        .map(std::collections::BTreeMap::len)
        .sum())
}

/// Streams `body` to `PUT path` in pieces, counting them on the bar; answers the server's JSON.
fn upload(target: &Target, path: &str, body: Vec<u8>) -> Result<String, CliError> {
    let url = format!("{}/_tclocal{path}", target.endpoint.trim_end_matches('/'));
    runtime()?.block_on(async {
        let total = body.len() as u64;
        let bar = progress(Some(total), "loading");
        let body = bytes::Bytes::from(body);
        let pieces: Vec<bytes::Bytes> = (0..body.len())
            .step_by(CHUNK)
            .map(|at| body.slice(at..(at + CHUNK).min(body.len())))
            .collect();
        let counted = bar.clone();
        let stream = futures_util::stream::iter(pieces).map(move |piece| {
            counted.inc(piece.len() as u64);
            Ok::<_, std::io::Error>(piece)
        });
        let mut req = client()?
            .put(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_LENGTH, total)
            .body(reqwest::Body::wrap_stream(stream));
        if let Some(token) = &target.admin_token {
            req = req.bearer_auth(token.expose());
        }
        let sent = req.send().await;
        // The whole body is out once an answer comes; the import itself is the server's.
        bar.finish_and_clear();
        let resp = sent.map_err(|e| CliError::Runtime(format!("cannot reach {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(failure(resp).await);
        }
        Ok(resp.text().await.unwrap_or_default())
    })
}

/// Runs `tclocal reset`.
pub(crate) fn reset(opts: &ResetOpts) -> Result<(), CliError> {
    let path = format!(
        "/reset{}",
        scope_query(opts.service.as_deref(), opts.account.as_deref(), &[])
    );
    send(&opts.target, "POST", &path, None)
}

/// Runs `tclocal keys …`.
pub(crate) fn keys(opts: KeysOpts) -> Result<(), CliError> {
    let t = &opts.target;
    match opts.command {
        KeysCommand::List => send(t, "GET", "/keys", None),
        KeysCommand::Create { uin } => {
            send(t, "POST", "/keys", Some(serde_json::json!({"uin": uin})))
        }
        KeysCommand::Disable { secret_id } => {
            send(t, "POST", &format!("/keys/{secret_id}/disable"), None)
        }
        KeysCommand::Enable { secret_id } => {
            send(t, "POST", &format!("/keys/{secret_id}/enable"), None)
        }
        KeysCommand::NewAccount => send(t, "POST", "/accounts", None),
    }
}

/// Runs `tclocal faults …`.
pub(crate) fn faults(opts: FaultsOpts) -> Result<(), CliError> {
    let t = &opts.target;
    match opts.command {
        FaultsCommand::List => send(t, "GET", "/faults", None),
        FaultsCommand::Add {
            service,
            action,
            region,
            account,
            code,
            message,
            probability,
            latency_ms,
            count,
        } => {
            let rule = serde_json::json!({
                "service": service, "action": action, "region": region, "account": account,
                "code": code, "message": message, "probability": probability,
                "latency_ms": latency_ms, "count": count,
            });
            send(t, "POST", "/faults", Some(rule))
        }
        FaultsCommand::Delete { id } => send(t, "DELETE", &format!("/faults/{id}"), None),
        FaultsCommand::Clear => send(t, "DELETE", "/faults", None),
    }
}

//! `tclocal keys …` and `tclocal faults …`: manage a running tclocal through its control plane
//! (`/_tclocal/*`), not through the API, so no signature or CAM permission is involved.

use clap::{Args, Subcommand};
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
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| CliError::Runtime(e.to_string()))?;
        let mut req = client.request(method, &url);
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
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let why = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or(text);
            return Err(CliError::Runtime(format!("{status}: {why}")));
        }
        Ok(text)
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
        file: std::path::PathBuf,
        /// Only this service's state (`cvm`, `cam`).
        #[arg(long)]
        service: Option<String>,
        /// Include secret keys, session tokens and MFA seeds (left out by default).
        #[arg(long)]
        secrets: bool,
    },
    /// Load FILE into the running tclocal: the state becomes the file's (or, with --merge,
    /// the file's rows are written over the current ones).
    Load {
        /// The snapshot file.
        file: std::path::PathBuf,
        /// Only this service's tables.
        #[arg(long)]
        service: Option<String>,
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
    #[command(flatten)]
    target: Target,
}

fn service_query(service: Option<&str>, more: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(service) = service {
        query.append_pair("service", service);
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
            secrets,
        } => {
            let extra: &[(&str, &str)] = if secrets { &[("secrets", "true")] } else { &[] };
            let path = format!("/state{}", service_query(service.as_deref(), extra));
            let text = request(t, "GET", &path, None)?;
            let rows = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v["tables"].as_object().map(|t| {
                        t.values()
                            .filter_map(Value::as_object)
                            .map(serde_json::Map::len)
                            .sum::<usize>()
                    })
                })
                .unwrap_or(0);
            std::fs::write(&file, text)
                .map_err(|e| CliError::Runtime(format!("cannot write {}: {e}", file.display())))?;
            println!("saved {rows} records to {}", file.display());
            Ok(())
        }
        StateCommand::Load {
            file,
            service,
            merge,
        } => {
            let body = std::fs::read(&file)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            let mode = if merge { "merge" } else { "replace" };
            let path = format!(
                "/state{}",
                service_query(service.as_deref(), &[("mode", mode)])
            );
            let text = request(t, "PUT", &path, Some(body))?;
            println!("{text}");
            Ok(())
        }
    }
}

/// Runs `tclocal reset`.
pub(crate) fn reset(opts: &ResetOpts) -> Result<(), CliError> {
    let path = format!("/reset{}", service_query(opts.service.as_deref(), &[]));
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

//! Transparent mode on the command line: `serve --tls` (the CA it uses), `tclocal env` (the
//! variables that send unmodified tools to tclocal) and `tclocal ca` (the CA's certificate).
//!
//! The CA lives in `--ca-dir`, else the data directory; `env` and `ca` make it there when it
//! does not exist yet, so a shell can be set up before the server starts. With
//! `serve --ephemeral` and no `--ca-dir` the CA's key stays in memory and its certificate is
//! written to a temporary directory that is removed at exit.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use tclocal_server::proxy::Transparent;
use tclocal_server::tls::LocalCa;

use crate::cli::CliError;

/// Where `serve --tls` finds its CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CaPlan {
    /// No transparent mode.
    Off,
    /// Load or make the CA in this directory.
    Dir(PathBuf),
    /// Key in memory, certificate in a temporary directory.
    InMemory,
}

impl CaPlan {
    /// The plan for `serve`'s flags.
    pub(crate) fn new(
        tls: bool,
        ca_dir: Option<&Path>,
        data_dir: &Path,
        ephemeral: bool,
    ) -> CaPlan {
        match (tls, ca_dir, ephemeral) {
            (false, _, _) => CaPlan::Off,
            (true, Some(dir), _) => CaPlan::Dir(dir.to_path_buf()),
            (true, None, true) => CaPlan::InMemory,
            (true, None, false) => CaPlan::Dir(data_dir.to_path_buf()),
        }
    }

    /// Loads or makes the CA and builds the TLS side; `None` when transparent mode is off.
    pub(crate) fn start(&self) -> Result<Option<Transparent>, CliError> {
        let ca = match self {
            CaPlan::Off => return Ok(None),
            CaPlan::Dir(dir) => LocalCa::load_or_create(dir),
            CaPlan::InMemory => LocalCa::in_memory(),
        }
        .map_err(|e| CliError::Runtime(format!("local CA: {e}")))?;
        Transparent::new(Arc::new(ca))
            .map(Some)
            .map_err(|e| CliError::Runtime(format!("local CA: {e}")))
    }
}

/// The start-up lines of `serve --tls`.
pub(crate) fn describe(transparent: &Transparent, addr: SocketAddr) -> String {
    let ca = transparent.ca();
    let proxy = proxy_url(addr);
    let kept = match ca.key_path() {
        Some(key) => format!("key {}", key.display()),
        None => "key in memory only; the certificate file is removed at exit".to_owned(),
    };
    format!(
        "transparent mode: HTTPS on https://{addr}, and HTTPS_PROXY={proxy} for *.tencentcloudapi.com\n\
         local CA: {} (SHA-256 {}; {kept})",
        ca.cert_path().display(),
        ca.sha256_fingerprint(),
    )
}

/// `http://HOST:PORT` for clients: an unspecified listen address is reached on loopback.
fn proxy_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Where the CA is, for `env` and `ca`: the same flags and variables as `serve`.
#[derive(Debug, Args)]
pub(crate) struct CaDirOpts {
    /// The data directory tclocal serves with (`serve --data-dir`).
    #[arg(long, env = "TCLOCAL_DATA_DIR", default_value = "./.tclocal")]
    data_dir: PathBuf,
    /// The CA directory tclocal serves with (`serve --ca-dir`); default: the data directory.
    #[arg(long, env = "TCLOCAL_CA_DIR")]
    ca_dir: Option<PathBuf>,
}

impl CaDirOpts {
    fn load(&self) -> Result<LocalCa, CliError> {
        let dir = self.ca_dir.as_deref().unwrap_or(&self.data_dir);
        LocalCa::load_or_create(dir).map_err(|e| CliError::Runtime(format!("local CA: {e}")))
    }
}

/// Options of `tclocal env`.
#[derive(Debug, Args)]
pub(crate) struct EnvOpts {
    /// The address tclocal serves on (`serve --listen`).
    #[arg(long, env = "TCLOCAL_LISTEN", default_value = "127.0.0.1:4570")]
    listen: SocketAddr,
    #[command(flatten)]
    dir: CaDirOpts,
    /// The region to give tools (`TENCENTCLOUD_REGION`).
    #[arg(long, default_value = "ap-guangzhou")]
    region: String,
    /// `sh`: `export` lines for `eval "$(tclocal env)"`; `dotenv`: `NAME=value` lines (for
    /// `docker --env-file` or `$GITHUB_ENV`).
    #[arg(long, default_value = "sh", value_parser = ["sh", "dotenv"])]
    format: String,
}

/// Options of `tclocal ca`.
#[derive(Debug, Args)]
pub(crate) struct CaOpts {
    #[command(flatten)]
    dir: CaDirOpts,
    /// Print the certificate itself (PEM), e.g. to add it to a CA bundle.
    #[arg(long)]
    pem: bool,
}

/// The variables of `tclocal env`, in order.
fn env_vars(opts: &EnvOpts, ca: &LocalCa) -> Result<Vec<(&'static str, String)>, CliError> {
    let proxy = proxy_url(opts.listen);
    let bundle = ca.cert_path().display().to_string();
    let root = crate::cli::root_credential()?;
    let no_proxy = "localhost,127.0.0.1,::1".to_owned();
    Ok(vec![
        ("HTTPS_PROXY", proxy.clone()),
        ("https_proxy", proxy.clone()),
        // The Node.js SDK reads only `http_proxy`, for HTTPS requests too.
        ("HTTP_PROXY", proxy.clone()),
        ("http_proxy", proxy),
        ("NO_PROXY", no_proxy.clone()),
        ("no_proxy", no_proxy),
        ("REQUESTS_CA_BUNDLE", bundle.clone()),
        ("SSL_CERT_FILE", bundle.clone()),
        ("NODE_EXTRA_CA_CERTS", bundle),
        ("TENCENTCLOUD_SECRET_ID", root.secret_id),
        (
            "TENCENTCLOUD_SECRET_KEY",
            root.secret_key.expose().to_owned(),
        ),
        ("TENCENTCLOUD_REGION", opts.region.clone()),
    ])
}

/// `'value'` for a POSIX shell.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `tclocal env`: the lines to export.
pub(crate) fn env(opts: &EnvOpts) -> Result<(), CliError> {
    if tclocal_services::regions::get(&opts.region).is_none() {
        return Err(CliError::Usage(format!(
            "--region {:?}: not a region tclocal knows",
            opts.region
        )));
    }
    let ca = opts.dir.load()?;
    let vars = env_vars(opts, &ca)?;
    let mut out = String::new();
    if opts.format == "sh" {
        out.push_str(&format!(
            "# Send unmodified Tencent Cloud tools to tclocal (`tclocal serve --tls` on {}).\n\
             # These replace the CA bundle and proxy of this shell: use them for those tools only.\n",
            opts.listen
        ));
        for (name, value) in vars {
            out.push_str(&format!("export {name}={}\n", sh_quote(&value)));
        }
    } else {
        for (name, value) in vars {
            out.push_str(&format!("{name}={value}\n"));
        }
    }
    print!("{out}");
    Ok(())
}

/// `tclocal ca`: where the CA certificate is, and its fingerprint.
pub(crate) fn ca(opts: &CaOpts) -> Result<(), CliError> {
    let ca = opts.dir.load()?;
    if opts.pem {
        print!("{}", ca.cert_pem());
        return Ok(());
    }
    let expires = ca.not_after().date();
    println!("certificate  {}", ca.cert_path().display());
    if let Some(key) = ca.key_path() {
        println!("key          {} (owner only)", key.display());
    }
    println!("sha256       {}", ca.sha256_fingerprint());
    println!("subject      {}", ca.subject());
    println!("expires      {expires}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_plan_follows_the_store_flags() {
        let data = Path::new("/d");
        assert_eq!(CaPlan::new(false, None, data, false), CaPlan::Off);
        assert_eq!(
            CaPlan::new(true, None, data, false),
            CaPlan::Dir(data.into())
        );
        assert_eq!(CaPlan::new(true, None, data, true), CaPlan::InMemory);
        assert_eq!(
            CaPlan::new(true, Some(Path::new("/c")), data, true),
            CaPlan::Dir("/c".into())
        );
    }

    #[test]
    fn proxy_urls_reach_an_unspecified_address_on_loopback() {
        assert_eq!(
            proxy_url("0.0.0.0:4570".parse().unwrap()),
            "http://127.0.0.1:4570"
        );
        assert_eq!(proxy_url("[::]:1".parse().unwrap()), "http://[::1]:1");
        assert_eq!(
            proxy_url("127.0.0.2:9".parse().unwrap()),
            "http://127.0.0.2:9"
        );
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }
}

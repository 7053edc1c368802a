//! Credentials: where a SecretId/SecretKey (and, for temporary keys, a token) come from.
//!
//! A [`Client`] asks its [`ProvideCredentials`] before every attempt, so a
//! provider that refreshes ([`StsAssumeRole`]) hands out fresh keys without the client noticing.
//!
//! | source | type | what it reads |
//! |---|---|---|
//! | static | [`Credential`] | the keys you give it |
//! | environment | [`EnvCredentials`] | `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SESSION_TOKEN` or `TENCENTCLOUD_TOKEN` |
//! | tccli profile | [`TccliProfile`] | `~/.tccli/<profile>.credential` (and `.configure` for region, endpoints, versions) |
//! | STS | [`StsAssumeRole`] | temporary keys from `sts:AssumeRole`, refreshed before they expire |
//! | default | [`DefaultCredentials`] | environment, then the tccli profile named by `TCCLI_PROFILE` (or `default`) |
//!
//! Secrets are redacted in `Debug` and zeroized on drop; no error message carries one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tclocal_sign::SecretKey;
use tclocal_wire::Language;
use tclocal_wire::clock::{Clock, SystemClock};
use tokio::sync::{Mutex, OnceCell};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::error::{CredentialsError, DecodeError, DecodeKind, Error};

/// The session token of temporary credentials (`X-TC-Token`). `Debug` prints `SessionToken(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> SessionToken {
        SessionToken(Zeroizing::new(token.into()))
    }

    /// The token itself; every call site is a place where it leaves its wrapper.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

/// One set of keys: SecretId, SecretKey and, for temporary keys, a session token.
///
/// It is itself a provider that always hands out the same keys.
///
/// ```
/// use tclocal_sdk::Credential;
///
/// let cred = Credential::new("AKIDtclocalDevelopmentKey00000000000", "tclocalDevelopmentSecretKey00000")
///     .with_token("tmp-token");
/// let debug = format!("{cred:?}");
/// assert!(debug.contains("AKIDtclocalDevelopmentKey00000000000"));
/// assert!(!debug.contains("tclocalDevelopmentSecretKey00000"));
/// assert!(!debug.contains("tmp-token"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    secret_id: String,
    secret_key: SecretKey,
    token: Option<SessionToken>,
}

impl Credential {
    /// Permanent keys.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Credential {
        Credential {
            secret_id: secret_id.into(),
            secret_key: SecretKey::new(secret_key),
            token: None,
        }
    }

    /// The same keys with a session token (temporary credentials).
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Credential {
        self.token = Some(SessionToken::new(token));
        self
    }

    /// The SecretId (not a secret: it names the key).
    #[must_use]
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The SecretKey, redacted.
    #[must_use]
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// The session token, when the keys are temporary.
    #[must_use]
    pub fn token(&self) -> Option<&SessionToken> {
        self.token.as_ref()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &self.secret_key)
            .field("token", &self.token)
            .finish()
    }
}

/// A source of credentials, asked before every attempt of every call.
#[async_trait::async_trait]
pub trait ProvideCredentials: Send + Sync + fmt::Debug + 'static {
    /// The keys to sign the next request with.
    async fn credential(&self) -> Result<Credential, CredentialsError>;
}

#[async_trait::async_trait]
impl ProvideCredentials for Credential {
    async fn credential(&self) -> Result<Credential, CredentialsError> {
        Ok(self.clone())
    }
}

#[async_trait::async_trait]
impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    async fn credential(&self) -> Result<Credential, CredentialsError> {
        (**self).credential().await
    }
}

/// A way to read environment variables; tests pass a map instead of the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// Credentials from the environment, read as the official SDKs and tccli read them:
/// `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, and the token from
/// `TENCENTCLOUD_SESSION_TOKEN` or else `TENCENTCLOUD_TOKEN`.
///
/// ```
/// use std::collections::HashMap;
/// use tclocal_sdk::EnvCredentials;
///
/// let env: HashMap<&str, &str> = [
///     ("TENCENTCLOUD_SECRET_ID", "AKIDexample"),
///     ("TENCENTCLOUD_SECRET_KEY", "secret"),
///     ("TENCENTCLOUD_TOKEN", "tmp"),
/// ].into();
/// let cred = EnvCredentials::from_lookup(&|k| env.get(k).map(|v| v.to_string())).unwrap();
/// assert_eq!(cred.secret_id(), "AKIDexample");
/// assert_eq!(cred.token().unwrap().expose(), "tmp");
/// assert!(EnvCredentials::from_lookup(&|_| None).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EnvCredentials;

impl EnvCredentials {
    /// The variable holding the SecretId.
    pub const SECRET_ID: &'static str = "TENCENTCLOUD_SECRET_ID";
    /// The variable holding the SecretKey.
    pub const SECRET_KEY: &'static str = "TENCENTCLOUD_SECRET_KEY";
    /// The variable holding a session token (Go SDK, Terraform).
    pub const SESSION_TOKEN: &'static str = "TENCENTCLOUD_SESSION_TOKEN";
    /// The variable holding a session token (tccli).
    pub const TOKEN: &'static str = "TENCENTCLOUD_TOKEN";

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`CredentialsError::NotFound`] unless both the SecretId and the SecretKey are set.
    pub fn from_env() -> Result<Credential, CredentialsError> {
        EnvCredentials::from_lookup(&process_env)
    }

    /// Reads variables through `lookup`.
    ///
    /// # Errors
    /// [`CredentialsError::NotFound`] unless both the SecretId and the SecretKey are set.
    pub fn from_lookup(lookup: EnvLookup<'_>) -> Result<Credential, CredentialsError> {
        let id = non_empty(lookup(Self::SECRET_ID));
        let key = non_empty(lookup(Self::SECRET_KEY));
        let (Some(id), Some(key)) = (id, key) else {
            return Err(CredentialsError::NotFound(format!(
                "{} and {} are not both set",
                Self::SECRET_ID,
                Self::SECRET_KEY
            )));
        };
        let token =
            non_empty(lookup(Self::SESSION_TOKEN)).or_else(|| non_empty(lookup(Self::TOKEN)));
        let cred = Credential::new(id, key);
        Ok(match token {
            Some(t) => cred.with_token(t),
            None => cred,
        })
    }
}

/// A tccli profile: `<dir>/<name>.credential` and `<dir>/<name>.configure`, where `dir` is
/// `~/.tccli`.
///
/// The `.credential` file is JSON with `secretId`, `secretKey` and optionally `token`; the
/// `.configure` file holds `_sys_param.region`, `_sys_param.language` and, per service,
/// `endpoint` and `version`. Either file may be missing; only a missing credential is an error,
/// and only when the credential is asked for.
///
/// ```
/// use tclocal_sdk::TccliProfile;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("default.credential"),
///     r#"{"secretId": "AKIDexample", "secretKey": "secret"}"#)?;
/// std::fs::write(dir.path().join("default.configure"),
///     r#"{"_sys_param": {"region": "ap-guangzhou", "output": "json"},
///        "cvm": {"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}}"#)?;
/// let profile = TccliProfile::load(dir.path(), "default")?;
/// assert_eq!(profile.credential()?.secret_id(), "AKIDexample");
/// assert_eq!(profile.region(), Some("ap-guangzhou"));
/// assert_eq!(profile.version("cvm"), Some("2017-03-12"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TccliProfile {
    name: String,
    credential: Option<Credential>,
    credential_problem: Option<CredentialProblem>,
    region: Option<String>,
    language: Option<String>,
    services: BTreeMap<String, ServiceConf>,
}

#[derive(Debug, Clone)]
struct CredentialProblem {
    path: String,
    reason: String,
    missing: bool,
}

#[derive(Debug, Clone, Default)]
struct ServiceConf {
    endpoint: Option<String>,
    version: Option<String>,
}

impl TccliProfile {
    /// The variable naming the profile when none is given.
    pub const PROFILE_VAR: &'static str = "TCCLI_PROFILE";

    /// `~/.tccli`, from `HOME` (or `USERPROFILE`) as `lookup` reports it.
    #[must_use]
    pub fn default_dir(lookup: EnvLookup<'_>) -> Option<PathBuf> {
        non_empty(lookup("HOME"))
            .or_else(|| non_empty(lookup("USERPROFILE")))
            .map(|home| Path::new(&home).join(".tccli"))
    }

    /// Reads profile `name` from `dir`.
    ///
    /// # Errors
    /// [`CredentialsError::Profile`] when a file exists but is not the JSON tccli writes.
    pub fn load(dir: &Path, name: &str) -> Result<TccliProfile, CredentialsError> {
        let mut profile = TccliProfile {
            name: name.to_owned(),
            ..TccliProfile::default()
        };
        let cred_path = dir.join(format!("{name}.credential"));
        match read_json(&cred_path)? {
            None => {
                profile.credential_problem = Some(CredentialProblem {
                    path: cred_path.display().to_string(),
                    reason: "no such file".to_owned(),
                    missing: true,
                });
            }
            Some(v) => match credential_from_json(&v) {
                Ok(c) => profile.credential = Some(c),
                Err(reason) => {
                    profile.credential_problem = Some(CredentialProblem {
                        path: cred_path.display().to_string(),
                        reason,
                        missing: false,
                    });
                }
            },
        }
        let conf_path = dir.join(format!("{name}.configure"));
        if let Some(Value::Object(conf)) = read_json(&conf_path)? {
            let sys = conf.get("_sys_param");
            let text = |v: Option<&Value>, k: &str| {
                v.and_then(|v| v.get(k))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            // tccli before 3.0.30 kept region and output at the top level.
            profile.region =
                text(sys, "region").or_else(|| text(Some(&Value::Object(conf.clone())), "region"));
            profile.language = text(sys, "language");
            for (service, v) in &conf {
                if service == "_sys_param" || !v.is_object() {
                    continue;
                }
                profile.services.insert(
                    service.clone(),
                    ServiceConf {
                        endpoint: text(Some(v), "endpoint"),
                        version: text(Some(v), "version"),
                    },
                );
            }
        }
        Ok(profile)
    }

    /// Reads the profile named by `TCCLI_PROFILE` (else `default`) from `~/.tccli`.
    ///
    /// # Errors
    /// As [`TccliProfile::load`], and [`CredentialsError::NotFound`] without a home directory.
    pub fn from_env() -> Result<TccliProfile, CredentialsError> {
        TccliProfile::from_lookup(&process_env)
    }

    /// As [`TccliProfile::from_env`], with variables read through `lookup`.
    ///
    /// # Errors
    /// As [`TccliProfile::from_env`].
    pub fn from_lookup(lookup: EnvLookup<'_>) -> Result<TccliProfile, CredentialsError> {
        let dir = TccliProfile::default_dir(lookup)
            .ok_or_else(|| CredentialsError::NotFound("no home directory".to_owned()))?;
        let name = non_empty(lookup(Self::PROFILE_VAR)).unwrap_or_else(|| "default".to_owned());
        TccliProfile::load(&dir, &name)
    }

    /// The profile's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profile's keys.
    ///
    /// # Errors
    /// [`CredentialsError::NotFound`] without a `.credential` file, [`CredentialsError::Profile`]
    /// when it lacks keys or names a credential type this SDK cannot use.
    pub fn credential(&self) -> Result<Credential, CredentialsError> {
        if let Some(c) = &self.credential {
            return Ok(c.clone());
        }
        match &self.credential_problem {
            Some(p) if p.missing => Err(CredentialsError::NotFound(format!(
                "tccli profile {:?}: {} does not exist",
                self.name, p.path
            ))),
            Some(p) => Err(CredentialsError::Profile {
                path: p.path.clone(),
                reason: p.reason.clone(),
            }),
            None => Err(CredentialsError::NotFound(format!(
                "tccli profile {:?} has no credential",
                self.name
            ))),
        }
    }

    /// `_sys_param.region`.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// `_sys_param.language`, when it is one the API speaks.
    #[must_use]
    pub fn language(&self) -> Option<Language> {
        self.language.as_deref().and_then(|l| l.parse().ok())
    }

    /// `<service>.endpoint`.
    #[must_use]
    pub fn endpoint(&self, service: &str) -> Option<&str> {
        self.services.get(service)?.endpoint.as_deref()
    }

    /// `<service>.version`.
    #[must_use]
    pub fn version(&self, service: &str) -> Option<&str> {
        self.services.get(service)?.version.as_deref()
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for TccliProfile {
    async fn credential(&self) -> Result<Credential, CredentialsError> {
        TccliProfile::credential(self)
    }
}

fn read_json(path: &Path) -> Result<Option<Value>, CredentialsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialsError::Profile {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    // The parser's message may quote the file, which may hold a key: report the position only.
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CredentialsError::Profile {
            path: path.display().to_string(),
            reason: format!("not JSON (line {}, column {})", e.line(), e.column()),
        })
}

fn credential_from_json(v: &Value) -> Result<Credential, String> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match text("type") {
        None | Some("default") => {}
        Some(other) => {
            return Err(format!(
                "credential type {other:?} is not supported (only secretId/secretKey)"
            ));
        }
    }
    let (Some(id), Some(key)) = (text("secretId"), text("secretKey")) else {
        return Err("secretId and secretKey are not both set".to_owned());
    };
    let cred = Credential::new(id, key);
    Ok(match text("token") {
        Some(t) => cred.with_token(t),
        None => cred,
    })
}

/// The official SDKs' default chain: the environment, then the tccli profile named by
/// `TCCLI_PROFILE` (else `default`). Resolved on first use, then kept.
#[derive(Debug, Default)]
pub struct DefaultCredentials {
    resolved: OnceCell<Credential>,
}

impl DefaultCredentials {
    /// A chain that has not looked yet.
    #[must_use]
    pub fn new() -> DefaultCredentials {
        DefaultCredentials::default()
    }

    /// Resolves the chain through `lookup` now.
    ///
    /// # Errors
    /// [`CredentialsError::NotFound`] when no source has keys; a broken profile file's error.
    pub fn resolve(lookup: EnvLookup<'_>) -> Result<Credential, CredentialsError> {
        if let Ok(c) = EnvCredentials::from_lookup(lookup) {
            return Ok(c);
        }
        match TccliProfile::from_lookup(lookup).and_then(|p| p.credential()) {
            Ok(c) => Ok(c),
            Err(CredentialsError::NotFound(why)) => Err(CredentialsError::NotFound(format!(
                "{} and {} are not both set, and {why}",
                EnvCredentials::SECRET_ID,
                EnvCredentials::SECRET_KEY
            ))),
            Err(e) => Err(e),
        }
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for DefaultCredentials {
    async fn credential(&self) -> Result<Credential, CredentialsError> {
        self.resolved
            .get_or_try_init(|| async { DefaultCredentials::resolve(&process_env) })
            .await
            .cloned()
    }
}

/// Temporary credentials from STS `AssumeRole` (2018-08-13), refreshed before they expire.
///
/// The role is assumed with the base credentials on first use; the temporary keys are then
/// reused until `refresh_before` (default 5 minutes, at most half the duration) before their
/// `ExpiredTime`, when the next request assumes the role again. A refresh that fails while the
/// old keys are still valid keeps the old keys. Concurrent requests share one refresh.
///
/// ```
/// use tclocal_sdk::{Credential, StsAssumeRole};
///
/// let sts = StsAssumeRole::builder(
///     Credential::new("AKIDlongTermKey", "secret"),
///     "qcs::cam::uin/100000000001:roleName/ci-deployer",
///     "ci-session",
/// )
/// .duration_secs(3600)
/// .build()?;
/// # let _ = sts;
/// # Ok::<(), tclocal_sdk::Error>(())
/// ```
pub struct StsAssumeRole {
    client: Client,
    role_arn: String,
    session_name: String,
    duration_secs: u64,
    refresh_before: Duration,
    clock: Arc<dyn Clock>,
    cached: Mutex<Option<Issued>>,
}

#[derive(Debug, Clone)]
struct Issued {
    credential: Credential,
    expired_time: i64,
}

impl fmt::Debug for StsAssumeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsAssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("duration_secs", &self.duration_secs)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Builds an [`StsAssumeRole`].
pub struct StsAssumeRoleBuilder {
    base: Arc<dyn ProvideCredentials>,
    role_arn: String,
    session_name: String,
    duration_secs: u64,
    refresh_before: Duration,
    endpoint: Option<String>,
    region: String,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for StsAssumeRoleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsAssumeRoleBuilder")
            .field("base", &self.base)
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl StsAssumeRole {
    /// The STS product name.
    pub const SERVICE: &'static str = "sts";
    /// The STS API version.
    pub const VERSION: &'static str = "2018-08-13";

    /// Starts a builder: assume `role_arn` as `session_name` with the `base` credentials.
    pub fn builder(
        base: impl ProvideCredentials,
        role_arn: impl Into<String>,
        session_name: impl Into<String>,
    ) -> StsAssumeRoleBuilder {
        StsAssumeRoleBuilder {
            base: Arc::new(base),
            role_arn: role_arn.into(),
            session_name: session_name.into(),
            duration_secs: 7200,
            refresh_before: Duration::from_secs(300),
            endpoint: None,
            region: "ap-guangzhou".to_owned(),
            clock: Arc::new(SystemClock::new()),
        }
    }

    fn margin_secs(&self) -> i64 {
        let margin = self.refresh_before.as_secs().min(self.duration_secs / 2);
        i64::try_from(margin).unwrap_or(i64::MAX)
    }

    async fn assume(&self) -> Result<Issued, Error> {
        let params = json!({
            "RoleArn": self.role_arn,
            "RoleSessionName": self.session_name,
            "DurationSeconds": self.duration_secs,
        });
        let answer = self
            .client
            .call(Self::SERVICE, Self::VERSION, "AssumeRole", params)
            .await?;
        let text = |ptr: &str| answer.pointer(ptr).and_then(Value::as_str);
        let request_id = text("/RequestId").unwrap_or_default().to_owned();
        // The answer holds keys: the error names what is missing, never the body.
        let shape = |what: &'static str| {
            Error::Decode(
                DecodeError::new(DecodeKind::Shape, b"")
                    .with_request_id(&request_id)
                    .with_source(what),
            )
        };
        let (Some(id), Some(key), Some(token)) = (
            text("/Credentials/TmpSecretId"),
            text("/Credentials/TmpSecretKey"),
            text("/Credentials/Token"),
        ) else {
            return Err(shape("AssumeRole answer lacks Credentials"));
        };
        let Some(expired_time) = answer.get("ExpiredTime").and_then(Value::as_i64) else {
            return Err(shape("AssumeRole answer lacks ExpiredTime"));
        };
        Ok(Issued {
            credential: Credential::new(id, key).with_token(token),
            expired_time,
        })
    }
}

impl StsAssumeRoleBuilder {
    /// Lifetime of the temporary keys, in seconds (default 7200; STS allows up to 43200).
    #[must_use]
    pub fn duration_secs(mut self, secs: u64) -> Self {
        self.duration_secs = secs;
        self
    }

    /// How long before expiry to refresh (default 5 minutes; capped at half the duration).
    #[must_use]
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// The STS endpoint (default `https://sts.tencentcloudapi.com`).
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The region sent to STS (default `ap-guangzhou`, as the official SDKs).
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The clock that decides when keys are due for refresh (tests pin it).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the provider; nothing is sent until the first credential is asked for.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed endpoint.
    pub fn build(self) -> Result<StsAssumeRole, Error> {
        let mut client = Client::builder()
            .credentials_arc(self.base)
            .region(self.region)
            .clock(self.clock.clone());
        if let Some(e) = self.endpoint {
            client = client.endpoint(e);
        }
        Ok(StsAssumeRole {
            client: client.build()?,
            role_arn: self.role_arn,
            session_name: self.session_name,
            duration_secs: self.duration_secs,
            refresh_before: self.refresh_before,
            clock: self.clock,
            cached: Mutex::new(None),
        })
    }
}

#[async_trait::async_trait]
impl ProvideCredentials for StsAssumeRole {
    async fn credential(&self) -> Result<Credential, CredentialsError> {
        // One refresh at a time: callers that queue here find the fresh keys in the cache.
        let mut cached = self.cached.lock().await;
        let now = self.clock.now_unix();
        if let Some(issued) = cached.as_ref() {
            if now < issued.expired_time.saturating_sub(self.margin_secs()) {
                return Ok(issued.credential.clone());
            }
        }
        match self.assume().await {
            Ok(issued) => {
                tracing::debug!(
                    role = %self.role_arn,
                    expired_time = issued.expired_time,
                    "assumed role"
                );
                let credential = issued.credential.clone();
                *cached = Some(issued);
                Ok(credential)
            }
            Err(e) => match cached.as_ref() {
                Some(old) if now < old.expired_time => {
                    tracing::warn!(error = %e, "STS refresh failed; keeping keys that are still valid");
                    Ok(old.credential.clone())
                }
                _ => Err(CredentialsError::Sts(Box::new(e))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credential::new("AKIDid", "very-secret-key").with_token("very-secret-token");
        for text in [
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{:?}", Some(&c)),
        ] {
            assert!(text.contains("AKIDid"));
            assert!(!text.contains("very-secret-key"), "{text}");
            assert!(!text.contains("very-secret-token"), "{text}");
        }
    }

    #[test]
    fn env_prefers_session_token_and_ignores_empty_values() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let both = vars(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "key"),
            ("TENCENTCLOUD_SESSION_TOKEN", "s"),
            ("TENCENTCLOUD_TOKEN", "t"),
        ]);
        let c = EnvCredentials::from_lookup(&both).unwrap();
        assert_eq!(c.token().unwrap().expose(), "s");
        let empty_key = vars(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", ""),
        ]);
        assert!(matches!(
            EnvCredentials::from_lookup(&empty_key),
            Err(CredentialsError::NotFound(_))
        ));
        let no_token = vars(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
        ]);
        assert!(
            EnvCredentials::from_lookup(&no_token)
                .unwrap()
                .token()
                .is_none()
        );
    }

    #[test]
    fn profile_errors_name_the_file_never_its_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("p.credential"),
            "{\"secretKey\": \"leak-me\"",
        )
        .unwrap();
        let err = TccliProfile::load(dir.path(), "p").unwrap_err().to_string();
        assert!(err.contains("p.credential"), "{err}");
        assert!(!err.contains("leak-me"), "{err}");

        std::fs::write(dir.path().join("q.credential"), r#"{"type": "sso"}"#).unwrap();
        let p = TccliProfile::load(dir.path(), "q").unwrap();
        assert!(matches!(
            p.credential(),
            Err(CredentialsError::Profile { .. })
        ));

        let missing = TccliProfile::load(dir.path(), "none").unwrap();
        assert!(matches!(
            missing.credential(),
            Err(CredentialsError::NotFound(_))
        ));
        assert_eq!(missing.region(), None);
    }

    #[test]
    fn profile_reads_token_language_and_legacy_top_level_region() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("default.credential"),
            r#"{"secretId": "AKIDx", "secretKey": "k", "token": "t"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("default.configure"),
            r#"{"region": "ap-beijing", "_sys_param": {"language": "en-US"}, "sts": {"endpoint": "sts.internal"}}"#,
        )
        .unwrap();
        let p = TccliProfile::load(dir.path(), "default").unwrap();
        assert_eq!(p.credential().unwrap().token().unwrap().expose(), "t");
        assert_eq!(p.region(), Some("ap-beijing"));
        assert_eq!(p.language(), Some(Language::EnUs));
        assert_eq!(p.endpoint("sts"), Some("sts.internal"));
        assert_eq!(p.version("sts"), None);
    }

    #[test]
    fn default_chain_prefers_env_then_profile() {
        let dir = tempfile::tempdir().unwrap();
        let tccli = dir.path().join(".tccli");
        std::fs::create_dir(&tccli).unwrap();
        std::fs::write(
            tccli.join("ci.credential"),
            r#"{"secretId": "AKIDprofile", "secretKey": "k"}"#,
        )
        .unwrap();
        let home = dir.path().display().to_string();
        let with_profile = |k: &str| match k {
            "HOME" => Some(home.clone()),
            "TCCLI_PROFILE" => Some("ci".to_owned()),
            _ => None,
        };
        assert_eq!(
            DefaultCredentials::resolve(&with_profile)
                .unwrap()
                .secret_id(),
            "AKIDprofile"
        );
        let with_env = |k: &str| match k {
            "TENCENTCLOUD_SECRET_ID" => Some("AKIDenv".to_owned()),
            "TENCENTCLOUD_SECRET_KEY" => Some("k".to_owned()),
            other => with_profile(other),
        };
        assert_eq!(
            DefaultCredentials::resolve(&with_env).unwrap().secret_id(),
            "AKIDenv"
        );
        let nothing = |k: &str| (k == "HOME").then(|| home.clone());
        let err = DefaultCredentials::resolve(&nothing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("TENCENTCLOUD_SECRET_ID"), "{err}");
    }
}

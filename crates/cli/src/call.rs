//! `tclocal call SERVICE ACTION [JSON]`: sign and send one API call with tclocal-sdk, like
//! tccli, and print the `Response` object as JSON.
//!
//! Where each setting comes from, first match wins (tccli's rules):
//!
//! | setting | flag | environment (only without `--profile`) | tccli profile | default |
//! |---|---|---|---|---|
//! | keys | `--secret-id`, `--secret-key`, `--token` | `TENCENTCLOUD_SECRET_ID`, `_SECRET_KEY`, `_SESSION_TOKEN`/`_TOKEN` | `<profile>.credential` | – (error) |
//! | region | `--region` | `TENCENTCLOUD_REGION` | `_sys_param.region` | none (regionless products) |
//! | endpoint | `--endpoint` | – | `<service>.endpoint` | `https://<service>.tencentcloudapi.com` |
//! | version | `--version` | – | `<service>.version` | the newest in tclocal's spec data |
//! | language | `--language` | – | `_sys_param.language` | the service's (`zh-CN`) |
//!
//! The profile is `--profile`, else `TCCLI_PROFILE`, else `default`, read from `~/.tccli`.

use std::io::Read as _;
use std::time::Duration;

use clap::Args;
use serde_json::Value;
use tclocal_sdk::{
    Client, Credential, EnvCredentials, Error, HttpMethod, Language, RetryPolicy, TccliProfile,
};

use crate::cli::CliError;

/// Options of `tclocal call`.
#[derive(Debug, Args)]
pub(crate) struct CallOpts {
    /// Product short name, e.g. `cvm`.
    service: String,
    /// Action name, e.g. `DescribeZones`.
    action: String,
    /// Parameters as a JSON object (`-` reads them from standard input); none when absent.
    json: Option<String>,
    /// Region (`X-TC-Region`).
    #[arg(long)]
    region: Option<String>,
    /// API version, e.g. `2017-03-12`.
    #[arg(long)]
    version: Option<String>,
    /// Endpoint, e.g. `http://127.0.0.1:4570` for a local tclocal; `https` without a scheme.
    #[arg(long)]
    endpoint: Option<String>,
    /// Language of messages and localised fields: zh-CN, en-US or ja-JP.
    #[arg(long)]
    language: Option<Language>,
    /// SecretId (a flag wins over the environment and the profile).
    #[arg(long, alias = "secretId")]
    secret_id: Option<String>,
    /// SecretKey. Prefer the environment or a profile: a flag shows in the process list.
    #[arg(long, alias = "secretKey")]
    secret_key: Option<String>,
    /// Session token of temporary keys.
    #[arg(long)]
    token: Option<String>,
    /// tccli profile in `~/.tccli`; when given, `TENCENTCLOUD_*` variables are not read.
    #[arg(long)]
    profile: Option<String>,
    /// Send the call as `GET` with flattened parameters instead of `POST` JSON.
    #[arg(long)]
    get: bool,
    /// Retry `RequestLimitExceeded` and network failures up to N times, with backoff.
    #[arg(long, default_value_t = 0, value_name = "N")]
    retries: u32,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
}

/// A call, fully resolved.
#[derive(Debug)]
struct CallConfig {
    service: String,
    action: String,
    version: String,
    params: Value,
    endpoint: Option<String>,
    region: Option<String>,
    language: Option<Language>,
    credential: Result<Credential, String>,
    method: HttpMethod,
    retries: u32,
    timeout: Duration,
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

impl CallOpts {
    fn into_config(
        self,
        env: Lookup<'_>,
        stdin: &mut dyn FnMut() -> std::io::Result<String>,
    ) -> Result<CallConfig, CliError> {
        let params = match self.json.as_deref() {
            None => Value::Object(serde_json::Map::new()),
            Some(text) => {
                let text = if text == "-" {
                    stdin()
                        .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?
                } else {
                    text.to_owned()
                };
                match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(_) => {
                        return Err(CliError::Usage(
                            "the parameters must be a JSON object".to_owned(),
                        ));
                    }
                    Err(e) => {
                        return Err(CliError::Usage(format!("the parameters are not JSON: {e}")));
                    }
                }
            }
        };

        let use_env = self.profile.is_none();
        let profile_name = self
            .profile
            .clone()
            .or_else(|| non_empty(env(TccliProfile::PROFILE_VAR)))
            .unwrap_or_else(|| "default".to_owned());
        let profile = match TccliProfile::default_dir(env) {
            Some(dir) => TccliProfile::load(&dir, &profile_name)
                .map_err(|e| CliError::Usage(e.to_string()))?,
            None => TccliProfile::default(),
        };

        let credential = match (self.secret_id, self.secret_key) {
            (Some(id), Some(key)) => {
                let c = Credential::new(id, key);
                Ok(match self.token {
                    Some(t) => c.with_token(t),
                    None => c,
                })
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(CliError::Usage(
                    "give both --secret-id and --secret-key, or neither".to_owned(),
                ));
            }
            (None, None) => {
                let from_env = if use_env {
                    EnvCredentials::from_lookup(env).ok()
                } else {
                    None
                };
                match from_env {
                    Some(c) => Ok(c),
                    None => profile.credential().map_err(|e| {
                        format!(
                            "no credentials: give --secret-id and --secret-key, set \
                             TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or configure a \
                             tccli profile ({e})"
                        )
                    }),
                }
            }
        };

        let region = self
            .region
            .or_else(|| {
                if use_env {
                    non_empty(env("TENCENTCLOUD_REGION"))
                } else {
                    None
                }
            })
            .or_else(|| profile.region().map(str::to_owned));
        let endpoint = self
            .endpoint
            .or_else(|| profile.endpoint(&self.service).map(str::to_owned));
        let version = match self.version {
            Some(v) => v,
            None => match profile.version(&self.service) {
                Some(v) => v.to_owned(),
                None => tclocal_specs::registry()
                    .versions(&self.service)
                    .last()
                    .map(|v| (*v).to_owned())
                    .ok_or_else(|| {
                        CliError::Usage(format!(
                            "tclocal has no model of {:?}: give --version",
                            self.service
                        ))
                    })?,
            },
        };
        Ok(CallConfig {
            service: self.service,
            action: self.action,
            version,
            params,
            endpoint,
            region,
            language: self.language.or_else(|| profile.language()),
            credential,
            method: if self.get {
                HttpMethod::Get
            } else {
                HttpMethod::Post
            },
            retries: self.retries,
            timeout: Duration::from_secs(self.timeout),
        })
    }
}

/// Runs `tclocal call` and prints the answer.
pub(crate) fn run(opts: CallOpts) -> Result<(), CliError> {
    let env = |name: &str| std::env::var(name).ok();
    let mut stdin = || {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    };
    let config = opts.into_config(&env, &mut stdin)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let answer = runtime.block_on(call(config))?;
    let text = serde_json::to_string_pretty(&answer)
        .map_err(|e| CliError::Runtime(format!("cannot print the answer: {e}")))?;
    println!("{text}");
    Ok(())
}

async fn call(config: CallConfig) -> Result<Value, CliError> {
    let credential = config.credential.map_err(CliError::Usage)?;
    let mut builder = Client::builder()
        .credentials(credential)
        .method(config.method)
        .timeout(config.timeout);
    if let Some(e) = config.endpoint {
        builder = builder.endpoint(e);
    }
    if let Some(r) = config.region {
        builder = builder.region(r);
    }
    if let Some(l) = config.language {
        builder = builder.language(l);
    }
    if config.retries > 0 {
        builder = builder.retry(RetryPolicy::standard().max_retries(config.retries));
    }
    let client = builder
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    client
        .call(
            &config.service,
            &config.version,
            &config.action,
            config.params,
        )
        .await
        .map_err(|e| match e {
            Error::Api(api) => CliError::Api(api.to_string()),
            Error::Invalid(_) | Error::Credentials(_) => CliError::Usage(e.to_string()),
            other => CliError::Runtime(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(flatten)]
        call: CallOpts,
    }

    fn resolve(args: &[&str], vars: &[(&str, String)]) -> Result<CallConfig, CliError> {
        let mut argv = vec!["call"];
        argv.extend_from_slice(args);
        let opts = Wrap::try_parse_from(argv).unwrap().call;
        let env = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        opts.into_config(&env, &mut || Ok(r#"{"Limit": 3}"#.to_owned()))
    }

    #[test]
    fn flags_win_then_env_then_profile() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".tccli");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("default.credential"),
            r#"{"secretId": "AKIDprofile", "secretKey": "k"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("default.configure"),
            r#"{"_sys_param": {"region": "ap-beijing", "language": "en-US"},
                "cvm": {"endpoint": "cvm.internal.example", "version": "2017-03-12"}}"#,
        )
        .unwrap();
        let h = home.path().display().to_string();
        let env_keys = vec![
            ("HOME", h.clone()),
            ("TENCENTCLOUD_SECRET_ID", "AKIDenv".to_owned()),
            ("TENCENTCLOUD_SECRET_KEY", "k".to_owned()),
            ("TENCENTCLOUD_REGION", "ap-shanghai".to_owned()),
        ];

        let c = resolve(&["cvm", "DescribeZones"], &[("HOME", h.clone())]).unwrap();
        assert_eq!(c.credential.unwrap().secret_id(), "AKIDprofile");
        assert_eq!(c.region.as_deref(), Some("ap-beijing"));
        assert_eq!(c.endpoint.as_deref(), Some("cvm.internal.example"));
        assert_eq!(c.language, Some(Language::EnUs));
        assert_eq!(c.params, serde_json::json!({}));

        let c = resolve(&["cvm", "DescribeZones"], &env_keys).unwrap();
        assert_eq!(c.credential.unwrap().secret_id(), "AKIDenv");
        assert_eq!(c.region.as_deref(), Some("ap-shanghai"));

        // An explicit profile ignores the environment, as tccli does.
        let c = resolve(&["cvm", "DescribeZones", "--profile", "default"], &env_keys).unwrap();
        assert_eq!(c.credential.unwrap().secret_id(), "AKIDprofile");
        assert_eq!(c.region.as_deref(), Some("ap-beijing"));

        let c = resolve(
            &[
                "cvm",
                "DescribeZones",
                "-",
                "--secretId",
                "AKIDflag",
                "--secretKey",
                "k",
                "--region",
                "ap-guangzhou",
                "--endpoint",
                "http://127.0.0.1:1",
                "--get",
            ],
            &env_keys,
        )
        .unwrap();
        assert_eq!(c.credential.unwrap().secret_id(), "AKIDflag");
        assert_eq!(c.region.as_deref(), Some("ap-guangzhou"));
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(c.params, serde_json::json!({"Limit": 3}));
        assert_eq!(c.method, HttpMethod::Get);
    }

    #[test]
    fn version_defaults_from_the_spec_data() {
        let c = resolve(
            &["cvm", "DescribeZones", "--endpoint", "http://127.0.0.1:1"],
            &[],
        )
        .unwrap();
        assert_eq!(c.version, "2017-03-12");
        assert!(c.credential.is_err());
        let c = resolve(&["nosuch", "X", "--version", "2020-01-01"], &[]).unwrap();
        assert_eq!(c.version, "2020-01-01");
        assert_eq!(resolve(&["nosuch", "X"], &[]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn bad_parameters_and_half_keys_are_usage_errors() {
        for args in [
            &["cvm", "DescribeZones", "not json"][..],
            &["cvm", "DescribeZones", "[1]"],
            &["cvm", "DescribeZones", "--secret-id", "AKIDx"],
        ] {
            assert_eq!(resolve(args, &[]).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }
}

//! `tclocal call` end to end: the built binary serves on loopback, and the built binary calls
//! it, with credentials from flags, the environment and a tccli profile.

use std::path::Path;
use std::process::{Command, Output};

const DEV_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
const DEV_KEY: &str = "tclocalDevelopmentSecretKey00000";

/// A `tclocal serve --ephemeral` child, killed when dropped.
struct Serve {
    _child: crate::Served,
    endpoint: String,
}

impl Serve {
    fn start(home: &Path) -> Serve {
        let (child, endpoint) = crate::spawn_serve(&["--ephemeral"], home);
        Serve {
            _child: child,
            endpoint,
        }
    }
}

/// Runs `tclocal call …` with a clean environment plus `env`.
fn call(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tclocal"))
        .arg("call")
        .args(args)
        .env_clear()
        .env("HOME", home)
        .envs(env.iter().copied())
        .output()
        .expect("tclocal call runs")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.matches('-').count() == 4
}

/// Success with keys from flags, the environment and a tccli profile; an API error; a
/// transport error; a usage error.
#[test]
fn call_end_to_end() {
    let home = tempfile::tempdir().unwrap();
    let server = Serve::start(home.path());
    let endpoint = server.endpoint.clone();
    let ep = endpoint.as_str();

    // Keys from flags: the Response object, RequestId included.
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeZones",
            "{}",
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
            "--secret-id",
            DEV_ID,
            "--secret-key",
            DEV_KEY,
        ],
        &[],
    );
    let v = stdout_json(&out);
    assert!(v["TotalCount"].as_u64().unwrap() > 0, "{v}");
    assert!(
        v["ZoneSet"]
            .as_array()
            .unwrap()
            .iter()
            .any(|z| z["Zone"] == "ap-guangzhou-3")
    );
    assert!(is_uuid(v["RequestId"].as_str().unwrap()));

    // Keys and region from the environment, as tccli reads them; --language reaches the service.
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeZones",
            "--endpoint",
            ep,
            "--language",
            "en-US",
        ],
        &[
            ("TENCENTCLOUD_SECRET_ID", DEV_ID),
            ("TENCENTCLOUD_SECRET_KEY", DEV_KEY),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ],
    );
    let v = stdout_json(&out);
    assert!(
        v["ZoneSet"]
            .as_array()
            .unwrap()
            .iter()
            .any(|z| z["ZoneName"] == "Guangzhou Zone 3"),
        "{v}"
    );

    // Keys and region from a tccli profile in ~/.tccli.
    let tccli = home.path().join(".tccli");
    std::fs::create_dir_all(&tccli).unwrap();
    std::fs::write(
        tccli.join("local.credential"),
        format!(r#"{{"secretId": "{DEV_ID}", "secretKey": "{DEV_KEY}"}}"#),
    )
    .unwrap();
    std::fs::write(
        tccli.join("local.configure"),
        r#"{"_sys_param": {"region": "ap-guangzhou", "output": "json"}}"#,
    )
    .unwrap();
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeInstancesStatus",
            r#"{"Limit": 5}"#,
            "--endpoint",
            ep,
            "--profile",
            "local",
        ],
        &[],
    );
    let v = stdout_json(&out);
    assert_eq!(v["TotalCount"], 0);

    // An API error: exit 1, `Code: Message (RequestId)` on stderr, nothing on stdout.
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeInstancesStatus",
            r#"{"Limit": 1000}"#,
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
            "--secret-id",
            DEV_ID,
            "--secret-key",
            DEV_KEY,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr
        .trim_end()
        .strip_prefix("tclocal: ")
        .unwrap_or(&stderr);
    let (code, rest) = line.split_once(": ").unwrap();
    assert_eq!(code, "InvalidParameterValue", "{stderr}");
    let (message, request_id) = rest.rsplit_once(" (").unwrap();
    assert!(!message.is_empty());
    assert!(is_uuid(request_id.strip_suffix(')').unwrap()), "{stderr}");

    // A wrong key is an API error too.
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeZones",
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
            "--secret-id",
            DEV_ID,
            "--secret-key",
            "wrong",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AuthFailure.SignatureFailure: "));

    // No keys anywhere: a usage error that says where keys come from.
    let out = call(
        home.path(),
        &["cvm", "DescribeZones", "--endpoint", ep],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TENCENTCLOUD_SECRET_ID"));

    // Parameters that are not a JSON object: a usage error.
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeZones",
            "[1]",
            "--endpoint",
            ep,
            "--secret-id",
            DEV_ID,
            "--secret-key",
            DEV_KEY,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));

    // Nothing listening: a transport failure, exit 1, naming the cause.
    drop(server);
    let out = call(
        home.path(),
        &[
            "cvm",
            "DescribeZones",
            "--endpoint",
            ep,
            "--secret-id",
            DEV_ID,
            "--secret-key",
            DEV_KEY,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("refused"), "{stderr}");
}

/// Runs `tclocal <args>` with a clean environment.
fn tclocal(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tclocal"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .output()
        .expect("tclocal runs")
}

/// `tclocal keys` and `tclocal faults` manage a running server through its control plane:
/// a disabled key is refused, a fault rule fails calls until it is deleted.
#[test]
fn keys_and_faults_manage_a_running_server() {
    let home = tempfile::tempdir().unwrap();
    let serve = Serve::start(home.path());
    let ep = serve.endpoint.as_str();
    let zones = |id: &str, key: &str| {
        call(
            home.path(),
            &[
                "cvm",
                "DescribeZones",
                "{}",
                "--region",
                "ap-guangzhou",
                "--endpoint",
                ep,
                "--secret-id",
                id,
                "--secret-key",
                key,
            ],
            &[],
        )
    };

    let account = stdout_json(&tclocal(
        home.path(),
        &["keys", "new-account", "--endpoint", ep],
    ));
    let (id, key) = (
        account["SecretId"].as_str().unwrap(),
        account["SecretKey"].as_str().unwrap(),
    );
    assert!(zones(id, key).status.success());
    let listed = stdout_json(&tclocal(home.path(), &["keys", "list", "--endpoint", ep]));
    assert!(
        listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["SecretId"] == id)
    );
    assert!(
        !String::from_utf8_lossy(&tclocal(home.path(), &["keys", "list", "--endpoint", ep]).stdout)
            .contains(key)
    );

    stdout_json(&tclocal(
        home.path(),
        &["keys", "disable", id, "--endpoint", ep],
    ));
    let refused = zones(id, key);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("AuthFailure.SecretIdNotFound"));
    stdout_json(&tclocal(
        home.path(),
        &["keys", "enable", id, "--endpoint", ep],
    ));
    assert!(zones(id, key).status.success());

    let rule = stdout_json(&tclocal(
        home.path(),
        &[
            "faults",
            "add",
            "--action",
            "DescribeZones",
            "--code",
            "InternalError",
            "--endpoint",
            ep,
        ],
    ));
    let failed = zones(DEV_ID, DEV_KEY);
    assert!(String::from_utf8_lossy(&failed.stderr).contains("InternalError"));
    let deleted = tclocal(
        home.path(),
        &[
            "faults",
            "delete",
            rule["id"].as_str().unwrap(),
            "--endpoint",
            ep,
        ],
    );
    assert!(deleted.status.success());
    assert!(zones(DEV_ID, DEV_KEY).status.success());
    let bad = tclocal(
        home.path(),
        &["faults", "add", "--code", "Made.Up", "--endpoint", ep],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("400"));
}

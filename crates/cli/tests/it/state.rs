//! `tclocal state save|load` and `tclocal reset` against a running server.

use std::path::Path;
use std::process::{Command, Output};

const DEV_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
const DEV_KEY: &str = "tclocalDevelopmentSecretKey00000";

fn tclocal(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tclocal"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("TENCENTCLOUD_SECRET_ID", DEV_ID)
        .env("TENCENTCLOUD_SECRET_KEY", DEV_KEY)
        .output()
        .expect("tclocal runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn instance_ids(home: &Path, ep: &str) -> Vec<String> {
    let out = ok(&tclocal(
        home,
        &[
            "call",
            "cvm",
            "DescribeInstances",
            "{}",
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
        ],
    ));
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    answer["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect()
}

/// Save, reset and load from the command line bring the instances back; a file that is not
/// a snapshot is refused with the server's reason and exit code 1, a missing file with 2.
#[test]
fn state_save_reset_and_load_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, endpoint) = crate::spawn_serve(&["--ephemeral"], home.path());
    let ep = endpoint.as_str();
    let run = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i", "InstanceType": "S5.MEDIUM2"}"#;
    ok(&tclocal(
        home.path(),
        &[
            "call",
            "cvm",
            "RunInstances",
            run,
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
        ],
    ));
    let before = instance_ids(home.path(), ep);
    assert_eq!(before.len(), 1);

    let file = home.path().join("state.json");
    let file_arg = file.to_str().unwrap();
    let saved = ok(&tclocal(
        home.path(),
        &["state", "save", file_arg, "--endpoint", ep],
    ));
    assert!(saved.contains("saved"), "{saved}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&before[0]));
    assert!(!text.contains(DEV_KEY), "no secrets without --secrets");

    ok(&tclocal(
        home.path(),
        &["reset", "--service", "cvm", "--endpoint", ep],
    ));
    assert!(instance_ids(home.path(), ep).is_empty());

    ok(&tclocal(
        home.path(),
        &["state", "load", file_arg, "--endpoint", ep],
    ));
    assert_eq!(instance_ids(home.path(), ep), before);

    let junk = home.path().join("junk.json");
    std::fs::write(&junk, r#"{"format": "other", "version": 1, "tables": {}}"#).unwrap();
    let out = tclocal(
        home.path(),
        &["state", "load", junk.to_str().unwrap(), "--endpoint", ep],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a tclocal state file"), "{stderr}");
    let missing = home.path().join("missing.json");
    let out = tclocal(
        home.path(),
        &["state", "load", missing.to_str().unwrap(), "--endpoint", ep],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unreadable file is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
    child.kill();
}

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

fn tclocal_as(home: &Path, key: (&str, &str), args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tclocal"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("TENCENTCLOUD_SECRET_ID", key.0)
        .env("TENCENTCLOUD_SECRET_KEY", key.1)
        .output()
        .expect("tclocal runs")
}

fn ids_as(home: &Path, key: (&str, &str), ep: &str) -> Vec<String> {
    let out = ok(&tclocal_as(
        home,
        key,
        &[
            "call",
            "cvm",
            "DescribeInstances",
            r#"{"Limit": 100}"#,
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
        ],
    ));
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut ids: Vec<String> = answer["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn run_as(home: &Path, key: (&str, &str), ep: &str, count: u32) {
    let run = format!(
        r#"{{"Placement": {{"Zone": "ap-guangzhou-3"}}, "ImageId": "img-zsxdft8i", "InstanceType": "S5.MEDIUM2", "InstanceCount": {count}}}"#
    );
    ok(&tclocal_as(
        home,
        key,
        &[
            "call",
            "cvm",
            "RunInstances",
            &run,
            "--region",
            "ap-guangzhou",
            "--endpoint",
            ep,
        ],
    ));
}

/// `--account` on `state save`, `reset` and `state load` touches one account only; piped
/// (no terminal), `save` and `load` print exactly their result line and nothing on stderr,
/// even for a state that moves in many pieces.
#[test]
fn account_scoped_save_reset_and_load_with_clean_piped_output() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, endpoint) = crate::spawn_serve(&["--ephemeral"], home.path());
    let ep = endpoint.as_str();
    let created = ok(&tclocal(
        home.path(),
        &["keys", "new-account", "--endpoint", ep],
    ));
    let account: serde_json::Value = serde_json::from_str(&created).unwrap();
    let app_id = account["AppId"].as_u64().unwrap().to_string();
    let other = (
        account["SecretId"].as_str().unwrap().to_owned(),
        account["SecretKey"].as_str().unwrap().to_owned(),
    );
    let other = (other.0.as_str(), other.1.as_str());
    let dev = (DEV_ID, DEV_KEY);
    run_as(home.path(), dev, ep, 2);
    // Enough records that the file moves in more than one 64 KiB piece each way.
    run_as(home.path(), other, ep, 100);
    let mine = ids_as(home.path(), dev, ep);
    let theirs = ids_as(home.path(), other, ep);
    assert_eq!((mine.len(), theirs.len()), (2, 100));

    let file = home.path().join("account.json");
    let file_arg = file.to_str().unwrap();
    let out = tclocal(
        home.path(),
        &[
            "state",
            "save",
            file_arg,
            "--account",
            &app_id,
            "--endpoint",
            ep,
        ],
    );
    let stdout = ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > 64 * 1024, "{size} bytes");
    // One account and its 100 instances.
    let expected = format!("saved 101 records ({size} bytes) to {file_arg}\n");
    assert_eq!(stdout, expected);
    assert!(!stdout.contains('\r') && !stdout.contains('\u{1b}'));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(&mine[0]),
        "the default account's instance is not in it"
    );

    ok(&tclocal(
        home.path(),
        &["reset", "--account", &app_id, "--endpoint", ep],
    ));
    assert!(
        ids_as(home.path(), other, ep).is_empty(),
        "the account is empty"
    );
    assert_eq!(
        ids_as(home.path(), dev, ep),
        mine,
        "the other account is not"
    );

    run_as(home.path(), dev, ep, 1);
    let mine = ids_as(home.path(), dev, ep);
    let out = tclocal(
        home.path(),
        &[
            "state",
            "load",
            file_arg,
            "--account",
            &app_id,
            "--endpoint",
            ep,
        ],
    );
    let stdout = ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(answer["imported_rows"], 101, "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert_eq!(ids_as(home.path(), other, ep), theirs);
    assert_eq!(ids_as(home.path(), dev, ep), mine, "loading left it alone");

    let out = tclocal(home.path(), &["reset", "--account", "77", "--endpoint", ep]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account"));
    child.kill();
}

//! The default account and resources live in the durable stores (embedded SQLite, PostgreSQL)
//! and survive restarts.

use std::sync::Arc;

use tclocal_server::{Config, StoreConfig};
use tclocal_services::identity::RootCredential;
use tclocal_sign::SecretKey;
use tclocal_store::{PgStore, Store};

use crate::common::{Call, Server};

fn code(resp: &crate::common::RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// A root key set at first start (TCLOCAL_SECRET_ID/KEY) is kept by later starts, which
/// ignore a different configured key.
#[tokio::test]
async fn root_key_from_first_start_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = RootCredential {
        secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
        secret_key: SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
    };
    let config = Config {
        store: StoreConfig::Sqlite(dir.path().to_path_buf()),
        root: first.clone(),
        ..Config::for_tests()
    };
    let signed = Call::tc3("DescribeZones", "{}").with(|c| {
        c.secret_id = first.secret_id.clone();
        c.secret_key = first.secret_key.expose().to_owned();
    });
    {
        let server = Server::start_with(config.clone(), Vec::new()).await;
        assert_eq!(code(&server.call(&signed).await), "ok");
        let dev = Call::tc3("DescribeZones", "{}");
        assert_eq!(
            code(&server.call(&dev).await),
            "AuthFailure.SecretIdNotFound"
        );
    }
    // Give the first server's store a moment to close its file.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let restarted = Config {
        root: RootCredential::development(),
        ..config
    };
    let server = Server::start_with(restarted, Vec::new()).await;
    assert_eq!(code(&server.call(&signed).await), "ok");
    assert!(dir.path().join("tclocal.sqlite3").exists());
    let _keep: Option<Arc<()>> = None;
}

/// Where the PostgreSQL tests connect; `scripts/postgres.sh` sets it.
const POSTGRES_URL_VAR: &str = "TCLOCAL_TEST_POSTGRES_URL";

/// With `StoreConfig::Postgres` (`--store postgres://…`), an instance created before a restart is
/// found after it, with the same id, and the database holds its row.
#[tokio::test]
async fn postgres_store_keeps_instances_across_a_restart() {
    let url = match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!(
                "postgres_store_keeps_instances_across_a_restart: skipped: {POSTGRES_URL_VAR} is not set (scripts/postgres.sh sets it)"
            );
            return;
        }
    };
    // Start from an empty database (the store's own tests share it).
    {
        let store = PgStore::open(&url).await.unwrap();
        store.clear(None).await.unwrap();
    }
    let config = Config {
        store: StoreConfig::Postgres(url.clone()),
        ..Config::for_tests()
    };
    let run = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i", "InstanceType": "S5.MEDIUM2"}"#;
    let id = {
        let server = Server::start_with(config.clone(), Vec::new()).await;
        let resp = server.call(&Call::tc3("RunInstances", run)).await;
        assert_eq!(code(&resp), "ok");
        resp.fields()["InstanceIdSet"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let server = Server::start_with(config, Vec::new()).await;
    let body = format!(r#"{{"InstanceIds": ["{id}"]}}"#);
    let found = server.call(&Call::tc3("DescribeInstances", &body)).await;
    assert_eq!(code(&found), "ok");
    assert_eq!(found.fields()["TotalCount"], 1);
    assert_eq!(found.fields()["InstanceSet"][0]["InstanceId"], id.as_str());
    let all = server.call(&Call::tc3("DescribeInstances", "{}")).await;
    assert_eq!(all.fields()["TotalCount"], 1);
}

/// `url` with its database replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{db}{query}")
}

/// Runs `sql` on its own session to the database at `url`.
async fn admin(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test database answers");
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await.expect(sql);
    drop(client);
    let _ = task.await;
}

/// Ends every session on database `db`, and waits until the server has dropped them.
async fn end_sessions(url: &str, db: &str) {
    admin(
        url,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"),
    )
    .await;
    for _ in 0..100 {
        if sessions(url, db).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the sessions on {db} did not end");
}

/// Sessions other than the caller's on database `db`.
async fn sessions(url: &str, db: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )
        .await
        .unwrap()
        .get(0);
    drop(client);
    let _ = task.await;
    n
}

/// When the PostgreSQL session is lost, tclocal keeps serving: a call that cannot reach the
/// database is answered with an enveloped `InternalError`, `/ready` says 503 while the
/// database refuses connections, and once it accepts them again tclocal reconnects by
/// itself; an administrator ending the sessions costs no failed call at all.
#[tokio::test]
async fn postgres_connection_loss_is_survived_and_reconnected() {
    let url = match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!(
                "postgres_connection_loss_is_survived_and_reconnected: skipped: {POSTGRES_URL_VAR} is not set (scripts/postgres.sh sets it)"
            );
            return;
        }
    };
    // A database of its own: the other PostgreSQL tests hold the shared one's lock.
    let db = format!("tclocal_reconnect_{}", std::process::id());
    admin(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    admin(&url, &format!("CREATE DATABASE {db}")).await;
    let config = Config {
        store: StoreConfig::Postgres(with_database(&url, &db)),
        ..Config::for_tests()
    };
    let run = r#"{"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zsxdft8i", "InstanceType": "S5.MEDIUM2"}"#;
    let server = Server::start_with(config, Vec::new()).await;
    assert_eq!(
        code(&server.call(&Call::tc3("RunInstances", run)).await),
        "ok"
    );

    // 1. The database refuses new sessions and tclocal's are ended.
    admin(
        &url,
        &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false"),
    )
    .await;
    end_sessions(&url, &db).await;
    let failed = server.call(&Call::tc3("RunInstances", run)).await;
    // api_code checks the envelope: HTTP 200, JSON, a RequestId; never a bare 500.
    assert_eq!(code(&failed), "InternalError", "{}", failed.message());
    assert!(
        !failed.message().contains("postgres://"),
        "{}",
        failed.message()
    );
    let (status, ready) = server.control("GET", "/_tclocal/ready", "").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["ready"], false);
    // Reads ask the database whether another process wrote first: enveloped errors too.
    let listed = server.call(&Call::tc3("DescribeInstances", "{}")).await;
    assert_eq!(code(&listed), "InternalError");

    // 2. The database is back: tclocal reconnects without a restart.
    admin(&url, &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).await;
    let mut ready_again = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if server.control("GET", "/_tclocal/ready", "").await.0 == 200 {
            ready_again = true;
            break;
        }
    }
    assert!(ready_again, "/ready turns 200 once the database answers");
    assert_eq!(
        code(&server.call(&Call::tc3("RunInstances", run)).await),
        "ok"
    );

    // 3. An administrator ends the sessions while connections are allowed: the next call runs
    // on new sessions and succeeds. (Waiting for the end first keeps the call clear of a COMMIT
    // whose answer is lost; the store's own tests pin a statement that meets the loss.)
    end_sessions(&url, &db).await;
    let after = server.call(&Call::tc3("RunInstances", run)).await;
    assert_eq!(code(&after), "ok", "{}", after.message());
    let all = server.call(&Call::tc3("DescribeInstances", "{}")).await;
    assert_eq!(all.fields()["TotalCount"], 3);

    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    admin(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
}

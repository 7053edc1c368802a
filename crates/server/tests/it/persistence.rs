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

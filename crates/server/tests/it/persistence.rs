//! The default account lives in the embedded store and survives restarts.

use std::sync::Arc;

use tclocal_server::{Config, StoreConfig};
use tclocal_services::identity::RootCredential;
use tclocal_sign::SecretKey;

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

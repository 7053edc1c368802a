//! The STS AssumeRole provider against a fake STS on loopback that answers in the real shape
//! (`Credentials.{Token, TmpSecretId, TmpSecretKey}`, `ExpiredTime`, `Expiration`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tclocal_sdk::{Client, Credential, CredentialsError, Error, ProvideCredentials, StsAssumeRole};
use tclocal_wire::clock::{Clock, ManualClock};

use crate::common::{Fake, Reply, Seen, dev_credential};

const T0: i64 = 1_700_000_000;
const ROLE: &str = "qcs::cam::uin/100000000001:roleName/deployer";

/// Answers AssumeRole with keys numbered by the call, valid for the requested duration from
/// the pinned clock's time.
fn sts_script(clock: Arc<ManualClock>) -> impl Fn(usize, &Seen) -> Reply + Send + Sync {
    move |n, seen| {
        let duration = seen.json()["DurationSeconds"].as_i64().unwrap_or(7200);
        let expired = clock.now_unix() + duration;
        Reply::json(json!({"Response": {
            "Credentials": {
                "Token": format!("token-{n}"),
                "TmpSecretId": format!("AKIDtmp{n}"),
                "TmpSecretKey": format!("tmpkey-{n}"),
            },
            "ExpiredTime": expired,
            "Expiration": "2023-11-14T23:13:20Z",
            "RequestId": format!("sts-{n}"),
        }}))
    }
}

fn provider(fake: &Fake, clock: &Arc<ManualClock>) -> StsAssumeRole {
    StsAssumeRole::builder(dev_credential(), ROLE, "sdk-test")
        .endpoint(fake.endpoint())
        .duration_secs(3600)
        .refresh_before(Duration::from_secs(300))
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// Keys are fetched once, reused until shortly before expiry, then fetched again.
#[tokio::test]
async fn refreshes_before_expiry() {
    let clock = Arc::new(ManualClock::at(T0));
    let fake = Fake::start(sts_script(clock.clone())).await;
    let sts = provider(&fake, &clock);

    let first = sts.credential().await.unwrap();
    assert_eq!(first.secret_id(), "AKIDtmp0");
    assert_eq!(first.secret_key().expose(), "tmpkey-0");
    assert_eq!(first.token().unwrap().expose(), "token-0");
    assert_eq!(fake.count(), 1);

    // The AssumeRole call itself: signed with the base key, for sts 2018-08-13.
    let call = &fake.seen()[0];
    assert_eq!(call.header("X-TC-Action"), Some("AssumeRole"));
    assert_eq!(call.header("X-TC-Version"), Some("2018-08-13"));
    assert_eq!(call.header("X-TC-Region"), Some("ap-guangzhou"));
    assert!(
        call.header("Authorization")
            .unwrap()
            .contains("Credential=AKIDtclocalDevelopmentKey00000000000/2023-11-14/sts/tc3_request")
    );
    assert_eq!(
        call.json(),
        json!({"RoleArn": ROLE, "RoleSessionName": "sdk-test", "DurationSeconds": 3600})
    );

    // Well within the lifetime: cached.
    clock.set(T0 + 3000);
    assert_eq!(sts.credential().await.unwrap(), first);
    assert_eq!(fake.count(), 1);

    // Inside the refresh window (300 s before T0 + 3600): assumed again.
    clock.set(T0 + 3301);
    let second = sts.credential().await.unwrap();
    assert_eq!(second.secret_id(), "AKIDtmp1");
    assert_eq!(fake.count(), 2);
    assert_eq!(sts.credential().await.unwrap(), second);
    assert_eq!(fake.count(), 2);
}

/// Concurrent callers share one refresh.
#[tokio::test]
async fn concurrent_callers_share_one_call() {
    let clock = Arc::new(ManualClock::at(T0));
    let fake = Fake::start(sts_script(clock.clone())).await;
    let sts = Arc::new(provider(&fake, &clock));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let sts = sts.clone();
            tokio::spawn(async move { sts.credential().await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().secret_id(), "AKIDtmp0");
    }
    assert_eq!(fake.count(), 1);
}

/// A failed first call is a credentials error wrapping the STS answer.
#[tokio::test]
async fn failure_without_keys_is_an_error() {
    let fake = Fake::start(|_, _| Reply::error("AuthFailure.SecretIdNotFound", "sts-x")).await;
    let clock = Arc::new(ManualClock::at(T0));
    let err = provider(&fake, &clock).credential().await.unwrap_err();
    let CredentialsError::Sts(inner) = &err else {
        panic!("expected an STS error, got {err:?}")
    };
    assert_eq!(inner.request_id(), Some("sts-x"));
    assert!(
        err.to_string().contains("AuthFailure.SecretIdNotFound"),
        "{err}"
    );
}

/// A failed refresh keeps keys that are still valid, and fails once they are not.
#[tokio::test]
async fn failed_refresh_keeps_valid_keys() {
    let clock = Arc::new(ManualClock::at(T0));
    let ok = sts_script(clock.clone());
    let fake = Fake::start(move |n, seen| match n {
        0 => ok(n, seen),
        _ => Reply::error("InternalError", "sts-down"),
    })
    .await;
    let sts = provider(&fake, &clock);
    let first = sts.credential().await.unwrap();
    clock.set(T0 + 3500); // due for refresh, not yet expired
    assert_eq!(sts.credential().await.unwrap(), first);
    assert_eq!(fake.count(), 2);
    clock.set(T0 + 3600); // expired
    assert!(sts.credential().await.is_err());
}

/// A client signing with STS keys sends the temporary SecretId and the token.
#[tokio::test]
async fn client_uses_the_temporary_keys() {
    let clock = Arc::new(ManualClock::at(T0));
    let sts_fake = Fake::start(sts_script(clock.clone())).await;
    let api = Fake::start(|_, _| Reply::json(json!({"Response": {"RequestId": "r"}}))).await;
    let client = Client::builder()
        .endpoint(api.endpoint())
        .credentials(provider(&sts_fake, &clock))
        .clock(clock.clone())
        .build()
        .unwrap();
    client
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap();
    let seen = &api.seen()[0];
    assert!(
        seen.header("Authorization")
            .unwrap()
            .contains("Credential=AKIDtmp0/")
    );
    assert_eq!(seen.header("X-TC-Token"), Some("token-0"));

    // An STS that is down surfaces as a credentials error of the call.
    let down = Fake::start(|_, _| Reply::Hangup).await;
    let client = Client::builder()
        .endpoint(api.endpoint())
        .credentials(provider(&down, &clock))
        .build()
        .unwrap();
    let err = client
        .call("cvm", "2017-03-12", "DescribeZones", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Credentials(CredentialsError::Sts(_))),
        "{err:?}"
    );
    // And the provider's Debug shows no key.
    assert!(!format!("{:?}", provider(&down, &clock)).contains("tclocalDevelopmentSecretKey"));
    let _ = Credential::new("a", "b");
}

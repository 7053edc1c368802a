//! Identity behaviour: accounts, users, keys, policies, roles, STS credentials and MFA.

use std::sync::Arc;

use tclocal_store::{MemoryStore, Store};
use tclocal_wire::context::PrincipalKind;
use tclocal_wire::ids::SeqResourceIds;

use super::*;

const NOW: i64 = 1_700_000_000_000;
const READ_ONLY: &str = r#"{"version":"2.0","statement":[{"effect":"allow","action":["cvm:Describe*"],"resource":"*"}]}"#;
const DENY_TERMINATE: &str = r#"{"version":"2.0","statement":[{"effect":"deny","action":"cvm:TerminateInstances","resource":"*"}]}"#;
const ALL_CVM: &str =
    r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:*","resource":"*"}]}"#;

async fn open(store: Arc<dyn Store>) -> Identity {
    Identity::open(
        store,
        RootCredential::development(),
        Arc::new(SeqResourceIds::default()),
    )
    .await
    .unwrap()
}

fn root(id: &Identity) -> Arc<ApiKey> {
    id.lookup(DEV_SECRET_ID).unwrap()
}

fn res() -> Vec<String> {
    vec!["qcs::cvm:ap-guangzhou:uin/100000000001:*".to_owned()]
}

#[test]
fn key_shape_rule() {
    assert!(is_key_shaped(DEV_SECRET_ID));
    assert!(!is_key_shaped("not-a-key"));
    assert!(!is_key_shaped("AKID"));
    assert!(!is_key_shaped(&format!("AKID{}", "a".repeat(200))));
}

/// The first start creates the default account; later starts keep its key.
#[tokio::test]
async fn first_start_creates_the_default_account_and_later_starts_keep_it() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let id = open(store.clone()).await;
    let key = root(&id);
    assert_eq!(key.secret_key.expose(), DEV_SECRET_KEY);
    assert_eq!(key.principal.kind, PrincipalKind::Root);
    let other = RootCredential {
        secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
        secret_key: SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
    };
    let again = Identity::open(store, other, Arc::new(SeqResourceIds::default()))
        .await
        .unwrap();
    assert!(again.lookup(DEV_SECRET_ID).is_some());
    assert!(
        again
            .lookup("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE")
            .is_none()
    );
}

/// A sub-user may do what its policies allow, explicit deny wins, the root may do everything.
#[tokio::test]
async fn policies_decide_what_sub_users_may_do() {
    let id = open(Arc::new(MemoryStore::new())).await;
    let owner = root(&id).principal.clone();
    let (user, pair) = id.add_user(&owner, "dev", "", 0, true, NOW).await.unwrap();
    let (user_key_id, _) = pair.unwrap();
    let key = id.lookup(&user_key_id).unwrap();
    assert_eq!(key.principal.kind, PrincipalKind::User);
    assert_eq!(
        key.principal.app_id, DEFAULT_APP_ID,
        "sub-users act in the owner's account"
    );
    assert_eq!(
        id.authorize(&key, "cvm:DescribeInstances", &res(), None, NOW),
        Authz::Deny { explicit: false }
    );

    let ro = id
        .create_policy(&owner.owner_uin, "ro", READ_ONLY, "", NOW)
        .await
        .unwrap();
    id.set_user_policy(&owner.owner_uin, &user.uin, ro, true, NOW)
        .await
        .unwrap();
    assert_eq!(
        id.authorize(&key, "cvm:DescribeInstances", &res(), None, NOW),
        Authz::Allow
    );
    assert_eq!(
        id.authorize(&key, "cvm:RunInstances", &res(), None, NOW),
        Authz::Deny { explicit: false }
    );

    let all = id
        .create_policy(&owner.owner_uin, "all", ALL_CVM, "", NOW)
        .await
        .unwrap();
    let deny = id
        .create_policy(&owner.owner_uin, "no-terminate", DENY_TERMINATE, "", NOW)
        .await
        .unwrap();
    id.set_user_policy(&owner.owner_uin, &user.uin, all, true, NOW)
        .await
        .unwrap();
    id.set_user_policy(&owner.owner_uin, &user.uin, deny, true, NOW)
        .await
        .unwrap();
    assert_eq!(
        id.authorize(&key, "cvm:RunInstances", &res(), None, NOW),
        Authz::Allow
    );
    assert_eq!(
        id.authorize(&key, "cvm:TerminateInstances", &res(), None, NOW),
        Authz::Deny { explicit: true }
    );
    assert_eq!(
        id.authorize(&root(&id), "cvm:TerminateInstances", &res(), None, NOW),
        Authz::Allow
    );
    // The gateway skips naming resources for a key that may do everything: only the root's
    // permanent key, never a sub-user's, whatever its policies say.
    assert!(Identity::allows_everything(&root(&id)));
    assert!(!Identity::allows_everything(&key));

    id.set_user_policy(&owner.owner_uin, &user.uin, all, false, NOW)
        .await
        .unwrap();
    assert_eq!(
        id.authorize(&key, "cvm:RunInstances", &res(), None, NOW),
        Authz::Deny { explicit: false }
    );
    assert_eq!(
        id.user_policy_views(&owner.owner_uin, &user.uin)
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        id.create_policy(&owner.owner_uin, "ro", READ_ONLY, "", NOW)
            .await,
        Err(IdentityError::PolicyNameInUse(_))
    ));
    assert!(matches!(
        id.create_policy(&owner.owner_uin, "bad", "{not json", "", NOW)
            .await,
        Err(IdentityError::PolicyDocument(_))
    ));
}

/// Keys: at most two per user, disabled keys stay known but disabled, deleted keys vanish.
#[tokio::test]
async fn access_keys_lifecycle() {
    let id = open(Arc::new(MemoryStore::new())).await;
    let owner = root(&id).principal.clone();
    let (user, _) = id.add_user(&owner, "ops", "", 0, false, NOW).await.unwrap();
    let (k1, s1) = id
        .create_access_key(&owner, &user.uin, "first", NOW)
        .await
        .unwrap();
    id.create_access_key(&owner, &user.uin, "second", NOW)
        .await
        .unwrap();
    assert!(matches!(
        id.create_access_key(&owner, &user.uin, "", NOW).await,
        Err(IdentityError::TooManyKeys)
    ));
    assert_eq!(id.lookup(&k1).unwrap().secret_key.expose(), s1.expose());
    id.set_key_enabled(&user.uin, &k1, false).await.unwrap();
    assert!(!id.lookup(&k1).unwrap().enabled);
    id.delete_access_key(&user.uin, &k1).await.unwrap();
    assert!(id.lookup(&k1).is_none());
    assert!(matches!(
        id.delete_access_key(&user.uin, &k1).await,
        Err(IdentityError::KeyNotFound(_))
    ));
    assert!(matches!(
        id.delete_user(&owner.owner_uin, "ops", false).await,
        Err(IdentityError::UserHasKeys(_))
    ));
    id.delete_user(&owner.owner_uin, "ops", true).await.unwrap();
    assert!(id.list_users(&owner.owner_uin).is_empty());
}

/// Roles: AssumeRole needs the trust policy to name the caller; the session acts with the
/// role's policies until its credentials expire; the token must match.
#[tokio::test]
async fn assumed_roles_act_with_role_policies_until_they_expire() {
    let id = open(Arc::new(MemoryStore::new())).await;
    let caller = root(&id);
    let owner = &caller.principal.owner_uin;
    let trust = format!(
        r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"name/sts:AssumeRole","principal":{{"qcs":["qcs::cam::uin/{owner}:root"]}}}}]}}"#
    );
    let role_id = id
        .create_role(&caller.principal, "reader", &trust, "", 0, NOW)
        .await
        .unwrap();
    let ro = id
        .create_policy(owner, "ro", READ_ONLY, "", NOW)
        .await
        .unwrap();
    id.set_role_policy(owner, (Some(&role_id), None), ro, true, NOW)
        .await
        .unwrap();
    let arn = format!("qcs::cam::uin/{owner}:roleName/reader");
    let creds = id
        .assume_role(&caller, &arn, "s1", Some(600), None, None, NOW)
        .await
        .unwrap();
    let key = id.lookup(&creds.secret_id).unwrap();
    assert!(matches!(key.principal.kind, PrincipalKind::Role { .. }));
    assert_eq!(
        id.check_token(&key, Some(creds.token.expose()), NOW),
        Ok(())
    );
    assert_eq!(id.check_token(&key, None, NOW), Err(TokenProblem::Missing));
    assert_eq!(
        id.check_token(&key, Some("nope"), NOW),
        Err(TokenProblem::Wrong)
    );
    assert_eq!(
        id.check_token(&key, Some(creds.token.expose()), NOW + 600_000),
        Err(TokenProblem::Expired)
    );
    assert_eq!(
        id.authorize(&key, "cvm:DescribeInstances", &res(), None, NOW),
        Authz::Allow
    );
    assert_eq!(
        id.authorize(&key, "cvm:RunInstances", &res(), None, NOW),
        Authz::Deny { explicit: false }
    );
    assert!(
        !Identity::allows_everything(&key),
        "a role session is checked"
    );
    // A permanent key with any token is fine: tokens only bind temporary credentials.
    assert_eq!(id.check_token(&caller, Some("whatever"), NOW), Ok(()));

    let untrusting = r#"{"version":"2.0","statement":[{"effect":"allow","action":"name/sts:AssumeRole","principal":{"qcs":["qcs::cam::uin/999:root"]}}]}"#;
    id.create_role(&caller.principal, "closed", untrusting, "", 0, NOW)
        .await
        .unwrap();
    let closed = format!("qcs::cam::uin/{owner}:roleName/closed");
    assert!(matches!(
        id.assume_role(&caller, &closed, "s", None, None, None, NOW)
            .await,
        Err(IdentityError::NotTrusted(_))
    ));
    assert!(matches!(
        id.assume_role(
            &caller,
            "qcs::cam::uin/1:roleName/none",
            "s",
            None,
            None,
            None,
            NOW
        )
        .await,
        Err(IdentityError::RoleNotFound(_))
    ));
    assert!(matches!(
        id.assume_role(&key, &arn, "again", None, None, None, NOW)
            .await,
        Err(IdentityError::TemporaryKey)
    ));
}

/// Federation tokens carry exactly the policy they were issued with.
#[tokio::test]
async fn federation_tokens_are_bounded_by_their_policy() {
    let id = open(Arc::new(MemoryStore::new())).await;
    let caller = root(&id);
    let creds = id
        .federation_token(&caller, "partner", READ_ONLY, Some(300), NOW)
        .await
        .unwrap();
    let key = id.lookup(&creds.secret_id).unwrap();
    assert_eq!(
        id.authorize(&key, "cvm:DescribeZones", &res(), None, NOW),
        Authz::Allow
    );
    assert_eq!(
        id.authorize(&key, "cvm:RunInstances", &res(), None, NOW),
        Authz::Deny { explicit: false }
    );
    assert!(
        id.federation_token(&caller, "x", "nope", None, NOW)
            .await
            .is_err()
    );
}

/// With operation protection on, sensitive actions need MFA; GetSessionToken with the
/// device's current code provides it.
#[tokio::test]
async fn mfa_protects_sensitive_operations() {
    let id = open(Arc::new(MemoryStore::new())).await;
    let owner = root(&id).principal.clone();
    let (user, pair) = id
        .add_user(&owner, "admin", "", 0, true, NOW)
        .await
        .unwrap();
    let key = id.lookup(&pair.unwrap().0).unwrap();
    let all = id
        .create_policy(&owner.owner_uin, "all", ALL_CVM, "", NOW)
        .await
        .unwrap();
    id.set_user_policy(&owner.owner_uin, &user.uin, all, true, NOW)
        .await
        .unwrap();
    id.set_action_mfa(&owner.owner_uin, &user.uin, true)
        .await
        .unwrap();
    assert_eq!(
        id.authorize(&key, "cvm:TerminateInstances", &res(), None, NOW),
        Authz::MfaRequired
    );
    assert_eq!(
        id.authorize(&key, "cvm:RunInstances", &res(), None, NOW),
        Authz::Allow,
        "not sensitive"
    );

    let serial = id.create_mfa_device(&user.uin).await.unwrap();
    let code = id.mfa_code(&serial, NOW).unwrap();
    assert!(matches!(
        id.session_token(&key, &serial, "000000x", None, NOW).await,
        Err(IdentityError::MfaCode)
    ));
    assert!(matches!(
        id.session_token(&key, "qcs::cam:uin/1::mfa/softToken", &code, None, NOW)
            .await,
        Err(IdentityError::MfaDevice(_))
    ));
    let creds = id
        .session_token(&key, &serial, &code, None, NOW)
        .await
        .unwrap();
    let with_mfa = id.lookup(&creds.secret_id).unwrap();
    assert!(with_mfa.principal.mfa);
    assert_eq!(
        id.authorize(&with_mfa, "cvm:TerminateInstances", &res(), None, NOW),
        Authz::Allow
    );
}

/// Everything survives a reopen from the same store.
#[tokio::test]
async fn identity_survives_reopen() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let id = open(store.clone()).await;
    let owner = root(&id).principal.clone();
    let (user, pair) = id
        .add_user(&owner, "keep", "r", 0, true, NOW)
        .await
        .unwrap();
    let ro = id
        .create_policy(&owner.owner_uin, "ro", READ_ONLY, "", NOW)
        .await
        .unwrap();
    id.set_user_policy(&owner.owner_uin, &user.uin, ro, true, NOW)
        .await
        .unwrap();
    let (app_id, _, acct_key, _) = id.create_account(NOW).await.unwrap();
    drop(id);
    let again = open(store).await;
    let key = again.lookup(&pair.unwrap().0).unwrap();
    assert_eq!(
        again.authorize(&key, "cvm:DescribeZones", &res(), None, NOW),
        Authz::Allow
    );
    assert_eq!(
        again.get_user(&owner.owner_uin, "keep").unwrap().remark,
        "r"
    );
    assert_eq!(again.lookup(&acct_key).unwrap().principal.app_id, app_id);
    assert_eq!(again.accounts().len(), 2);
}

#[tokio::test]
async fn debug_output_never_contains_secrets() {
    let id = open(Arc::new(MemoryStore::new())).await;
    let key = root(&id);
    assert!(!format!("{key:?}").contains(DEV_SECRET_KEY));
    assert!(!format!("{id:?}").contains(DEV_SECRET_KEY));
    let creds = id
        .federation_token(&key, "f", READ_ONLY, None, NOW)
        .await
        .unwrap();
    let shown = format!("{creds:?}");
    assert!(!shown.contains(creds.token.expose()) && !shown.contains(creds.secret_key.expose()));
}

/// Temporary keys are deleted (from memory and the store) once they have been expired for
/// longer than the retention, so STS calls cannot grow the key table without end; until
/// then an expired key is still known, to be answered as expired.
#[tokio::test]
async fn long_expired_temporary_keys_are_swept() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let id = open(store.clone()).await;
    let caller = root(&id);
    let mut issued = Vec::new();
    for i in 0..5 {
        let creds = id
            .federation_token(&caller, &format!("f{i}"), READ_ONLY, Some(60), NOW)
            .await
            .unwrap();
        issued.push(creds.secret_id);
    }
    assert_eq!(store.scan(KEYS, "").await.unwrap().len(), 6);
    // Expired, but within the retention: still known.
    let soon = NOW + 61_000 + SWEEP_INTERVAL_MS;
    id.federation_token(&caller, "later", READ_ONLY, Some(60), soon)
        .await
        .unwrap();
    assert!(id.lookup(&issued[0]).is_some());
    // Past the retention: the next issue sweeps them.
    let late = NOW + 60_000 + EXPIRED_KEY_RETENTION_MS + 2 * SWEEP_INTERVAL_MS;
    id.federation_token(&caller, "last", READ_ONLY, Some(60), late)
        .await
        .unwrap();
    for gone in &issued {
        assert!(id.lookup(gone).is_none(), "{gone} is swept");
    }
    assert!(id.lookup(DEV_SECRET_ID).is_some(), "permanent keys stay");
    // The root key, "later" (still retained) and "last".
    assert_eq!(store.scan(KEYS, "").await.unwrap().len(), 3);
}

//! CAM's error codes against the model: every identity failure, in every CAM action, answers a
//! code the action documents (the gateway refuses the others), and the emulated actions answer
//! them for their real reasons.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tclocal_store::{MemoryStore, StoreError};
use tclocal_wire::context::RequestContext;
use tclocal_wire::ids::SeqResourceIds;
use tclocal_wire::{ApiResult, CommonCode, Language};

use super::*;
use crate::identity::{DEFAULT_OWNER_UIN, DEV_SECRET_ID, RootCredential};

#[test]
fn cam_messages_exist_in_three_languages() {
    assert!(MESSAGES.keys().count() > 10);
    for key in MESSAGES.keys() {
        for lang in Language::ALL {
            assert!(!MESSAGES.get(key, lang).unwrap().is_empty(), "{key} {lang}");
        }
    }
}

fn spec() -> &'static tclocal_wire::spec::ServiceSpec {
    tclocal_specs::registry().spec("cam", VERSION).unwrap()
}

/// The gateway's rule (`confine`): a common code, or one the action's list (the product's when
/// the action has none) documents.
fn allowed(action: &str, code: &str) -> bool {
    let errors = &spec().actions[action].errors;
    CommonCode::from_wire(code).is_some()
        || if errors.is_empty() {
            spec().has_error(code)
        } else {
            errors.iter().any(|c| c == code)
        }
}

/// One failure of each kind. The `match` has no wildcard: a new kind does not compile until it
/// is sampled here (and placed in [`raised_by`]).
fn every_failure() -> Vec<IdentityError> {
    let all = vec![
        IdentityError::Store(StoreError::Closed),
        IdentityError::InvalidRootKey("nope".into()),
        IdentityError::UserNameInUse("dev".into()),
        IdentityError::UserNameIllegal("bad name".into()),
        IdentityError::UserNotFound("999".into()),
        IdentityError::UserHasKeys("dev".into()),
        IdentityError::TooManyKeys,
        IdentityError::KeyNotFound("AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp".into()),
        IdentityError::PolicyNameInUse("p".into()),
        IdentityError::PolicyNotFound(424_242),
        IdentityError::PolicyDocument("not JSON".into()),
        IdentityError::PresetPolicy(1_000_011),
        IdentityError::RoleNameInUse("r".into()),
        IdentityError::RoleNotFound("nobody".into()),
        IdentityError::NotTrusted("qcs::cam::uin/1:roleName/r".into()),
        IdentityError::MfaDevice("serial".into()),
        IdentityError::MfaCode,
        IdentityError::TemporaryKey,
        IdentityError::Invalid("DurationSeconds".into()),
    ];
    for e in &all {
        match e {
            IdentityError::Store(_)
            | IdentityError::InvalidRootKey(_)
            | IdentityError::UserNameInUse(_)
            | IdentityError::UserNameIllegal(_)
            | IdentityError::UserNotFound(_)
            | IdentityError::UserHasKeys(_)
            | IdentityError::TooManyKeys
            | IdentityError::KeyNotFound(_)
            | IdentityError::PolicyNameInUse(_)
            | IdentityError::PolicyNotFound(_)
            | IdentityError::PolicyDocument(_)
            | IdentityError::PresetPolicy(_)
            | IdentityError::RoleNameInUse(_)
            | IdentityError::RoleNotFound(_)
            | IdentityError::NotTrusted(_)
            | IdentityError::MfaDevice(_)
            | IdentityError::MfaCode
            | IdentityError::TemporaryKey
            | IdentityError::Invalid(_) => {}
        }
    }
    all
}

/// The failures each CAM action can meet (from `Cam::dispatch` and the `Identity` methods it
/// calls), store failures aside.
fn raised_by(action: &str) -> Vec<IdentityError> {
    use IdentityError as E;
    let user = || E::UserNotFound("999".into());
    let policy = || E::PolicyNotFound(424_242);
    let role = || E::RoleNotFound("nobody".into());
    match action {
        "GetUserAppId" | "ListUsers" | "ListPolicies" => vec![],
        "AddUser" => vec![
            E::UserNameIllegal("bad name".into()),
            E::UserNameInUse("dev".into()),
        ],
        "GetUser" | "ListAccessKeys" | "ListAttachedUserPolicies" | "SetMfaFlag" => vec![user()],
        "DeleteUser" => vec![user(), E::UserHasKeys("dev".into())],
        "CreateAccessKey" => vec![user(), E::TooManyKeys],
        "UpdateAccessKey" | "DeleteAccessKey" => {
            vec![
                user(),
                E::KeyNotFound("AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp".into()),
            ]
        }
        "CreatePolicy" => vec![
            E::PolicyDocument("not JSON".into()),
            E::PolicyNameInUse("p".into()),
        ],
        "GetPolicy" => vec![policy()],
        "DeletePolicy" => vec![E::PresetPolicy(1_000_011), policy()],
        "AttachUserPolicy" | "DetachUserPolicy" => vec![user(), policy()],
        "CreateRole" => vec![
            E::PolicyDocument("not JSON".into()),
            E::RoleNameInUse("r".into()),
        ],
        "GetRole" | "DeleteRole" | "ListAttachedRolePolicies" => vec![role()],
        "AttachRolePolicy" | "DetachRolePolicy" => vec![role(), policy()],
        other => panic!("{other} is emulated but its failures are not listed here"),
    }
}

/// Every CAM action tclocal emulates, with every identity failure there is: the code is one
/// the gateway lets through for that action, and a failure the action can really meet gets a
/// code from the action's own list (not a bare family code), with its message.
#[test]
fn every_identity_failure_in_every_cam_action_is_documented_for_it() {
    for action in ACTIONS {
        let model = spec()
            .actions
            .get(action)
            .unwrap_or_else(|| panic!("{action} is not in the CAM model"));
        assert!(!model.errors.is_empty(), "{action} has no error list");
        for e in every_failure() {
            let what = e.to_string();
            let got = cam_error_in(action, e);
            assert!(
                allowed(action, got.code()),
                "{action}: {what} answers {}, which the model does not document for it",
                got.code()
            );
        }
        for e in raised_by(action) {
            let what = e.to_string();
            let got = cam_error_in(action, e);
            assert!(
                model.errors.iter().any(|c| c == got.code()),
                "{action}: {what} answers {}, not in the action's own list {:?}",
                got.code(),
                model.errors
            );
            let message = got.message(Language::EnUs);
            assert!(
                MESSAGES.get(got.template_key(), Language::EnUs).is_some(),
                "{action}: {what} has no message template ({message})"
            );
        }
    }
}

/// The codes chosen where CAM documents different codes for one failure.
#[test]
fn each_action_gets_the_code_it_documents_for_the_failure() {
    let user = || IdentityError::UserNotFound("999".into());
    let key = || IdentityError::KeyNotFound("AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp".into());
    let cases = [
        ("GetUser", user(), "ResourceNotFound.UserNotExist"),
        ("CreateAccessKey", user(), "InvalidParameter.UserNotExist"),
        ("ListAccessKeys", user(), "InvalidParameter.UserNotExist"),
        ("DeleteAccessKey", user(), "InvalidParameter.UserNotExist"),
        (
            "ListAttachedUserPolicies",
            user(),
            "InvalidParameter.ParamError",
        ),
        ("UpdateAccessKey", key(), "ResourceNotFound.SecretNotExist"),
        ("DeleteAccessKey", key(), "FailedOperation.Accesskey"),
        (
            "DeletePolicy",
            IdentityError::PresetPolicy(1_000_011),
            "InvalidParameter.PolicyIdError",
        ),
        (
            "DeletePolicy",
            IdentityError::PolicyNotFound(424_242),
            "ResourceNotFound.PolicyIdNotFound",
        ),
        (
            "AttachRolePolicy",
            IdentityError::PolicyNotFound(424_242),
            "InvalidParameter.PolicyIdNotExist",
        ),
        (
            "CreateRole",
            IdentityError::PolicyDocument("x".into()),
            "InvalidParameter.ParamError",
        ),
        (
            "ListAttachedRolePolicies",
            IdentityError::RoleNotFound("r".into()),
            "InvalidParameter.ParamError",
        ),
    ];
    for (action, e, want) in cases {
        assert_eq!(cam_error_in(action, e).code(), want, "{action}");
    }
    // The message says what happened, whichever code carries it.
    let e = cam_error_in("DeletePolicy", IdentityError::PresetPolicy(1_000_011));
    assert!(
        e.message(Language::EnUs)
            .contains("1000011 is a preset policy")
            || e.message(Language::EnUs)
                .contains("`1000011` is a preset policy"),
        "{}",
        e.message(Language::EnUs)
    );
    let e = cam_error_in("DeleteAccessKey", key());
    assert_eq!(
        e.message(Language::EnUs),
        "The access key `AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp` does not exist."
    );
    // Outside CAM's actions (STS borrows the mapping) the first code stands.
    assert_eq!(cam_error(user()).code(), "ResourceNotFound.UserNotExist");
}

/// CAM in process over a fresh identity store, called as the default account's root.
struct Harness {
    cam: Cam,
    identity: Arc<Identity>,
}

impl Harness {
    async fn new() -> Harness {
        let identity = Arc::new(
            Identity::open(
                Arc::new(MemoryStore::new()),
                RootCredential::development(),
                Arc::new(SeqResourceIds::default()),
            )
            .await
            .unwrap(),
        );
        Harness {
            cam: Cam::new(identity.clone()),
            identity,
        }
    }

    async fn call(&self, action: &str, params: Value) -> ApiResult<Map<String, Value>> {
        let Value::Object(p) = params else { panic!() };
        let cx = RequestContext {
            request_id: "req".into(),
            principal: self
                .identity
                .lookup(DEV_SECRET_ID)
                .unwrap()
                .principal
                .clone(),
            service: "cam".into(),
            version: VERSION.into(),
            action: action.into(),
            region: None,
            language: Language::EnUs,
            received_at_ms: 1_700_000_000_000,
        };
        self.cam.call(&cx, p).await.map(Reply::into_map)
    }

    async fn ok(&self, action: &str, params: Value) -> Map<String, Value> {
        self.call(action, params.clone())
            .await
            .unwrap_or_else(|e| panic!("{action} {params}: {e}"))
    }
}

/// Each emulated CAM action meets each failure it can have (the Python SDK suite's requests
/// among them): the code is the one chosen for its reason, and one the action documents.
#[tokio::test]
async fn emulated_cam_actions_answer_documented_codes_for_their_real_reasons() {
    let h = Harness::new().await;
    let dev = h.ok("AddUser", json!({"Name": "dev", "UseApi": 1})).await["Uin"]
        .as_u64()
        .unwrap();
    h.ok("CreateAccessKey", json!({"TargetUin": dev})).await;
    let trust = format!(
        r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"name/sts:AssumeRole","principal":{{"qcs":["qcs::cam::uin/{DEFAULT_OWNER_UIN}:root"]}}}}]}}"#
    );
    h.ok(
        "CreateRole",
        json!({"RoleName": "r", "PolicyDocument": trust}),
    )
    .await;
    let doc = r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:Describe*","resource":"*"}]}"#;
    h.ok(
        "CreatePolicy",
        json!({"PolicyName": "p", "PolicyDocument": doc}),
    )
    .await;
    let unknown_key = "AKIDZz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "AddUser",
            json!({"Name": "bad name!"}),
            "InvalidParameter.UserNameIllegal",
        ),
        (
            "AddUser",
            json!({"Name": "dev"}),
            "InvalidParameter.SubUserNameInUse",
        ),
        (
            "GetUser",
            json!({"Name": "nobody"}),
            "ResourceNotFound.UserNotExist",
        ),
        (
            "DeleteUser",
            json!({"Name": "nobody"}),
            "ResourceNotFound.UserNotExist",
        ),
        (
            "DeleteUser",
            json!({"Name": "dev"}),
            "OperationDenied.HaveKeys",
        ),
        // Case 2 of the Python SDK suite: an unknown TargetUin.
        (
            "CreateAccessKey",
            json!({"TargetUin": 999}),
            "InvalidParameter.UserNotExist",
        ),
        (
            "CreateAccessKey",
            json!({"TargetUin": dev}),
            "OperationDenied.AccessKeyOverLimit",
        ),
        // Case 3.
        (
            "ListAccessKeys",
            json!({"TargetUin": 999}),
            "InvalidParameter.UserNotExist",
        ),
        (
            "UpdateAccessKey",
            json!({"AccessKeyId": unknown_key, "Status": "Active", "TargetUin": 999}),
            "InvalidParameter.UserNotExist",
        ),
        (
            "UpdateAccessKey",
            json!({"AccessKeyId": unknown_key, "Status": "Active"}),
            "ResourceNotFound.SecretNotExist",
        ),
        (
            "UpdateAccessKey",
            json!({"AccessKeyId": unknown_key, "Status": "Sleeping"}),
            "InvalidParameter.ParamError",
        ),
        // Case 1: the key does not exist for the (root) user.
        (
            "DeleteAccessKey",
            json!({"AccessKeyId": unknown_key, "TargetUin": 100_000_000_001_u64}),
            "FailedOperation.Accesskey",
        ),
        (
            "DeleteAccessKey",
            json!({"AccessKeyId": unknown_key, "TargetUin": 999}),
            "InvalidParameter.UserNotExist",
        ),
        (
            "CreatePolicy",
            json!({"PolicyName": "q", "PolicyDocument": "not JSON"}),
            "InvalidParameter.PolicyDocumentError",
        ),
        (
            "CreatePolicy",
            json!({"PolicyName": "p", "PolicyDocument": doc}),
            "FailedOperation.PolicyNameInUse",
        ),
        (
            "GetPolicy",
            json!({"PolicyId": 424_242}),
            "ResourceNotFound.PolicyIdNotFound",
        ),
        // Case 4: a preset policy cannot be deleted.
        (
            "DeletePolicy",
            json!({"PolicyId": [1_000_011]}),
            "InvalidParameter.PolicyIdError",
        ),
        (
            "DeletePolicy",
            json!({"PolicyId": [424_242]}),
            "ResourceNotFound.PolicyIdNotFound",
        ),
        (
            "AttachUserPolicy",
            json!({"PolicyId": 1_000_011, "AttachUin": 999}),
            "ResourceNotFound.UserNotExist",
        ),
        (
            "AttachUserPolicy",
            json!({"PolicyId": 424_242, "AttachUin": dev}),
            "ResourceNotFound.PolicyIdNotFound",
        ),
        (
            "DetachUserPolicy",
            json!({"PolicyId": 1_000_011, "DetachUin": 999}),
            "ResourceNotFound.UserNotExist",
        ),
        (
            "ListAttachedUserPolicies",
            json!({"TargetUin": 999}),
            "InvalidParameter.ParamError",
        ),
        (
            "CreateRole",
            json!({"RoleName": "s", "PolicyDocument": "not JSON"}),
            "InvalidParameter.ParamError",
        ),
        (
            "CreateRole",
            json!({"RoleName": "r", "PolicyDocument": trust}),
            "InvalidParameter.RoleNameInUse",
        ),
        (
            "GetRole",
            json!({"RoleName": "nobody"}),
            "InvalidParameter.RoleNotExist",
        ),
        (
            "DeleteRole",
            json!({"RoleName": "nobody"}),
            "InvalidParameter.RoleNotExist",
        ),
        (
            "ListAttachedRolePolicies",
            json!({"RoleName": "nobody"}),
            "InvalidParameter.ParamError",
        ),
        (
            "AttachRolePolicy",
            json!({"AttachRoleName": "nobody", "PolicyId": 1_000_011}),
            "InvalidParameter.RoleNotExist",
        ),
        (
            "AttachRolePolicy",
            json!({"AttachRoleName": "r", "PolicyId": 424_242}),
            "InvalidParameter.PolicyIdNotExist",
        ),
        (
            "AttachRolePolicy",
            json!({"AttachRoleName": "r", "PolicyName": "nope"}),
            "InvalidParameter.PolicyIdNotExist",
        ),
        (
            "AttachRolePolicy",
            json!({"AttachRoleName": "r"}),
            "MissingParameter",
        ),
        (
            "DetachRolePolicy",
            json!({"DetachRoleName": "r", "PolicyName": "nope"}),
            "InvalidParameter.PolicyIdNotExist",
        ),
        (
            "SetMfaFlag",
            json!({"OpUin": 999, "ActionFlag": {"Stoken": 1}}),
            "ResourceNotFound.UserNotExist",
        ),
    ];
    for (action, params, want) in cases {
        let got = match h.call(action, params.clone()).await {
            Ok(v) => panic!("{action} {params} succeeded: {v:?}"),
            Err(e) => e,
        };
        assert!(
            allowed(action, got.code()),
            "{action} {params}: {} is not documented for it",
            got.code()
        );
        assert_eq!(got.code(), want, "{action} {params}: {got}");
    }
}

//! Security Token Service (STS), API version 2018-08-13: temporary credentials.
//!
//! `AssumeRole` acts as a CAM role (its policies apply, bounded by an optional session
//! policy), `GetFederationToken` gives a federated user the permissions of a policy,
//! `GetSessionToken` proves MFA for the caller's own permissions. A request signed with
//! temporary credentials must carry their token and arrive before they expire, or it is
//! `AuthFailure.TokenFailure` (the gateway checks that).

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tclocal_wire::context::{PrincipalKind, RequestContext};
use tclocal_wire::{ApiError, ApiResult, CommonCode};

use crate::cam::MESSAGES;
use crate::identity::{Identity, IdentityError, KeyKind, TempCredentials};
use crate::{Product, RegionScope, Reply, not_emulated, object};

/// STS's version.
pub const VERSION: &str = "2018-08-13";

const ACTIONS: [&str; 4] = [
    "AssumeRole",
    "GetFederationToken",
    "GetSessionToken",
    "GetCallerIdentity",
];

fn sts(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

fn sts_error(e: IdentityError) -> ApiError {
    match e {
        IdentityError::RoleNotFound(r) => sts("ResourceNotFound.RoleNotFound").arg(r),
        IdentityError::NotTrusted(r) => {
            ApiError::with_template(CommonCode::UnauthorizedOperation, "UnauthorizedOperation")
                .arg(r)
        }
        IdentityError::MfaDevice(_) | IdentityError::MfaCode => {
            sts("FailedOperation.CheckMFAError")
        }
        IdentityError::TemporaryKey => sts("FailedOperation.TempKeyNotAllowed"),
        IdentityError::PolicyDocument(why) => sts("InvalidParameter.StrategyFormatError").arg(why),
        IdentityError::Invalid(why) => sts("InvalidParameter.ParamError").arg(why),
        other => crate::cam::cam_error(other),
    }
}

fn str_of<'a>(p: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn credentials(c: &TempCredentials) -> Value {
    json!({
        "Credentials": {"Token": c.token.expose(), "TmpSecretId": c.secret_id,
                        "TmpSecretKey": c.secret_key.expose()},
        "ExpiredTime": c.expires_ms.div_euclid(1000),
        "Expiration": tclocal_wire::clock::iso8601(c.expires_ms),
    })
}

/// The STS product.
#[derive(Debug)]
pub struct Sts {
    identity: Arc<Identity>,
}

impl Sts {
    /// STS over these identities.
    #[must_use]
    pub fn new(identity: Arc<Identity>) -> Sts {
        Sts { identity }
    }
}

#[async_trait::async_trait]
impl Product for Sts {
    /// Every STS action issues a token, which is state (GetFederationToken too).
    fn writes(&self, _action: &str) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "sts"
    }

    fn regions(&self) -> RegionScope {
        RegionScope::Global
    }

    fn emulates(&self, version: &str, action: &str) -> bool {
        version == VERSION && ACTIONS.contains(&action)
    }

    async fn call(&self, cx: &RequestContext, p: Map<String, Value>) -> ApiResult<Reply> {
        let caller = cx
            .principal
            .secret_id
            .as_deref()
            .and_then(|id| self.identity.lookup(id));
        let now = cx.received_at_ms;
        let answer = match cx.action.as_str() {
            "GetCallerIdentity" => {
                let pr = &cx.principal;
                let (kind, arn, user_id) = match &pr.kind {
                    PrincipalKind::Root => (
                        "RootAccount",
                        format!("qcs::cam::uin/{}:uin/{}", pr.owner_uin, pr.uin),
                        pr.uin.clone(),
                    ),
                    PrincipalKind::User => (
                        "CAMUser",
                        format!("qcs::cam::uin/{}:uin/{}", pr.owner_uin, pr.uin),
                        pr.uin.clone(),
                    ),
                    PrincipalKind::Role { role_id, session } => (
                        "AssumedRole",
                        format!("qcs::sts:{}:assumed-role/{role_id}/{session}", pr.owner_uin),
                        format!("{role_id}:{session}"),
                    ),
                    PrincipalKind::Federated { name } => (
                        "FederatedUser",
                        format!("qcs::sts::uin/{}:federated-user/{name}", pr.owner_uin),
                        format!("{}:{name}", pr.uin),
                    ),
                };
                json!({"Arn": arn, "AccountId": pr.owner_uin, "UserId": user_id,
                       "PrincipalId": pr.uin, "Type": kind})
            }
            action => {
                // The other actions mint credentials from a signed caller's key.
                let Some(caller) = caller else {
                    return Err(ApiError::new(CommonCode::AuthFailureUnauthorizedOperation));
                };
                if matches!(caller.kind, KeyKind::Temporary { .. }) && action != "AssumeRole" {
                    return Err(sts("FailedOperation.TempKeyNotAllowed"));
                }
                let duration = p.get("DurationSeconds").and_then(Value::as_u64);
                let creds = match action {
                    "AssumeRole" => {
                        let mfa = str_of(&p, "SerialNumber")
                            .map(|s| (s, str_of(&p, "TokenCode").unwrap_or_default()));
                        self.identity
                            .assume_role(
                                &caller,
                                str_of(&p, "RoleArn").unwrap_or_default(),
                                str_of(&p, "RoleSessionName").unwrap_or_default(),
                                duration,
                                str_of(&p, "Policy"),
                                mfa,
                                now,
                            )
                            .await
                    }
                    "GetFederationToken" => {
                        self.identity
                            .federation_token(
                                &caller,
                                str_of(&p, "Name").unwrap_or_default(),
                                str_of(&p, "Policy").unwrap_or_default(),
                                duration,
                                now,
                            )
                            .await
                    }
                    "GetSessionToken" => {
                        self.identity
                            .session_token(
                                &caller,
                                str_of(&p, "SerialNumber").unwrap_or_default(),
                                str_of(&p, "TokenCode").unwrap_or_default(),
                                duration,
                                now,
                            )
                            .await
                    }
                    _ => return Err(not_emulated(cx)),
                };
                credentials(&creds.map_err(sts_error)?)
            }
        };
        Ok(object(answer).into())
    }
}

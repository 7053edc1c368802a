//! Cloud Access Management (CAM), API version 2019-01-16: sub-users, their API keys,
//! policies, roles and MFA flags, managed through the API itself so the official SDKs can
//! drive them. The data lives in [`crate::identity`]; this module speaks CAM's wire shapes
//! and codes.

pub mod policy;

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use tclocal_wire::catalogue::Templates;
use tclocal_wire::context::RequestContext;
use tclocal_wire::{ApiError, ApiResult, CommonCode};

use crate::identity::{Identity, IdentityError, PolicyView};
use crate::{Product, RegionScope, Reply, not_emulated, object};

/// CAM's version.
pub const VERSION: &str = "2019-01-16";

/// CAM's (and STS's) message templates (`data/cam/messages.json`).
pub(crate) static MESSAGES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::from_json(include_str!("../../data/cam/messages.json"))
        .expect("data/cam/messages.json is valid (checked by tests)")
});

const ACTIONS: [&str; 23] = [
    "GetUserAppId",
    "AddUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "CreatePolicy",
    "GetPolicy",
    "DeletePolicy",
    "ListPolicies",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "CreateRole",
    "GetRole",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "SetMfaFlag",
    "DeleteRole",
];

fn cam(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

// The codes that can name each identity failure, best first. CAM documents different codes
// for the same failure in different actions (an unknown user is `ResourceNotFound.UserNotExist`
// for GetUser but `InvalidParameter.UserNotExist` for CreateAccessKey), so each action answers
// the first of these its model lists.
const USER_NOT_FOUND: &[&str] = &[
    "ResourceNotFound.UserNotExist",
    "InvalidParameter.UserNotExist",
    // ListAttachedUserPolicies documents neither: the TargetUin is the bad parameter.
    "InvalidParameter.ParamError",
];
const KEY_NOT_FOUND: &[&str] = &[
    "ResourceNotFound.SecretNotExist",
    // DeleteAccessKey: "an error occurred while manipulating the access key".
    "FailedOperation.Accesskey",
];
const POLICY_NOT_FOUND: &[&str] = &[
    "ResourceNotFound.PolicyIdNotFound",
    // AttachRolePolicy, DetachRolePolicy.
    "InvalidParameter.PolicyIdNotExist",
];
const POLICY_DOCUMENT: &[&str] = &[
    "InvalidParameter.PolicyDocumentError",
    // CreateRole (a trust policy that does not parse).
    "InvalidParameter.ParamError",
];
const PRESET_POLICY: &[&str] = &[
    "FailedOperation.Unmodifiable",
    // DeletePolicy: the PolicyId names a policy, but not one the caller may delete.
    "InvalidParameter.PolicyIdError",
];
const ROLE_NOT_FOUND: &[&str] = &[
    "InvalidParameter.RoleNotExist",
    // ListAttachedRolePolicies documents no not-found code: the role named is the bad parameter.
    "InvalidParameter.ParamError",
];

/// An identity failure as CAM names it: the message template (what went wrong, whichever code
/// carries it), the codes that can carry it (best first) and the template's argument.
struct Named {
    template: &'static str,
    codes: &'static [&'static str],
    arg: Option<String>,
}

impl Named {
    fn new(
        template: &'static str,
        codes: &'static [&'static str],
        arg: &dyn std::fmt::Display,
    ) -> Named {
        Named {
            template,
            codes,
            arg: Some(arg.to_string()),
        }
    }

    fn error(&self, code: &'static str) -> ApiError {
        let e = ApiError::product(code, &MESSAGES, self.template);
        match &self.arg {
            Some(a) => e.arg(a),
            None => e,
        }
    }

    /// The error `action` answers: the first of the codes its model documents (the gateway's
    /// rule: the action's list, or the product's when the action has none). When it
    /// documents none of them, the first code's common family (`FailedOperation` for
    /// `OperationDenied`, which is not a common code), with the same message.
    fn in_action(&self, action: &str) -> ApiError {
        let Some(listed) = documented_in(action) else {
            return self.error(self.codes[0]);
        };
        if let Some(code) = self.codes.iter().find(|c| listed(c)) {
            return self.error(code);
        }
        let family = self.codes[0].split('.').next().unwrap_or_default();
        let common = CommonCode::from_wire(family).unwrap_or(CommonCode::FailedOperation);
        self.error(common.as_str())
    }
}

/// Whether the model documents a code for a CAM action; `None` when CAM has no such action.
fn documented_in(action: &str) -> Option<impl Fn(&str) -> bool> {
    let spec = tclocal_specs::registry().spec("cam", VERSION)?;
    let errors = &spec.actions.get(action)?.errors;
    Some(move |code: &str| {
        if errors.is_empty() {
            spec.has_error(code)
        } else {
            errors.iter().any(|c| c == code)
        }
    })
}

/// How CAM names an identity failure, or the common-code error of one CAM has no code for.
fn named(e: IdentityError) -> Result<Named, ApiError> {
    Ok(match e {
        IdentityError::Store(e) => return Err(ApiError::internal(e)),
        IdentityError::InvalidRootKey(id) => {
            return Err(ApiError::internal(format!("root key {id} is malformed")));
        }
        IdentityError::NotTrusted(r) => {
            return Err(ApiError::with_template(
                CommonCode::UnauthorizedOperation,
                "UnauthorizedOperation",
            )
            .arg(r));
        }
        IdentityError::TemporaryKey => return Err(ApiError::new(CommonCode::UnsupportedOperation)),
        IdentityError::UserNameInUse(n) => Named::new(
            "InvalidParameter.SubUserNameInUse",
            &["InvalidParameter.SubUserNameInUse"],
            &n,
        ),
        IdentityError::UserNameIllegal(n) => Named::new(
            "InvalidParameter.UserNameIllegal",
            &["InvalidParameter.UserNameIllegal"],
            &n,
        ),
        IdentityError::UserNotFound(n) => {
            Named::new("ResourceNotFound.UserNotExist", USER_NOT_FOUND, &n)
        }
        IdentityError::UserHasKeys(n) => Named::new(
            "OperationDenied.HaveKeys",
            &["OperationDenied.HaveKeys"],
            &n,
        ),
        IdentityError::TooManyKeys => Named {
            template: "OperationDenied.AccessKeyOverLimit",
            codes: &["OperationDenied.AccessKeyOverLimit"],
            arg: None,
        },
        IdentityError::KeyNotFound(k) => {
            Named::new("ResourceNotFound.SecretNotExist", KEY_NOT_FOUND, &k)
        }
        IdentityError::PolicyNameInUse(n) => Named::new(
            "FailedOperation.PolicyNameInUse",
            &["FailedOperation.PolicyNameInUse"],
            &n,
        ),
        IdentityError::PolicyNotFound(id) => {
            Named::new("ResourceNotFound.PolicyIdNotFound", POLICY_NOT_FOUND, &id)
        }
        IdentityError::PolicyDocument(why) => Named::new(
            "InvalidParameter.PolicyDocumentError",
            POLICY_DOCUMENT,
            &why,
        ),
        IdentityError::PresetPolicy(id) => {
            Named::new("FailedOperation.Unmodifiable", PRESET_POLICY, &id)
        }
        IdentityError::RoleNameInUse(n) => Named::new(
            "InvalidParameter.RoleNameInUse",
            &["InvalidParameter.RoleNameInUse"],
            &n,
        ),
        IdentityError::RoleNotFound(n) => {
            Named::new("InvalidParameter.RoleNotExist", ROLE_NOT_FOUND, &n)
        }
        IdentityError::MfaDevice(_) | IdentityError::MfaCode => Named {
            template: "InvalidParameter.MFATokenError",
            codes: &["InvalidParameter.MFATokenError"],
            arg: None,
        },
        IdentityError::Invalid(why) => Named::new(
            "InvalidParameter.ParamError",
            &["InvalidParameter.ParamError"],
            &why,
        ),
    })
}

/// CAM's code for an identity failure, outside any CAM action (STS falls back on it): the
/// failure's first code.
pub(crate) fn cam_error(e: IdentityError) -> ApiError {
    named(e).map_or_else(|common| common, |n| n.error(n.codes[0]))
}

/// CAM's code for an identity failure in `action`: the first code for the failure that the
/// action's model documents (see [`Named::in_action`]).
pub(crate) fn cam_error_in(action: &str, e: IdentityError) -> ApiError {
    named(e).map_or_else(|common| common, |n| n.in_action(action))
}

fn str_of<'a>(p: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn u64_of(p: &Map<String, Value>, k: &str) -> Option<u64> {
    p.get(k).and_then(Value::as_u64)
}

fn datetime(ms: i64) -> String {
    // CAM's datetime fields read "2023-11-14 22:13:20".
    tclocal_wire::clock::iso8601(ms)
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_owned()
}

fn uid(uin: &str) -> u64 {
    uin.parse::<u64>().unwrap_or(0) % 100_000_000
}

fn policy_json(p: &PolicyView) -> Value {
    json!({
        "PolicyName": p.name,
        "Description": p.description,
        "Type": p.policy_type,
        "AddTime": datetime(p.created_ms),
        "UpdateTime": datetime(p.created_ms),
        "PolicyDocument": p.document,
        "PresetAlias": if p.policy_type == 2 { p.name.clone() } else { String::new() },
        "IsServiceLinkedRolePolicy": 0,
    })
}

/// The CAM product.
#[derive(Debug)]
pub struct Cam {
    identity: Arc<Identity>,
}

impl Cam {
    /// CAM over these identities.
    #[must_use]
    pub fn new(identity: Arc<Identity>) -> Cam {
        Cam { identity }
    }
}

#[async_trait::async_trait]
impl Product for Cam {
    fn name(&self) -> &'static str {
        "cam"
    }

    /// CAM is the face of the identity tables: resetting CAM resets accounts and keys.
    fn tables(&self) -> &'static [&'static str] {
        &crate::identity::TABLES
    }

    fn secret_tables(&self) -> &'static [&'static str] {
        &crate::identity::SECRET_TABLES
    }

    /// Identity rows are keyed by their own ids (UIN, SecretId, PolicyId…): their account is
    /// in the record.
    fn keyed_by_app_id(&self, table: &str) -> bool {
        let _ = table;
        false
    }

    fn row_owner(&self, table: &str, key: &str, record: &Value) -> Option<crate::RowOwner> {
        let _ = key;
        crate::identity::row_owner(table, record)
    }

    async fn reload(&self, now_ms: i64) -> Result<(), tclocal_store::StoreError> {
        let _ = now_ms;
        self.identity.reload().await
    }

    fn regions(&self) -> RegionScope {
        RegionScope::Global
    }

    fn emulates(&self, version: &str, action: &str) -> bool {
        version == VERSION && ACTIONS.contains(&action)
    }

    async fn call(&self, cx: &RequestContext, p: Map<String, Value>) -> ApiResult<Reply> {
        self.dispatch(cx, &p).await.map(|v| object(v).into())
    }
}

impl Cam {
    #[allow(clippy::too_many_lines)] // one arm per action, each short
    async fn dispatch(&self, cx: &RequestContext, p: &Map<String, Value>) -> ApiResult<Value> {
        let id = &self.identity;
        let me = &cx.principal;
        let owner = me.owner_uin.as_str();
        let now = cx.received_at_ms;
        let e = |err| cam_error_in(&cx.action, err);
        Ok(match cx.action.as_str() {
            "GetUserAppId" => json!({"Uin": me.uin, "OwnerUin": me.owner_uin, "AppId": me.app_id}),
            "AddUser" => {
                let name = str_of(p, "Name").unwrap_or_default();
                let use_api = u64_of(p, "UseApi").unwrap_or(1) != 0;
                let (user, key) = id
                    .add_user(
                        me,
                        name,
                        str_of(p, "Remark").unwrap_or_default(),
                        u64_of(p, "ConsoleLogin").unwrap_or(0),
                        use_api,
                        now,
                    )
                    .await
                    .map_err(e)?;
                let (secret_id, secret_key) = key
                    .map_or((String::new(), String::new()), |(i, k)| {
                        (i, k.expose().to_owned())
                    });
                json!({"Uin": user.uin.parse::<u64>().unwrap_or(0), "Name": user.name,
                       "Password": "", "SecretId": secret_id, "SecretKey": secret_key,
                       "Uid": uid(&user.uin)})
            }
            "GetUser" => {
                let u = id
                    .get_user(owner, str_of(p, "Name").unwrap_or_default())
                    .map_err(e)?;
                json!({"Uin": u.uin.parse::<u64>().unwrap_or(0), "Name": u.name, "Uid": uid(&u.uin),
                       "Remark": u.remark, "ConsoleLogin": u.console_login, "PhoneNum": "",
                       "CountryCode": "", "Email": ""})
            }
            "ListUsers" => {
                let data: Vec<Value> = id
                    .list_users(owner)
                    .into_iter()
                    .map(|u| {
                        json!({"Uin": u.uin.parse::<u64>().unwrap_or(0), "Name": u.name,
                               "Uid": uid(&u.uin), "Remark": u.remark,
                               "ConsoleLogin": u.console_login, "PhoneNum": "", "CountryCode": "",
                               "Email": "", "CreateTime": datetime(u.created_ms), "NickName": ""})
                    })
                    .collect();
                json!({"Data": data})
            }
            "DeleteUser" => {
                let force = u64_of(p, "Force").unwrap_or(0) != 0;
                id.delete_user(owner, str_of(p, "Name").unwrap_or_default(), force)
                    .await
                    .map_err(e)?;
                json!({})
            }
            "CreateAccessKey" => {
                let uin = id.target_uin(me, u64_of(p, "TargetUin")).map_err(e)?;
                let description = str_of(p, "Description").unwrap_or_default();
                let (key_id, secret) = id
                    .create_access_key(me, &uin, description, now)
                    .await
                    .map_err(e)?;
                json!({"AccessKey": {"AccessKeyId": key_id, "SecretAccessKey": secret.expose(),
                                     "Status": "Active", "CreateTime": datetime(now),
                                     "Description": description}})
            }
            "ListAccessKeys" => {
                let uin = id.target_uin(me, u64_of(p, "TargetUin")).map_err(e)?;
                let keys: Vec<Value> = id
                    .list_access_keys(&uin)
                    .into_iter()
                    .map(|(key_id, enabled, created, description)| {
                        json!({"AccessKeyId": key_id,
                               "Status": if enabled { "Active" } else { "Inactive" },
                               "CreateTime": datetime(created), "Description": description})
                    })
                    .collect();
                json!({"AccessKeys": keys})
            }
            "UpdateAccessKey" => {
                let uin = id.target_uin(me, u64_of(p, "TargetUin")).map_err(e)?;
                let enabled = match str_of(p, "Status") {
                    Some("Active") => true,
                    Some("Inactive") => false,
                    _ => {
                        return Err(cam("InvalidParameter.ParamError")
                            .arg("Status must be Active or Inactive"));
                    }
                };
                id.set_key_enabled(&uin, str_of(p, "AccessKeyId").unwrap_or_default(), enabled)
                    .await
                    .map_err(e)?;
                json!({})
            }
            "DeleteAccessKey" => {
                let uin = id.target_uin(me, u64_of(p, "TargetUin")).map_err(e)?;
                id.delete_access_key(&uin, str_of(p, "AccessKeyId").unwrap_or_default())
                    .await
                    .map_err(e)?;
                json!({})
            }
            "CreatePolicy" => {
                let policy_id = id
                    .create_policy(
                        owner,
                        str_of(p, "PolicyName").unwrap_or_default(),
                        str_of(p, "PolicyDocument").unwrap_or_default(),
                        str_of(p, "Description").unwrap_or_default(),
                        now,
                    )
                    .await
                    .map_err(e)?;
                json!({"PolicyId": policy_id})
            }
            "GetPolicy" => {
                let policy = id
                    .get_policy(owner, u64_of(p, "PolicyId").unwrap_or(0))
                    .map_err(e)?;
                policy_json(&policy)
            }
            "DeletePolicy" => {
                let ids: Vec<u64> = p
                    .get("PolicyId")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                id.delete_policies(owner, &ids).await.map_err(e)?;
                json!({})
            }
            "ListPolicies" => {
                let mut list: Vec<Value> = policy::presets()
                    .iter()
                    .map(|pr| {
                        json!({"PolicyId": pr.id, "PolicyName": pr.name, "AddTime": datetime(0),
                               "Type": 2, "Description": pr.description, "CreateMode": 2,
                               "Attachments": 0, "ServiceType": "", "IsAttached": 0})
                    })
                    .collect();
                list.extend(id.custom_policies(owner).into_iter().map(|pv| {
                    json!({"PolicyId": pv.id, "PolicyName": pv.name, "AddTime": datetime(pv.created_ms),
                           "Type": 1, "Description": pv.description, "CreateMode": 1,
                           "Attachments": 0, "ServiceType": "", "IsAttached": 0})
                }));
                json!({"TotalNum": list.len(), "List": list, "ServiceTypeList": []})
            }
            "AttachUserPolicy" | "DetachUserPolicy" => {
                let attach = cx.action == "AttachUserPolicy";
                let uin = u64_of(p, if attach { "AttachUin" } else { "DetachUin" })
                    .unwrap_or(0)
                    .to_string();
                id.set_user_policy(owner, &uin, u64_of(p, "PolicyId").unwrap_or(0), attach, now)
                    .await
                    .map_err(e)?;
                json!({})
            }
            "ListAttachedUserPolicies" => {
                let uin = u64_of(p, "TargetUin").unwrap_or(0).to_string();
                let views = id.user_policy_views(owner, &uin).map_err(e)?;
                let list: Vec<Value> = views
                    .iter()
                    .map(|(pv, at)| {
                        json!({"PolicyId": pv.id, "PolicyName": pv.name, "AddTime": datetime(*at),
                               "CreateMode": if pv.policy_type == 2 { 2 } else { 1 },
                               "PolicyType": if pv.policy_type == 2 { "QCS" } else { "User" },
                               "Remark": pv.description, "OperateOwnerUin": owner,
                               "OperateUin": me.uin, "OperateUinType": 0, "Deactived": 0,
                               "DeactivedDetail": []})
                    })
                    .collect();
                json!({"TotalNum": list.len(), "List": list})
            }
            "CreateRole" => {
                let role_id = id
                    .create_role(
                        me,
                        str_of(p, "RoleName").unwrap_or_default(),
                        str_of(p, "PolicyDocument").unwrap_or_default(),
                        str_of(p, "Description").unwrap_or_default(),
                        u64_of(p, "SessionDuration").unwrap_or(0),
                        now,
                    )
                    .await
                    .map_err(e)?;
                json!({"RoleId": role_id})
            }
            "GetRole" => {
                let r = id
                    .get_role(owner, str_of(p, "RoleId"), str_of(p, "RoleName"))
                    .map_err(e)?;
                json!({"RoleInfo": {"RoleId": r.role_id, "RoleName": r.name,
                                    "PolicyDocument": r.trust_document, "Description": r.description,
                                    "AddTime": datetime(r.created_ms), "UpdateTime": datetime(r.created_ms),
                                    "ConsoleLogin": 0, "RoleType": "user",
                                    "SessionDuration": r.session_duration, "RoleArn": r.arn}})
            }
            "DeleteRole" => {
                id.delete_role(owner, str_of(p, "RoleId"), str_of(p, "RoleName"))
                    .await
                    .map_err(e)?;
                json!({})
            }
            "AttachRolePolicy" | "DetachRolePolicy" => {
                let attach = cx.action == "AttachRolePolicy";
                let (role_id, role_name) = if attach {
                    (str_of(p, "AttachRoleId"), str_of(p, "AttachRoleName"))
                } else {
                    (str_of(p, "DetachRoleId"), str_of(p, "DetachRoleName"))
                };
                let policy_id = match (u64_of(p, "PolicyId"), str_of(p, "PolicyName")) {
                    (Some(pid), _) if pid > 0 => pid,
                    (_, Some(name)) => id.policy_id_by_name(owner, name).ok_or_else(|| {
                        Named::new("ResourceNotFound.PolicyIdNotFound", POLICY_NOT_FOUND, &name)
                            .in_action(&cx.action)
                    })?,
                    _ => {
                        return Err(ApiError::new(CommonCode::MissingParameter).arg("PolicyId"));
                    }
                };
                id.set_role_policy(owner, (role_id, role_name), policy_id, attach, now)
                    .await
                    .map_err(e)?;
                json!({})
            }
            "ListAttachedRolePolicies" => {
                let views = id
                    .role_policy_views(owner, str_of(p, "RoleId"), str_of(p, "RoleName"))
                    .map_err(e)?;
                let list: Vec<Value> = views
                    .iter()
                    .map(|(pv, at)| {
                        json!({"PolicyId": pv.id, "PolicyName": pv.name, "AddTime": datetime(*at),
                               "PolicyType": if pv.policy_type == 2 { "QCS" } else { "User" },
                               "CreateMode": if pv.policy_type == 2 { 2 } else { 1 },
                               "Deactived": 0, "DeactivedDetail": [], "Description": pv.description})
                    })
                    .collect();
                json!({"TotalNum": list.len(), "List": list})
            }
            "SetMfaFlag" => {
                let uin = u64_of(p, "OpUin").map_or_else(|| me.uin.clone(), |u| u.to_string());
                let on = p
                    .get("ActionFlag")
                    .and_then(Value::as_object)
                    .is_some_and(|f| {
                        ["Phone", "Stoken", "Wechat"]
                            .iter()
                            .any(|k| u64_of(f, k).unwrap_or(0) != 0)
                    });
                id.set_action_mfa(owner, &uin, on).await.map_err(e)?;
                json!({})
            }
            _ => return Err(not_emulated(cx)),
        })
    }
}

#[cfg(test)]
mod tests;

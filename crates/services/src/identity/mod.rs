//! Identity: accounts, CAM sub-users, API keys (permanent and temporary), policies, roles and
//! virtual MFA devices — who may call, with which secret, and what they may do.
//!
//! The gateway asks [`Identity::lookup`] for the key a request names, on every request, and
//! [`Identity::authorize`] whether its principal may perform the action, so everything is
//! served from memory; the store is the durable home (write-through, one writer at a time).
//! At first start the default account is created with the root key given by
//! `TCLOCAL_SECRET_ID` / `TCLOCAL_SECRET_KEY`, or with the well-known development key
//! ([`DEV_SECRET_ID`], [`DEV_SECRET_KEY`]); later starts keep what the store holds.
//!
//! Secret keys and tokens are held as [`SecretKey`] (redacted in `Debug`) and never logged.

pub mod totp;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use tclocal_sign::SecretKey;
use tclocal_store::{Batch, Store, StoreError, codec};
use tclocal_wire::context::{Principal, PrincipalKind};
use tclocal_wire::ids::ResourceIds;

use crate::cam::policy::{self, Decision, Policy};

/// SecretId of the well-known development key (like Azurite's well-known account key: public
/// on purpose, for local use only).
pub const DEV_SECRET_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
/// SecretKey of the well-known development key.
pub const DEV_SECRET_KEY: &str = "tclocalDevelopmentSecretKey00000";
/// AppId of the default account.
pub const DEFAULT_APP_ID: u64 = 1_250_000_000;
/// OwnerUin of the default account.
pub const DEFAULT_OWNER_UIN: &str = "100000000001";

/// How long an expired temporary key is kept, so a late call with it is still told it expired
/// (`AuthFailure.TokenFailure`) rather than that it never existed; then it is deleted, so STS
/// calls cannot grow the store without end.
pub const EXPIRED_KEY_RETENTION_MS: i64 = 3_600_000;

/// Least emulated time between two sweeps of expired temporary keys (each walks every key).
const SWEEP_INTERVAL_MS: i64 = 60_000;

/// Access keys one user may hold (the cloud allows two).
pub const MAX_KEYS_PER_USER: usize = 2;

/// Actions that need MFA when a sub-user's operation protection is on (`SetMfaFlag`).
pub const SENSITIVE_ACTIONS: [&str; 6] = [
    "cvm:TerminateInstances",
    "cvm:DeleteKeyPairs",
    "cam:CreateAccessKey",
    "cam:UpdateAccessKey",
    "cam:DeleteAccessKey",
    "cam:DeleteUser",
];

/// Actions about the caller itself, which need no permission (as on the cloud: anyone may
/// ask who they are, or prove their MFA).
pub const SELF_ACTIONS: [&str; 3] = [
    "cam:GetUserAppId",
    "sts:GetCallerIdentity",
    "sts:GetSessionToken",
];

/// The store tables of accounts, users, keys, policies, roles and MFA devices.
pub const TABLES: [&str; 6] = [ACCOUNTS, USERS, KEYS, POLICIES, ROLES, MFA];

/// The tables whose rows hold secrets: secret keys and session tokens, MFA seeds.
pub const SECRET_TABLES: [&str; 2] = [KEYS, MFA];

const ACCOUNTS: &str = "identity.accounts";
const USERS: &str = "identity.users";
const KEYS: &str = "identity.keys";
const POLICIES: &str = "identity.policies";
const ROLES: &str = "identity.roles";
const MFA: &str = "identity.mfa";

/// Why an identity operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The root credential is not usable as a cloud API key.
    #[error("the root SecretId {0:?} is not a cloud API key (AKID followed by letters and digits)")]
    InvalidRootKey(String),
    /// A sub-user of that name exists already.
    #[error("a user named {0} exists already")]
    UserNameInUse(String),
    /// The name is not a valid user name.
    #[error("{0} is not a valid user name")]
    UserNameIllegal(String),
    /// No such sub-user in the account.
    #[error("user {0} does not exist")]
    UserNotFound(String),
    /// DeleteUser without Force on a user holding keys.
    #[error("user {0} still has API keys")]
    UserHasKeys(String),
    /// The user holds the maximum number of keys.
    #[error("a user may hold at most {MAX_KEYS_PER_USER} API keys")]
    TooManyKeys,
    /// No such access key for that user.
    #[error("access key {0} does not exist")]
    KeyNotFound(String),
    /// A policy of that name exists already.
    #[error("a policy named {0} exists already")]
    PolicyNameInUse(String),
    /// No such policy visible to the account.
    #[error("policy {0} does not exist")]
    PolicyNotFound(u64),
    /// The policy document does not parse.
    #[error("the policy document is invalid: {0}")]
    PolicyDocument(String),
    /// A preset policy cannot be changed or deleted.
    #[error("policy {0} is a preset policy")]
    PresetPolicy(u64),
    /// A role of that name exists already.
    #[error("a role named {0} exists already")]
    RoleNameInUse(String),
    /// No such role.
    #[error("role {0} does not exist")]
    RoleNotFound(String),
    /// The role's trust policy does not let the caller assume it.
    #[error("the role {0} does not trust this caller")]
    NotTrusted(String),
    /// No MFA device with that serial, or it belongs to someone else.
    #[error("MFA device {0} is not bound to the caller")]
    MfaDevice(String),
    /// Wrong or expired MFA code.
    #[error("the MFA code is wrong or expired")]
    MfaCode,
    /// Temporary credentials cannot do this (e.g. mint more temporary credentials).
    #[error("temporary credentials cannot call this")]
    TemporaryKey,
    /// A value out of range.
    #[error("{0}")]
    Invalid(String),
}

/// A root credential for the default account.
#[derive(Debug, Clone)]
pub struct RootCredential {
    /// The SecretId.
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: SecretKey,
}

impl RootCredential {
    /// The well-known development key.
    #[must_use]
    pub fn development() -> RootCredential {
        RootCredential {
            secret_id: DEV_SECRET_ID.to_owned(),
            secret_key: SecretKey::new(DEV_SECRET_KEY),
        }
    }
}

/// Whether a key is permanent or an STS credential.
#[derive(Debug, Clone)]
pub enum KeyKind {
    /// A permanent API key.
    Permanent,
    /// Temporary credentials: valid with their token until they expire.
    Temporary {
        /// `X-TC-Token` / `Token` the request must carry.
        token: SecretKey,
        /// Expiry, emulated Unix ms.
        expires_ms: i64,
        /// A policy passed at issue time (AssumeRole `Policy`, GetFederationToken `Policy`):
        /// the session may do only what it allows too.
        session_policy: Option<Arc<Policy>>,
        /// The sub-user whose permissions also bound the session, when a sub-user issued it.
        issuer_uin: Option<String>,
    },
}

/// An API key as the gateway sees it.
#[derive(Debug)]
pub struct ApiKey {
    /// The SecretId.
    pub secret_id: String,
    /// The SecretKey (redacted in `Debug`).
    pub secret_key: SecretKey,
    /// The identity requests signed with it act as; shared with each request's context.
    pub principal: Arc<Principal>,
    /// A disabled key is refused like an unknown one.
    pub enabled: bool,
    /// Creation time, emulated Unix ms.
    pub created_ms: i64,
    /// `Description` given at creation.
    pub description: String,
    /// Permanent or temporary.
    pub kind: KeyKind,
}

/// Why a token check failed (all answered `AuthFailure.TokenFailure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Temporary credentials without a token.
    Missing,
    /// A token that is not this credential's.
    Wrong,
    /// The credential has expired.
    Expired,
}

/// The outcome of [`Identity::authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authz {
    /// The call may proceed.
    Allow,
    /// Denied: no statement allows it (`explicit` false) or one denies it.
    Deny {
        /// A statement denied it explicitly.
        explicit: bool,
    },
    /// Allowed only with MFA, which the credential lacks.
    MfaRequired,
}

/// True when `secret_id` has the shape of a cloud API key: `AKID` and letters and digits.
/// Anything else is `AuthFailure.InvalidSecretId`; a well-shaped id that was never issued is
/// `AuthFailure.SecretIdNotFound`.
#[must_use]
pub fn is_key_shaped(secret_id: &str) -> bool {
    secret_id.len() >= 20
        && secret_id.len() <= 128
        && secret_id.starts_with("AKID")
        && secret_id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Persisted shapes; a change adds a new `vN` module and a migration.
mod records {
    use super::{Deserialize, Serialize};

    pub(super) const VERSION: u16 = 1;

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(super) struct Account {
        pub(super) app_id: u64,
        pub(super) owner_uin: String,
        #[serde(default)]
        pub(super) created_ms: i64,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(super) struct User {
        pub(super) uin: String,
        pub(super) owner_uin: String,
        pub(super) app_id: u64,
        pub(super) name: String,
        pub(super) remark: String,
        pub(super) console_login: u64,
        pub(super) created_ms: i64,
        pub(super) policies: Vec<(u64, i64)>,
        pub(super) mfa_actions: bool,
    }

    // No Debug: the record holds a secret.
    #[derive(Clone, Serialize, Deserialize)]
    pub(super) struct Key {
        pub(super) secret_id: String,
        pub(super) secret_key: String,
        pub(super) app_id: u64,
        pub(super) owner_uin: String,
        pub(super) uin: String,
        pub(super) enabled: bool,
        #[serde(default)]
        pub(super) created_ms: i64,
        #[serde(default)]
        pub(super) description: String,
        #[serde(default)]
        pub(super) temporary: Option<Temporary>,
    }

    #[derive(Clone, Serialize, Deserialize)]
    pub(super) struct Temporary {
        pub(super) token: String,
        pub(super) expires_ms: i64,
        pub(super) session_policy: Option<String>,
        pub(super) issuer_uin: Option<String>,
        pub(super) role_id: Option<String>,
        pub(super) session: String,
        pub(super) federated: bool,
        pub(super) mfa: bool,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(super) struct Policy {
        pub(super) id: u64,
        pub(super) owner_uin: String,
        pub(super) name: String,
        pub(super) document: String,
        pub(super) description: String,
        pub(super) created_ms: i64,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(super) struct Role {
        pub(super) role_id: String,
        pub(super) owner_uin: String,
        pub(super) app_id: u64,
        pub(super) name: String,
        pub(super) trust_document: String,
        pub(super) description: String,
        pub(super) session_duration: u64,
        pub(super) created_ms: i64,
        pub(super) policies: Vec<(u64, i64)>,
    }

    // No Debug: the record holds the TOTP seed.
    #[derive(Clone, Serialize, Deserialize)]
    pub(super) struct Mfa {
        pub(super) serial: String,
        pub(super) uin: String,
        pub(super) secret: Vec<u8>,
    }
}

use records::VERSION;
pub use records_view::*;

/// Read-only views of identity data for the CAM API and the control plane.
mod records_view {
    /// A sub-user.
    #[derive(Debug, Clone)]
    pub struct UserView {
        /// UIN.
        pub uin: String,
        /// Name.
        pub name: String,
        /// Remark.
        pub remark: String,
        /// Console login allowed (0/1).
        pub console_login: u64,
        /// Creation time, Unix ms.
        pub created_ms: i64,
    }

    /// A policy as CAM shows it.
    #[derive(Debug, Clone)]
    pub struct PolicyView {
        /// PolicyId.
        pub id: u64,
        /// PolicyName.
        pub name: String,
        /// The document.
        pub document: String,
        /// Description.
        pub description: String,
        /// 1 custom, 2 preset.
        pub policy_type: u64,
        /// Creation time, Unix ms (0 for presets).
        pub created_ms: i64,
    }

    /// A role.
    #[derive(Debug, Clone)]
    pub struct RoleView {
        /// RoleId.
        pub role_id: String,
        /// RoleName.
        pub name: String,
        /// Trust policy.
        pub trust_document: String,
        /// Description.
        pub description: String,
        /// Session duration, seconds.
        pub session_duration: u64,
        /// Creation time, Unix ms.
        pub created_ms: i64,
        /// `qcs::cam::uin/<owner>:roleName/<name>`.
        pub arn: String,
    }

    /// Temporary credentials issued by STS.
    #[derive(Debug)]
    pub struct TempCredentials {
        /// TmpSecretId.
        pub secret_id: String,
        /// TmpSecretKey (redacted in Debug).
        pub secret_key: tclocal_sign::SecretKey,
        /// Token (redacted in Debug).
        pub token: tclocal_sign::SecretKey,
        /// Expiry, Unix ms.
        pub expires_ms: i64,
    }
}

struct Account {
    app_id: u64,
    owner_uin: String,
}

struct PolicyEntry {
    rec: records::Policy,
    parsed: Arc<Policy>,
}

struct RoleEntry {
    rec: records::Role,
}

#[derive(Default)]
struct State {
    accounts: BTreeMap<u64, Account>,
    users: BTreeMap<String, records::User>,
    keys: HashMap<String, Arc<ApiKey>>,
    key_records: HashMap<String, records::Key>,
    policies: BTreeMap<u64, PolicyEntry>,
    roles: BTreeMap<String, RoleEntry>,
    mfa: HashMap<String, records::Mfa>,
    next_uin: u64,
    next_app_id: u64,
    next_policy_id: u64,
    next_role: u64,
    /// Emulated time of the next sweep of long-expired temporary keys.
    next_sweep_ms: i64,
}

/// Accounts and keys.
pub struct Identity {
    store: Arc<dyn Store>,
    ids: Arc<dyn ResourceIds>,
    state: RwLock<State>,
    writer: tokio::sync::Mutex<()>,
    default_principal: Arc<Principal>,
    /// The configured root key, recreated when a reset empties the store.
    root: RootCredential,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("keys", &self.state.read().keys.len())
            .field("default_principal", &self.default_principal)
            .finish_non_exhaustive()
    }
}

const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn random_text(ids: &dyn ResourceIds, len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in ids.seed32() {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALNUM[usize::from(b) % ALNUM.len()]));
        }
    }
    out
}

fn key_from_record(k: &records::Key) -> ApiKey {
    let (kind, principal_kind, mfa) = match &k.temporary {
        None => (
            KeyKind::Permanent,
            if k.uin == k.owner_uin {
                PrincipalKind::Root
            } else {
                PrincipalKind::User
            },
            false,
        ),
        Some(t) => {
            let principal_kind = match (&t.role_id, t.federated) {
                (Some(role_id), _) => PrincipalKind::Role {
                    role_id: role_id.clone(),
                    session: t.session.clone(),
                },
                (None, true) => PrincipalKind::Federated {
                    name: t.session.clone(),
                },
                (None, false) if k.uin == k.owner_uin => PrincipalKind::Root,
                (None, false) => PrincipalKind::User,
            };
            (
                KeyKind::Temporary {
                    token: SecretKey::new(t.token.clone()),
                    expires_ms: t.expires_ms,
                    session_policy: t
                        .session_policy
                        .as_deref()
                        .and_then(|d| policy::parse(d).ok())
                        .map(Arc::new),
                    issuer_uin: t.issuer_uin.clone(),
                },
                principal_kind,
                t.mfa,
            )
        }
    };
    ApiKey {
        secret_id: k.secret_id.clone(),
        secret_key: SecretKey::new(k.secret_key.clone()),
        principal: Arc::new(Principal {
            app_id: k.app_id,
            owner_uin: k.owner_uin.clone(),
            uin: k.uin.clone(),
            secret_id: Some(k.secret_id.clone()),
            kind: principal_kind,
            mfa,
        }),
        enabled: k.enabled,
        created_ms: k.created_ms,
        description: k.description.clone(),
        kind,
    }
}

fn role_arn(owner_uin: &str, name: &str) -> String {
    format!("qcs::cam::uin/{owner_uin}:roleName/{name}")
}

impl State {
    fn put_key(&mut self, rec: records::Key) {
        let key = key_from_record(&rec);
        self.keys.insert(rec.secret_id.clone(), Arc::new(key));
        self.key_records.insert(rec.secret_id.clone(), rec);
    }

    fn user_in(&self, owner_uin: &str, name: &str) -> Option<&records::User> {
        self.users
            .values()
            .find(|u| u.owner_uin == owner_uin && u.name == name)
    }

    fn policy_visible(&self, owner_uin: &str, id: u64) -> Option<PolicyView> {
        if let Some(p) = policy::presets().iter().find(|p| p.id == id) {
            return Some(PolicyView {
                id: p.id,
                name: p.name.clone(),
                document: p.document.clone(),
                description: p.description.clone(),
                policy_type: 2,
                created_ms: 0,
            });
        }
        self.policies
            .get(&id)
            .filter(|p| p.rec.owner_uin == owner_uin)
            .map(|p| PolicyView {
                id,
                name: p.rec.name.clone(),
                document: p.rec.document.clone(),
                description: p.rec.description.clone(),
                policy_type: 1,
                created_ms: p.rec.created_ms,
            })
    }

    fn parsed_policy(&self, id: u64) -> Option<Arc<Policy>> {
        if let Some(p) = policy::presets().iter().find(|p| p.id == id) {
            return Some(p.policy.clone());
        }
        self.policies.get(&id).map(|p| p.parsed.clone())
    }

    fn user_policies(&self, uin: &str) -> Vec<Arc<Policy>> {
        self.users
            .get(uin)
            .map(|u| {
                u.policies
                    .iter()
                    .filter_map(|(id, _)| self.parsed_policy(*id))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Identity {
    /// Loads identity data, creating the default account with `root` on first start.
    ///
    /// # Errors
    /// When the store fails or `root` is not key-shaped.
    pub async fn open(
        store: Arc<dyn Store>,
        root: RootCredential,
        ids: Arc<dyn ResourceIds>,
    ) -> Result<Identity, IdentityError> {
        if !is_key_shaped(&root.secret_id) {
            return Err(IdentityError::InvalidRootKey(root.secret_id));
        }
        let state = load(store.as_ref(), &root).await?;
        Ok(Identity {
            store,
            ids,
            state: RwLock::new(state),
            writer: tokio::sync::Mutex::new(()),
            default_principal: Arc::new(Principal::root(DEFAULT_APP_ID, DEFAULT_OWNER_UIN)),
            root,
        })
    }

    /// Reloads accounts, users, keys, policies, roles and MFA devices from the store, after
    /// their tables were cleared or replaced. An empty store gets the default account and
    /// the configured root key again, as at a first start.
    ///
    /// # Errors
    /// When the store fails or holds a record that does not decode.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let state = load(self.store.as_ref(), &self.root).await?;
        *self.state.write() = state;
        Ok(())
    }

    /// The key with that SecretId, if issued (enabled or not).
    #[must_use]
    pub fn lookup(&self, secret_id: &str) -> Option<Arc<ApiKey>> {
        self.state.read().keys.get(secret_id).cloned()
    }

    /// The default account's root identity: what unsigned requests act as when `--auth off`.
    #[must_use]
    pub fn default_principal(&self) -> &Arc<Principal> {
        &self.default_principal
    }

    /// Every permanent key: (SecretId, principal, enabled). Never the secret.
    #[must_use]
    pub fn key_summaries(&self) -> Vec<(String, Principal, bool)> {
        let mut out: Vec<_> = self
            .state
            .read()
            .keys
            .values()
            .filter(|k| matches!(k.kind, KeyKind::Permanent))
            .map(|k| {
                (
                    k.secret_id.clone(),
                    Principal::clone(&k.principal),
                    k.enabled,
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The principal a UIN acts as with a permanent key: an account root or a sub-user.
    #[must_use]
    pub fn principal_of_uin(&self, uin: &str) -> Option<Principal> {
        let s = self.state.read();
        if let Some(a) = s.accounts.values().find(|a| a.owner_uin == uin) {
            return Some(Principal::root(a.app_id, &a.owner_uin));
        }
        s.users.get(uin).map(|u| {
            let mut p = Principal::root(u.app_id, &u.owner_uin);
            p.uin.clone_from(&u.uin);
            p.kind = PrincipalKind::User;
            p
        })
    }

    /// Enables or disables any permanent key by id (the control plane's `tclocal keys`).
    ///
    /// # Errors
    /// No such permanent key, or a store failure.
    pub async fn set_any_key_enabled(
        &self,
        key_id: &str,
        enabled: bool,
    ) -> Result<(), IdentityError> {
        let uin = self
            .state
            .read()
            .key_records
            .get(key_id)
            .filter(|k| k.temporary.is_none())
            .map(|k| k.uin.clone())
            .ok_or_else(|| IdentityError::KeyNotFound(key_id.to_owned()))?;
        self.set_key_enabled(&uin, key_id, enabled).await
    }

    /// Every account: (AppId, OwnerUin).
    #[must_use]
    pub fn accounts(&self) -> Vec<(u64, String)> {
        self.state
            .read()
            .accounts
            .values()
            .map(|a| (a.app_id, a.owner_uin.clone()))
            .collect()
    }

    /// Checks the token of temporary credentials at emulated time `now_ms`; permanent keys
    /// need none (a token sent with one is ignored, as the cloud does).
    ///
    /// # Errors
    /// The [`TokenProblem`].
    pub fn check_token(
        &self,
        key: &ApiKey,
        token: Option<&str>,
        now_ms: i64,
    ) -> Result<(), TokenProblem> {
        let KeyKind::Temporary {
            token: expected,
            expires_ms,
            ..
        } = &key.kind
        else {
            return Ok(());
        };
        let Some(given) = token.filter(|t| !t.is_empty()) else {
            return Err(TokenProblem::Missing);
        };
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.expose().as_bytes()).into();
        if !same {
            return Err(TokenProblem::Wrong);
        }
        if now_ms >= *expires_ms {
            return Err(TokenProblem::Expired);
        }
        Ok(())
    }

    /// True when [`Identity::authorize`] allows every call of this key whatever the action
    /// and resources: an account root's permanent key. The gateway then need not name the
    /// call's resources, which costs every request otherwise.
    #[must_use]
    pub fn allows_everything(key: &ApiKey) -> bool {
        matches!(key.principal.kind, PrincipalKind::Root) && matches!(key.kind, KeyKind::Permanent)
    }

    /// May `key`'s principal perform `action` (`cvm:RunInstances`) on `resources`?
    #[must_use]
    pub fn authorize(
        &self,
        key: &ApiKey,
        action: &str,
        resources: &[String],
        client_ip: Option<IpAddr>,
        now_ms: i64,
    ) -> Authz {
        if SELF_ACTIONS.iter().any(|a| a.eq_ignore_ascii_case(action)) {
            return Authz::Allow;
        }
        let state = self.state.read();
        let p = &key.principal;
        let req = policy::Request {
            action,
            resources,
            client_ip,
            mfa: p.mfa,
            now_unix: now_ms.div_euclid(1000),
            region: None,
        };
        // The permission sets that must all allow the call.
        let mut sets: Vec<Vec<Arc<Policy>>> = Vec::new();
        let mut protected_user = None;
        match &p.kind {
            PrincipalKind::Root => {}
            PrincipalKind::User => {
                sets.push(state.user_policies(&p.uin));
                protected_user = state.users.get(&p.uin);
            }
            PrincipalKind::Role { role_id, .. } => {
                let role = state.roles.get(role_id);
                sets.push(
                    role.map(|r| {
                        r.rec
                            .policies
                            .iter()
                            .filter_map(|(id, _)| state.parsed_policy(*id))
                            .collect()
                    })
                    .unwrap_or_default(),
                );
            }
            PrincipalKind::Federated { .. } => {}
        }
        if let KeyKind::Temporary {
            session_policy,
            issuer_uin,
            ..
        } = &key.kind
        {
            if let Some(sp) = session_policy {
                sets.push(vec![sp.clone()]);
            }
            if let Some(issuer) = issuer_uin.as_deref().filter(|u| *u != p.owner_uin) {
                sets.push(state.user_policies(issuer));
                if matches!(p.kind, PrincipalKind::Federated { .. }) {
                    protected_user = state.users.get(issuer);
                }
            }
        }
        if protected_user.is_some_and(|u| u.mfa_actions)
            && !p.mfa
            && SENSITIVE_ACTIONS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(action))
        {
            return Authz::MfaRequired;
        }
        for set in &sets {
            let refs: Vec<&Policy> = set.iter().map(AsRef::as_ref).collect();
            match policy::evaluate(&refs, &req) {
                Decision::Allow => {}
                Decision::ExplicitDeny { .. } => return Authz::Deny { explicit: true },
                Decision::ImplicitDeny => {
                    if policy::requires_mfa(&refs, &req) {
                        return Authz::MfaRequired;
                    }
                    return Authz::Deny { explicit: false };
                }
            }
        }
        Authz::Allow
    }

    async fn commit(&self, batch: Batch) -> Result<(), IdentityError> {
        self.store.commit(batch).await.map_err(IdentityError::from)
    }

    fn new_key_record(
        &self,
        principal: &Principal,
        now_ms: i64,
        description: &str,
    ) -> records::Key {
        records::Key {
            secret_id: format!("AKID{}", random_text(self.ids.as_ref(), 32)),
            secret_key: random_text(self.ids.as_ref(), 32),
            app_id: principal.app_id,
            owner_uin: principal.owner_uin.clone(),
            uin: principal.uin.clone(),
            enabled: true,
            created_ms: now_ms,
            description: description.to_owned(),
            temporary: None,
        }
    }

    /// Creates another account with a root key: (AppId, OwnerUin, SecretId, SecretKey).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn create_account(
        &self,
        now_ms: i64,
    ) -> Result<(u64, String, String, SecretKey), IdentityError> {
        let _w = self.writer.lock().await;
        let (app_id, owner_uin) = {
            let s = self.state.read();
            (s.next_app_id, s.next_uin.to_string())
        };
        let account = records::Account {
            app_id,
            owner_uin: owner_uin.clone(),
            created_ms: now_ms,
        };
        let key = self.new_key_record(&Principal::root(app_id, &owner_uin), now_ms, "root key");
        let mut batch = Batch::default();
        batch.put(
            ACCOUNTS,
            app_id.to_string(),
            codec::encode(VERSION, &account),
        );
        batch.put(KEYS, key.secret_id.clone(), codec::encode(VERSION, &key));
        self.commit(batch).await?;
        let answer = (
            app_id,
            owner_uin.clone(),
            key.secret_id.clone(),
            SecretKey::new(key.secret_key.clone()),
        );
        let mut s = self.state.write();
        s.next_app_id = app_id + 1;
        s.next_uin = s.next_uin.max(owner_uin.parse::<u64>().unwrap_or(0) + 1);
        s.accounts.insert(app_id, Account { app_id, owner_uin });
        s.put_key(key);
        Ok(answer)
    }

    /// `AddUser`: a sub-user, with an API key when `use_api`.
    ///
    /// # Errors
    /// A name in use or not allowed, or a store failure.
    pub async fn add_user(
        &self,
        owner: &Principal,
        name: &str,
        remark: &str,
        console_login: u64,
        use_api: bool,
        now_ms: i64,
    ) -> Result<(UserView, Option<(String, SecretKey)>), IdentityError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !valid {
            return Err(IdentityError::UserNameIllegal(name.to_owned()));
        }
        let _w = self.writer.lock().await;
        let uin = {
            let s = self.state.read();
            if s.user_in(&owner.owner_uin, name).is_some() {
                return Err(IdentityError::UserNameInUse(name.to_owned()));
            }
            s.next_uin.to_string()
        };
        let user = records::User {
            uin: uin.clone(),
            owner_uin: owner.owner_uin.clone(),
            app_id: owner.app_id,
            name: name.to_owned(),
            remark: remark.to_owned(),
            console_login,
            created_ms: now_ms,
            policies: Vec::new(),
            mfa_actions: false,
        };
        let mut batch = Batch::default();
        batch.put(USERS, uin.clone(), codec::encode(VERSION, &user));
        let key = use_api.then(|| {
            let mut p = Principal::root(owner.app_id, &owner.owner_uin);
            p.uin.clone_from(&uin);
            self.new_key_record(&p, now_ms, "")
        });
        if let Some(k) = &key {
            batch.put(KEYS, k.secret_id.clone(), codec::encode(VERSION, k));
        }
        self.commit(batch).await?;
        let view = UserView {
            uin: uin.clone(),
            name: user.name.clone(),
            remark: user.remark.clone(),
            console_login,
            created_ms: now_ms,
        };
        let mut s = self.state.write();
        s.next_uin = s.next_uin.max(uin.parse::<u64>().unwrap_or(0) + 1);
        s.users.insert(uin, user);
        let pair = key.map(|k| {
            let pair = (k.secret_id.clone(), SecretKey::new(k.secret_key.clone()));
            s.put_key(k);
            pair
        });
        Ok((view, pair))
    }

    fn view(u: &records::User) -> UserView {
        UserView {
            uin: u.uin.clone(),
            name: u.name.clone(),
            remark: u.remark.clone(),
            console_login: u.console_login,
            created_ms: u.created_ms,
        }
    }

    /// `GetUser`.
    ///
    /// # Errors
    /// When the account has no such user.
    pub fn get_user(&self, owner_uin: &str, name: &str) -> Result<UserView, IdentityError> {
        self.state
            .read()
            .user_in(owner_uin, name)
            .map(Identity::view)
            .ok_or_else(|| IdentityError::UserNotFound(name.to_owned()))
    }

    /// `ListUsers`.
    #[must_use]
    pub fn list_users(&self, owner_uin: &str) -> Vec<UserView> {
        self.state
            .read()
            .users
            .values()
            .filter(|u| u.owner_uin == owner_uin)
            .map(Identity::view)
            .collect()
    }

    /// The UIN a `TargetUin` names in the caller's account (the caller's own UIN when absent).
    ///
    /// # Errors
    /// When the UIN is neither the account's root nor one of its users.
    pub fn target_uin(
        &self,
        caller: &Principal,
        target: Option<u64>,
    ) -> Result<String, IdentityError> {
        let Some(target) = target else {
            return Ok(caller.uin.clone());
        };
        let uin = target.to_string();
        let s = self.state.read();
        if uin == caller.owner_uin
            || s.users
                .get(&uin)
                .is_some_and(|u| u.owner_uin == caller.owner_uin)
        {
            Ok(uin)
        } else {
            Err(IdentityError::UserNotFound(uin))
        }
    }

    /// `DeleteUser`: with `force`, its keys go too; without, a user with keys stays.
    ///
    /// # Errors
    /// No such user, keys without force, or a store failure.
    pub async fn delete_user(
        &self,
        owner_uin: &str,
        name: &str,
        force: bool,
    ) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let (uin, keys) = {
            let s = self.state.read();
            let u = s
                .user_in(owner_uin, name)
                .ok_or_else(|| IdentityError::UserNotFound(name.to_owned()))?;
            let keys: Vec<String> = s
                .key_records
                .values()
                .filter(|k| k.uin == u.uin)
                .map(|k| k.secret_id.clone())
                .collect();
            (u.uin.clone(), keys)
        };
        let permanent = {
            let s = self.state.read();
            keys.iter()
                .filter(|k| s.key_records.get(*k).is_some_and(|r| r.temporary.is_none()))
                .count()
        };
        if permanent > 0 && !force {
            return Err(IdentityError::UserHasKeys(name.to_owned()));
        }
        let mut batch = Batch::default();
        batch.delete(USERS, uin.clone());
        for k in &keys {
            batch.delete(KEYS, k.clone());
        }
        self.commit(batch).await?;
        let mut s = self.state.write();
        s.users.remove(&uin);
        for k in keys {
            s.keys.remove(&k);
            s.key_records.remove(&k);
        }
        Ok(())
    }

    /// `CreateAccessKey` for `uin`: (AccessKeyId, SecretAccessKey).
    ///
    /// # Errors
    /// Too many keys, or a store failure.
    pub async fn create_access_key(
        &self,
        caller: &Principal,
        uin: &str,
        description: &str,
        now_ms: i64,
    ) -> Result<(String, SecretKey), IdentityError> {
        let _w = self.writer.lock().await;
        {
            let s = self.state.read();
            let held = s
                .key_records
                .values()
                .filter(|k| k.uin == uin && k.temporary.is_none())
                .count();
            if held >= MAX_KEYS_PER_USER {
                return Err(IdentityError::TooManyKeys);
            }
        }
        let mut p = Principal::root(caller.app_id, &caller.owner_uin);
        uin.clone_into(&mut p.uin);
        let key = self.new_key_record(&p, now_ms, description);
        let mut batch = Batch::default();
        batch.put(KEYS, key.secret_id.clone(), codec::encode(VERSION, &key));
        self.commit(batch).await?;
        let pair = (
            key.secret_id.clone(),
            SecretKey::new(key.secret_key.clone()),
        );
        self.state.write().put_key(key);
        Ok(pair)
    }

    /// `ListAccessKeys` of `uin`: (AccessKeyId, enabled, created_ms, description).
    #[must_use]
    pub fn list_access_keys(&self, uin: &str) -> Vec<(String, bool, i64, String)> {
        let mut out: Vec<_> = self
            .state
            .read()
            .key_records
            .values()
            .filter(|k| k.uin == uin && k.temporary.is_none())
            .map(|k| {
                (
                    k.secret_id.clone(),
                    k.enabled,
                    k.created_ms,
                    k.description.clone(),
                )
            })
            .collect();
        out.sort_by_key(|k| k.2);
        out
    }

    /// `UpdateAccessKey`: enable or disable one of `uin`'s keys.
    ///
    /// # Errors
    /// No such key for that user, or a store failure.
    pub async fn set_key_enabled(
        &self,
        uin: &str,
        key_id: &str,
        enabled: bool,
    ) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let mut rec = self
            .state
            .read()
            .key_records
            .get(key_id)
            .filter(|k| k.uin == uin && k.temporary.is_none())
            .cloned()
            .ok_or_else(|| IdentityError::KeyNotFound(key_id.to_owned()))?;
        rec.enabled = enabled;
        let mut batch = Batch::default();
        batch.put(KEYS, key_id.to_owned(), codec::encode(VERSION, &rec));
        self.commit(batch).await?;
        self.state.write().put_key(rec);
        Ok(())
    }

    /// `DeleteAccessKey`.
    ///
    /// # Errors
    /// No such key for that user, or a store failure.
    pub async fn delete_access_key(&self, uin: &str, key_id: &str) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let exists = self
            .state
            .read()
            .key_records
            .get(key_id)
            .is_some_and(|k| k.uin == uin && k.temporary.is_none());
        if !exists {
            return Err(IdentityError::KeyNotFound(key_id.to_owned()));
        }
        let mut batch = Batch::default();
        batch.delete(KEYS, key_id.to_owned());
        self.commit(batch).await?;
        let mut s = self.state.write();
        s.keys.remove(key_id);
        s.key_records.remove(key_id);
        Ok(())
    }

    /// `CreatePolicy`: the new PolicyId.
    ///
    /// # Errors
    /// A bad document, a name in use, or a store failure.
    pub async fn create_policy(
        &self,
        owner_uin: &str,
        name: &str,
        document: &str,
        description: &str,
        now_ms: i64,
    ) -> Result<u64, IdentityError> {
        let parsed =
            policy::parse(document).map_err(|e| IdentityError::PolicyDocument(e.to_string()))?;
        let _w = self.writer.lock().await;
        let id = {
            let s = self.state.read();
            let taken = policy::presets().iter().any(|p| p.name == name)
                || s.policies
                    .values()
                    .any(|p| p.rec.owner_uin == owner_uin && p.rec.name == name);
            if taken {
                return Err(IdentityError::PolicyNameInUse(name.to_owned()));
            }
            s.next_policy_id
        };
        let rec = records::Policy {
            id,
            owner_uin: owner_uin.to_owned(),
            name: name.to_owned(),
            document: document.to_owned(),
            description: description.to_owned(),
            created_ms: now_ms,
        };
        let mut batch = Batch::default();
        batch.put(POLICIES, id.to_string(), codec::encode(VERSION, &rec));
        self.commit(batch).await?;
        let mut s = self.state.write();
        s.next_policy_id = id + 1;
        s.policies.insert(
            id,
            PolicyEntry {
                rec,
                parsed: Arc::new(parsed),
            },
        );
        Ok(id)
    }

    /// `GetPolicy`.
    ///
    /// # Errors
    /// When the account sees no such policy.
    pub fn get_policy(&self, owner_uin: &str, id: u64) -> Result<PolicyView, IdentityError> {
        self.state
            .read()
            .policy_visible(owner_uin, id)
            .ok_or(IdentityError::PolicyNotFound(id))
    }

    /// `DeletePolicy`: custom policies only; attachments go with them.
    ///
    /// # Errors
    /// A preset or unknown policy, or a store failure.
    pub async fn delete_policies(&self, owner_uin: &str, ids: &[u64]) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let (users, roles) = {
            let s = self.state.read();
            for id in ids {
                if policy::presets().iter().any(|p| p.id == *id) {
                    return Err(IdentityError::PresetPolicy(*id));
                }
                if s.policies
                    .get(id)
                    .is_none_or(|p| p.rec.owner_uin != owner_uin)
                {
                    return Err(IdentityError::PolicyNotFound(*id));
                }
            }
            let users: Vec<records::User> = s
                .users
                .values()
                .filter(|u| u.policies.iter().any(|(p, _)| ids.contains(p)))
                .map(|u| {
                    let mut u = u.clone();
                    u.policies.retain(|(p, _)| !ids.contains(p));
                    u
                })
                .collect();
            let roles: Vec<records::Role> = s
                .roles
                .values()
                .filter(|r| r.rec.policies.iter().any(|(p, _)| ids.contains(p)))
                .map(|r| {
                    let mut r = r.rec.clone();
                    r.policies.retain(|(p, _)| !ids.contains(p));
                    r
                })
                .collect();
            (users, roles)
        };
        let mut batch = Batch::default();
        for id in ids {
            batch.delete(POLICIES, id.to_string());
        }
        for u in &users {
            batch.put(USERS, u.uin.clone(), codec::encode(VERSION, u));
        }
        for r in &roles {
            batch.put(ROLES, r.role_id.clone(), codec::encode(VERSION, r));
        }
        self.commit(batch).await?;
        let mut s = self.state.write();
        for id in ids {
            s.policies.remove(id);
        }
        for u in users {
            s.users.insert(u.uin.clone(), u);
        }
        for r in roles {
            if let Some(entry) = s.roles.get_mut(&r.role_id) {
                entry.rec = r;
            }
        }
        Ok(())
    }

    /// `AttachUserPolicy` / `DetachUserPolicy`.
    ///
    /// # Errors
    /// No such user or policy, or a store failure.
    pub async fn set_user_policy(
        &self,
        owner_uin: &str,
        uin: &str,
        policy_id: u64,
        attach: bool,
        now_ms: i64,
    ) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let user = {
            let s = self.state.read();
            let mut u = s
                .users
                .get(uin)
                .filter(|u| u.owner_uin == owner_uin)
                .cloned()
                .ok_or_else(|| IdentityError::UserNotFound(uin.to_owned()))?;
            if s.policy_visible(owner_uin, policy_id).is_none() {
                return Err(IdentityError::PolicyNotFound(policy_id));
            }
            u.policies.retain(|(p, _)| *p != policy_id);
            if attach {
                u.policies.push((policy_id, now_ms));
            }
            u
        };
        let mut batch = Batch::default();
        batch.put(USERS, uin.to_owned(), codec::encode(VERSION, &user));
        self.commit(batch).await?;
        self.state.write().users.insert(uin.to_owned(), user);
        Ok(())
    }

    /// `ListAttachedUserPolicies`: (policy, attach time).
    ///
    /// # Errors
    /// No such user.
    pub fn user_policy_views(
        &self,
        owner_uin: &str,
        uin: &str,
    ) -> Result<Vec<(PolicyView, i64)>, IdentityError> {
        let s = self.state.read();
        let u = s
            .users
            .get(uin)
            .filter(|u| u.owner_uin == owner_uin)
            .ok_or_else(|| IdentityError::UserNotFound(uin.to_owned()))?;
        Ok(u.policies
            .iter()
            .filter_map(|(id, at)| s.policy_visible(owner_uin, *id).map(|p| (p, *at)))
            .collect())
    }

    /// `SetMfaFlag` (`ActionFlag`): sensitive operations by `uin` need MFA.
    ///
    /// # Errors
    /// No such user, or a store failure.
    pub async fn set_action_mfa(
        &self,
        owner_uin: &str,
        uin: &str,
        on: bool,
    ) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let mut user = self
            .state
            .read()
            .users
            .get(uin)
            .filter(|u| u.owner_uin == owner_uin)
            .cloned()
            .ok_or_else(|| IdentityError::UserNotFound(uin.to_owned()))?;
        user.mfa_actions = on;
        let mut batch = Batch::default();
        batch.put(USERS, uin.to_owned(), codec::encode(VERSION, &user));
        self.commit(batch).await?;
        self.state.write().users.insert(uin.to_owned(), user);
        Ok(())
    }

    /// Binds a new virtual MFA device to `uin`: its serial number. Its codes are revealed by
    /// [`Identity::mfa_code`] (the control plane), so tests can pass MFA.
    ///
    /// # Errors
    /// When the UIN is unknown, or the store fails.
    pub async fn create_mfa_device(&self, uin: &str) -> Result<String, IdentityError> {
        let known = {
            let s = self.state.read();
            s.users.contains_key(uin) || s.accounts.values().any(|a| a.owner_uin == uin)
        };
        if !known {
            return Err(IdentityError::UserNotFound(uin.to_owned()));
        }
        let _w = self.writer.lock().await;
        let serial = format!("qcs::cam:uin/{uin}::mfa/softToken");
        let rec = records::Mfa {
            serial: serial.clone(),
            uin: uin.to_owned(),
            secret: self.ids.seed32()[..20].to_vec(),
        };
        let mut batch = Batch::default();
        batch.put(MFA, serial.clone(), codec::encode(VERSION, &rec));
        self.commit(batch).await?;
        self.state.write().mfa.insert(serial.clone(), rec);
        Ok(serial)
    }

    /// The current code of an MFA device at emulated time `now_ms`.
    #[must_use]
    pub fn mfa_code(&self, serial: &str, now_ms: i64) -> Option<String> {
        self.state
            .read()
            .mfa
            .get(serial)
            .map(|m| totp::code(&m.secret, now_ms.div_euclid(1000)))
    }

    fn check_mfa(
        &self,
        uin: &str,
        serial: &str,
        code: &str,
        now_ms: i64,
    ) -> Result<(), IdentityError> {
        let s = self.state.read();
        let device = s
            .mfa
            .get(serial)
            .filter(|m| m.uin == uin)
            .ok_or_else(|| IdentityError::MfaDevice(serial.to_owned()))?;
        if totp::verify(&device.secret, code, now_ms.div_euclid(1000)) {
            Ok(())
        } else {
            Err(IdentityError::MfaCode)
        }
    }

    /// `CreateRole`: the new RoleId.
    ///
    /// # Errors
    /// A bad trust policy, a name in use, or a store failure.
    pub async fn create_role(
        &self,
        owner: &Principal,
        name: &str,
        trust_document: &str,
        description: &str,
        session_duration: u64,
        now_ms: i64,
    ) -> Result<String, IdentityError> {
        policy::parse(trust_document).map_err(|e| IdentityError::PolicyDocument(e.to_string()))?;
        let _w = self.writer.lock().await;
        let role_id = {
            let s = self.state.read();
            if s.roles
                .values()
                .any(|r| r.rec.owner_uin == owner.owner_uin && r.rec.name == name)
            {
                return Err(IdentityError::RoleNameInUse(name.to_owned()));
            }
            (4_611_686_018_427_387_904u64 + s.next_role).to_string()
        };
        let rec = records::Role {
            role_id: role_id.clone(),
            owner_uin: owner.owner_uin.clone(),
            app_id: owner.app_id,
            name: name.to_owned(),
            trust_document: trust_document.to_owned(),
            description: description.to_owned(),
            session_duration: if session_duration == 0 {
                43_200
            } else {
                session_duration
            },
            created_ms: now_ms,
            policies: Vec::new(),
        };
        let mut batch = Batch::default();
        batch.put(ROLES, role_id.clone(), codec::encode(VERSION, &rec));
        self.commit(batch).await?;
        let mut s = self.state.write();
        s.next_role += 1;
        s.roles.insert(role_id.clone(), RoleEntry { rec });
        Ok(role_id)
    }

    fn find_role(
        s: &State,
        owner_uin: &str,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Option<String> {
        s.roles
            .values()
            .find(|r| {
                r.rec.owner_uin == owner_uin
                    && (id.is_some_and(|i| i == r.rec.role_id)
                        || name.is_some_and(|n| n == r.rec.name))
            })
            .map(|r| r.rec.role_id.clone())
    }

    /// `GetRole` by id or name.
    ///
    /// # Errors
    /// No such role.
    pub fn get_role(
        &self,
        owner_uin: &str,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Result<RoleView, IdentityError> {
        let s = self.state.read();
        let role_id = Identity::find_role(&s, owner_uin, id, name).ok_or_else(|| {
            IdentityError::RoleNotFound(id.or(name).unwrap_or_default().to_owned())
        })?;
        let r = &s.roles[&role_id].rec;
        Ok(RoleView {
            role_id: r.role_id.clone(),
            name: r.name.clone(),
            trust_document: r.trust_document.clone(),
            description: r.description.clone(),
            session_duration: r.session_duration,
            created_ms: r.created_ms,
            arn: role_arn(&r.owner_uin, &r.name),
        })
    }

    /// `AttachRolePolicy` / `DetachRolePolicy`.
    ///
    /// # Errors
    /// No such role or policy, or a store failure.
    pub async fn set_role_policy(
        &self,
        owner_uin: &str,
        role: (Option<&str>, Option<&str>),
        policy_id: u64,
        attach: bool,
        now_ms: i64,
    ) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let rec = {
            let s = self.state.read();
            let role_id = Identity::find_role(&s, owner_uin, role.0, role.1).ok_or_else(|| {
                IdentityError::RoleNotFound(role.0.or(role.1).unwrap_or_default().to_owned())
            })?;
            if s.policy_visible(owner_uin, policy_id).is_none() {
                return Err(IdentityError::PolicyNotFound(policy_id));
            }
            let mut rec = s.roles[&role_id].rec.clone();
            rec.policies.retain(|(p, _)| *p != policy_id);
            if attach {
                rec.policies.push((policy_id, now_ms));
            }
            rec
        };
        let mut batch = Batch::default();
        batch.put(ROLES, rec.role_id.clone(), codec::encode(VERSION, &rec));
        self.commit(batch).await?;
        if let Some(entry) = self.state.write().roles.get_mut(&rec.role_id) {
            entry.rec = rec;
        }
        Ok(())
    }

    /// The account's own (custom) policies.
    #[must_use]
    pub fn custom_policies(&self, owner_uin: &str) -> Vec<PolicyView> {
        let s = self.state.read();
        s.policies
            .keys()
            .filter_map(|id| s.policy_visible(owner_uin, *id))
            .collect()
    }

    /// `ListAttachedRolePolicies`: (policy, attach time).
    ///
    /// # Errors
    /// No such role.
    pub fn role_policy_views(
        &self,
        owner_uin: &str,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<(PolicyView, i64)>, IdentityError> {
        let s = self.state.read();
        let role_id = Identity::find_role(&s, owner_uin, id, name).ok_or_else(|| {
            IdentityError::RoleNotFound(id.or(name).unwrap_or_default().to_owned())
        })?;
        Ok(s.roles[&role_id]
            .rec
            .policies
            .iter()
            .filter_map(|(pid, at)| s.policy_visible(owner_uin, *pid).map(|p| (p, *at)))
            .collect())
    }

    /// `DeleteRole`; sessions of the role stop working with it.
    ///
    /// # Errors
    /// No such role, or a store failure.
    pub async fn delete_role(
        &self,
        owner_uin: &str,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Result<(), IdentityError> {
        let _w = self.writer.lock().await;
        let (role_id, sessions) = {
            let s = self.state.read();
            let role_id = Identity::find_role(&s, owner_uin, id, name).ok_or_else(|| {
                IdentityError::RoleNotFound(id.or(name).unwrap_or_default().to_owned())
            })?;
            let sessions: Vec<String> = s
                .key_records
                .values()
                .filter(|k| {
                    k.temporary
                        .as_ref()
                        .is_some_and(|t| t.role_id.as_deref() == Some(role_id.as_str()))
                })
                .map(|k| k.secret_id.clone())
                .collect();
            (role_id, sessions)
        };
        let mut batch = Batch::default();
        batch.delete(ROLES, role_id.clone());
        for k in &sessions {
            batch.delete(KEYS, k.clone());
        }
        self.commit(batch).await?;
        let mut s = self.state.write();
        s.roles.remove(&role_id);
        for k in sessions {
            s.keys.remove(&k);
            s.key_records.remove(&k);
        }
        Ok(())
    }

    /// The policy id a name refers to, in presets or the account's own.
    #[must_use]
    pub fn policy_id_by_name(&self, owner_uin: &str, name: &str) -> Option<u64> {
        if let Some(p) = policy::presets().iter().find(|p| p.name == name) {
            return Some(p.id);
        }
        self.state
            .read()
            .policies
            .values()
            .find(|p| p.rec.owner_uin == owner_uin && p.rec.name == name)
            .map(|p| p.rec.id)
    }

    async fn issue(
        &self,
        caller: &ApiKey,
        principal: Principal,
        temporary: records::Temporary,
        now_ms: i64,
    ) -> Result<TempCredentials, IdentityError> {
        let rec = records::Key {
            secret_id: format!("AKID{}", random_text(self.ids.as_ref(), 60)),
            secret_key: random_text(self.ids.as_ref(), 32),
            app_id: principal.app_id,
            owner_uin: principal.owner_uin.clone(),
            uin: principal.uin.clone(),
            enabled: true,
            created_ms: now_ms,
            description: format!("issued to {}", caller.secret_id),
            temporary: Some(temporary),
        };
        let t = rec.temporary.as_ref().expect("set above");
        let creds = TempCredentials {
            secret_id: rec.secret_id.clone(),
            secret_key: SecretKey::new(rec.secret_key.clone()),
            token: SecretKey::new(t.token.clone()),
            expires_ms: t.expires_ms,
        };
        let _w = self.writer.lock().await;
        let expired = self.long_expired_keys(now_ms);
        let mut batch = Batch::default();
        batch.put(KEYS, rec.secret_id.clone(), codec::encode(VERSION, &rec));
        for id in &expired {
            batch.delete(KEYS, id.clone());
        }
        self.commit(batch).await?;
        let mut state = self.state.write();
        state.put_key(rec);
        for id in &expired {
            state.keys.remove(id);
            state.key_records.remove(id);
        }
        drop(state);
        if !expired.is_empty() {
            tracing::debug!(count = expired.len(), "deleted long-expired temporary keys");
        }
        Ok(creds)
    }

    /// Temporary keys expired for longer than [`EXPIRED_KEY_RETENTION_MS`], at most once per
    /// [`SWEEP_INTERVAL_MS`] (the walk is over every key); the caller holds the writer lock.
    fn long_expired_keys(&self, now_ms: i64) -> Vec<String> {
        let mut state = self.state.write();
        if now_ms < state.next_sweep_ms {
            return Vec::new();
        }
        state.next_sweep_ms = now_ms + SWEEP_INTERVAL_MS;
        state
            .key_records
            .values()
            .filter(|k| {
                k.temporary
                    .as_ref()
                    .is_some_and(|t| t.expires_ms + EXPIRED_KEY_RETENTION_MS <= now_ms)
            })
            .map(|k| k.secret_id.clone())
            .collect()
    }

    fn duration_ms(seconds: Option<u64>, max: u64) -> Result<i64, IdentityError> {
        let s = seconds.unwrap_or(1800);
        if !(1..=max).contains(&s) {
            return Err(IdentityError::Invalid(format!(
                "DurationSeconds must be between 1 and {max}"
            )));
        }
        Ok(i64::try_from(s).unwrap_or(1800) * 1000)
    }

    fn session_policy(document: Option<&str>) -> Result<Option<String>, IdentityError> {
        match document.filter(|d| !d.is_empty()) {
            None => Ok(None),
            Some(d) => {
                // SDKs URL-encode the policy (the documentation asks for it); accept both.
                let decoded = if d.trim_start().starts_with('{') {
                    d.to_owned()
                } else {
                    form_decode(d)
                };
                policy::parse(&decoded)
                    .map_err(|e| IdentityError::PolicyDocument(e.to_string()))?;
                Ok(Some(decoded))
            }
        }
    }

    /// STS `AssumeRole`: temporary credentials acting as the role.
    ///
    /// # Errors
    /// Unknown role, a trust policy that does not name the caller, a bad session policy, a
    /// wrong MFA code, or a store failure.
    #[allow(clippy::too_many_arguments)] // each is one documented AssumeRole parameter
    pub async fn assume_role(
        &self,
        caller: &ApiKey,
        role_arn: &str,
        session_name: &str,
        duration: Option<u64>,
        policy_doc: Option<&str>,
        mfa: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<TempCredentials, IdentityError> {
        if matches!(caller.kind, KeyKind::Temporary { .. }) {
            return Err(IdentityError::TemporaryKey);
        }
        let (role_id, owner_uin, app_id, max_secs, trusted) = {
            let s = self.state.read();
            let role = s
                .roles
                .values()
                .find(|r| role_arn_matches(role_arn, &r.rec))
                .ok_or_else(|| IdentityError::RoleNotFound(role_arn.to_owned()))?;
            let caller_arn = if caller.principal.uin == caller.principal.owner_uin {
                format!("qcs::cam::uin/{}:root", caller.principal.owner_uin)
            } else {
                format!(
                    "qcs::cam::uin/{}:uin/{}",
                    caller.principal.owner_uin, caller.principal.uin
                )
            };
            let trusted = trusts(
                &role.rec.trust_document,
                &[
                    caller_arn,
                    format!("qcs::cam::uin/{}:root", caller.principal.owner_uin),
                ],
            );
            (
                role.rec.role_id.clone(),
                role.rec.owner_uin.clone(),
                role.rec.app_id,
                role.rec.session_duration,
                trusted,
            )
        };
        if !trusted {
            return Err(IdentityError::NotTrusted(role_arn.to_owned()));
        }
        let with_mfa = match mfa {
            Some((serial, code)) if !serial.is_empty() => {
                self.check_mfa(&caller.principal.uin, serial, code, now_ms)?;
                true
            }
            _ => false,
        };
        let ttl = Identity::duration_ms(duration, max_secs.max(1))?;
        let mut principal = Principal::root(app_id, &owner_uin);
        principal.uin.clone_from(&owner_uin);
        let temporary = records::Temporary {
            token: random_text(self.ids.as_ref(), 96),
            expires_ms: now_ms + ttl,
            session_policy: Identity::session_policy(policy_doc)?,
            issuer_uin: None,
            role_id: Some(role_id),
            session: session_name.to_owned(),
            federated: false,
            mfa: with_mfa,
        };
        self.issue(caller, principal, temporary, now_ms).await
    }

    /// STS `GetFederationToken`: temporary credentials bounded by `policy`.
    ///
    /// # Errors
    /// A bad policy, temporary caller credentials, or a store failure.
    pub async fn federation_token(
        &self,
        caller: &ApiKey,
        name: &str,
        policy_doc: &str,
        duration: Option<u64>,
        now_ms: i64,
    ) -> Result<TempCredentials, IdentityError> {
        if matches!(caller.kind, KeyKind::Temporary { .. }) {
            return Err(IdentityError::TemporaryKey);
        }
        let ttl = Identity::duration_ms(duration, 7200)?;
        let p = &caller.principal;
        let temporary = records::Temporary {
            token: random_text(self.ids.as_ref(), 96),
            expires_ms: now_ms + ttl,
            session_policy: Identity::session_policy(Some(policy_doc))?,
            issuer_uin: Some(p.uin.clone()),
            role_id: None,
            session: name.to_owned(),
            federated: true,
            mfa: false,
        };
        let mut principal = Principal::root(p.app_id, &p.owner_uin);
        principal.uin.clone_from(&p.uin);
        self.issue(caller, principal, temporary, now_ms).await
    }

    /// STS `GetSessionToken`: the caller's own permissions, with MFA proven.
    ///
    /// # Errors
    /// Wrong MFA device or code, temporary caller credentials, or a store failure.
    pub async fn session_token(
        &self,
        caller: &ApiKey,
        serial: &str,
        code: &str,
        duration: Option<u64>,
        now_ms: i64,
    ) -> Result<TempCredentials, IdentityError> {
        if matches!(caller.kind, KeyKind::Temporary { .. }) {
            return Err(IdentityError::TemporaryKey);
        }
        self.check_mfa(&caller.principal.uin, serial, code, now_ms)?;
        let ttl = Identity::duration_ms(duration, 129_600)?;
        let p = &caller.principal;
        let temporary = records::Temporary {
            token: random_text(self.ids.as_ref(), 96),
            expires_ms: now_ms + ttl,
            session_policy: None,
            issuer_uin: None,
            role_id: None,
            session: String::new(),
            federated: false,
            mfa: true,
        };
        let mut principal = Principal::root(p.app_id, &p.owner_uin);
        principal.uin.clone_from(&p.uin);
        self.issue(caller, principal, temporary, now_ms).await
    }
}

/// Reads the identity tables into a fresh [`State`], creating the default account and its root
/// key first when the store has none.
async fn load(store: &dyn Store, root: &RootCredential) -> Result<State, StoreError> {
    let default_key = DEFAULT_APP_ID.to_string();
    if store.get(ACCOUNTS, &default_key).await?.is_none() {
        let account = records::Account {
            app_id: DEFAULT_APP_ID,
            owner_uin: DEFAULT_OWNER_UIN.to_owned(),
            created_ms: 0,
        };
        let key = records::Key {
            secret_id: root.secret_id.clone(),
            secret_key: root.secret_key.expose().to_owned(),
            app_id: DEFAULT_APP_ID,
            owner_uin: DEFAULT_OWNER_UIN.to_owned(),
            uin: DEFAULT_OWNER_UIN.to_owned(),
            enabled: true,
            created_ms: 0,
            description: String::new(),
            temporary: None,
        };
        let mut batch = Batch::default();
        batch.put(ACCOUNTS, &default_key, codec::encode(VERSION, &account));
        batch.put(KEYS, &root.secret_id, codec::encode(VERSION, &key));
        store.commit(batch).await?;
        tracing::info!(app_id = DEFAULT_APP_ID, secret_id = %root.secret_id, "created the default account");
    }
    let mut state = State {
        next_uin: 100_000_000_002,
        next_app_id: DEFAULT_APP_ID + 1,
        next_policy_id: 200_000_001,
        next_role: 1,
        ..State::default()
    };
    for (k, bytes) in store.scan(ACCOUNTS, "").await? {
        let (_, a): (u16, records::Account) = codec::decode_at(ACCOUNTS, &k, &bytes)?;
        let uin: u64 = a.owner_uin.parse().unwrap_or(0);
        state.next_uin = state.next_uin.max(uin + 1);
        state.next_app_id = state.next_app_id.max(a.app_id + 1);
        state.accounts.insert(
            a.app_id,
            Account {
                app_id: a.app_id,
                owner_uin: a.owner_uin,
            },
        );
    }
    for (k, bytes) in store.scan(USERS, "").await? {
        let (_, u): (u16, records::User) = codec::decode_at(USERS, &k, &bytes)?;
        state.next_uin = state.next_uin.max(u.uin.parse::<u64>().unwrap_or(0) + 1);
        state.users.insert(u.uin.clone(), u);
    }
    for (k, bytes) in store.scan(POLICIES, "").await? {
        let (_, p): (u16, records::Policy) = codec::decode_at(POLICIES, &k, &bytes)?;
        state.next_policy_id = state.next_policy_id.max(p.id + 1);
        let parsed = policy::parse(&p.document).map_err(|e| StoreError::Corrupt {
            table: POLICIES.to_owned(),
            key: k.clone(),
            reason: e.to_string(),
        })?;
        state.policies.insert(
            p.id,
            PolicyEntry {
                rec: p,
                parsed: Arc::new(parsed),
            },
        );
    }
    for (k, bytes) in store.scan(ROLES, "").await? {
        let (_, r): (u16, records::Role) = codec::decode_at(ROLES, &k, &bytes)?;
        state.next_role += 1;
        state.roles.insert(r.role_id.clone(), RoleEntry { rec: r });
    }
    for (k, bytes) in store.scan(MFA, "").await? {
        let (_, m): (u16, records::Mfa) = codec::decode_at(MFA, &k, &bytes)?;
        state.mfa.insert(m.serial.clone(), m);
    }
    for (k, bytes) in store.scan(KEYS, "").await? {
        let (_, rec): (u16, records::Key) = codec::decode_at(KEYS, &k, &bytes)?;
        state.put_key(rec);
    }
    if !state.keys.contains_key(&root.secret_id) {
        tracing::warn!(
            secret_id = %root.secret_id,
            "the configured root key is not in the store, which keeps the key of its first start"
        );
    }
    Ok(state)
}

/// The account a stored identity row belongs to, read from its envelope (`{"v":N,"d":…}`):
/// what account-scoped snapshots and resets select by. The account row and its permanent root
/// keys are its anchors.
#[must_use]
pub fn row_owner(table: &str, record: &serde_json::Value) -> Option<crate::RowOwner> {
    let d = record.get("d")?;
    let app_id = d.get("app_id").and_then(serde_json::Value::as_u64);
    let text = |field: &str| d.get(field).and_then(serde_json::Value::as_str);
    let owner = |app_id: Option<u64>, uin: Option<&str>, anchor: bool| {
        (app_id.is_some() || uin.is_some()).then(|| crate::RowOwner {
            app_id,
            uin: uin.map(str::to_owned),
            anchor,
        })
    };
    match table {
        ACCOUNTS => owner(app_id, text("owner_uin"), true),
        KEYS => {
            let permanent = d.get("temporary").is_none_or(serde_json::Value::is_null);
            let root = text("uin").is_some() && text("uin") == text("owner_uin");
            owner(app_id, text("owner_uin"), permanent && root)
        }
        // A sub-user's row names its own UIN, so rows naming only that UIN (MFA) find it.
        USERS => owner(app_id, text("uin"), false),
        ROLES => owner(app_id, text("owner_uin"), false),
        POLICIES => owner(None, text("owner_uin"), false),
        // A device names only the UIN it is bound to: the root's or a sub-user's.
        MFA => owner(None, text("uin"), false),
        _ => None,
    }
}

fn role_arn_matches(arn: &str, role: &records::Role) -> bool {
    arn == role_arn(&role.owner_uin, &role.name)
        || arn == format!("qcs::cam::uin/{}:role/{}", role.owner_uin, role.role_id)
        || arn == role.role_id
}

/// Percent-decoding of a form value (`%7B` → `{`, `+` → space).
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// True when a role's trust policy lets one of `arns` assume it: an `allow` statement whose
/// action covers `sts:AssumeRole` and whose `principal.qcs` names the caller.
fn trusts(document: &str, arns: &[String]) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else {
        return false;
    };
    let list = |v: Option<&serde_json::Value>| -> Vec<String> {
        match v {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    doc.get("statement")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .any(|st| {
            let allow = st.get("effect").and_then(serde_json::Value::as_str) == Some("allow");
            let assumes = list(st.get("action")).iter().any(|a| {
                let a = a.strip_prefix("name/").unwrap_or(a).to_ascii_lowercase();
                a == "sts:assumerole" || a == "sts:*" || a == "*"
            });
            let principals = list(st.get("principal").and_then(|p| p.get("qcs")));
            allow && assumes && principals.iter().any(|p| arns.contains(p))
        })
}

#[cfg(test)]
mod tests;

//! Accounts and API keys: who may call, and with which secret.
//!
//! The gateway asks [`Identity::lookup`] for the key a request names, on every request, so
//! keys are served from memory; the store is their durable home. At first start the default
//! account is created with the root key given by `TCLOCAL_SECRET_ID` / `TCLOCAL_SECRET_KEY`,
//! or with the well-known development key ([`DEV_SECRET_ID`], [`DEV_SECRET_KEY`]); later
//! starts keep what the store holds.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use tclocal_sign::SecretKey;
use tclocal_store::{Batch, Store, StoreError, codec};
use tclocal_wire::context::Principal;

/// SecretId of the well-known development key (like Azurite's well-known account key: public
/// on purpose, for local use only).
pub const DEV_SECRET_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
/// SecretKey of the well-known development key.
pub const DEV_SECRET_KEY: &str = "tclocalDevelopmentSecretKey00000";
/// AppId of the default account.
pub const DEFAULT_APP_ID: u64 = 1_250_000_000;
/// OwnerUin of the default account.
pub const DEFAULT_OWNER_UIN: &str = "100000000001";

const ACCOUNTS: &str = "identity.accounts";
const KEYS: &str = "identity.keys";

/// Why identity data could not be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The root credential is not usable as a cloud API key.
    #[error("the root SecretId {0:?} is not a cloud API key (AKID followed by letters and digits)")]
    InvalidRootKey(String),
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

/// An API key as the gateway sees it.
#[derive(Debug)]
pub struct ApiKey {
    /// The SecretId.
    pub secret_id: String,
    /// The SecretKey (redacted in `Debug`).
    pub secret_key: SecretKey,
    /// The identity requests signed with it act as.
    pub principal: Principal,
    /// A disabled key is refused like an unknown one.
    pub enabled: bool,
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

mod records {
    //! Persisted shapes; a change adds a new `vN` module and a migration.
    pub(super) mod v1 {
        use super::super::{Deserialize, Serialize};

        pub(in crate::identity) const VERSION: u16 = 1;

        #[derive(Serialize, Deserialize)]
        pub(in crate::identity) struct Account {
            pub(in crate::identity) app_id: u64,
            pub(in crate::identity) owner_uin: String,
        }

        // No Debug: the record holds a secret.
        #[derive(Serialize, Deserialize)]
        pub(in crate::identity) struct Key {
            pub(in crate::identity) secret_id: String,
            pub(in crate::identity) secret_key: String,
            pub(in crate::identity) app_id: u64,
            pub(in crate::identity) owner_uin: String,
            pub(in crate::identity) uin: String,
            pub(in crate::identity) enabled: bool,
        }
    }
    pub(super) use v1::*;
}

/// Accounts and keys.
pub struct Identity {
    keys: RwLock<HashMap<String, Arc<ApiKey>>>,
    default_principal: Principal,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("keys", &self.keys.read().len())
            .field("default_principal", &self.default_principal)
            .finish()
    }
}

impl Identity {
    /// Loads accounts and keys, creating the default account with `root` on first start.
    ///
    /// # Errors
    /// When the store fails or `root` is not key-shaped.
    pub async fn open(store: &dyn Store, root: RootCredential) -> Result<Identity, IdentityError> {
        if !is_key_shaped(&root.secret_id) {
            return Err(IdentityError::InvalidRootKey(root.secret_id));
        }
        let default_key = DEFAULT_APP_ID.to_string();
        if store.get(ACCOUNTS, &default_key).await?.is_none() {
            let account = records::Account {
                app_id: DEFAULT_APP_ID,
                owner_uin: DEFAULT_OWNER_UIN.to_owned(),
            };
            let key = records::Key {
                secret_id: root.secret_id.clone(),
                secret_key: root.secret_key.expose().to_owned(),
                app_id: DEFAULT_APP_ID,
                owner_uin: DEFAULT_OWNER_UIN.to_owned(),
                uin: DEFAULT_OWNER_UIN.to_owned(),
                enabled: true,
            };
            let mut batch = Batch::default();
            batch.put(
                ACCOUNTS,
                &default_key,
                codec::encode(records::VERSION, &account),
            );
            batch.put(KEYS, &root.secret_id, codec::encode(records::VERSION, &key));
            store.commit(batch).await?;
            tracing::info!(app_id = DEFAULT_APP_ID, secret_id = %root.secret_id, "created the default account");
        }
        let mut keys = HashMap::new();
        for (id, bytes) in store.scan(KEYS, "").await? {
            let (_, k): (u16, records::Key) = codec::decode(&bytes).map_err(|e| match e {
                StoreError::Corrupt { reason, .. } => StoreError::Corrupt {
                    table: KEYS.to_owned(),
                    key: id.clone(),
                    reason,
                },
                other => other,
            })?;
            let key = ApiKey {
                principal: Principal {
                    app_id: k.app_id,
                    owner_uin: k.owner_uin,
                    uin: k.uin,
                    secret_id: Some(k.secret_id.clone()),
                },
                secret_id: k.secret_id,
                secret_key: SecretKey::new(k.secret_key),
                enabled: k.enabled,
            };
            keys.insert(id, Arc::new(key));
        }
        if !keys.contains_key(&root.secret_id) {
            tracing::warn!(
                secret_id = %root.secret_id,
                "the configured root key is not in the store, which keeps the key of its first start"
            );
        }
        Ok(Identity {
            keys: RwLock::new(keys),
            default_principal: Principal {
                app_id: DEFAULT_APP_ID,
                owner_uin: DEFAULT_OWNER_UIN.to_owned(),
                uin: DEFAULT_OWNER_UIN.to_owned(),
                secret_id: None,
            },
        })
    }

    /// The key with that SecretId, if issued (enabled or not).
    #[must_use]
    pub fn lookup(&self, secret_id: &str) -> Option<Arc<ApiKey>> {
        self.keys.read().get(secret_id).cloned()
    }

    /// Every key: (SecretId, principal, enabled). Never the secret.
    #[must_use]
    pub fn key_summaries(&self) -> Vec<(String, Principal, bool)> {
        let mut out: Vec<_> = self
            .keys
            .read()
            .values()
            .map(|k| (k.secret_id.clone(), k.principal.clone(), k.enabled))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The default account's root identity: what unsigned requests act as when `--auth off`.
    #[must_use]
    pub fn default_principal(&self) -> &Principal {
        &self.default_principal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tclocal_store::MemoryStore;

    #[test]
    fn key_shape_rule() {
        assert!(is_key_shaped(DEV_SECRET_ID));
        assert!(is_key_shaped("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"));
        assert!(!is_key_shaped("not-a-key"));
        assert!(!is_key_shaped("AKID"));
        assert!(!is_key_shaped("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPL!"));
        assert!(!is_key_shaped(&format!("AKID{}", "a".repeat(200))));
    }

    #[tokio::test]
    async fn first_start_creates_the_default_account_and_later_starts_keep_it() {
        let store = MemoryStore::new();
        let id = Identity::open(&store, RootCredential::development())
            .await
            .unwrap();
        let key = id.lookup(DEV_SECRET_ID).unwrap();
        assert_eq!(key.secret_key.expose(), DEV_SECRET_KEY);
        assert_eq!(key.principal.app_id, DEFAULT_APP_ID);
        assert!(id.lookup("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE").is_none());

        let other = RootCredential {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
            secret_key: SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
        };
        let again = Identity::open(&store, other).await.unwrap();
        assert!(again.lookup(DEV_SECRET_ID).is_some());
        assert!(
            again
                .lookup("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE")
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_root_key_that_is_not_key_shaped_is_refused() {
        let store = MemoryStore::new();
        let bad = RootCredential {
            secret_id: "test".into(),
            secret_key: SecretKey::new("test"),
        };
        assert!(matches!(
            Identity::open(&store, bad).await,
            Err(IdentityError::InvalidRootKey(_))
        ));
    }

    #[tokio::test]
    async fn debug_output_never_contains_the_secret() {
        let store = MemoryStore::new();
        let id = Identity::open(&store, RootCredential::development())
            .await
            .unwrap();
        let key = id.lookup(DEV_SECRET_ID).unwrap();
        assert!(!format!("{key:?}").contains(DEV_SECRET_KEY));
        assert!(!format!("{id:?}").contains(DEV_SECRET_KEY));
        assert!(!format!("{:?}", RootCredential::development()).contains(DEV_SECRET_KEY));
    }
}

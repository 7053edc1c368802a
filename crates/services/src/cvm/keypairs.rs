//! SSH key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs,
//! AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs.
//!
//! Key pairs belong to an account, not a region (one key serves every region). Generated
//! keys are Ed25519 in OpenSSH format; imported keys may be any type OpenSSH reads.
//! Writers take the account's key-pair lock before any region's writer lock, so binding and
//! deleting cannot interleave.

use serde_json::{Map, Value, json};
use ssh_key::{LineEnding, PrivateKey, PublicKey};
use tclocal_store::{Batch, codec};
use tclocal_wire::clock::Iso8601;
use tclocal_wire::context::RequestContext;
use tclocal_wire::{ApiError, ApiResult};

use super::errors::CvmError;
use super::model::{Instance, KeyPair, State, VERSION};
use super::params::{bool_of, i64_of, instance_ids, is_short_id, page, str_of, strings, tags};
use super::state::ScopeKey;
use super::{Cvm, MESSAGES};

/// Store table of key pairs; key `{AppId}/{KeyId}`.
pub(crate) const TABLE: &str = "cvm.keypairs";

/// The key-pair actions.
pub(crate) const ACTIONS: [&str; 6] = [
    "CreateKeyPair",
    "ImportKeyPair",
    "DescribeKeyPairs",
    "DeleteKeyPairs",
    "AssociateInstancesKeyPairs",
    "DisassociateInstancesKeyPairs",
];

/// Key pairs one account may hold.
const QUOTA: usize = 100;

fn cvm(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

fn account_lock_key(app_id: u64) -> ScopeKey {
    // Regions are never empty, so this cannot collide with a region scope.
    (app_id, String::new())
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(cvm("InvalidKeyPairNameEmpty"));
    }
    if name.chars().count() > 25 {
        return Err(cvm("InvalidKeyPairNameTooLong").arg(name));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(cvm("InvalidKeyPairNameIncludeIllegalChar").arg(name));
    }
    Ok(())
}

fn key_ids(p: &Map<String, Value>) -> ApiResult<Vec<String>> {
    let ids = strings(p, "KeyIds");
    if ids.len() > 100 {
        return Err(CvmError::TooManyValues {
            field: "KeyIds",
            max: 100,
        }
        .into());
    }
    if let Some(bad) = ids.iter().find(|id| !is_short_id(id, "skey")) {
        return Err(cvm("InvalidKeyPairId.Malformed").arg(bad));
    }
    Ok(ids.into_iter().map(str::to_owned).collect())
}

impl Cvm {
    pub(crate) async fn keypair_action(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>, CvmError> {
        // Key-pair failures carry their own codes; route them through ApiError untouched.
        self.keypair_inner(cx, p).await.map_err(CvmError::Api)
    }

    async fn keypair_inner(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        match cx.action.as_str() {
            "CreateKeyPair" | "ImportKeyPair" => self.create_key_pair(cx, p).await,
            "DescribeKeyPairs" => self.describe_key_pairs(cx, p),
            "DeleteKeyPairs" => self.delete_key_pairs(cx, p).await,
            "AssociateInstancesKeyPairs" => self.bind_key_pairs(cx, p, true).await,
            "DisassociateInstancesKeyPairs" => self.bind_key_pairs(cx, p, false).await,
            _ => Err(crate::not_emulated(cx)),
        }
    }

    async fn create_key_pair(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        let name = str_of(p, "KeyName").unwrap_or_default();
        check_name(name)?;
        let project_id = i64_of(p, "ProjectId").unwrap_or(0);
        if project_id < 0 {
            return Err(cvm("InvalidProjectId.NotFound").arg(project_id));
        }
        let tags = tags(p, "keypair")?;
        let (public_key, private_key) = if cx.action == "ImportKeyPair" {
            let text = str_of(p, "PublicKey").unwrap_or_default();
            let parsed = PublicKey::from_openssh(text.trim())
                .map_err(|_| cvm("InvalidPublicKey.Malformed"))?;
            (parsed.to_openssh().map_err(ApiError::internal)?, None)
        } else {
            let pair = ssh_key::private::Ed25519Keypair::from_seed(&self.ids.seed32());
            let private = PrivateKey::from(pair);
            let public = private
                .public_key()
                .to_openssh()
                .map_err(ApiError::internal)?;
            let pem = private
                .to_openssh(LineEnding::LF)
                .map_err(ApiError::internal)?;
            (public, Some(pem.to_string()))
        };
        let app_id = cx.principal.app_id;
        let lock = self.state.writer(&account_lock_key(app_id));
        let _lock = lock.lock().await;
        let now = cx.received_at_ms;
        {
            let inner = self.state.read(now);
            let mine = inner.keypairs.get(&app_id);
            if mine.is_some_and(|m| m.values().any(|k| k.name == name)) {
                return Err(cvm("InvalidKeyPairName.Duplicate").arg(name));
            }
            let body = |k: &str| k.split_whitespace().nth(1).map(str::to_owned);
            if cx.action == "ImportKeyPair"
                && mine
                    .is_some_and(|m| m.values().any(|k| body(&k.public_key) == body(&public_key)))
            {
                return Err(cvm("InvalidPublicKey.Duplicate"));
            }
            if mine.map_or(0, std::collections::BTreeMap::len) >= QUOTA {
                return Err(cvm("InvalidKeyPair.LimitExceeded").arg(QUOTA));
            }
        }
        let kp = KeyPair {
            key_id: self.ids.short_id("skey"),
            name: name.to_owned(),
            project_id,
            public_key,
            created_ms: now,
            tags,
        };
        let mut batch = Batch::default();
        batch.put(
            TABLE,
            format!("{app_id}/{}", kp.key_id),
            codec::encode(VERSION, &kp),
        );
        self.store.commit(batch).await.map_err(ApiError::internal)?;
        let answer = if let Some(pem) = private_key {
            let mut wire = self.key_wire(&kp, &[]);
            wire["PrivateKey"] = Value::String(pem);
            super::object(json!({"KeyPair": wire}))
        } else {
            super::object(json!({"KeyId": kp.key_id}))
        };
        self.state.apply(now, |w| {
            w.keypairs
                .entry(app_id)
                .or_default()
                .insert(kp.key_id.clone(), kp);
        });
        Ok(answer)
    }

    fn key_wire(&self, kp: &KeyPair, bound: &[String]) -> Value {
        let tags: Vec<Value> = kp
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        json!({
            "KeyId": kp.key_id,
            "KeyName": kp.name,
            "ProjectId": kp.project_id,
            "Description": "",
            "PublicKey": kp.public_key,
            "AssociatedInstanceIds": bound,
            "CreatedTime": Iso8601(kp.created_ms),
            "Tags": tags,
        })
    }

    fn describe_key_pairs(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        let ids = key_ids(p)?;
        let filters = super::params::objects(p, "Filters");
        if !ids.is_empty() && !filters.is_empty() {
            return Err(CvmError::IdsAndFilters.into());
        }
        let mut by_name: Option<Vec<String>> = None;
        let mut by_project: Option<Vec<String>> = None;
        for f in filters {
            let values: Vec<String> = strings(f, "Values")
                .into_iter()
                .map(str::to_owned)
                .collect();
            match str_of(f, "Name").unwrap_or_default() {
                "key-name" => by_name = Some(values),
                "project-id" => by_project = Some(values),
                other => return Err(CvmError::InvalidFilter(other.to_owned()).into()),
            }
        }
        let (offset, limit) = page(p)?;
        let inner = self.state.read(cx.received_at_ms);
        let empty = std::collections::BTreeMap::new();
        let mine = inner.keypairs.get(&cx.principal.app_id).unwrap_or(&empty);
        let matched: Vec<&KeyPair> = mine
            .values()
            .filter(|k| ids.is_empty() || ids.contains(&k.key_id))
            .filter(|k| {
                by_name
                    .as_ref()
                    .is_none_or(|n| n.iter().any(|n| k.name.contains(n.as_str())))
            })
            .filter(|k| {
                by_project
                    .as_ref()
                    .is_none_or(|v| v.contains(&k.project_id.to_string()))
            })
            .collect();
        let set: Vec<Value> = matched
            .iter()
            .skip(offset)
            .take(limit)
            .map(|k| {
                let bound: Vec<String> = inner
                    .bound_to(&k.key_id)
                    .map(|(_, id)| id.clone())
                    .collect();
                self.key_wire(k, &bound)
            })
            .collect();
        Ok(super::object(
            json!({"TotalCount": matched.len(), "KeyPairSet": set}),
        ))
    }

    async fn delete_key_pairs(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        let ids = key_ids(p)?;
        if ids.is_empty() {
            return Err(ApiError::new(tclocal_wire::CommonCode::MissingParameter).arg("KeyIds"));
        }
        let app_id = cx.principal.app_id;
        let lock = self.state.writer(&account_lock_key(app_id));
        let _lock = lock.lock().await;
        let now = cx.received_at_ms;
        {
            let inner = self.state.read(now);
            for id in &ids {
                if !inner
                    .keypairs
                    .get(&app_id)
                    .is_some_and(|m| m.contains_key(id))
                {
                    return Err(cvm("InvalidKeyPairId.NotFound").arg(id));
                }
                let bound: Vec<String> = inner.bound_to(id).map(|(_, i)| i.clone()).collect();
                if !bound.is_empty() {
                    // Bound keys are the seeds' "resource in use": the common code, with a
                    // message naming the instances.
                    return Err(ApiError::product(
                        tclocal_wire::CommonCode::ResourceInUse.as_str(),
                        &MESSAGES,
                        "ResourceInUse.KeyPairBound",
                    )
                    .arg(id)
                    .arg(bound.join(", ")));
                }
            }
        }
        let mut batch = Batch::default();
        for id in &ids {
            batch.delete(TABLE, format!("{app_id}/{id}"));
        }
        self.store.commit(batch).await.map_err(ApiError::internal)?;
        self.state.apply(now, |w| {
            if let Some(m) = w.keypairs.get_mut(&app_id) {
                for id in &ids {
                    m.remove(id);
                }
            }
        });
        Ok(Map::new())
    }

    async fn bind_key_pairs(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
        bind: bool,
    ) -> ApiResult<Map<String, Value>> {
        let instance_ids = instance_ids(p)?;
        let keys = key_ids(p)?;
        let force = bool_of(p, "ForceStop").unwrap_or(false);
        let app_id = cx.principal.app_id;
        let lock = self.state.writer(&account_lock_key(app_id));
        let _lock = lock.lock().await;
        let scope: ScopeKey = (app_id, cx.region.clone().unwrap_or_default());
        let writer = self.state.writer(&scope);
        let _writer = writer.lock().await;
        let now = cx.received_at_ms;
        let (records, garbage): (Vec<Instance>, Vec<String>) = {
            let inner = self.state.read(now);
            for k in &keys {
                if !inner
                    .keypairs
                    .get(&app_id)
                    .is_some_and(|m| m.contains_key(k))
                {
                    return Err(cvm("InvalidKeyPairId.NotFound").arg(k));
                }
            }
            let s = inner.scope(&scope);
            let mut out = Vec::with_capacity(instance_ids.len());
            for id in &instance_ids {
                let inst = s
                    .and_then(|s| s.get(id))
                    .ok_or_else(|| CvmError::InstanceNotFound(id.clone()))?;
                if inst.os_name.contains("Windows") {
                    return Err(cvm("UnsupportedOperation.InstanceOsWindows").arg(id));
                }
                // Keys are written to the disk of a stopped instance; ForceStop allows a
                // running one (it is stopped, bound and left stopped).
                let allowed =
                    inst.state == State::Stopped || (force && inst.state == State::Running);
                if !allowed {
                    return Err(CvmError::WrongState {
                        id: id.clone(),
                        state: inst.state,
                    }
                    .into());
                }
                let mut next = inst.clone();
                next.state = State::Stopped;
                next.transition = None;
                if bind {
                    for k in &keys {
                        if !next.key_ids.contains(k) {
                            next.key_ids.push(k.clone());
                        }
                    }
                } else {
                    next.key_ids.retain(|k| !keys.contains(k));
                }
                next.latest_operation = Some(cx.action.clone());
                next.latest_operation_state = Some("SUCCESS".to_owned());
                next.latest_operation_request_id = Some(cx.request_id.clone());
                out.push(next);
            }
            (out, s.map(|s| s.garbage.clone()).unwrap_or_default())
        };
        let mut batch = Batch::default();
        for r in &records {
            batch.put(
                super::instances::TABLE,
                super::instances::record_key(&scope, &r.id),
                codec::encode(VERSION, r),
            );
        }
        for g in &garbage {
            batch.delete(
                super::instances::TABLE,
                super::instances::record_key(&scope, g),
            );
        }
        self.store.commit(batch).await.map_err(ApiError::internal)?;
        self.state.apply(now, |w| {
            for r in records {
                w.put(&scope, r);
            }
            if let Some(s) = w.scopes.get_mut(&scope) {
                s.garbage.retain(|g| !garbage.contains(g));
            }
        });
        Ok(Map::new())
    }
}

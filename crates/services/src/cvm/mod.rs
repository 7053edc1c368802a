//! Cloud Virtual Machine (CVM), API version 2017-03-12.
//!
//! Instances live in [`state`] (memory, indexed) and in the store (durable); their
//! lifecycle follows emulated time. See the README's CVM section for the emulated actions
//! and filters.

mod catalogue;
mod describe;
mod errors;
mod instances;
mod keypairs;
mod model;
mod params;
mod settings;
mod state;

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use tclocal_store::{Batch, Store, StoreError, codec};
use tclocal_wire::catalogue::Templates;
use tclocal_wire::clock::Iso8601;
use tclocal_wire::context::RequestContext;
use tclocal_wire::ids::ResourceIds;
use tclocal_wire::{ApiError, ApiResult};

use crate::{Product, RegionScope, Reply, not_emulated, object};
pub use settings::{CvmSettings, Timings};
use state::{CvmState, Inner, Loader, ScopeKey};

/// The only CVM version the cloud has.
pub const VERSION: &str = "2017-03-12";

/// CVM's own message templates (`data/cvm/messages.json`).
pub(crate) static MESSAGES: LazyLock<Templates> = LazyLock::new(|| {
    Templates::from_json(include_str!("../../data/cvm/messages.json"))
        .expect("data/cvm/messages.json is valid (checked by tests)")
});

/// Actions tclocal emulates.
const EMULATED: [&str; 14] = [
    "DescribeInstancesStatus",
    "DescribeZoneInstanceConfigInfos",
    "DescribeRegions",
    "DescribeZones",
    "DescribeInstanceTypeConfigs",
    "DescribeImages",
    "DescribeInstanceFamilyConfigs",
    "RunInstances",
    "DescribeInstances",
    "StartInstances",
    "StopInstances",
    "RebootInstances",
    "TerminateInstances",
    "ModifyInstancesAttribute",
];

/// The CVM product.
pub struct Cvm {
    state: CvmState,
    store: Arc<dyn Store>,
    ids: Arc<dyn ResourceIds>,
    settings: CvmSettings,
    /// Serialises placements (RunInstances, ResetInstancesType): capacity is shared by every
    /// account, so two placements must not both see the last free slot.
    placement: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Cvm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cvm")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Cvm {
    /// Loads CVM's state from the store. Instances whose termination finished while the
    /// server was down are removed from the store here.
    ///
    /// # Errors
    /// When the store fails or holds a record this binary cannot read.
    pub async fn open(
        store: Arc<dyn Store>,
        ids: Arc<dyn ResourceIds>,
        settings: CvmSettings,
        now_ms: i64,
    ) -> Result<Cvm, StoreError> {
        let state = CvmState::from_inner(load(store.as_ref(), now_ms).await?);
        Ok(Cvm {
            state,
            store,
            ids,
            settings,
            placement: tokio::sync::Mutex::new(()),
        })
    }
}

impl Cvm {
    /// Swaps the working copy for one loaded afresh from the store.
    pub(crate) async fn reload_state(&self, now_ms: i64) -> Result<(), StoreError> {
        // Placements hold this lock while they plan and stage, so none straddles the swap.
        let _placement = self.placement.lock().await;
        let fresh = load(self.store.as_ref(), now_ms).await?;
        self.state.replace(fresh);
        Ok(())
    }
}

/// Reads CVM's tables into fresh indexes. Rows are decoded as they stream out of the store
/// and a transition that came due while nobody was watching is applied to its record before
/// it is indexed (settling 100,000 launches one by one on the first read would re-index each
/// twice); terminations that finished are deleted from the store.
async fn load(store: &dyn Store, now_ms: i64) -> Result<Inner, StoreError> {
    // Three stages run side by side: the store reads rows, this task decodes them, and a
    // thread of its own builds the indexes from decoded instances sent in chunks.
    const CHUNK: usize = 256;
    let (to_indexer, decoded) =
        std::sync::mpsc::sync_channel::<Vec<(ScopeKey, model::Instance)>>(8);
    let (give_back, indexed) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("tclocal-cvm-load".to_owned())
        .spawn(move || {
            let mut loader = Loader::default();
            for chunk in decoded {
                for (key, inst) in chunk {
                    loader.add(&key, inst);
                }
            }
            let _ = give_back.send(loader);
        })
        .map_err(|e| StoreError::Backend(format!("cannot start the CVM load thread: {e}")))?;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut finished: Vec<String> = Vec::new();
    let scanned = store
        .scan_each(instances::TABLE, "", &mut |key, bytes| {
            let (_, inst): (u16, model::Instance) = codec::decode_at(instances::TABLE, key, bytes)?;
            let mut parts = key.splitn(3, '/');
            let app_id = parts.next().and_then(|a| a.parse::<u64>().ok());
            let region = parts.next();
            let (Some(app_id), Some(region)) = (app_id, region) else {
                return Err(StoreError::Corrupt {
                    table: instances::TABLE.to_owned(),
                    key: key.to_owned(),
                    reason: "key is not AppId/region/InstanceId".to_owned(),
                });
            };
            let due = inst.transition.as_ref().is_some_and(|t| t.at_ms <= now_ms);
            let settled = if due {
                state::finish_transition(inst)
            } else {
                Some(inst)
            };
            match settled {
                Some(inst) => chunk.push(((app_id, region.to_owned()), inst)),
                None => finished.push(key.to_owned()),
            }
            if chunk.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                to_indexer
                    .send(full)
                    .map_err(|_| StoreError::Backend("the CVM load thread stopped".to_owned()))?;
            }
            Ok(())
        })
        .await;
    if scanned.is_ok() && !chunk.is_empty() {
        let _ = to_indexer.send(chunk);
    }
    drop(to_indexer);
    let mut loader = indexed
        .await
        .map_err(|_| StoreError::Backend("the CVM load thread failed".to_owned()))?;
    scanned?;
    for (key, bytes) in store.scan(keypairs::TABLE, "").await? {
        if let Ok((_, kp)) = codec::decode_at::<model::KeyPair>(keypairs::TABLE, &key, &bytes) {
            let app_id = key
                .split('/')
                .next()
                .and_then(|a| a.parse().ok())
                .unwrap_or(0);
            loader
                .keypairs()
                .entry(app_id)
                .or_default()
                .insert(kp.key_id.clone(), kp);
        }
    }
    if !finished.is_empty() {
        let mut batch = Batch::default();
        for k in finished {
            batch.delete(instances::TABLE, k);
        }
        store.commit(batch).await?;
    }
    Ok(loader.finish())
}

#[async_trait::async_trait]
impl Product for Cvm {
    fn name(&self) -> &'static str {
        "cvm"
    }

    fn regions(&self) -> RegionScope {
        RegionScope::Regional(catalogue::regions())
    }

    fn tables(&self) -> &'static [&'static str] {
        &[instances::TABLE, keypairs::TABLE]
    }

    async fn reload(&self, now_ms: i64) -> Result<(), StoreError> {
        self.reload_state(now_ms).await
    }

    /// Removes the account's instances (with their timers, capacity and key-pair bindings)
    /// and key pairs from the working copy; the other accounts' stay loaded.
    async fn forget_account(&self, app_id: u64, now_ms: i64) -> Result<(), StoreError> {
        let _placement = self.placement.lock().await;
        self.state.apply(now_ms, |w| {
            let scopes: Vec<_> = w.scopes.keys().filter(|k| k.0 == app_id).cloned().collect();
            for key in scopes {
                let ids: Vec<String> = w
                    .scope(&key)
                    .map(|s| s.iter().map(|i| i.id.clone()).collect())
                    .unwrap_or_default();
                for id in ids {
                    w.remove(&key, &id);
                }
                w.scopes.remove(&key);
            }
            w.keypairs.remove(&app_id);
        });
        Ok(())
    }

    fn emulates(&self, version: &str, action: &str) -> bool {
        version == VERSION
            && (EMULATED.contains(&action)
                || keypairs::ACTIONS.contains(&action)
                || action == "ResetInstancesType")
    }

    async fn call(&self, cx: &RequestContext, params: Map<String, Value>) -> ApiResult<Reply> {
        // The hot reads: serialised straight from the state (no tree of values).
        let serialized = match cx.action.as_str() {
            "DescribeInstancesStatus" => self.describe_instances_status(cx, &params),
            "DescribeInstances" => self.describe_instances(cx, &params),
            _ => return self.call_fields(cx, &params).await.map(Reply::from),
        };
        serialized.map_err(|e| documented_state_code(&cx.action, e.into()))
    }

    /// Instances by id when the request names them, else every instance in the region.
    fn resources(&self, cx: &RequestContext, params: &Map<String, Value>) -> Vec<String> {
        let region = cx.region.as_deref().unwrap_or_default();
        let owner = &cx.principal.owner_uin;
        let ids: Vec<&str> = params
            .get("InstanceIds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            let kind = if cx.action.contains("KeyPair") {
                "keypair"
            } else {
                "instance"
            };
            return vec![format!("qcs::cvm:{region}:uin/{owner}:{kind}/*")];
        }
        ids.into_iter()
            .map(|id| format!("qcs::cvm:{region}:uin/{owner}:instance/{id}"))
            .collect()
    }

    fn inventory(&self, now_ms: i64) -> Value {
        let inner = self.state.read(now_ms);
        let mut scopes: Vec<_> = inner.scopes.iter().collect();
        scopes.sort_by(|a, b| a.0.cmp(b.0));
        let instances: Vec<Value> = scopes
            .into_iter()
            .flat_map(|((app_id, region), scope)| {
                scope.iter().map(move |i| {
                    json!({"AppId": app_id, "Region": region, "InstanceId": i.id,
                           "InstanceName": i.name, "InstanceState": i.state.as_str(),
                           "InstanceType": i.instance_type, "Zone": i.zone,
                           "CreatedTime": Iso8601(i.created_ms)})
                })
            })
            .collect();
        let keypairs: usize = inner
            .keypairs
            .values()
            .map(std::collections::BTreeMap::len)
            .sum();
        json!({"instances": instances, "key_pairs": keypairs})
    }
}

impl crate::tag::Tagged for Cvm {
    fn service_type(&self) -> &'static str {
        "cvm"
    }

    fn resource_prefixes(&self) -> &'static [&'static str] {
        &["instance", "keypair"]
    }

    /// Key pairs belong to the account, not a region (as tclocal keeps them), so `region`
    /// narrows instances only.
    fn resource_tags(
        &self,
        app_id: u64,
        region: &str,
        prefix: &str,
        ids: &[&str],
        now_ms: i64,
    ) -> Vec<(String, Vec<(String, String)>)> {
        let inner = self.state.read(now_ms);
        match prefix {
            "instance" => {
                let Some(scope) = inner.scope(&(app_id, region.to_owned())) else {
                    return Vec::new();
                };
                ids.iter()
                    .filter_map(|id| scope.get(id))
                    .map(|i| (i.id.clone(), i.tags.clone()))
                    .collect()
            }
            "keypair" => {
                let Some(kps) = inner.keypairs.get(&app_id) else {
                    return Vec::new();
                };
                ids.iter()
                    .filter_map(|id| kps.get(*id))
                    .map(|k| (k.key_id.clone(), k.tags.clone()))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// A state the action's model lists no `UnsupportedOperation.InstanceState<State>` for is
/// answered with the family code `UnsupportedOperation` (same message): the model is what
/// clients match on.
fn documented_state_code(action: &str, e: ApiError) -> ApiError {
    if !e.code().starts_with("UnsupportedOperation.InstanceState") {
        return e;
    }
    let listed = tclocal_specs::registry()
        .action("cvm", VERSION, action)
        .is_none_or(|a| a.errors.is_empty() || a.errors.iter().any(|c| c == e.code()));
    if listed {
        e
    } else {
        e.recode(tclocal_wire::CommonCode::UnsupportedOperation)
    }
}

fn describe_regions(cx: &RequestContext) -> Map<String, Value> {
    let set: Vec<Value> = catalogue::regions()
        .iter()
        .filter_map(|id| crate::regions::get(id))
        .map(|r| {
            json!({"Region": r.region, "RegionName": r.name(cx.language), "RegionState": "AVAILABLE"})
        })
        .collect();
    object(json!({"TotalCount": set.len(), "RegionSet": set}))
}

fn describe_zones(cx: &RequestContext) -> Map<String, Value> {
    let zones = catalogue::zones(cx.region.as_deref().unwrap_or_default());
    let set: Vec<Value> = zones
        .iter()
        .map(|z| {
            json!({"Zone": z.zone, "ZoneName": z.name.get(cx.language), "ZoneId": z.zone_id, "ZoneState": z.state})
        })
        .collect();
    object(json!({"TotalCount": set.len(), "ZoneSet": set}))
}

#[cfg(test)]
mod tests;

impl Cvm {
    /// Every action but the ones [`Product::call`] serialises itself.
    async fn call_fields(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> ApiResult<Map<String, Value>> {
        let result = match cx.action.as_str() {
            "DescribeRegions" => Ok(describe_regions(cx)),
            "DescribeZones" => Ok(describe_zones(cx)),
            "DescribeInstanceTypeConfigs" => {
                return describe::describe_instance_type_configs(cx, p);
            }
            "DescribeImages" => return describe::describe_images(cx, p),
            "DescribeZoneInstanceConfigInfos" => {
                let inner = self.state.read(cx.received_at_ms);
                return describe::describe_zone_instance_config_infos(cx, p, |zone, t| {
                    self.sold_out(&inner, zone, t)
                });
            }
            "DescribeInstanceFamilyConfigs" => {
                return Ok(describe::describe_instance_family_configs(cx));
            }
            "RunInstances" => self.run_instances(cx, p).await,
            "StartInstances" => self.start_instances(cx, p).await,
            "StopInstances" => self.stop_instances(cx, p).await,
            "RebootInstances" => self.reboot_instances(cx, p).await,
            "TerminateInstances" => self.terminate_instances(cx, p).await,
            "ModifyInstancesAttribute" => self.modify_instances_attribute(cx, p).await,
            "ResetInstancesType" => self.reset_instances_type(cx, p).await,
            action if keypairs::ACTIONS.contains(&action) => self.keypair_action(cx, p).await,
            _ => return Err(not_emulated(cx)),
        };
        result.map_err(|e| documented_state_code(&cx.action, e.into()))
    }
}

//! Instance actions: RunInstances, DescribeInstances, DescribeInstancesStatus, Start, Stop,
//! Reboot, Terminate, ModifyInstancesAttribute and ResetInstancesType.
//!
//! Each write follows one pattern: take the scope's writer lock (RunInstances and
//! ResetInstancesType first take the placement lock, since capacity is shared by every
//! account), plan against the settled state, commit the new records to the store, then apply
//! them in memory. A request answered with success is durable; a failed commit changes
//! nothing.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use tclocal_store::{Batch, Durable, codec};
use tclocal_wire::context::RequestContext;
use tclocal_wire::envelope::{Members, Reply};

use super::Cvm;
use super::catalogue;
use super::errors::CvmError;
use super::model::{Disk, Instance, State, Transition, VERSION, WireInstance};
use super::params::{bool_of, i64_of, instance_ids, obj, objects, page, str_of, strings, tags};
use super::state::{Field, Inner, Scope, ScopeKey, SeqSet};

/// Store table of instance records; key `{AppId}/{region}/{InstanceId}`.
pub(crate) const TABLE: &str = "cvm.instances";

pub(crate) fn record_key(scope: &ScopeKey, id: &str) -> String {
    format!("{}/{}/{id}", scope.0, scope.1)
}

type Result<T> = std::result::Result<T, CvmError>;

fn scope_key(cx: &RequestContext) -> ScopeKey {
    (cx.principal.app_id, cx.region.clone().unwrap_or_default())
}

fn now(cx: &RequestContext) -> i64 {
    cx.received_at_ms
}

/// Instances named by `ids`, all of which must exist in the scope.
fn existing<'a>(scope: Option<&'a Scope>, ids: &[String]) -> Result<Vec<&'a Instance>> {
    ids.iter()
        .map(|id| {
            scope
                .and_then(|s| s.get(id))
                .ok_or_else(|| CvmError::InstanceNotFound(id.clone()))
        })
        .collect()
}

/// Expands `{R:n}` in an instance name for the `i`-th instance of a batch of `count`.
fn instance_name(pattern: &str, i: usize, count: usize) -> String {
    if let Some(start) = pattern.find("{R:") {
        if let Some(len) = pattern[start..].find('}') {
            let end = start + len;
            if let Ok(first) = pattern[start + 3..end].parse::<usize>() {
                return format!("{}{}{}", &pattern[..start], first + i, &pattern[end + 1..]);
            }
        }
    }
    if count > 1 {
        format!("{pattern}{}", i + 1)
    } else {
        pattern.to_owned()
    }
}

fn private_ip(seq: u64) -> String {
    format!(
        "10.{}.{}.{}",
        (seq >> 16) & 0xff,
        (seq >> 8) & 0xff,
        seq & 0xff
    )
}

/// Public addresses come from 198.18.0.0/15, a range reserved for tests, never routed.
fn public_ip(seq: u64) -> String {
    format!(
        "198.{}.{}.{}",
        18 + ((seq >> 16) & 1),
        (seq >> 8) & 0xff,
        seq & 0xff
    )
}

fn valid_host_name(h: &str) -> bool {
    (2..=60).contains(&h.len())
        && !h.starts_with(['.', '-'])
        && !h.ends_with(['.', '-'])
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

const DISK_TYPES: [&str; 7] = [
    "LOCAL_BASIC",
    "LOCAL_SSD",
    "CLOUD_BASIC",
    "CLOUD_SSD",
    "CLOUD_PREMIUM",
    "CLOUD_BSSD",
    "CLOUD_HSSD",
];

const PERIODS: [i64; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60];

/// A RunInstances request, read and checked before any lock is taken.
struct Launch {
    zone: String,
    project_id: i64,
    instance_type: &'static catalogue::InstanceType,
    image: &'static catalogue::Image,
    charge_type: String,
    renew_flag: String,
    period_months: Option<i64>,
    count: usize,
    min_count: usize,
    name: String,
    host_name: String,
    system_disk: (String, i64),
    data_disks: Vec<(String, i64, bool)>,
    vpc: Option<(String, String)>,
    bandwidth_out: i64,
    internet_charge_type: String,
    public_ip: bool,
    security_group_ids: Vec<String>,
    key_ids: Vec<String>,
    tags: Vec<(String, String)>,
    client_token: Option<String>,
    disable_api_termination: bool,
    cam_role_name: Option<String>,
    dry_run: bool,
}

fn read_launch(cx: &RequestContext, p: &Map<String, Value>) -> Result<Launch> {
    let region = cx.region.clone().unwrap_or_default();
    let placement = obj(p, "Placement");
    let zone = placement
        .and_then(|pl| str_of(pl, "Zone"))
        .ok_or(CvmError::Missing("Placement.Zone"))?;
    match catalogue::zone(zone) {
        None => return Err(CvmError::ZoneNotSupported(zone.to_owned())),
        Some((zone_region, _)) if zone_region != region => {
            return Err(CvmError::ZoneMismatchRegion {
                zone: zone.to_owned(),
                region,
            });
        }
        Some(_) => {}
    }
    let type_name = str_of(p, "InstanceType").unwrap_or("S5.SMALL1");
    let instance_type = catalogue::instance_type(type_name)
        .ok_or_else(|| CvmError::InstanceTypeNotFound(type_name.to_owned()))?;
    if !catalogue::sells(zone, type_name) {
        return Err(CvmError::TypeNotSold {
            zone: zone.to_owned(),
            instance_type: type_name.to_owned(),
        });
    }
    let image_id = str_of(p, "ImageId").ok_or(CvmError::Missing("ImageId"))?;
    if !super::params::is_short_id(image_id, "img") {
        return Err(CvmError::ImageIdMalformed(image_id.to_owned()));
    }
    let image =
        catalogue::image(image_id).ok_or_else(|| CvmError::ImageNotFound(image_id.to_owned()))?;

    let charge_type = str_of(p, "InstanceChargeType").unwrap_or("POSTPAID_BY_HOUR");
    let (period_months, renew_flag) = match charge_type {
        "POSTPAID_BY_HOUR" | "SPOTPAID" => (None, "NOTIFY_AND_MANUAL_RENEW".to_owned()),
        "PREPAID" => {
            let prepaid = obj(p, "InstanceChargePrepaid")
                .ok_or(CvmError::Missing("InstanceChargePrepaid"))?;
            let period = i64_of(prepaid, "Period").unwrap_or(0);
            if !PERIODS.contains(&period) {
                return Err(CvmError::Invalid("InstanceChargePrepaid.Period".to_owned()));
            }
            let renew = str_of(prepaid, "RenewFlag").unwrap_or("NOTIFY_AND_MANUAL_RENEW");
            (Some(period), renew.to_owned())
        }
        other => return Err(CvmError::Invalid(format!("InstanceChargeType {other}"))),
    };

    let count = i64_of(p, "InstanceCount").unwrap_or(1);
    if !(1..=100).contains(&count) {
        return Err(CvmError::Range {
            field: "InstanceCount",
            min: 1,
            max: 100,
        });
    }
    let min_count = i64_of(p, "MinCount").unwrap_or(count);
    if min_count < 1 || min_count > count {
        return Err(CvmError::MinCount);
    }
    let name = str_of(p, "InstanceName").unwrap_or("未命名");
    if name.chars().count() > 128 {
        return Err(CvmError::NameTooLong);
    }
    let host_name = str_of(p, "HostName").unwrap_or_default();
    if !host_name.is_empty() && !valid_host_name(host_name) {
        return Err(CvmError::IllegalHostName(host_name.to_owned()));
    }
    let client_token = str_of(p, "ClientToken").filter(|t| !t.is_empty());
    if client_token.is_some_and(|t| t.len() > 64) {
        return Err(CvmError::ClientTokenTooLong);
    }

    let system_disk = obj(p, "SystemDisk");
    let sys_type = system_disk
        .and_then(|d| str_of(d, "DiskType"))
        .unwrap_or("CLOUD_BSSD");
    if !DISK_TYPES.contains(&sys_type) {
        return Err(CvmError::Invalid("SystemDisk.DiskType".to_owned()));
    }
    let sys_size = system_disk
        .and_then(|d| i64_of(d, "DiskSize"))
        .unwrap_or(50);
    if !(20..=1024).contains(&sys_size) {
        return Err(CvmError::Range {
            field: "SystemDisk.DiskSize",
            min: 20,
            max: 1024,
        });
    }
    let disks = objects(p, "DataDisks");
    if disks.len() > 20 {
        return Err(CvmError::TooManyValues {
            field: "DataDisks",
            max: 20,
        });
    }
    let mut data_disks = Vec::with_capacity(disks.len());
    for d in disks {
        let ty = str_of(d, "DiskType").unwrap_or("CLOUD_BSSD");
        if !DISK_TYPES.contains(&ty) {
            return Err(CvmError::Invalid("DataDisks.DiskType".to_owned()));
        }
        let size = i64_of(d, "DiskSize").unwrap_or(0);
        if !(10..=32_000).contains(&size) {
            return Err(CvmError::Range {
                field: "DataDisks.DiskSize",
                min: 10,
                max: 32000,
            });
        }
        data_disks.push((
            ty.to_owned(),
            size,
            bool_of(d, "DeleteWithInstance").unwrap_or(true),
        ));
    }

    let vpc = match obj(p, "VirtualPrivateCloud") {
        None => None,
        Some(v) => {
            let vpc_id = str_of(v, "VpcId").unwrap_or_default();
            let subnet_id = str_of(v, "SubnetId").unwrap_or_default();
            if !super::params::is_short_id(vpc_id, "vpc") {
                return Err(CvmError::Invalid("VirtualPrivateCloud.VpcId".to_owned()));
            }
            if !super::params::is_short_id(subnet_id, "subnet") {
                return Err(CvmError::Invalid("VirtualPrivateCloud.SubnetId".to_owned()));
            }
            Some((vpc_id.to_owned(), subnet_id.to_owned()))
        }
    };
    let internet = obj(p, "InternetAccessible");
    let bandwidth_out = internet
        .and_then(|i| i64_of(i, "InternetMaxBandwidthOut"))
        .unwrap_or(0);
    if !(0..=200).contains(&bandwidth_out) {
        return Err(CvmError::Range {
            field: "InternetAccessible.InternetMaxBandwidthOut",
            min: 0,
            max: 200,
        });
    }
    let internet_charge_type = internet
        .and_then(|i| str_of(i, "InternetChargeType"))
        .unwrap_or("TRAFFIC_POSTPAID_BY_HOUR")
        .to_owned();
    let public_ip = internet
        .and_then(|i| bool_of(i, "PublicIpAssigned"))
        .unwrap_or(bandwidth_out > 0);

    let security_group_ids: Vec<String> = strings(p, "SecurityGroupIds")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Some(bad) = security_group_ids
        .iter()
        .find(|id| !super::params::is_short_id(id, "sg"))
    {
        return Err(CvmError::Invalid(format!("SecurityGroupIds {bad}")));
    }
    let key_ids: Vec<String> = obj(p, "LoginSettings")
        .map(|l| strings(l, "KeyIds"))
        .unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect();
    // Windows logs in with a password: the cloud refuses key pairs for a Windows image.
    if !key_ids.is_empty() && image.is_windows() {
        return Err(CvmError::KeyPairWindows(image.image_id.clone()));
    }
    Ok(Launch {
        zone: zone.to_owned(),
        project_id: placement
            .and_then(|pl| i64_of(pl, "ProjectId"))
            .unwrap_or(0),
        instance_type,
        image,
        charge_type: charge_type.to_owned(),
        renew_flag,
        period_months,
        count: usize::try_from(count).unwrap_or(1),
        min_count: usize::try_from(min_count).unwrap_or(1),
        name: name.to_owned(),
        host_name: host_name.to_owned(),
        system_disk: (sys_type.to_owned(), sys_size),
        data_disks,
        vpc,
        bandwidth_out,
        internet_charge_type,
        public_ip,
        security_group_ids,
        key_ids,
        tags: tags(p, "instance")?,
        client_token: client_token.map(str::to_owned),
        disable_api_termination: bool_of(p, "DisableApiTermination").unwrap_or(false),
        cam_role_name: str_of(p, "CamRoleName").map(str::to_owned),
        dry_run: bool_of(p, "DryRun").unwrap_or(false),
    })
}

impl Cvm {
    /// True when capacity left for `instance_type` in `zone` is nil (the zone's or the type's).
    pub(crate) fn sold_out(&self, inner: &Inner, zone: &str, instance_type: &str) -> bool {
        let zone_full = self
            .settings
            .zone_capacity
            .get(zone)
            .is_some_and(|cap| *cap <= inner.placed_in_zone(zone));
        let pair = (zone.to_owned(), instance_type.to_owned());
        zone_full
            || self
                .settings
                .type_capacity
                .get(&pair)
                .is_some_and(|cap| *cap <= inner.placed(zone, instance_type))
    }

    /// How many of the requested instances quota and capacity allow, or why none.
    fn admit(&self, inner: &Inner, key: &ScopeKey, l: &Launch) -> Result<usize> {
        let mut allowed = l.count;
        let used = inner.scope(key).map_or(0, Scope::len) as u64;
        let quota = self.settings.instance_quota;
        let room = quota.saturating_sub(used);
        if (room as usize) < l.min_count {
            return Err(CvmError::Quota {
                quota,
                used,
                requested: l.count as u64,
            });
        }
        allowed = allowed.min(room as usize);
        if let Some(cap) = self.settings.zone_capacity.get(&l.zone) {
            let left = cap.saturating_sub(inner.placed_in_zone(&l.zone));
            if left == 0 {
                return Err(CvmError::ZoneSoldOut(l.zone.clone()));
            }
            if (left as usize) < l.min_count {
                return Err(CvmError::Capacity {
                    zone: l.zone.clone(),
                    instance_type: l.instance_type.instance_type.clone(),
                    available: left,
                    requested: l.count as u64,
                });
            }
            allowed = allowed.min(left as usize);
        }
        let pair = (l.zone.clone(), l.instance_type.instance_type.clone());
        if let Some(cap) = self.settings.type_capacity.get(&pair) {
            let left = cap.saturating_sub(inner.placed(&pair.0, &pair.1));
            if left == 0 {
                return Err(CvmError::SoldOut {
                    zone: pair.0,
                    instance_type: pair.1,
                });
            }
            if (left as usize) < l.min_count {
                return Err(CvmError::Capacity {
                    zone: pair.0,
                    instance_type: pair.1,
                    available: left,
                    requested: l.count as u64,
                });
            }
            allowed = allowed.min(left as usize);
        }
        Ok(allowed)
    }

    pub(crate) async fn run_instances(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let launch = read_launch(cx, p)?;
        let key = scope_key(cx);
        let _placement = self.placement.lock().await;
        let writer = self.state.writer(&key);
        let _writer = writer.lock().await;
        let now = now(cx);

        let (count, seqs, garbage) = {
            let inner = self.state.read(now);
            if let Some(token) = &launch.client_token {
                if let Some(ids) = inner.scope(&key).and_then(|s| s.by_token(token)) {
                    return Ok(ids_answer(ids));
                }
            }
            let known = inner.keypairs.get(&cx.principal.app_id);
            if let Some(missing) = launch
                .key_ids
                .iter()
                .find(|k| !known.is_some_and(|m| m.contains_key(*k)))
            {
                return Err(CvmError::KeyPairNotFound(missing.clone()));
            }
            let count = self.admit(&inner, &key, &launch)?;
            if launch.dry_run {
                return Err(CvmError::DryRun);
            }
            let garbage = inner
                .scope(&key)
                .map(|s| s.garbage.clone())
                .unwrap_or_default();
            drop(inner);
            let seqs: Vec<u64> = self
                .state
                .apply(now, |w| (0..count).map(|_| w.next_seq()).collect());
            (count, seqs, garbage)
        };

        let fails = self.settings.launch_failures.contains(&(
            launch.zone.clone(),
            launch.instance_type.instance_type.clone(),
        ));
        let mut taken = BTreeSet::new();
        let mut records = Vec::with_capacity(count);
        for (i, seq) in seqs.into_iter().enumerate() {
            let id = loop {
                let id = self.ids.short_id("ins");
                let clash = self
                    .state
                    .read(now)
                    .scope(&key)
                    .is_some_and(|s| s.get(&id).is_some());
                if !clash && taken.insert(id.clone()) {
                    break id;
                }
            };
            let (vpc_id, subnet_id) = launch.vpc.clone().unwrap_or_else(|| {
                (
                    format!("vpc-{:08x}", cx.principal.app_id % 0xffff_ffff),
                    format!("subnet-{:08x}", cx.principal.app_id % 0xffff_ffff),
                )
            });
            records.push(Instance {
                uuid: self.ids.uuid(),
                zone: launch.zone.clone(),
                project_id: launch.project_id,
                instance_type: launch.instance_type.instance_type.clone(),
                cpu: launch.instance_type.cpu,
                memory: launch.instance_type.memory,
                image_id: launch.image.image_id.clone(),
                os_name: launch.image.os_name.clone(),
                name: instance_name(&launch.name, i, count),
                host_name: launch.host_name.clone(),
                charge_type: launch.charge_type.clone(),
                renew_flag: launch.renew_flag.clone(),
                expired_ms: launch
                    .period_months
                    .map(|m| now.saturating_add(m.saturating_mul(30 * 86_400_000))),
                system_disk: Disk {
                    disk_id: self.ids.short_id("disk"),
                    disk_type: launch.system_disk.0.clone(),
                    size_gb: launch.system_disk.1,
                    delete_with_instance: true,
                },
                data_disks: launch
                    .data_disks
                    .iter()
                    .map(|(ty, size, del)| Disk {
                        disk_id: self.ids.short_id("disk"),
                        disk_type: ty.clone(),
                        size_gb: *size,
                        delete_with_instance: *del,
                    })
                    .collect(),
                vpc_id,
                subnet_id,
                private_ip: private_ip(seq),
                public_ip: launch.public_ip.then(|| public_ip(seq)),
                internet_charge_type: launch.internet_charge_type.clone(),
                bandwidth_out: launch.bandwidth_out,
                security_group_ids: launch.security_group_ids.clone(),
                key_ids: launch.key_ids.clone(),
                tags: launch.tags.clone(),
                disable_api_termination: launch.disable_api_termination,
                cam_role_name: launch.cam_role_name.clone(),
                created_ms: now,
                seq,
                state: State::Pending,
                transition: Some(Transition {
                    to: Some(if fails {
                        State::LaunchFailed
                    } else {
                        State::Running
                    }),
                    at_ms: now.saturating_add(self.settings.timings.launch_ms),
                }),
                stop_charging_mode: "NOT_APPLICABLE".to_owned(),
                latest_operation: Some("RunInstances".to_owned()),
                latest_operation_state: Some("OPERATING".to_owned()),
                latest_operation_request_id: Some(cx.request_id.clone()),
                client_token: launch.client_token.clone(),
                launch_fails: fails,
                id,
            });
        }
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let durable = self.stage(&key, records, &garbage, now).await?;
        drop(_writer);
        drop(_placement);
        self.settle_commit(durable, now).await?;
        Ok(ids_answer(&ids))
    }

    /// Queues the records (and the deletion of finished terminations) as one batch and applies
    /// them here, while the caller still holds its locks, so the store's queue keeps the order
    /// the locks gave. The caller releases its locks before awaiting the returned durability,
    /// which lets concurrent writers share one group commit.
    async fn stage(
        &self,
        key: &ScopeKey,
        records: Vec<Instance>,
        garbage: &[String],
        now: i64,
    ) -> Result<Durable> {
        let mut batch = Batch::default();
        for r in &records {
            batch.put(TABLE, record_key(key, &r.id), codec::encode(VERSION, r));
        }
        for id in garbage {
            batch.delete(TABLE, record_key(key, id));
        }
        let durable = self.store.enqueue(batch).await?;
        self.state.apply(now, |w| {
            for r in records {
                w.put(key, r);
            }
            clear_garbage(w, key, garbage);
        });
        Ok(durable)
    }

    /// Waits for a staged change to be durable; no client is answered before that. Readers may
    /// have seen the change already: if it did not reach the store, the working copy is
    /// reloaded from the store so that it shows only what is stored.
    async fn settle_commit(&self, durable: Durable, now: i64) -> Result<()> {
        if let Err(e) = durable.await {
            tracing::error!(error = %e, "a CVM change was not stored; reloading the working copy");
            if let Err(reload) = self.reload_state(now).await {
                tracing::error!(error = %reload, "reloading CVM from the store failed");
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Start, Stop, Reboot: check every instance's state, then move them all.
    async fn transition(
        &self,
        cx: &RequestContext,
        ids: &[String],
        plan: impl Fn(&Instance) -> Result<Instance>,
    ) -> Result<Map<String, Value>> {
        let key = scope_key(cx);
        let writer = self.state.writer(&key);
        let _writer = writer.lock().await;
        let now = now(cx);
        let (records, garbage) = {
            let inner = self.state.read(now);
            let scope = inner.scope(&key);
            let current = existing(scope, ids)?;
            let records = current.into_iter().map(&plan).collect::<Result<Vec<_>>>()?;
            (
                records,
                scope.map(|s| s.garbage.clone()).unwrap_or_default(),
            )
        };
        let durable = self.stage(&key, records, &garbage, now).await?;
        drop(_writer);
        self.settle_commit(durable, now).await?;
        Ok(Map::new())
    }

    fn moving(
        cx: &RequestContext,
        inst: &Instance,
        operation: &str,
        through: State,
        to: State,
        after_ms: i64,
    ) -> Instance {
        let mut next = inst.clone();
        next.state = through;
        next.transition = Some(Transition {
            to: Some(to),
            at_ms: now(cx).saturating_add(after_ms),
        });
        next.latest_operation = Some(operation.to_owned());
        next.latest_operation_state = Some("OPERATING".to_owned());
        next.latest_operation_request_id = Some(cx.request_id.clone());
        next
    }

    pub(crate) async fn start_instances(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let ids = instance_ids(p)?;
        let after = self.settings.timings.start_ms;
        self.transition(cx, &ids, |inst| {
            require_state(inst, State::Stopped)?;
            let mut next = Cvm::moving(
                cx,
                inst,
                "StartInstances",
                State::Starting,
                State::Running,
                after,
            );
            next.stop_charging_mode = "NOT_APPLICABLE".to_owned();
            Ok(next)
        })
        .await
    }

    pub(crate) async fn stop_instances(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let ids = instance_ids(p)?;
        let stop_type = stop_type(p)?;
        let mode = str_of(p, "StoppedMode").unwrap_or("KEEP_CHARGING");
        if !["KEEP_CHARGING", "STOP_CHARGING"].contains(&mode) {
            return Err(CvmError::Invalid("StoppedMode".to_owned()));
        }
        // A hard stop cuts power: it takes a fifth of a soft one.
        let after = if stop_type == "HARD" {
            self.settings.timings.stop_ms / 5
        } else {
            self.settings.timings.stop_ms
        };
        self.transition(cx, &ids, |inst| {
            require_state(inst, State::Running)?;
            if mode == "STOP_CHARGING" && inst.charge_type != "POSTPAID_BY_HOUR" {
                return Err(CvmError::StopChargingNotSupported(inst.id.clone()));
            }
            let mut next = Cvm::moving(
                cx,
                inst,
                "StopInstances",
                State::Stopping,
                State::Stopped,
                after,
            );
            next.stop_charging_mode = mode.to_owned();
            Ok(next)
        })
        .await
    }

    pub(crate) async fn reboot_instances(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let ids = instance_ids(p)?;
        // Validated only: a reboot takes as long whatever its StopType.
        stop_type(p)?;
        let after = self.settings.timings.reboot_ms;
        self.transition(cx, &ids, |inst| {
            require_state(inst, State::Running)?;
            Ok(Cvm::moving(
                cx,
                inst,
                "RebootInstances",
                State::Rebooting,
                State::Running,
                after,
            ))
        })
        .await
    }

    pub(crate) async fn terminate_instances(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let ids = instance_ids(p)?;
        {
            let inner = self.state.read(now(cx));
            let current = existing(inner.scope(&scope_key(cx)), &ids)?;
            let protected: Vec<&str> = current
                .iter()
                .filter(|i| i.disable_api_termination)
                .map(|i| i.id.as_str())
                .collect();
            if !protected.is_empty() {
                return Err(CvmError::Protected(protected.join(", ")));
            }
        }
        let after = self.settings.timings.terminate_ms;
        self.transition(cx, &ids, |inst| {
            if inst.disable_api_termination {
                return Err(CvmError::Protected(inst.id.clone()));
            }
            match inst.state {
                // Prepaid instances go to the recycle bin first; a second call destroys them.
                State::Running | State::Stopped if inst.charge_type == "PREPAID" => {
                    let mut next = inst.clone();
                    next.state = State::Shutdown;
                    next.transition = None;
                    next.latest_operation = Some("TerminateInstances".to_owned());
                    next.latest_operation_state = Some("SUCCESS".to_owned());
                    next.latest_operation_request_id = Some(cx.request_id.clone());
                    Ok(next)
                }
                State::Running | State::Stopped | State::LaunchFailed | State::Shutdown => {
                    let mut next = inst.clone();
                    next.state = State::Terminating;
                    next.transition = Some(Transition {
                        to: None,
                        at_ms: now(cx).saturating_add(after),
                    });
                    next.latest_operation = Some("TerminateInstances".to_owned());
                    next.latest_operation_state = Some("OPERATING".to_owned());
                    next.latest_operation_request_id = Some(cx.request_id.clone());
                    Ok(next)
                }
                state => Err(CvmError::WrongState {
                    id: inst.id.clone(),
                    state,
                }),
            }
        })
        .await
    }

    pub(crate) async fn modify_instances_attribute(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let ids = instance_ids(p)?;
        let name = str_of(p, "InstanceName");
        if name.is_some_and(|n| n.chars().count() > 128) {
            return Err(CvmError::NameTooLong);
        }
        let host_name = str_of(p, "HostName");
        if let Some(h) = host_name.filter(|h| !valid_host_name(h)) {
            return Err(CvmError::IllegalHostName(h.to_owned()));
        }
        let groups: Option<Vec<String>> = p.get("SecurityGroups").map(|_| {
            strings(p, "SecurityGroups")
                .into_iter()
                .map(str::to_owned)
                .collect()
        });
        if let Some(bad) = groups
            .iter()
            .flatten()
            .find(|g| !super::params::is_short_id(g, "sg"))
        {
            return Err(CvmError::Invalid(format!("SecurityGroups {bad}")));
        }
        let protect = bool_of(p, "DisableApiTermination");
        let role = str_of(p, "CamRoleName");
        if name.is_none()
            && host_name.is_none()
            && groups.is_none()
            && protect.is_none()
            && role.is_none()
        {
            return Err(CvmError::NothingToModify);
        }
        self.transition(cx, &ids, |inst| {
            if matches!(inst.state, State::Terminating | State::LaunchFailed) {
                return Err(CvmError::WrongState {
                    id: inst.id.clone(),
                    state: inst.state,
                });
            }
            let mut next = inst.clone();
            if let Some(n) = name {
                n.clone_into(&mut next.name);
            }
            if let Some(h) = host_name {
                h.clone_into(&mut next.host_name);
            }
            if let Some(g) = &groups {
                next.security_group_ids.clone_from(g);
            }
            if let Some(d) = protect {
                next.disable_api_termination = d;
            }
            if let Some(r) = role {
                next.cam_role_name = Some(r.to_owned());
            }
            next.latest_operation = Some("ModifyInstancesAttribute".to_owned());
            next.latest_operation_state = Some("SUCCESS".to_owned());
            next.latest_operation_request_id = Some(cx.request_id.clone());
            Ok(next)
        })
        .await
    }

    pub(crate) async fn reset_instances_type(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let ids = instance_ids(p)?;
        if ids.len() > 1 {
            return Err(CvmError::TooManyValues {
                field: "InstanceIds",
                max: 1,
            });
        }
        // The type is checked against the instance's zone below, so an instance is needed
        // (an empty list gets past the gateway's required-member check).
        if ids.is_empty() {
            return Err(CvmError::Missing("InstanceIds"));
        }
        let type_name = str_of(p, "InstanceType").unwrap_or_default();
        let force = bool_of(p, "ForceStop").unwrap_or(false);
        let _placement = self.placement.lock().await;
        let key = scope_key(cx);
        {
            let inner = self.state.read(now(cx));
            for inst in existing(inner.scope(&key), &ids)? {
                if catalogue::instance_type(type_name).is_none() {
                    return Err(CvmError::ZoneInstanceTypeNotFound {
                        zone: inst.zone.clone(),
                        instance_type: type_name.to_owned(),
                    });
                }
                if !catalogue::sells(&inst.zone, type_name) {
                    return Err(CvmError::TypeNotSold {
                        zone: inst.zone.clone(),
                        instance_type: type_name.to_owned(),
                    });
                }
                let pair = (inst.zone.clone(), type_name.to_owned());
                if let Some(cap) = self.settings.type_capacity.get(&pair) {
                    if inner.placed(&pair.0, &pair.1) >= *cap {
                        return Err(CvmError::SoldOut {
                            zone: pair.0,
                            instance_type: pair.1,
                        });
                    }
                }
            }
        }
        let Some(new_type) = catalogue::instance_type(type_name) else {
            return Err(CvmError::InstanceTypeNotFound(type_name.to_owned()));
        };
        self.transition(cx, &ids, |inst| {
            let stoppable = force && inst.state == State::Running;
            if inst.state != State::Stopped && !stoppable {
                return Err(CvmError::WrongState {
                    id: inst.id.clone(),
                    state: inst.state,
                });
            }
            let mut next = inst.clone();
            next.state = State::Stopped;
            next.transition = None;
            next.instance_type.clone_from(&new_type.instance_type);
            next.cpu = new_type.cpu;
            next.memory = new_type.memory;
            next.latest_operation = Some("ResetInstancesType".to_owned());
            next.latest_operation_state = Some("SUCCESS".to_owned());
            next.latest_operation_request_id = Some(cx.request_id.clone());
            Ok(next)
        })
        .await
    }

    pub(crate) fn describe_instances_status(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Reply> {
        let ids = instance_ids(p)?;
        let (offset, limit) = page(p)?;
        let inner = self.state.read(now(cx));
        let scope = inner.scope(&scope_key(cx));
        let status = |m: &mut Members<'_>, i: &Instance| {
            m.str("InstanceId", &i.id);
            m.str("InstanceState", i.state.as_str());
        };
        // Written straight into the answer: this is the hottest read.
        Ok(if ids.is_empty() {
            // Only the page is visited: the count comes from the scope, so the cost does not
            // grow with the account.
            Reply::write(|m| {
                m.u64("TotalCount", scope.map_or(0, Scope::len) as u64);
                m.objects(
                    "InstanceStatusSet",
                    scope
                        .into_iter()
                        .flat_map(|s| s.iter().skip(offset).take(limit)),
                    status,
                );
            })
        } else {
            let matched: Vec<&Instance> = ids
                .iter()
                .filter_map(|id| scope.and_then(|s| s.get(id)))
                .collect();
            Reply::write(|m| {
                m.u64("TotalCount", matched.len() as u64);
                m.objects(
                    "InstanceStatusSet",
                    matched.iter().skip(offset).take(limit).copied(),
                    status,
                );
            })
        })
    }

    pub(crate) fn describe_instances(
        &self,
        cx: &RequestContext,
        p: &Map<String, Value>,
    ) -> Result<Reply> {
        let ids = instance_ids(p)?;
        let filters = objects(p, "Filters");
        if !ids.is_empty() && !filters.is_empty() {
            return Err(CvmError::IdsAndFilters);
        }
        if filters.len() > 10 {
            return Err(CvmError::TooManyValues {
                field: "Filters",
                max: 10,
            });
        }
        let (offset, limit) = page(p)?;
        let parsed = filters
            .iter()
            .map(|f| Filter::read(f))
            .collect::<Result<Vec<_>>>()?;
        let inner = self.state.read(now(cx));
        let (total, page) = match inner.scope(&scope_key(cx)) {
            None => (0, Vec::new()),
            Some(scope) if ids.is_empty() => select(scope, &parsed, offset, limit),
            Some(scope) => {
                let found: Vec<&Instance> = ids.iter().filter_map(|id| scope.get(id)).collect();
                let page = found.iter().skip(offset).take(limit).copied().collect();
                (found.len(), page)
            }
        };
        // Serialised straight from the records: twenty full instances as a tree of values
        // cost more than finding them.
        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Page<'a> {
            total_count: usize,
            instance_set: Vec<WireInstance<'a>>,
        }
        let page = Page {
            total_count: total,
            instance_set: page.iter().map(|i| i.wire()).collect(),
        };
        Reply::serialize(&page)
            .map_err(|e| CvmError::Api(tclocal_wire::error::ApiError::internal(e)))
    }
}

fn ids_answer(ids: &[String]) -> Map<String, Value> {
    super::object(json!({"InstanceIdSet": ids}))
}

fn clear_garbage(w: &mut Inner, key: &ScopeKey, committed: &[String]) {
    if let Some(scope) = w.scopes.get_mut(key) {
        scope.garbage.retain(|g| !committed.contains(g));
    }
}

/// One DescribeInstances filter.
enum Filter {
    /// Answered from an index: union of the values' sets.
    Indexed(Field, Vec<String>),
    /// `instance-id`.
    Ids(Vec<String>),
    /// `instance-name`: a substring match, as the real filter is fuzzy.
    Name(Vec<String>),
    /// `creation-start-time` / `creation-end-time` (inclusive), in Unix ms.
    CreatedFrom(i64),
    CreatedUntil(i64),
    /// Filters on resources tclocal does not model (dedicated hosts, IPv6): match nothing.
    Nothing,
}

fn parse_time(s: &str) -> Result<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let iso = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(s, &format)
        .or_else(|_| time::PrimitiveDateTime::parse(s, &iso))
        .map(|t| t.assume_utc().unix_timestamp() * 1000)
        .map_err(|_| CvmError::TimeFormat(s.to_owned()))
}

impl Filter {
    fn read(f: &Map<String, Value>) -> Result<Filter> {
        let name = str_of(f, "Name").unwrap_or_default();
        let values: Vec<String> = strings(f, "Values")
            .into_iter()
            .map(str::to_owned)
            .collect();
        if values.len() > 5 {
            return Err(CvmError::FilterValues(name.to_owned()));
        }
        let indexed = |field| Ok(Filter::Indexed(field, values.clone()));
        match name {
            "zone" => indexed(Field::Zone),
            "project-id" => indexed(Field::ProjectId),
            "vpc-id" => indexed(Field::VpcId),
            "subnet-id" => indexed(Field::SubnetId),
            "uuid" => indexed(Field::Uuid),
            "security-group-id" => indexed(Field::SecurityGroup),
            "instance-charge-type" => indexed(Field::ChargeType),
            "private-ip-address" => indexed(Field::PrivateIp),
            "public-ip-address" => indexed(Field::PublicIp),
            "tag-key" => indexed(Field::TagKey),
            "tag-value" => indexed(Field::TagValue),
            "instance-state" => {
                if values.iter().any(|v| State::parse(v).is_none()) {
                    return Err(CvmError::Invalid("Filters.instance-state".to_owned()));
                }
                indexed(Field::State)
            }
            "instance-id" => Ok(Filter::Ids(values)),
            "instance-name" => Ok(Filter::Name(values)),
            "creation-start-time" | "creation-end-time" => {
                let [v] = values.as_slice() else {
                    return Err(CvmError::FilterValues(name.to_owned()));
                };
                let t = parse_time(v)?;
                Ok(if name == "creation-start-time" {
                    Filter::CreatedFrom(t)
                } else {
                    Filter::CreatedUntil(t)
                })
            }
            "host-id" | "dedicated-cluster-id" | "ipv6-address" => Ok(Filter::Nothing),
            tag if tag.starts_with("tag:") && tag.len() > 4 => {
                let key = &tag[4..];
                Ok(Filter::Indexed(
                    Field::Tag,
                    values.iter().map(|v| format!("{key}\0{v}")).collect(),
                ))
            }
            other => Err(CvmError::InvalidFilter(other.to_owned())),
        }
    }

    /// Seqs this filter admits, when an index can say. Single-value filters borrow the
    /// index's set; only multi-value ones build a union.
    fn candidates<'s>(&self, scope: &'s Scope) -> Option<Candidates<'s>> {
        match self {
            Filter::Indexed(field, values) => Some(match values.as_slice() {
                [one] => scope
                    .lookup(*field, one)
                    .map_or_else(|| Candidates::Owned(BTreeSet::new()), Candidates::Borrowed),
                many => Candidates::Owned(
                    many.iter()
                        .filter_map(|v| scope.lookup(*field, v))
                        .flat_map(SeqSet::iter)
                        .collect(),
                ),
            }),
            Filter::Ids(ids) => Some(Candidates::Owned(
                ids.iter()
                    .filter_map(|id| scope.get(id).map(|i| i.seq))
                    .collect(),
            )),
            Filter::Nothing => Some(Candidates::Owned(BTreeSet::new())),
            Filter::Name(_) | Filter::CreatedFrom(_) | Filter::CreatedUntil(_) => None,
        }
    }

    fn admits(&self, inst: &Instance) -> bool {
        match self {
            Filter::Name(names) => names.iter().any(|n| inst.name.contains(n.as_str())),
            Filter::CreatedFrom(t) => inst.created_ms >= *t,
            // CreatedTime has whole seconds: an instance created at 12:00:00.5 was created
            // "at 12:00:00" for a filter written in seconds.
            Filter::CreatedUntil(t) => inst.created_ms.div_euclid(1000) * 1000 <= *t,
            // Indexed filters were applied through their candidate sets.
            Filter::Indexed(..) | Filter::Ids(_) | Filter::Nothing => true,
        }
    }
}

/// A filter's admitted seqs: borrowed from an index, or built for a multi-value filter.
enum Candidates<'s> {
    Borrowed(&'s SeqSet),
    Owned(BTreeSet<u64>),
}

impl Candidates<'_> {
    fn len(&self) -> usize {
        match self {
            Candidates::Borrowed(s) => s.len(),
            Candidates::Owned(s) => s.len(),
        }
    }

    fn contains(&self, seq: u64) -> bool {
        match self {
            Candidates::Borrowed(s) => s.contains(seq),
            Candidates::Owned(s) => s.contains(&seq),
        }
    }

    /// In ascending (creation) order.
    fn iter(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            Candidates::Borrowed(s) => Box::new(s.iter()),
            Candidates::Owned(s) => Box::new(s.iter().copied()),
        }
    }
}

/// `(TotalCount, page)` of the instances matching every filter, in creation order.
///
/// With only indexed filters, nothing but the page is looked up: one filter answers its count
/// from the index in constant time; several are intersected by walking the smallest set and
/// probing the others, so the cost follows the matches of the most selective filter, not the
/// number of instances. The fuzzy name and time filters look at candidates one by one.
fn select<'a>(
    scope: &'a Scope,
    filters: &[Filter],
    offset: usize,
    limit: usize,
) -> (usize, Vec<&'a Instance>) {
    let mut sets: Vec<Candidates<'_>> =
        filters.iter().filter_map(|f| f.candidates(scope)).collect();
    let scan = sets.len() < filters.len();
    sets.sort_by_key(Candidates::len);
    let page_of = |seqs: &mut dyn Iterator<Item = u64>| -> Vec<&'a Instance> {
        seqs.skip(offset)
            .take(limit)
            .filter_map(|s| scope.by_seq(s))
            .collect()
    };
    match (sets.as_slice(), scan) {
        ([], false) => (scope.len(), page_of(&mut scope.all_seqs())),
        ([only], false) => (only.len(), page_of(&mut only.iter())),
        _ => {
            let seqs: Box<dyn Iterator<Item = u64> + '_> = match sets.split_first() {
                None => Box::new(scope.all_seqs()),
                Some((first, rest)) => Box::new(
                    first
                        .iter()
                        .filter(move |s| rest.iter().all(|c| c.contains(*s))),
                ),
            };
            let mut total = 0;
            let mut page = Vec::with_capacity(limit.min(100));
            for seq in seqs {
                if scan {
                    let Some(inst) = scope.by_seq(seq) else {
                        continue;
                    };
                    if !filters.iter().all(|f| f.admits(inst)) {
                        continue;
                    }
                }
                if total >= offset && page.len() < limit {
                    page.extend(scope.by_seq(seq));
                }
                total += 1;
            }
            (total, page)
        }
    }
}

/// `StopType` of StopInstances and RebootInstances: SOFT (the default), HARD or SOFT_FIRST.
fn stop_type(p: &Map<String, Value>) -> Result<&str> {
    let stop_type = str_of(p, "StopType").unwrap_or("SOFT");
    if ["SOFT", "HARD", "SOFT_FIRST"].contains(&stop_type) {
        Ok(stop_type)
    } else {
        Err(CvmError::Invalid("StopType".to_owned()))
    }
}

/// An action that needs the instance in `state` refuses every other state by name.
fn require_state(inst: &Instance, state: State) -> Result<()> {
    if inst.state == state {
        Ok(())
    } else {
        Err(CvmError::WrongState {
            id: inst.id.clone(),
            state: inst.state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_follow_the_r_pattern() {
        assert_eq!(instance_name("web{R:3}", 0, 3), "web3");
        assert_eq!(instance_name("web-{R:3}-x", 2, 3), "web-5-x");
        assert_eq!(instance_name("db", 1, 3), "db2");
        assert_eq!(instance_name("db", 0, 1), "db");
        assert_eq!(instance_name("odd{R:x}", 0, 2), "odd{R:x}1");
    }

    #[test]
    fn addresses_are_unique_per_seq() {
        assert_eq!(private_ip(1), "10.0.0.1");
        assert_eq!(private_ip(65_537), "10.1.0.1");
        assert_ne!(public_ip(1), public_ip(65_537));
        assert!(public_ip(70_000).starts_with("198.19."));
    }

    #[test]
    fn host_names() {
        assert!(valid_host_name("web-01.local"));
        assert!(!valid_host_name("-bad"));
        assert!(!valid_host_name("x"));
        assert!(!valid_host_name("under_score"));
    }

    #[test]
    fn time_filters_parse_both_formats() {
        assert_eq!(
            parse_time("2023-11-14 22:13:20").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000
        );
        assert!(parse_time("yesterday").is_err());
    }
}

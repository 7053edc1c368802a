//! CVM's in-memory state: instances per (account, region) with the indexes that keep every
//! request's cost independent of how many instances exist, and the timer queue that moves
//! instances through their lifecycle in emulated time.
//!
//! The store is the durable home; this is the working copy. Writers of one (account,
//! region) take that scope's async writer lock, plan against the settled state, queue the
//! batch in the store and apply it here, release the lock, and only then wait for
//! durability before answering: a reader may see a change up to one group commit before it
//! is durable, but no client is told of a change before it is. Transitions are not
//! written when they fire: a record keeps its state and the pending transition, so loading it
//! later settles it the same way.

use std::collections::{BTreeMap, BTreeSet};

// Seeded like std's, several times faster on the short keys of the indexes (start-up built
// them with SipHash in a sixth of its time).
use foldhash::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use super::model::{Instance, KeyPair, State};

/// (AppId, region).
pub(crate) type ScopeKey = (u64, String);

/// A filterable field of an instance (DescribeInstances `Filters`) that has an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Zone,
    State,
    Name,
    ChargeType,
    ProjectId,
    VpcId,
    SubnetId,
    SecurityGroup,
    PrivateIp,
    PublicIp,
    TagKey,
    TagValue,
    /// `tag:<key>`: the value is `key` + '\0' + `value`.
    Tag,
    /// Last: [`FIELDS`] counts the variants from it.
    Uuid,
}

/// How many [`Field`]s there are: the indexes are one map per field.
const FIELDS: usize = Field::Uuid as usize + 1;

/// Calls `f` with every (field, value) under which `inst` is indexed, borrowing the values
/// (only the `tag:` entry, which joins key and value, is built).
fn index_entries(inst: &Instance, mut f: impl FnMut(Field, &str)) {
    f(Field::Zone, &inst.zone);
    f(Field::State, inst.state.as_str());
    f(Field::Name, &inst.name);
    f(Field::ChargeType, &inst.charge_type);
    f(Field::ProjectId, &inst.project_id.to_string());
    f(Field::VpcId, &inst.vpc_id);
    f(Field::SubnetId, &inst.subnet_id);
    f(Field::PrivateIp, &inst.private_ip);
    f(Field::Uuid, &inst.uuid);
    if let Some(ip) = &inst.public_ip {
        f(Field::PublicIp, ip);
    }
    for sg in &inst.security_group_ids {
        f(Field::SecurityGroup, sg);
    }
    for (k, v) in &inst.tags {
        f(Field::TagKey, k);
        f(Field::TagValue, v);
        f(Field::Tag, &format!("{k}\0{v}"));
    }
}

/// The creation-order seqs of the instances under one indexed value. Most values (ids,
/// addresses, names) belong to one instance, which is kept inline: a B-tree of one element
/// costs a node of ~100 bytes, tens of megabytes over 100,000 instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeqSet {
    One(u64),
    /// Two or more.
    Many(BTreeSet<u64>),
}

impl SeqSet {
    pub(crate) fn len(&self) -> usize {
        match self {
            SeqSet::One(_) => 1,
            SeqSet::Many(seqs) => seqs.len(),
        }
    }

    pub(crate) fn contains(&self, seq: u64) -> bool {
        match self {
            SeqSet::One(one) => *one == seq,
            SeqSet::Many(seqs) => seqs.contains(&seq),
        }
    }

    /// The seqs in ascending (creation) order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (one, many) = match self {
            SeqSet::One(one) => (Some(*one), None),
            SeqSet::Many(seqs) => (None, Some(seqs.iter().copied())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    fn insert(&mut self, seq: u64) {
        match self {
            SeqSet::One(one) if *one == seq => {}
            SeqSet::One(one) => *self = SeqSet::Many(BTreeSet::from([*one, seq])),
            SeqSet::Many(seqs) => {
                seqs.insert(seq);
            }
        }
    }

    /// Removes `seq`; true when nothing is left.
    fn remove(&mut self, seq: u64) -> bool {
        match self {
            SeqSet::One(one) => *one == seq,
            SeqSet::Many(seqs) => {
                seqs.remove(&seq);
                if let (1, Some(&last)) = (seqs.len(), seqs.first()) {
                    *self = SeqSet::One(last);
                }
                // Two or more never empty in one removal.
                false
            }
        }
    }
}

/// Per field, value → creation-order seqs. Looked up by `&str`, so a lookup allocates nothing.
type Index<V> = [HashMap<String, V>; FIELDS];

/// Calls `f` with the value under `key`, made by `new` when missing. Unlike `entry`, which
/// takes an owned key, it copies the key only when it inserts (most calls find a zone, type or
/// value that is there already), and it looks the key up once when it is there.
fn with_slot<K, Q, V, R>(
    map: &mut HashMap<K, V>,
    key: &Q,
    new: impl FnOnce() -> V,
    f: impl FnOnce(&mut V) -> R,
) -> R
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: ToOwned<Owned = K> + std::hash::Hash + Eq + ?Sized,
{
    match map.get_mut(key) {
        Some(value) => f(value),
        None => f(map.entry(key.to_owned()).or_insert_with(new)),
    }
}

/// One account's instances in one region.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    instances: HashMap<String, Instance>,
    /// seq → id, in creation order.
    order: BTreeMap<u64, String>,
    index: Index<SeqSet>,
    tokens: HashMap<String, Vec<String>>,
    /// Ids whose records the next commit of this scope deletes (instances that finished
    /// terminating while nobody wrote).
    pub(crate) garbage: Vec<String>,
}

impl Scope {
    pub(crate) fn get(&self, id: &str) -> Option<&Instance> {
        self.instances.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.instances.len()
    }

    pub(crate) fn by_token(&self, token: &str) -> Option<&[String]> {
        self.tokens.get(token).map(Vec::as_slice)
    }

    /// Instances in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Instance> {
        self.order.values().filter_map(|id| self.instances.get(id))
    }

    /// Creation-order seqs of instances whose `field` equals `value`.
    pub(crate) fn lookup(&self, field: Field, value: &str) -> Option<&SeqSet> {
        self.index[field as usize].get(value)
    }

    /// The instance with creation-order `seq`.
    pub(crate) fn by_seq(&self, seq: u64) -> Option<&Instance> {
        self.order.get(&seq).and_then(|id| self.instances.get(id))
    }

    pub(crate) fn all_seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.order.keys().copied()
    }

    fn insert(&mut self, inst: Instance) {
        index_entries(&inst, |field, value| {
            let map = &mut self.index[field as usize];
            with_slot(
                map,
                value,
                || SeqSet::One(inst.seq),
                |set| set.insert(inst.seq),
            );
        });
        if let Some(t) = &inst.client_token {
            self.tokens
                .entry(t.clone())
                .or_default()
                .push(inst.id.clone());
        }
        self.order.insert(inst.seq, inst.id.clone());
        self.instances.insert(inst.id.clone(), inst);
    }

    fn remove(&mut self, id: &str) -> Option<Instance> {
        let inst = self.instances.remove(id)?;
        let index = &mut self.index;
        index_entries(&inst, |field, value| {
            let map = &mut index[field as usize];
            if map.get_mut(value).is_some_and(|set| set.remove(inst.seq)) {
                map.remove(value);
            }
        });
        if let Some(t) = &inst.client_token {
            if let Some(ids) = self.tokens.get_mut(t) {
                ids.retain(|i| i != id);
                if ids.is_empty() {
                    self.tokens.remove(t);
                }
            }
        }
        self.order.remove(&inst.seq);
        Some(inst)
    }
}

/// Everything behind the one lock.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) scopes: HashMap<ScopeKey, Scope>,
    /// (due time, scope, id) of every pending transition.
    timers: BTreeSet<(i64, ScopeKey, String)>,
    /// Instances placed per (zone, instance type), across accounts: what capacity counts.
    placed: HashMap<String, HashMap<String, u64>>,
    /// Placed per zone.
    placed_in_zone: HashMap<String, u64>,
    /// Key pairs per AppId, by KeyId.
    pub(crate) keypairs: HashMap<u64, BTreeMap<String, KeyPair>>,
    /// KeyId → instances bound to it, as (scope, InstanceId).
    bindings: HashMap<String, BTreeSet<(ScopeKey, String)>>,
    next_seq: u64,
}

impl Inner {
    pub(crate) fn scope(&self, key: &ScopeKey) -> Option<&Scope> {
        self.scopes.get(key)
    }

    pub(crate) fn placed(&self, zone: &str, instance_type: &str) -> u64 {
        self.placed
            .get(zone)
            .and_then(|types| types.get(instance_type))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn placed_in_zone(&self, zone: &str) -> u64 {
        self.placed_in_zone.get(zone).copied().unwrap_or(0)
    }

    /// Instances bound to a key pair.
    pub(crate) fn bound_to(&self, key_id: &str) -> impl Iterator<Item = &(ScopeKey, String)> {
        self.bindings.get(key_id).into_iter().flatten()
    }

    /// A fresh creation-order number.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Adds or replaces an instance (keeping indexes, timers and capacity in step).
    pub(crate) fn put(&mut self, key: &ScopeKey, inst: Instance) {
        self.remove(key, &inst.id.clone());
        self.count_in(key, &inst);
        self.scopes.entry(key.clone()).or_default().insert(inst);
    }

    /// The bookkeeping outside the scope for an instance being added: sequence, timer,
    /// capacity and key-pair bindings.
    fn count_in(&mut self, key: &ScopeKey, inst: &Instance) {
        self.next_seq = self.next_seq.max(inst.seq);
        if let Some(t) = &inst.transition {
            self.timers.insert((t.at_ms, key.clone(), inst.id.clone()));
        }
        let count = |n: &mut u64| *n += 1;
        with_slot(
            &mut self.placed,
            inst.zone.as_str(),
            HashMap::default,
            |types| {
                with_slot(types, inst.instance_type.as_str(), || 0, count);
            },
        );
        with_slot(&mut self.placed_in_zone, inst.zone.as_str(), || 0, count);
        for k in &inst.key_ids {
            self.bindings
                .entry(k.clone())
                .or_default()
                .insert((key.clone(), inst.id.clone()));
        }
    }

    /// Removes an instance.
    pub(crate) fn remove(&mut self, key: &ScopeKey, id: &str) -> Option<Instance> {
        let inst = self.scopes.get_mut(key)?.remove(id)?;
        if let Some(t) = &inst.transition {
            self.timers.remove(&(t.at_ms, key.clone(), inst.id.clone()));
        }
        if let Some(n) = self
            .placed
            .get_mut(&inst.zone)
            .and_then(|types| types.get_mut(&inst.instance_type))
        {
            *n = n.saturating_sub(1);
        }
        if let Some(n) = self.placed_in_zone.get_mut(&inst.zone) {
            *n = n.saturating_sub(1);
        }
        for k in &inst.key_ids {
            if let Some(set) = self.bindings.get_mut(k) {
                set.remove(&(key.clone(), inst.id.clone()));
                if set.is_empty() {
                    self.bindings.remove(k);
                }
            }
        }
        Some(inst)
    }

    fn next_due(&self) -> Option<i64> {
        self.timers.first().map(|(at, _, _)| *at)
    }

    /// Applies every transition due at `now_ms`.
    fn settle(&mut self, now_ms: i64) {
        while let Some((at, key, id)) = self.timers.first().cloned() {
            if at > now_ms {
                break;
            }
            self.timers.remove(&(at, key.clone(), id.clone()));
            let Some(inst) = self.scopes.get(&key).and_then(|s| s.get(&id)) else {
                continue;
            };
            if inst.transition.is_none() {
                continue;
            }
            match finish_transition(inst.clone()) {
                None => {
                    self.remove(&key, &id);
                    if let Some(scope) = self.scopes.get_mut(&key) {
                        scope.garbage.push(id);
                    }
                }
                Some(inst) => self.put(&key, inst),
            }
        }
    }
}

/// Builds an [`Inner`] from stored records, as [`Inner::put`] would, except that each
/// scope's creation order and indexes are collected as lists and built once, sorted, at the
/// end: records arrive in key order, which is random in creation order, and inserting them
/// one by one into B-trees was most of the start-up time.
#[derive(Default)]
pub(crate) struct Loader {
    inner: Inner,
    pending: HashMap<ScopeKey, Pending>,
}

#[derive(Default)]
struct Pending {
    order: Vec<(u64, String)>,
    index: Index<Seqs>,
}

/// The seqs collected for one indexed value. Most values (ids, addresses, names) belong to
/// one instance, so the first seq is held without a Vec of its own.
#[derive(Default)]
enum Seqs {
    #[default]
    None,
    One(u64),
    Many(Vec<u64>),
}

impl Seqs {
    fn push(&mut self, seq: u64) {
        *self = match std::mem::take(self) {
            Seqs::None => Seqs::One(seq),
            Seqs::One(first) => Seqs::Many(vec![first, seq]),
            Seqs::Many(mut seqs) => {
                seqs.push(seq);
                Seqs::Many(seqs)
            }
        };
    }

    fn into_set(self) -> Option<SeqSet> {
        match self {
            Seqs::None => None,
            Seqs::One(seq) => Some(SeqSet::One(seq)),
            Seqs::Many(mut seqs) => {
                seqs.sort_unstable();
                Some(SeqSet::Many(seqs.into_iter().collect()))
            }
        }
    }
}

impl Loader {
    /// Adds a stored instance; each (scope, id) must come once.
    pub(crate) fn add(&mut self, key: &ScopeKey, inst: Instance) {
        self.inner.count_in(key, &inst);
        with_slot(&mut self.pending, key, Pending::default, |pending| {
            index_entries(&inst, |field, value| {
                let map = &mut pending.index[field as usize];
                with_slot(map, value, Seqs::default, |seqs| seqs.push(inst.seq));
            });
            pending.order.push((inst.seq, inst.id.clone()));
        });
        with_slot(&mut self.inner.scopes, key, Scope::default, |scope| {
            if let Some(t) = &inst.client_token {
                scope
                    .tokens
                    .entry(t.clone())
                    .or_default()
                    .push(inst.id.clone());
            }
            scope.instances.insert(inst.id.clone(), inst);
        });
    }

    /// Key pairs, loaded as they are.
    pub(crate) fn keypairs(&mut self) -> &mut HashMap<u64, BTreeMap<String, KeyPair>> {
        &mut self.inner.keypairs
    }

    /// The state with every index built.
    pub(crate) fn finish(mut self) -> Inner {
        for (key, pending) in self.pending {
            let Some(scope) = self.inner.scopes.get_mut(&key) else {
                continue;
            };
            let mut order = pending.order;
            order.sort_unstable();
            scope.order = order.into_iter().collect();
            for (field, values) in pending.index.into_iter().enumerate() {
                let built = &mut scope.index[field];
                built.reserve(values.len());
                for (value, seqs) in values {
                    if let Some(set) = seqs.into_set() {
                        built.insert(value, set);
                    }
                }
            }
        }
        self.inner
    }
}

/// `inst` after its pending transition (if any) has happened; `None` when that was the end
/// of a termination.
pub(crate) fn finish_transition(mut inst: Instance) -> Option<Instance> {
    let Some(t) = inst.transition.take() else {
        return Some(inst);
    };
    let to = t.to?;
    inst.state = to;
    inst.latest_operation_state = Some(
        if to == State::LaunchFailed {
            "FAILED"
        } else {
            "SUCCESS"
        }
        .to_owned(),
    );
    Some(inst)
}

/// The shared state, cheap to clone.
#[derive(Debug, Default, Clone)]
pub(crate) struct CvmState {
    inner: Arc<RwLock<Inner>>,
    writers: Arc<Mutex<HashMap<ScopeKey, Arc<tokio::sync::Mutex<()>>>>>,
}

impl CvmState {
    /// Settles due transitions and returns a read view.
    pub(crate) fn read(&self, now_ms: i64) -> RwLockReadGuard<'_, Inner> {
        {
            let r = self.inner.read();
            if r.next_due().is_none_or(|due| due > now_ms) {
                return r;
            }
        }
        self.inner.write().settle(now_ms);
        self.inner.read()
    }

    /// A state holding `inner` (loaded from the store).
    pub(crate) fn from_inner(inner: Inner) -> CvmState {
        CvmState {
            inner: Arc::new(RwLock::new(inner)),
            writers: Arc::default(),
        }
    }

    /// Swaps in indexes loaded afresh from the store (reset, snapshot import).
    pub(crate) fn replace(&self, fresh: Inner) {
        *self.inner.write() = fresh;
    }

    /// Applies a committed change.
    pub(crate) fn apply<R>(&self, now_ms: i64, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut w = self.inner.write();
        w.settle(now_ms);
        f(&mut w)
    }

    /// The writer lock of one scope: held across plan → commit → apply.
    pub(crate) fn writer(&self, key: &ScopeKey) -> Arc<tokio::sync::Mutex<()>> {
        self.writers.lock().entry(key.clone()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::{Disk, Transition};
    use super::*;

    pub(crate) fn instance(id: &str, seq: u64, state: State) -> Instance {
        let disk = Disk {
            disk_id: format!("disk-{seq:08}"),
            disk_type: "CLOUD_BSSD".into(),
            size_gb: 50,
            delete_with_instance: true,
        };
        Instance {
            id: id.into(),
            uuid: format!("uuid-{seq}"),
            zone: "ap-guangzhou-3".into(),
            project_id: 0,
            instance_type: "S5.MEDIUM2".into(),
            cpu: 2,
            memory: 2,
            image_id: "img-00000001".into(),
            os_name: "Linux".into(),
            name: format!("n{seq}"),
            host_name: String::new(),
            charge_type: "POSTPAID_BY_HOUR".into(),
            renew_flag: "NOTIFY_AND_MANUAL_RENEW".into(),
            expired_ms: None,
            system_disk: disk,
            data_disks: Vec::new(),
            vpc_id: "vpc-1".into(),
            subnet_id: "subnet-1".into(),
            private_ip: format!("10.0.0.{seq}"),
            public_ip: None,
            internet_charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
            bandwidth_out: 0,
            security_group_ids: Vec::new(),
            key_ids: Vec::new(),
            tags: vec![("env".into(), "test".into())],
            disable_api_termination: false,
            cam_role_name: None,
            created_ms: 0,
            seq,
            state,
            transition: None,
            stop_charging_mode: "NOT_APPLICABLE".into(),
            latest_operation: None,
            latest_operation_state: None,
            latest_operation_request_id: None,
            client_token: Some("tok".into()),
            launch_fails: false,
        }
    }

    #[test]
    fn indexes_follow_puts_and_removes() {
        let key: ScopeKey = (1, "ap-guangzhou".into());
        let mut inner = Inner::default();
        inner.put(&key, instance("ins-00000001", 1, State::Running));
        inner.put(&key, instance("ins-00000002", 2, State::Stopped));
        let scope = inner.scope(&key).unwrap();
        assert_eq!(scope.lookup(Field::State, "RUNNING").unwrap().len(), 1);
        assert_eq!(scope.lookup(Field::Tag, "env\0test").unwrap().len(), 2);
        assert_eq!(scope.by_token("tok").unwrap().len(), 2);
        assert_eq!(inner.placed("ap-guangzhou-3", "S5.MEDIUM2"), 2);
        inner.remove(&key, "ins-00000001");
        let scope = inner.scope(&key).unwrap();
        assert!(scope.lookup(Field::State, "RUNNING").is_none());
        assert_eq!(scope.len(), 1);
        assert_eq!(inner.placed_in_zone("ap-guangzhou-3"), 1);
    }

    /// A value's seqs move between one inline seq and a set, and report when they are empty.
    #[test]
    fn seq_sets_grow_and_shrink() {
        let mut set = SeqSet::One(5);
        set.insert(5);
        assert_eq!(
            set,
            SeqSet::One(5),
            "inserting the same seq changes nothing"
        );
        set.insert(2);
        set.insert(9);
        assert_eq!(set.iter().collect::<Vec<_>>(), [2, 5, 9]);
        assert!(set.contains(9) && !set.contains(4));
        assert!(!set.remove(5));
        assert!(!set.remove(9));
        assert_eq!(set, SeqSet::One(2), "one left is kept inline");
        assert!(!set.remove(7), "removing an absent seq leaves it");
        assert!(set.remove(2), "empty");
    }

    /// The start-up loader builds the same state as putting the instances one by one, from
    /// records in any order: creation order, every index, tokens, capacity, timers.
    #[test]
    fn the_loader_builds_what_puts_build() {
        let keys: [ScopeKey; 2] = [(1, "ap-guangzhou".into()), (2, "ap-shanghai".into())];
        let mut records = Vec::new();
        for seq in 1..=60u64 {
            let state = if seq % 3 == 0 {
                State::Stopped
            } else {
                State::Running
            };
            let mut inst = instance(&format!("ins-{seq:08}"), seq, state);
            inst.private_ip = format!("10.0.0.{seq}");
            if seq % 7 == 0 {
                inst.transition = Some(Transition {
                    to: None,
                    at_ms: 1_000 + seq as i64,
                });
            }
            records.push((keys[(seq % 2) as usize].clone(), inst));
        }
        // Key order, not creation order: a stable shuffle.
        records.sort_by_key(|(_, i)| (i.seq * 37) % 61);
        let mut by_put = Inner::default();
        let mut loader = Loader::default();
        for (key, inst) in &records {
            by_put.put(key, inst.clone());
            loader.add(key, inst.clone());
        }
        let loaded = loader.finish();
        for key in &keys {
            let (a, b) = (by_put.scope(key).unwrap(), loaded.scope(key).unwrap());
            let ids = |s: &Scope| s.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(a), ids(b), "creation order");
            for field in 0..FIELDS {
                assert_eq!(a.index[field], b.index[field], "index of field {field}");
            }
            assert_eq!(a.tokens, b.tokens);
            assert_eq!(a.lookup(Field::State, "STOPPED").map(SeqSet::len), Some(10));
            assert_eq!(
                a.lookup(Field::PrivateIp, "10.0.0.7").map(SeqSet::len),
                a.get("ins-00000007").map(|_| 1)
            );
        }
        assert_eq!(by_put.placed, loaded.placed);
        assert_eq!(by_put.placed_in_zone, loaded.placed_in_zone);
        assert_eq!(by_put.timers, loaded.timers);
        assert_eq!(by_put.next_seq, loaded.next_seq);
    }

    #[test]
    fn transitions_fire_in_time_order_and_only_when_due() {
        let key: ScopeKey = (1, "ap-guangzhou".into());
        let state = CvmState::default();
        let mut a = instance("ins-00000001", 1, State::Pending);
        a.transition = Some(Transition {
            to: Some(State::Running),
            at_ms: 1_000,
        });
        let mut b = instance("ins-00000002", 2, State::Terminating);
        b.transition = Some(Transition {
            to: None,
            at_ms: 2_000,
        });
        state.apply(0, |w| {
            w.put(&key, a);
            w.put(&key, b);
        });
        assert_eq!(
            state
                .read(999)
                .scope(&key)
                .unwrap()
                .get("ins-00000001")
                .unwrap()
                .state,
            State::Pending
        );
        let r = state.read(1_000);
        let got = r.scope(&key).unwrap().get("ins-00000001").unwrap();
        assert_eq!(got.state, State::Running);
        assert_eq!(got.latest_operation_state.as_deref(), Some("SUCCESS"));
        drop(r);
        let r = state.read(5_000);
        let scope = r.scope(&key).unwrap();
        assert!(scope.get("ins-00000002").is_none());
        assert_eq!(scope.garbage, ["ins-00000002"]);
    }
}

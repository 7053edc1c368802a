//! CVM behaviour through `Product::call`, on a memory store with pinned time and ids.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tclocal_store::{Batch, Durable, MemoryStore, Store, StoreError};
use tclocal_wire::context::{Principal, RequestContext};
use tclocal_wire::ids::SeqResourceIds;
use tclocal_wire::{ApiResult, Language};

use super::{Cvm, CvmSettings, Timings};
use crate::{Product, Reply};

const T0: i64 = 1_700_000_000_000;
const LINUX: &str = "img-zsxdft8i";

struct Harness {
    cvm: Cvm,
    store: Arc<dyn Store>,
    now: i64,
    app_id: u64,
    region: String,
}

impl Harness {
    async fn new(settings: CvmSettings) -> Harness {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        Harness::on(store, settings, T0).await
    }

    async fn on(store: Arc<dyn Store>, settings: CvmSettings, now: i64) -> Harness {
        let cvm = Cvm::open(
            store.clone(),
            Arc::new(SeqResourceIds::default()),
            settings,
            now,
        )
        .await
        .unwrap();
        Harness {
            cvm,
            store,
            now,
            app_id: 1,
            region: "ap-guangzhou".into(),
        }
    }

    fn cx(&self, action: &str) -> RequestContext {
        RequestContext {
            request_id: format!("req-{}", self.now),
            principal: Principal::root(self.app_id, &self.app_id.to_string()).into(),
            service: "cvm".into(),
            version: super::VERSION.into(),
            action: action.into(),
            region: Some(self.region.clone()),
            language: Language::EnUs,
            received_at_ms: self.now,
        }
    }

    /// Calls an action; every error must carry a code the model documents for it (the
    /// gateway enforces the same rule on the wire) and a message template of its own.
    async fn call(&self, action: &str, params: Value) -> ApiResult<Map<String, Value>> {
        let Value::Object(p) = params else { panic!() };
        let result = self
            .cvm
            .call(&self.cx(action), p)
            .await
            .map(Reply::into_map);
        if let Err(e) = &result {
            assert_documented(action, e.code());
            assert_templated(action, e);
        }
        result
    }

    async fn ok(&self, action: &str, params: Value) -> Map<String, Value> {
        self.call(action, params.clone())
            .await
            .unwrap_or_else(|e| panic!("{action} {params}: {e}"))
    }

    async fn code(&self, action: &str, params: Value) -> String {
        match self.call(action, params).await {
            Ok(v) => panic!("{action} succeeded: {v:?}"),
            Err(e) => e.code().to_owned(),
        }
    }

    async fn run(&self, extra: Value) -> Vec<String> {
        let mut p = json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "InstanceType": "S5.MEDIUM2"});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        let got = self.ok("RunInstances", p).await;
        got["InstanceIdSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    async fn state(&self, id: &str) -> String {
        let got = self
            .ok("DescribeInstancesStatus", json!({"InstanceIds": [id]}))
            .await;
        got["InstanceStatusSet"][0]["InstanceState"]
            .as_str()
            .unwrap_or("GONE")
            .to_owned()
    }

    async fn instance(&self, id: &str) -> Value {
        let got = self
            .ok("DescribeInstances", json!({"InstanceIds": [id]}))
            .await;
        got["InstanceSet"][0].clone()
    }

    fn advance(&mut self, secs: i64) {
        self.now += secs * 1000;
    }
}

fn assert_documented(action: &str, code: &str) {
    let spec = tclocal_specs::registry()
        .spec("cvm", super::VERSION)
        .unwrap();
    let listed = spec.actions[action].errors.iter().any(|c| c == code)
        || (spec.actions[action].errors.is_empty() && spec.has_error(code));
    assert!(
        tclocal_wire::CommonCode::from_wire(code).is_some() || listed,
        "{action} answered {code}, which the model does not document for it"
    );
}

/// The error's message comes from a template (CVM's or a common one), not from the generic
/// description of its code's family.
fn assert_templated(action: &str, e: &tclocal_wire::ApiError) {
    let key = e.template_key();
    let templated = super::MESSAGES.get(key, Language::EnUs).is_some()
        || tclocal_wire::catalogue::common_templates()
            .get(key, Language::EnUs)
            .is_some();
    assert!(
        templated,
        "{action} answered {} with no message template `{key}`",
        e.code()
    );
}

fn quick() -> CvmSettings {
    CvmSettings {
        timings: Timings::parse("launch=10,start=5,stop=5,reboot=5,terminate=3").unwrap(),
        ..CvmSettings::default()
    }
}

/// PENDING → RUNNING after the launch time, with LatestOperation tracking it.
#[tokio::test]
async fn run_instances_launch_and_turn_running() {
    let mut h = Harness::new(quick()).await;
    let ids = h
        .run(json!({"InstanceCount": 3, "InstanceName": "web{R:1}"}))
        .await;
    assert_eq!(ids.len(), 3);
    assert_eq!(h.state(&ids[0]).await, "PENDING");
    let inst = h.instance(&ids[1]).await;
    assert_eq!(inst["InstanceName"], "web2");
    assert_eq!(inst["LatestOperation"], "RunInstances");
    assert_eq!(inst["LatestOperationState"], "OPERATING");
    assert_eq!(inst["CPU"], 2);
    assert_eq!(inst["Placement"]["Zone"], "ap-guangzhou-3");
    assert_eq!(inst["CreatedTime"], "2023-11-14T22:13:20Z");
    h.advance(9);
    assert_eq!(h.state(&ids[0]).await, "PENDING");
    h.advance(1);
    for id in &ids {
        assert_eq!(h.state(id).await, "RUNNING");
    }
    assert_eq!(h.instance(&ids[0]).await["LatestOperationState"], "SUCCESS");
}

/// Stop, start and reboot move through their intermediate states; wrong states are refused
/// with the code that names the current state.
#[tokio::test]
async fn start_stop_reboot_follow_the_documented_states() {
    let mut h = Harness::new(quick()).await;
    let id = h.run(json!({})).await.remove(0);
    let ids = json!({"InstanceIds": [id]});
    assert_eq!(
        h.code("StopInstances", ids.clone()).await,
        "UnsupportedOperation.InstanceStatePending"
    );
    h.advance(10);
    assert_eq!(
        h.code("StartInstances", ids.clone()).await,
        "UnsupportedOperation.InstanceStateRunning"
    );
    h.ok("StopInstances", ids.clone()).await;
    assert_eq!(h.state(&id).await, "STOPPING");
    assert_eq!(
        h.code("StopInstances", ids.clone()).await,
        "UnsupportedOperation.InstanceStateStopping"
    );
    h.advance(5);
    assert_eq!(h.state(&id).await, "STOPPED");
    assert_eq!(h.instance(&id).await["StopChargingMode"], "KEEP_CHARGING");
    assert_eq!(
        h.code("RebootInstances", ids.clone()).await,
        "UnsupportedOperation.InstanceStateStopped"
    );
    h.ok("StartInstances", ids.clone()).await;
    assert_eq!(h.state(&id).await, "STARTING");
    h.advance(5);
    assert_eq!(h.state(&id).await, "RUNNING");
    h.ok("RebootInstances", ids.clone()).await;
    assert_eq!(h.state(&id).await, "REBOOTING");
    assert_eq!(h.instance(&id).await["LatestOperation"], "RebootInstances");
    h.advance(5);
    assert_eq!(h.state(&id).await, "RUNNING");
    // A hard stop is quicker than a soft one.
    h.ok(
        "StopInstances",
        json!({"InstanceIds": [id], "StopType": "HARD", "StoppedMode": "STOP_CHARGING"}),
    )
    .await;
    h.advance(1);
    assert_eq!(h.state(&id).await, "STOPPED");
    assert_eq!(h.instance(&id).await["StopChargingMode"], "STOP_CHARGING");
}

/// Unknown and malformed ids; all-or-nothing batches.
#[tokio::test]
async fn unknown_and_malformed_ids() {
    let mut h = Harness::new(quick()).await;
    let id = h.run(json!({})).await.remove(0);
    h.advance(10);
    assert_eq!(
        h.code(
            "StopInstances",
            json!({"InstanceIds": [id, "ins-zzzzzzzz"]})
        )
        .await,
        "InvalidInstanceId.NotFound"
    );
    assert_eq!(h.state(&id).await, "RUNNING", "nothing changed");
    assert_eq!(
        h.code("StartInstances", json!({"InstanceIds": ["i-1"]}))
            .await,
        "InvalidInstanceId.Malformed"
    );
}

/// Pay-as-you-go instances terminate and disappear; prepaid ones go to SHUTDOWN first.
#[tokio::test]
async fn termination_paths() {
    let mut h = Harness::new(quick()).await;
    let post = h.run(json!({})).await.remove(0);
    let pre = h
        .run(json!({"InstanceChargeType": "PREPAID", "InstanceChargePrepaid": {"Period": 1}}))
        .await
        .remove(0);
    assert_eq!(
        h.code("TerminateInstances", json!({"InstanceIds": [post]}))
            .await,
        "UnsupportedOperation.InstanceStatePending"
    );
    h.advance(10);
    h.ok("TerminateInstances", json!({"InstanceIds": [post, pre]}))
        .await;
    assert_eq!(h.state(&post).await, "TERMINATING");
    assert_eq!(h.state(&pre).await, "SHUTDOWN");
    assert!(
        h.instance(&pre).await["ExpiredTime"]
            .as_str()
            .unwrap()
            .starts_with("2023-12-")
    );
    h.advance(3);
    assert_eq!(h.state(&post).await, "GONE");
    assert_eq!(h.state(&pre).await, "SHUTDOWN");
    h.ok("TerminateInstances", json!({"InstanceIds": [pre]}))
        .await;
    h.advance(3);
    assert_eq!(h.state(&pre).await, "GONE");
    let all = h.ok("DescribeInstances", json!({})).await;
    assert_eq!(all["TotalCount"], 0);
}

/// DisableApiTermination refuses termination until it is turned off.
#[tokio::test]
async fn protected_instances_refuse_termination() {
    let mut h = Harness::new(quick()).await;
    let id = h
        .run(json!({"DisableApiTermination": true}))
        .await
        .remove(0);
    h.advance(10);
    let ids = json!({"InstanceIds": [id]});
    assert_eq!(
        h.code("TerminateInstances", ids.clone()).await,
        "UnsupportedOperation.InstancesProtected"
    );
    h.ok(
        "ModifyInstancesAttribute",
        json!({"InstanceIds": [id], "DisableApiTermination": false}),
    )
    .await;
    h.ok("TerminateInstances", ids).await;
}

/// The per-account, per-region quota bites; MinCount takes what fits.
#[tokio::test]
async fn instance_quota() {
    let h = Harness::new(CvmSettings {
        instance_quota: 3,
        ..quick()
    })
    .await;
    h.run(json!({"InstanceCount": 2})).await;
    assert_eq!(
        h.code(
            "RunInstances",
            json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "InstanceCount": 2})
        )
        .await,
        "LimitExceeded.InstanceQuota"
    );
    let got = h.run(json!({"InstanceCount": 2, "MinCount": 1})).await;
    assert_eq!(got.len(), 1, "MinCount takes what the quota leaves");
    // Another region has its own quota; another account too.
    let mut other = Harness::on(
        h.store.clone(),
        CvmSettings {
            instance_quota: 3,
            ..quick()
        },
        T0,
    )
    .await;
    other.region = "ap-shanghai".into();
    assert_eq!(
        other
            .code(
                "RunInstances",
                json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX})
            )
            .await,
        "InvalidZone.MismatchRegion"
    );
    let mut ok = other
        .ok(
            "RunInstances",
            json!({"Placement": {"Zone": "ap-shanghai-2"}, "ImageId": LINUX}),
        )
        .await;
    assert_eq!(
        ok.remove("InstanceIdSet")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Capacity: a type a zone does not sell, a sold-out type, too little left, a sold-out zone.
#[tokio::test]
async fn zone_capacity() {
    let mut settings = quick();
    settings
        .add_capacity("ap-guangzhou-3/S5.MEDIUM2=0,ap-guangzhou-3/S5.LARGE8=2,ap-guangzhou-4=0")
        .unwrap();
    let h = Harness::new(settings).await;
    let run = |zone: &str, ty: &str, count: i64| json!({"Placement": {"Zone": zone}, "ImageId": LINUX, "InstanceType": ty, "InstanceCount": count});
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-3", "GN7.2XLARGE32", 1))
            .await,
        "ResourceUnavailable.InstanceType"
    );
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-3", "S5.MEDIUM2", 1))
            .await,
        "ResourcesSoldOut.SpecifiedInstanceType"
    );
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-3", "S5.LARGE8", 3))
            .await,
        "ResourceInsufficient.SpecifiedInstanceType"
    );
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-4", "S5.LARGE8", 1))
            .await,
        "ResourceInsufficient.AvailabilityZoneSoldOut"
    );
    h.ok("RunInstances", run("ap-guangzhou-3", "S5.LARGE8", 2))
        .await;
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-3", "S5.LARGE8", 1))
            .await,
        "ResourcesSoldOut.SpecifiedInstanceType"
    );
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-99", "S5.LARGE8", 1))
            .await,
        "InvalidParameterValue.ZoneNotSupported"
    );
    assert_eq!(
        h.code("RunInstances", run("ap-guangzhou-3", "S5.HUGE", 1))
            .await,
        "InvalidParameterValue.InstanceTypeNotFound"
    );
}

/// DryRun runs every check and changes nothing.
#[tokio::test]
async fn dry_run_checks_everything_and_changes_nothing() {
    let h = Harness::new(CvmSettings {
        instance_quota: 1,
        ..quick()
    })
    .await;
    let p = json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "DryRun": true});
    assert_eq!(h.code("RunInstances", p).await, "DryRunOperation");
    assert_eq!(h.ok("DescribeInstances", json!({})).await["TotalCount"], 0);
    let too_many = json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "DryRun": true, "InstanceCount": 2});
    assert_eq!(
        h.code("RunInstances", too_many).await,
        "LimitExceeded.InstanceQuota"
    );
    let bad_image =
        json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-00000000", "DryRun": true});
    assert_eq!(
        h.code("RunInstances", bad_image).await,
        "InvalidImageId.NotFound"
    );
}

/// A ClientToken makes RunInstances idempotent.
#[tokio::test]
async fn client_token_is_idempotent() {
    let h = Harness::new(quick()).await;
    let a = h
        .run(json!({"ClientToken": "abc", "InstanceCount": 2}))
        .await;
    let b = h
        .run(json!({"ClientToken": "abc", "InstanceCount": 2}))
        .await;
    assert_eq!(a, b);
    assert_eq!(h.ok("DescribeInstances", json!({})).await["TotalCount"], 2);
    assert_eq!(
        h.code("RunInstances", json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "ClientToken": "x".repeat(65)})).await,
        "InvalidClientToken.TooLong"
    );
}

/// One account never sees another's instances; a region never lists another region's.
#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let mut h = Harness::new(quick()).await;
    let id = h.run(json!({})).await.remove(0);
    h.app_id = 2;
    assert_eq!(h.ok("DescribeInstances", json!({})).await["TotalCount"], 0);
    assert_eq!(
        h.code("StopInstances", json!({"InstanceIds": [id]})).await,
        "InvalidInstanceId.NotFound"
    );
    h.app_id = 1;
    h.region = "ap-shanghai".into();
    assert_eq!(
        h.ok("DescribeInstancesStatus", json!({})).await["TotalCount"],
        0
    );
}

/// Every DescribeInstances filter, paging, and the filter rules.
#[tokio::test]
async fn describe_instances_filters() {
    let mut h = Harness::new(quick()).await;
    let tagged = json!({"TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "blue"}]}]});
    let a = h
        .run(json!({"InstanceName": "api-1", "TagSpecification": tagged["TagSpecification"]}))
        .await
        .remove(0);
    let b = h
        .run(
            json!({"Placement": {"Zone": "ap-guangzhou-4", "ProjectId": 7}, "InstanceName": "db-1",
                    "InternetAccessible": {"InternetMaxBandwidthOut": 10},
                    "SecurityGroupIds": ["sg-aaaaaaaa"]}),
        )
        .await
        .remove(0);
    h.advance(10);
    h.ok("StopInstances", json!({"InstanceIds": [b]})).await;
    let count = |v: Map<String, Value>| v["TotalCount"].as_u64().unwrap();
    let f = |name: &str, values: Value| json!({"Filters": [{"Name": name, "Values": values}]});
    let public_ip = h.instance(&b).await["PublicIpAddresses"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let private_ip = h.instance(&a).await["PrivateIpAddresses"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let uuid = h.instance(&a).await["Uuid"].as_str().unwrap().to_owned();
    for (filter, want) in [
        (f("zone", json!(["ap-guangzhou-3"])), 1),
        (f("zone", json!(["ap-guangzhou-3", "ap-guangzhou-4"])), 2),
        (f("instance-state", json!(["STOPPING"])), 1),
        (f("instance-name", json!(["api"])), 1),
        (f("instance-name", json!(["-1"])), 2),
        (f("tag-key", json!(["team"])), 1),
        (f("tag-value", json!(["blue"])), 1),
        (f("tag:team", json!(["blue"])), 1),
        (f("tag:team", json!(["red"])), 0),
        (f("project-id", json!(["7"])), 1),
        (f("instance-id", json!([a])), 1),
        (f("uuid", json!([uuid])), 1),
        (f("security-group-id", json!(["sg-aaaaaaaa"])), 1),
        (f("public-ip-address", json!([public_ip])), 1),
        (f("private-ip-address", json!([private_ip])), 1),
        (f("instance-charge-type", json!(["POSTPAID_BY_HOUR"])), 2),
        (f("vpc-id", json!(["vpc-00000001"])), 2),
        (f("creation-start-time", json!(["2023-11-14 22:13:20"])), 2),
        (f("creation-end-time", json!(["2023-11-14 22:13:19"])), 0),
        (f("host-id", json!(["host-1"])), 0),
        (
            json!({"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]},
                            {"Name": "instance-state", "Values": ["PENDING", "RUNNING"]}]}),
            1,
        ),
    ] {
        assert_eq!(
            count(h.ok("DescribeInstances", filter.clone()).await),
            want,
            "{filter}"
        );
    }
    let page = h
        .ok("DescribeInstances", json!({"Offset": 1, "Limit": 1}))
        .await;
    assert_eq!(page["TotalCount"], 2);
    assert_eq!(page["InstanceSet"][0]["InstanceId"], b.as_str());
    for (params, code) in [
        (
            json!({"InstanceIds": [a], "Filters": [{"Name": "zone", "Values": ["x"]}]}),
            "InvalidParameter",
        ),
        (f("color", json!(["red"])), "InvalidFilter"),
        (
            f("zone", json!(["1", "2", "3", "4", "5", "6"])),
            "InvalidFilterValue.LimitExceeded",
        ),
        (
            json!({"Filters": (0..11).map(|_| json!({"Name": "zone", "Values": ["x"]})).collect::<Vec<_>>()}),
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            f("creation-start-time", json!(["yesterday"])),
            "InvalidParameterValue.InvalidTimeFormat",
        ),
        (
            f("instance-state", json!(["ASLEEP"])),
            "InvalidParameterValue",
        ),
    ] {
        assert_eq!(
            h.code("DescribeInstances", params.clone()).await,
            code,
            "{params}"
        );
    }
}

/// Tags are checked as CVM checks them.
#[tokio::test]
async fn tag_rules() {
    let h = Harness::new(quick()).await;
    for (key, value, code) in [
        ("qcloud:owner", "x", "FailedOperation.TagKeyReserved"),
        ("bad\u{1}key", "x", "FailedOperation.IllegalTagKey"),
        ("ok", "bad\u{1}", "FailedOperation.IllegalTagValue"),
    ] {
        let p = json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX,
                       "TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": key, "Value": value}]}]});
        assert_eq!(h.code("RunInstances", p).await, code);
    }
}

/// Launches in a zone/type configured to fail end LAUNCH_FAILED, and can be terminated.
#[tokio::test]
async fn launch_failures() {
    let mut settings = quick();
    settings
        .add_launch_failures("ap-guangzhou-3/S5.MEDIUM2")
        .unwrap();
    let mut h = Harness::new(settings).await;
    let id = h.run(json!({})).await.remove(0);
    h.advance(10);
    assert_eq!(h.state(&id).await, "LAUNCH_FAILED");
    assert_eq!(h.instance(&id).await["LatestOperationState"], "FAILED");
    assert_eq!(
        h.code("StartInstances", json!({"InstanceIds": [id]})).await,
        "UnsupportedOperation",
        "StartInstances documents no code for LAUNCH_FAILED: the family code answers"
    );
    h.ok("TerminateInstances", json!({"InstanceIds": [id]}))
        .await;
}

/// ModifyInstancesAttribute and ResetInstancesType.
#[tokio::test]
async fn modify_and_resize() {
    let mut h = Harness::new(quick()).await;
    let id = h.run(json!({})).await.remove(0);
    h.advance(10);
    h.ok(
        "ModifyInstancesAttribute",
        json!({"InstanceIds": [id], "InstanceName": "renamed", "HostName": "web-1"}),
    )
    .await;
    let inst = h.instance(&id).await;
    assert_eq!(inst["InstanceName"], "renamed");
    assert_eq!(inst["HostName"], "web-1");
    assert_eq!(
        h.code("ModifyInstancesAttribute", json!({"InstanceIds": [id]}))
            .await,
        "MissingParameter"
    );
    let resize = json!({"InstanceIds": [id], "InstanceType": "S5.LARGE8"});
    assert_eq!(
        h.code("ResetInstancesType", resize.clone()).await,
        "UnsupportedOperation.InstanceStateRunning"
    );
    h.ok(
        "ResetInstancesType",
        json!({"InstanceIds": [id], "InstanceType": "S5.LARGE8", "ForceStop": true}),
    )
    .await;
    let inst = h.instance(&id).await;
    assert_eq!(inst["InstanceType"], "S5.LARGE8");
    assert_eq!(inst["CPU"], 4);
    assert_eq!(inst["InstanceState"], "STOPPED");
    assert_eq!(
        h.code(
            "ResetInstancesType",
            json!({"InstanceIds": [id], "InstanceType": "GN7.2XLARGE32"})
        )
        .await,
        "ResourceUnavailable.InstanceType"
    );
}

/// Key pairs: create, import, bind at launch, describe, refuse to delete while bound.
#[tokio::test]
async fn key_pairs() {
    let mut h = Harness::new(quick()).await;
    let created = h
        .ok(
            "CreateKeyPair",
            json!({"KeyName": "deploy", "ProjectId": 0}),
        )
        .await;
    let key = created["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    assert!(
        created["KeyPair"]["PrivateKey"]
            .as_str()
            .unwrap()
            .contains("OPENSSH PRIVATE KEY")
    );
    assert!(
        created["KeyPair"]["PublicKey"]
            .as_str()
            .unwrap()
            .starts_with("ssh-ed25519 ")
    );
    assert_eq!(
        h.code(
            "CreateKeyPair",
            json!({"KeyName": "deploy", "ProjectId": 0})
        )
        .await,
        "InvalidKeyPairName.Duplicate"
    );
    assert_eq!(
        h.code(
            "CreateKeyPair",
            json!({"KeyName": "bad name", "ProjectId": 0})
        )
        .await,
        "InvalidKeyPairNameIncludeIllegalChar"
    );
    let public = created["KeyPair"]["PublicKey"].as_str().unwrap().to_owned();
    assert_eq!(
        h.code(
            "ImportKeyPair",
            json!({"KeyName": "again", "ProjectId": 0, "PublicKey": public})
        )
        .await,
        "InvalidPublicKey.Duplicate"
    );
    assert_eq!(
        h.code(
            "ImportKeyPair",
            json!({"KeyName": "junk", "ProjectId": 0, "PublicKey": "ssh-rsa nope"})
        )
        .await,
        "InvalidPublicKey.Malformed"
    );

    assert_eq!(
        h.code("RunInstances", json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "LoginSettings": {"KeyIds": ["skey-zzzzzzzz"]}})).await,
        "InvalidParameterValue.KeyPairNotFound"
    );
    let id = h
        .run(json!({"LoginSettings": {"KeyIds": [key]}}))
        .await
        .remove(0);
    let listed = h.ok("DescribeKeyPairs", json!({"KeyIds": [key]})).await;
    assert_eq!(
        listed["KeyPairSet"][0]["AssociatedInstanceIds"],
        json!([id])
    );
    assert_eq!(
        h.code("DeleteKeyPairs", json!({"KeyIds": [key]})).await,
        "ResourceInUse"
    );

    let other = h
        .ok("CreateKeyPair", json!({"KeyName": "ops", "ProjectId": 0}))
        .await;
    let other = other["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    h.advance(10);
    let bind = json!({"InstanceIds": [id], "KeyIds": [other]});
    assert_eq!(
        h.code("AssociateInstancesKeyPairs", bind.clone()).await,
        "UnsupportedOperation.InstanceStateRunning"
    );
    h.ok(
        "AssociateInstancesKeyPairs",
        json!({"InstanceIds": [id], "KeyIds": [other], "ForceStop": true}),
    )
    .await;
    assert_eq!(
        h.instance(&id).await["LoginSettings"]["KeyIds"],
        json!([key, other])
    );

    h.ok("TerminateInstances", json!({"InstanceIds": [id]}))
        .await;
    h.advance(3);
    h.ok("DeleteKeyPairs", json!({"KeyIds": [key, other]}))
        .await;
    assert_eq!(h.ok("DescribeKeyPairs", json!({})).await["TotalCount"], 0);
    assert_eq!(
        h.code("DeleteKeyPairs", json!({"KeyIds": [key]})).await,
        "InvalidKeyPairId.NotFound"
    );
}

/// State survives a restart: instances, their pending transitions and key pairs.
#[tokio::test]
async fn state_survives_reopen() {
    let mut h = Harness::new(quick()).await;
    let ids = h.run(json!({"InstanceCount": 2})).await;
    h.ok("CreateKeyPair", json!({"KeyName": "k1", "ProjectId": 0}))
        .await;
    h.advance(10);
    h.ok("TerminateInstances", json!({"InstanceIds": [ids[0]]}))
        .await;
    // Reopen 5 s later: the PENDING→RUNNING transition fired, the termination finished.
    let reopened = Harness::on(h.store.clone(), quick(), h.now + 5_000).await;
    assert_eq!(reopened.state(&ids[0]).await, "GONE");
    assert_eq!(reopened.state(&ids[1]).await, "RUNNING");
    assert_eq!(
        reopened.ok("DescribeKeyPairs", json!({})).await["TotalCount"],
        1
    );
    let rows = h.store.scan(super::instances::TABLE, "").await.unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the finished termination was removed from the store"
    );
}

/// `creation-end-time` works in whole seconds, as `CreatedTime` is written.
#[tokio::test]
async fn creation_end_time_includes_the_created_second() {
    let mut h = Harness::new(quick()).await;
    h.now += 500;
    h.run(json!({})).await;
    let at = |t: &str| json!({"Filters": [{"Name": "creation-end-time", "Values": [t]}]});
    assert_eq!(
        h.ok("DescribeInstances", at("2023-11-14 22:13:20")).await["TotalCount"],
        1
    );
    assert_eq!(
        h.ok("DescribeInstances", at("2023-11-14 22:13:19")).await["TotalCount"],
        0
    );
}

/// Range errors are written wholly in the request's language.
#[tokio::test]
async fn range_messages_are_localised() {
    let h = Harness::new(quick()).await;
    for lang in Language::ALL {
        let mut cx = h.cx("DescribeInstancesStatus");
        cx.language = lang;
        let Value::Object(p) = json!({"Offset": -1, "Limit": 5}) else {
            panic!()
        };
        let e = h.cvm.call(&cx, p).await.unwrap_err();
        let m = e.message(lang);
        assert!(m.contains("`Offset`") && m.contains('0'), "{m}");
        if lang != Language::EnUs {
            assert!(!m.contains("must"), "{lang}: {m}");
        }
    }
}

const WINDOWS: &str = "img-hxrksczu";

/// A Windows image takes no key pairs: RunInstances with `LoginSettings.KeyIds` is
/// `UnsupportedOperation.KeyPairUnsupportedWindows` naming the image (also with DryRun) and
/// creates nothing; binding key pairs to (or unbinding them from) a Windows instance is
/// `UnsupportedOperation.InstanceOsWindows`, whose message names the instance.
#[tokio::test]
async fn windows_refuses_key_pairs_at_launch_and_on_its_instances() {
    let mut h = Harness::new(quick()).await;
    let key = h
        .ok(
            "CreateKeyPair",
            json!({"KeyName": "deploy", "ProjectId": 0}),
        )
        .await["KeyPair"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let launch = json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": WINDOWS,
                        "InstanceType": "S5.MEDIUM2", "LoginSettings": {"KeyIds": [key]}});
    let e = h.call("RunInstances", launch.clone()).await.unwrap_err();
    assert_eq!(e.code(), "UnsupportedOperation.KeyPairUnsupportedWindows");
    for lang in Language::ALL {
        assert!(
            e.message(lang).contains(WINDOWS),
            "{lang}: {}",
            e.message(lang)
        );
    }
    let mut dry = launch;
    dry["DryRun"] = json!(true);
    assert_eq!(
        h.code("RunInstances", dry).await,
        "UnsupportedOperation.KeyPairUnsupportedWindows"
    );
    assert_eq!(h.ok("DescribeInstances", json!({})).await["TotalCount"], 0);
    // Linux takes the same key; Windows without one launches.
    h.run(json!({"LoginSettings": {"KeyIds": [key]}})).await;
    let id = h
        .run(json!({"ImageId": WINDOWS, "LoginSettings": {"Password": "Tclocal-2024!"}}))
        .await
        .remove(0);
    h.advance(10);
    for action in [
        "AssociateInstancesKeyPairs",
        "DisassociateInstancesKeyPairs",
    ] {
        let e = h
            .call(
                action,
                json!({"InstanceIds": [id], "KeyIds": [key], "ForceStop": true}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            "UnsupportedOperation.InstanceOsWindows",
            "{action}"
        );
        for lang in Language::ALL {
            let m = e.message(lang);
            assert!(m.contains(&id), "{action} {lang}: {m}");
        }
    }
}

/// Every action CVM emulates, called with a battery of wrong and awkward requests against
/// instances in each state (and a Windows one): whatever each call does, an error carries a
/// code the action's model documents and a message template of its own (the harness checks
/// both on every call).
#[tokio::test]
async fn every_emulated_action_answers_documented_templated_errors() {
    let spec = tclocal_specs::registry()
        .spec("cvm", super::VERSION)
        .unwrap();
    let probe = Harness::new(quick()).await;
    let actions: Vec<&str> = spec
        .actions
        .keys()
        .map(String::as_str)
        .filter(|a| probe.cvm.emulates(super::VERSION, a))
        .collect();
    assert!(actions.len() >= 20, "{actions:?}");
    for action in actions {
        // A fresh account for each action: earlier calls cannot hide later errors.
        let mut h = Harness::new(quick()).await;
        let key = h
            .ok("CreateKeyPair", json!({"KeyName": "k", "ProjectId": 0}))
            .await["KeyPair"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned();
        let running = h.run(json!({})).await.remove(0);
        let stopped = h.run(json!({})).await.remove(0);
        let windows = h.run(json!({"ImageId": WINDOWS})).await.remove(0);
        let protected = h
            .run(json!({"DisableApiTermination": true}))
            .await
            .remove(0);
        h.advance(10);
        h.ok("StopInstances", json!({"InstanceIds": [stopped]}))
            .await;
        h.advance(5);
        let stopping = h.run(json!({})).await.remove(0);
        h.advance(10);
        h.ok("StopInstances", json!({"InstanceIds": [stopping]}))
            .await;
        let pending = h.run(json!({})).await.remove(0);

        let mut battery = vec![
            json!({}),
            json!({"InstanceIds": ["ins-zzzzzzzz"]}),
            json!({"InstanceIds": ["not-an-id"]}),
            json!({"KeyIds": ["skey-zzzzzzzz"]}),
            json!({"KeyIds": ["not-a-key"]}),
            json!({"KeyIds": [key]}),
            json!({"Limit": 101}),
            json!({"Offset": -1}),
            json!({"Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}),
            json!({"InstanceIds": [running], "Filters": [{"Name": "zone", "Values": ["x"]}]}),
            json!({"KeyName": "bad name", "ProjectId": 0}),
            json!({"KeyName": "k", "ProjectId": 0}),
            json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": "img-zzzzzzzz"}),
            json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": WINDOWS,
                   "LoginSettings": {"KeyIds": [key]}, "DryRun": true}),
        ];
        for id in [
            &running, &stopped, &stopping, &pending, &windows, &protected,
        ] {
            battery.push(json!({"InstanceIds": [id]}));
            battery.push(
                json!({"InstanceIds": [id], "KeyIds": [key], "ForceStop": true,
                                "InstanceType": "S5.LARGE8", "InstanceName": "renamed"}),
            );
        }
        for params in battery {
            // Success or failure: the harness checks any error.
            let _ = h.call(action, params).await;
        }
    }
}

/// DescribeZoneInstanceConfigInfos follows capacity: a type becomes SOLD_OUT once its last
/// slot is taken, and a zone without capacity sells nothing.
#[tokio::test]
async fn zone_instance_config_infos_follow_capacity() {
    let mut settings = quick();
    settings
        .add_capacity("ap-guangzhou-3/S5.LARGE8=1,ap-guangzhou-4=0")
        .unwrap();
    let h = Harness::new(settings).await;
    let status = |got: &Map<String, Value>, zone: &str, ty: &str| -> Vec<String> {
        got["InstanceTypeQuotaSet"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["Zone"] == zone && i["InstanceType"] == ty)
            .map(|i| {
                format!(
                    "{}:{}",
                    i["InstanceChargeType"].as_str().unwrap(),
                    i["Status"].as_str().unwrap()
                )
            })
            .collect()
    };
    let filters =
        json!({"Filters": [{"Name": "instance-type", "Values": ["S5.LARGE8", "S5.MEDIUM2"]}]});
    let before = h
        .ok("DescribeZoneInstanceConfigInfos", filters.clone())
        .await;
    assert_eq!(
        status(&before, "ap-guangzhou-3", "S5.LARGE8"),
        ["POSTPAID_BY_HOUR:SELL", "PREPAID:SELL", "SPOTPAID:SELL"]
    );
    assert!(
        status(&before, "ap-guangzhou-4", "S5.MEDIUM2")
            .iter()
            .all(|s| s.ends_with(":SOLD_OUT"))
    );
    h.ok("RunInstances", json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "InstanceType": "S5.LARGE8"}))
        .await;
    let after = h.ok("DescribeZoneInstanceConfigInfos", filters).await;
    assert!(
        status(&after, "ap-guangzhou-3", "S5.LARGE8")
            .iter()
            .all(|s| s.ends_with(":SOLD_OUT"))
    );
    assert!(
        status(&after, "ap-guangzhou-3", "S5.MEDIUM2")
            .iter()
            .all(|s| s.ends_with(":SELL"))
    );
    assert_eq!(
        h.code(
            "DescribeZoneInstanceConfigInfos",
            json!({"Filters": [{"Name": "cpu", "Values": ["2"]}]})
        )
        .await,
        "InvalidFilter"
    );
    assert_eq!(
        h.code(
            "DescribeZoneInstanceConfigInfos",
            json!({"Filters": [{"Name": "zone", "Values": ["ap-shanghai-2"]}]})
        )
        .await,
        "InvalidZone.MismatchRegion"
    );
}

/// The tag service reads instance tags from CVM: what RunInstances set, for as long as the
/// instance exists, only in the instance's account and region.
#[tokio::test]
async fn tags_of_instances_for_the_tag_service() {
    use crate::tag::Tagged;
    let mut h = Harness::new(quick()).await;
    let tagged = json!({"TagSpecification": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "blue"}]}]});
    let ids = h.run(tagged).await;
    let plain = h.run(json!({})).await;
    let got = h.cvm.resource_tags(
        1,
        "ap-guangzhou",
        "instance",
        &[&ids[0], &plain[0], "ins-zzzzzzzz"],
        h.now,
    );
    assert_eq!(
        got,
        [
            (ids[0].clone(), vec![("team".to_owned(), "blue".to_owned())]),
            (plain[0].clone(), vec![])
        ]
    );
    assert!(
        h.cvm
            .resource_tags(2, "ap-guangzhou", "instance", &[&ids[0]], h.now)
            .is_empty()
    );
    assert!(
        h.cvm
            .resource_tags(1, "ap-shanghai", "instance", &[&ids[0]], h.now)
            .is_empty()
    );
    h.advance(60);
    h.ok("TerminateInstances", json!({"InstanceIds": [ids[0]]}))
        .await;
    h.advance(60);
    assert!(
        h.cvm
            .resource_tags(1, "ap-guangzhou", "instance", &[&ids[0]], h.now)
            .is_empty()
    );
}

/// A store whose queued batches never become durable (a disk that fails under the writer):
/// everything else goes to memory.
struct LosesQueuedBatches(MemoryStore);

#[async_trait::async_trait]
impl Store for LosesQueuedBatches {
    fn describe(&self) -> String {
        "loses queued batches".into()
    }
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(table, key).await
    }
    async fn scan(&self, table: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.0.scan(table, prefix).await
    }
    async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.0.commit(batch).await
    }
    async fn enqueue(&self, _batch: Batch) -> Result<Durable, StoreError> {
        Ok(Box::pin(std::future::ready(Err(StoreError::Backend(
            "the disk is full".into(),
        )))))
    }
    async fn clear(&self, table: Option<&str>) -> Result<(), StoreError> {
        self.0.clear(table).await
    }
    async fn tables(&self) -> Result<Vec<String>, StoreError> {
        self.0.tables().await
    }
}

/// A change readers could already see whose commit then fails is answered with InternalError
/// and taken back: the working copy is reloaded from the store, so nothing shows that is not
/// stored.
#[tokio::test]
async fn a_change_that_is_not_stored_is_answered_as_an_error_and_not_shown() {
    let store: Arc<dyn Store> = Arc::new(LosesQueuedBatches(MemoryStore::new()));
    let h = Harness::on(store, CvmSettings::default(), T0).await;
    let p = json!({"Placement": {"Zone": "ap-guangzhou-3"}, "ImageId": LINUX, "InstanceType": "S5.MEDIUM2"});
    assert_eq!(h.code("RunInstances", p).await, "InternalError");
    let got = h.ok("DescribeInstancesStatus", json!({})).await;
    assert_eq!(got["TotalCount"], 0, "{got:?}");
}

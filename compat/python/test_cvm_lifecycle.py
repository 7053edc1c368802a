"""Stateful CVM through the official Python SDK, written the way a user writes it: typed
request models, the typed `CvmClient`, typed answers (`resp.InstanceSet[0].Placement.Zone`).

Every test gets a fresh `tclocal serve --ephemeral` with these CVM settings:

- transitions take launch 10 s, start 5 s, stop 5 s, reboot 5 s, terminate 3 s of emulated
  time; the tests move emulated time with `POST /_tclocal/clock/advance` (emulated time also
  follows the wall clock, so "still PENDING" is checked well before a transition is due);
- 5 instances per account per region (`--cvm-instance-quota 5`);
- capacity: `S5.LARGE8` sold out in `ap-guangzhou-3`, 2 `S5.MEDIUM4` left in
  `ap-guangzhou-4`, nothing left in `ap-guangzhou-6`;
- launches of `SA2.MEDIUM2` in `ap-guangzhou-4` end LAUNCH_FAILED.

`ap-guangzhou-3` sells S5, SA2 and M5 but no GPU family (GN7 is sold in ap-guangzhou-4/6/7).
"""

from __future__ import annotations

import re
import uuid
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from tencentcloud.cvm.v20170312 import models

import tcsupport as t

FLAGS = (
    "--cvm-timings",
    "launch=10,start=5,stop=5,reboot=5,terminate=3",
    "--cvm-instance-quota",
    "5",
    "--cvm-capacity",
    "ap-guangzhou-3/S5.LARGE8=0,ap-guangzhou-4/S5.MEDIUM4=2,ap-guangzhou-6=0",
    "--cvm-launch-failures",
    "ap-guangzhou-4/SA2.MEDIUM2",
)
LAUNCH_S, START_S, STOP_S, REBOOT_S, TERMINATE_S = 10, 5, 5, 5, 3

TENCENTOS = "img-zsxdft8i"  # TencentOS Server 3.1
UBUNTU = "img-xn2y0k34"  # Ubuntu Server 22.04
WINDOWS = "img-hxrksczu"  # Windows Server 2022

INSTANCE_ID_RE = re.compile(r"^ins-[0-9a-z]{8}$")
KEY_ID_RE = re.compile(r"^skey-[0-9a-z]{8}$")
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def tc(tclocal_serve):
    """A fresh tclocal with the CVM settings above."""
    return tclocal_serve("cvm-lifecycle", *FLAGS)


@pytest.fixture
def client(tc):
    return t.cvm(tc)


# --- helpers: typed requests, as a user builds them -----------------------------------------


def placement(zone: str, project_id: int | None = None) -> models.Placement:
    p = models.Placement()
    p.Zone = zone
    if project_id is not None:
        p.ProjectId = project_id
    return p


def tag(key: str, value: str) -> models.Tag:
    tg = models.Tag()
    tg.Key, tg.Value = key, value
    return tg


def instance_tags(**tags: str) -> list[models.TagSpecification]:
    spec = models.TagSpecification()
    spec.ResourceType = "instance"
    spec.Tags = [tag(k, v) for k, v in tags.items()]
    return [spec]


def login_keys(*key_ids: str) -> models.LoginSettings:
    ls = models.LoginSettings()
    ls.KeyIds = list(key_ids)
    return ls


def flt(name: str, *values: str) -> models.Filter:
    f = models.Filter()
    f.Name, f.Values = name, list(values)
    return f


def run_request(
    count: int = 1,
    zone: str = "ap-guangzhou-3",
    instance_type: str = "S5.MEDIUM2",
    image_id: str = TENCENTOS,
    **fields,
) -> models.RunInstancesRequest:
    req = models.RunInstancesRequest()
    req.Placement = fields.pop("Placement", None) or placement(zone)
    req.InstanceType = instance_type
    req.ImageId = image_id
    req.InstanceCount = count
    for k, v in fields.items():
        assert hasattr(req, k), f"RunInstancesRequest has no {k}"
        setattr(req, k, v)
    return req


def run(client, count: int = 1, **kw) -> list[str]:
    resp = client.RunInstances(run_request(count, **kw))
    t.assert_request_id(resp.RequestId)
    assert len(resp.InstanceIdSet) == count, resp.to_json_string()
    for iid in resp.InstanceIdSet:
        assert INSTANCE_ID_RE.match(iid), iid
    return list(resp.InstanceIdSet)


def ids_request(cls, ids, **fields):
    req = cls()
    req.InstanceIds = list(ids)
    for k, v in fields.items():
        setattr(req, k, v)
    return req


def stop(client, ids, **fields):
    return client.StopInstances(ids_request(models.StopInstancesRequest, ids, **fields))


def start(client, ids):
    return client.StartInstances(ids_request(models.StartInstancesRequest, ids))


def reboot(client, ids):
    return client.RebootInstances(ids_request(models.RebootInstancesRequest, ids))


def terminate(client, ids):
    return client.TerminateInstances(ids_request(models.TerminateInstancesRequest, ids))


def states(client, ids=None) -> dict[str, str]:
    """InstanceId -> InstanceState, from DescribeInstancesStatus (gone instances are absent)."""
    req = models.DescribeInstancesStatusRequest()
    if ids is not None:
        req.InstanceIds = list(ids)
    req.Limit = 100
    resp = client.DescribeInstancesStatus(req)
    return {s.InstanceId: s.InstanceState for s in resp.InstanceStatusSet}


def describe(client, ids=None, filters=None, **fields) -> models.DescribeInstancesResponse:
    req = models.DescribeInstancesRequest()
    if ids is not None:
        req.InstanceIds = list(ids)
    if filters is not None:
        req.Filters = list(filters)
    for k, v in fields.items():
        setattr(req, k, v)
    return client.DescribeInstances(req)


def one(client, iid) -> models.Instance:
    resp = describe(client, [iid])
    assert resp.TotalCount == 1, resp.to_json_string()
    return resp.InstanceSet[0]


def running(tc, client, count=1, **kw) -> list[str]:
    ids = run(client, count, **kw)
    t.advance_clock(tc, LAUNCH_S)
    assert states(client, ids) == {i: "RUNNING" for i in ids}
    return ids


def create_key(client, name: str) -> models.KeyPair:
    req = models.CreateKeyPairRequest()
    req.KeyName = name
    req.ProjectId = 0
    return client.CreateKeyPair(req).KeyPair


def key_pairs(client, key_ids=None) -> models.DescribeKeyPairsResponse:
    req = models.DescribeKeyPairsRequest()
    if key_ids is not None:
        req.KeyIds = list(key_ids)
    return client.DescribeKeyPairs(req)


def delete_keys(client, key_ids):
    req = models.DeleteKeyPairsRequest()
    req.KeyIds = list(key_ids)
    return client.DeleteKeyPairs(req)


def parse_iso(s: str) -> datetime:
    return datetime.strptime(s, ISO_SECONDS).replace(tzinfo=timezone.utc)


def as_filter_time(dt: datetime) -> str:
    """`YYYY-MM-DD HH:mm:ss`, the documented format of the creation-time filters."""
    return dt.strftime("%Y-%m-%d %H:%M:%S")


# --- the scenario ----------------------------------------------------------------------


def test_three_instances_stay_pending_until_the_launch_time_then_run(tc, client):
    ids = run(client, 3, InstanceName="web")
    assert states(client, ids) == {i: "PENDING" for i in ids}
    t.advance_clock(tc, LAUNCH_S - 2)
    assert states(client, ids) == {i: "PENDING" for i in ids}
    t.advance_clock(tc, 2)
    assert states(client, ids) == {i: "RUNNING" for i in ids}
    assert [i.InstanceName for i in describe(client, ids).InstanceSet] == ["web1", "web2", "web3"]


def test_full_scenario_run_three_stop_one_reboot_one_terminate_all(tc, client):
    a, b, c = ids = running(tc, client, 3)

    stop(client, [a])
    reboot(client, [b])
    assert states(client, ids) == {a: "STOPPING", b: "REBOOTING", c: "RUNNING"}
    t.advance_clock(tc, max(STOP_S, REBOOT_S))
    assert states(client, ids) == {a: "STOPPED", b: "RUNNING", c: "RUNNING"}

    terminate(client, ids)
    assert states(client, ids) == {i: "TERMINATING" for i in ids}
    t.advance_clock(tc, TERMINATE_S)
    assert states(client, ids) == {}
    assert describe(client).TotalCount == 0
    assert states(client) == {}
    t.expect_error(lambda: start(client, [a]), "InvalidInstanceId.NotFound")


def test_stopped_instance_starts_through_starting_to_running(tc, client):
    (iid,) = running(tc, client)
    stop(client, [iid])
    t.advance_clock(tc, STOP_S)
    start(client, [iid])
    assert states(client, [iid]) == {iid: "STARTING"}
    t.advance_clock(tc, START_S)
    assert states(client, [iid]) == {iid: "RUNNING"}


def test_latest_operation_names_the_last_action_and_its_request_id(tc, client):
    resp = client.RunInstances(run_request())
    (iid,) = resp.InstanceIdSet
    inst = one(client, iid)
    assert (inst.LatestOperation, inst.LatestOperationState) == ("RunInstances", "OPERATING")
    assert inst.LatestOperationRequestId == resp.RequestId
    t.advance_clock(tc, LAUNCH_S)
    inst = one(client, iid)
    assert (inst.LatestOperation, inst.LatestOperationState) == ("RunInstances", "SUCCESS")

    stopped = stop(client, [iid])
    inst = one(client, iid)
    assert (inst.LatestOperation, inst.LatestOperationState) == ("StopInstances", "OPERATING")
    assert inst.LatestOperationRequestId == stopped.RequestId
    t.advance_clock(tc, STOP_S)
    assert one(client, iid).LatestOperationState == "SUCCESS"


def test_one_request_moves_every_instance_it_names(tc, client):
    ids = running(tc, client, 3)
    stop(client, ids)
    assert states(client, ids) == {i: "STOPPING" for i in ids}
    t.advance_clock(tc, STOP_S)
    start(client, ids)
    assert states(client, ids) == {i: "STARTING" for i in ids}


# --- wrong state ------------------------------------------------------------------------------


def test_stopping_a_pending_instance_is_instance_state_pending(client):
    (iid,) = run(client)
    t.expect_error(lambda: stop(client, [iid]), "UnsupportedOperation.InstanceStatePending")


def test_terminating_a_pending_instance_is_instance_state_pending(client):
    (iid,) = run(client)
    t.expect_error(lambda: terminate(client, [iid]), "UnsupportedOperation.InstanceStatePending")
    assert states(client, [iid]) == {iid: "PENDING"}


def test_starting_a_running_instance_is_instance_state_running(tc, client):
    (iid,) = running(tc, client)
    t.expect_error(lambda: start(client, [iid]), "UnsupportedOperation.InstanceStateRunning")


def test_stopping_and_rebooting_a_stopped_instance_is_instance_state_stopped(tc, client):
    (iid,) = running(tc, client)
    stop(client, [iid])
    t.advance_clock(tc, STOP_S)
    t.expect_error(lambda: stop(client, [iid]), "UnsupportedOperation.InstanceStateStopped")
    t.expect_error(lambda: reboot(client, [iid]), "UnsupportedOperation.InstanceStateStopped")


def test_actions_on_a_stopping_instance_are_instance_state_stopping(tc, client):
    (iid,) = running(tc, client)
    stop(client, [iid])
    for action in (start, reboot, terminate):
        t.expect_error(lambda: action(client, [iid]), "UnsupportedOperation.InstanceStateStopping")


def test_actions_on_a_rebooting_instance_are_instance_state_rebooting(tc, client):
    (iid,) = running(tc, client)
    reboot(client, [iid])
    t.expect_error(lambda: stop(client, [iid]), "UnsupportedOperation.InstanceStateRebooting")


def test_actions_on_a_starting_instance_are_instance_state_starting(tc, client):
    (iid,) = running(tc, client)
    stop(client, [iid])
    t.advance_clock(tc, STOP_S)
    start(client, [iid])
    t.expect_error(lambda: stop(client, [iid]), "UnsupportedOperation.InstanceStateStarting")


def test_actions_on_a_terminating_instance_are_instance_state_terminating(tc, client):
    (iid,) = running(tc, client)
    terminate(client, [iid])
    for action in (start, stop, reboot, terminate):
        t.expect_error(lambda: action(client, [iid]), "UnsupportedOperation.InstanceStateTerminating")


def test_one_instance_in_the_wrong_state_fails_the_whole_batch(tc, client):
    ready = running(tc, client)[0]
    (pending,) = run(client)
    t.expect_error(lambda: stop(client, [ready, pending]), "UnsupportedOperation.InstanceStatePending")
    assert states(client, [ready, pending]) == {ready: "RUNNING", pending: "PENDING"}


# --- not found / malformed --------------------------------------------------------------------

ACTIONS = {
    "StartInstances": start,
    "StopInstances": stop,
    "RebootInstances": reboot,
    "TerminateInstances": terminate,
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_unknown_instance_id_is_invalid_instance_id_not_found(client, action):
    t.expect_error(lambda: ACTIONS[action](client, ["ins-00000000"]), "InvalidInstanceId.NotFound")


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("bad", ["i-12345678", "ins-1234", "ins-ABCDEFGH", "ins-123456789"])
def test_malformed_instance_id_is_invalid_instance_id_malformed(client, action, bad):
    t.expect_error(lambda: ACTIONS[action](client, [bad]), "InvalidInstanceId.Malformed")


def test_modify_attribute_of_unknown_instance_is_invalid_instance_id_not_found(client):
    req = ids_request(models.ModifyInstancesAttributeRequest, ["ins-00000000"], InstanceName="x")
    t.expect_error(lambda: client.ModifyInstancesAttribute(req), "InvalidInstanceId.NotFound")


def test_one_unknown_id_fails_the_whole_batch_and_moves_nothing(tc, client):
    (iid,) = running(tc, client)
    t.expect_error(lambda: stop(client, [iid, "ins-00000000"]), "InvalidInstanceId.NotFound")
    assert states(client, [iid]) == {iid: "RUNNING"}


def test_describe_instances_with_an_unknown_id_is_an_empty_set_not_an_error(client):
    resp = describe(client, ["ins-00000000"])
    assert (resp.TotalCount, resp.InstanceSet) == (0, [])


def test_describe_instances_with_a_malformed_id_is_invalid_instance_id_malformed(client):
    t.expect_error(lambda: describe(client, ["bad-id"]), "InvalidInstanceId.Malformed")


# --- the Instance model as the SDK parses it -----------------------------------------------------


def test_describe_instances_fills_the_sdk_instance_model(tc, client):
    before = t.emulated_now_ms(tc) // 1000
    data = models.DataDisk()
    data.DiskType, data.DiskSize = "CLOUD_PREMIUM", 100
    sysdisk = models.SystemDisk()
    sysdisk.DiskType, sysdisk.DiskSize = "CLOUD_SSD", 60
    vpc = models.VirtualPrivateCloud()
    vpc.VpcId, vpc.SubnetId = "vpc-abcd1234", "subnet-abcd1234"
    net = models.InternetAccessible()
    net.InternetChargeType, net.InternetMaxBandwidthOut, net.PublicIpAssigned = "TRAFFIC_POSTPAID_BY_HOUR", 10, True
    resp = client.RunInstances(
        run_request(
            instance_type="SA2.MEDIUM4",
            image_id=UBUNTU,
            Placement=placement("ap-guangzhou-3", project_id=0),
            InstanceName="api",
            HostName="api-host",
            SystemDisk=sysdisk,
            DataDisks=[data],
            VirtualPrivateCloud=vpc,
            InternetAccessible=net,
            SecurityGroupIds=["sg-abcd1234"],
            TagSpecification=instance_tags(env="prod"),
        )
    )
    (iid,) = resp.InstanceIdSet
    after = t.emulated_now_ms(tc) // 1000

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        described = describe(client, [iid])
    # The SDK warns "<names> fileds are useless." for members its models do not have.
    assert [str(w.message) for w in caught] == []
    assert isinstance(described, models.DescribeInstancesResponse)
    t.assert_request_id(described.RequestId)
    inst = described.InstanceSet[0]
    assert isinstance(inst, models.Instance)

    assert inst.InstanceId == iid
    assert isinstance(inst.Placement, models.Placement)
    assert (inst.Placement.Zone, inst.Placement.ProjectId) == ("ap-guangzhou-3", 0)
    assert (inst.InstanceType, inst.CPU, inst.Memory) == ("SA2.MEDIUM4", 2, 4)
    assert inst.InstanceName == "api"
    assert inst.HostName == "api-host"
    assert inst.InstanceState == "PENDING"
    assert inst.InstanceChargeType == "POSTPAID_BY_HOUR"
    assert inst.RenewFlag == "NOTIFY_AND_MANUAL_RENEW"
    assert inst.ExpiredTime == ""
    assert inst.RestrictState == "NORMAL"
    assert inst.StopChargingMode == "NOT_APPLICABLE"
    assert inst.IsolatedSource == "NOTISOLATED"
    assert inst.DisableApiTermination is False
    assert (inst.ImageId, inst.OsName) == (UBUNTU, "Ubuntu Server 22.04 LTS 64bit")
    assert (inst.DefaultLoginUser, inst.DefaultLoginPort) == ("root", 22)

    assert isinstance(inst.SystemDisk, models.SystemDisk)
    assert (inst.SystemDisk.DiskType, inst.SystemDisk.DiskSize) == ("CLOUD_SSD", 60)
    assert inst.SystemDisk.DiskId.startswith("disk-")
    assert len(inst.DataDisks) == 1 and isinstance(inst.DataDisks[0], models.DataDisk)
    assert (inst.DataDisks[0].DiskType, inst.DataDisks[0].DiskSize) == ("CLOUD_PREMIUM", 100)
    assert inst.DataDisks[0].DeleteWithInstance is True

    assert isinstance(inst.VirtualPrivateCloud, models.VirtualPrivateCloud)
    assert (inst.VirtualPrivateCloud.VpcId, inst.VirtualPrivateCloud.SubnetId) == ("vpc-abcd1234", "subnet-abcd1234")
    assert len(inst.PrivateIpAddresses) == 1
    assert inst.VirtualPrivateCloud.PrivateIpAddresses == inst.PrivateIpAddresses
    assert isinstance(inst.InternetAccessible, models.InternetAccessible)
    assert inst.InternetAccessible.InternetMaxBandwidthOut == 10
    assert inst.InternetAccessible.PublicIpAssigned is True
    assert len(inst.PublicIpAddresses) == 1
    assert inst.SecurityGroupIds == ["sg-abcd1234"]

    assert isinstance(inst.LoginSettings, models.LoginSettings)
    assert inst.LoginSettings.KeyIds == []
    assert [(tg.Key, tg.Value) for tg in inst.Tags] == [("env", "prod")]
    assert isinstance(inst.Tags[0], models.Tag)

    assert str(uuid.UUID(inst.Uuid)) == inst.Uuid
    created = int(parse_iso(inst.CreatedTime).timestamp())
    assert before <= created <= after, (before, inst.CreatedTime, after)
    assert inst.LatestOperation == "RunInstances"


def test_windows_instance_logs_in_as_administrator_on_port_3389(client):
    (iid,) = run(client, image_id=WINDOWS)
    inst = one(client, iid)
    assert inst.OsName.startswith("Windows Server 2022")
    assert (inst.DefaultLoginUser, inst.DefaultLoginPort) == ("Administrator", 3389)


def test_instance_without_public_ip_has_none_and_the_default_vpc(client):
    (iid,) = run(client)
    inst = one(client, iid)
    assert inst.PublicIpAddresses is None
    assert inst.InternetAccessible.PublicIpAssigned is False
    assert inst.VirtualPrivateCloud.VpcId.startswith("vpc-")
    assert inst.VirtualPrivateCloud.SubnetId.startswith("subnet-")


def test_every_instance_gets_its_own_private_ip_and_uuid(client):
    insts = describe(client, run(client, 3)).InstanceSet
    assert len({i.PrivateIpAddresses[0] for i in insts}) == 3
    assert len({i.Uuid for i in insts}) == 3


# --- quota ------------------------------------------------------------------------------------


def test_sixth_instance_beyond_the_quota_of_five_is_limit_exceeded_instance_quota(client):
    run(client, 3)
    run(client, 2)
    t.expect_error(lambda: run(client), "LimitExceeded.InstanceQuota")
    assert len(states(client)) == 5


def test_batch_larger_than_the_room_left_is_refused_whole(client):
    run(client, 3)
    t.expect_error(lambda: run(client, 3), "LimitExceeded.InstanceQuota")
    assert len(states(client)) == 3


def test_six_at_once_is_limit_exceeded_instance_quota(client):
    t.expect_error(lambda: run(client, 6), "LimitExceeded.InstanceQuota")
    assert states(client) == {}


def test_min_count_takes_what_the_quota_allows(client):
    run(client, 3)
    resp = client.RunInstances(run_request(3, MinCount=2))
    assert len(resp.InstanceIdSet) == 2
    assert len(states(client)) == 5


def test_quota_counts_per_region(client, tc):
    run(client, 5)
    shanghai = t.cvm(tc, "ap-shanghai")
    (iid,) = run(shanghai, zone="ap-shanghai-2")
    assert set(states(shanghai)) == {iid}


def test_instances_that_finished_terminating_free_their_quota(tc, client):
    ids = running(tc, client, 5)
    terminate(client, ids[:2])
    t.advance_clock(tc, TERMINATE_S)
    assert len(run(client, 2)) == 2


# --- capacity and what each zone sells ------------------------------------------------------------


def test_sold_out_type_is_resources_sold_out_specified_instance_type(client):
    t.expect_error(lambda: run(client, instance_type="S5.LARGE8"), "ResourcesSoldOut.SpecifiedInstanceType")
    assert states(client) == {}


def test_type_sold_out_in_one_zone_launches_in_another(client):
    assert len(run(client, zone="ap-guangzhou-4", instance_type="S5.LARGE8")) == 1


def test_gpu_type_not_sold_in_ap_guangzhou_3_is_resource_unavailable_instance_type(client):
    t.expect_error(lambda: run(client, instance_type="GN7.2XLARGE32"), "ResourceUnavailable.InstanceType")


def test_gpu_type_launches_in_a_zone_that_sells_it(client):
    (iid,) = run(client, zone="ap-guangzhou-4", instance_type="GN7.2XLARGE32")
    assert one(client, iid).InstanceType == "GN7.2XLARGE32"


def test_more_than_the_capacity_left_is_resource_insufficient_specified_instance_type(client):
    t.expect_error(
        lambda: run(client, 3, zone="ap-guangzhou-4", instance_type="S5.MEDIUM4"),
        "ResourceInsufficient.SpecifiedInstanceType",
    )
    assert run(client, 2, zone="ap-guangzhou-4", instance_type="S5.MEDIUM4")
    t.expect_error(
        lambda: run(client, zone="ap-guangzhou-4", instance_type="S5.MEDIUM4"),
        "ResourcesSoldOut.SpecifiedInstanceType",
    )


def test_sold_out_zone_is_resource_insufficient_availability_zone_sold_out(client):
    t.expect_error(lambda: run(client, zone="ap-guangzhou-6"), "ResourceInsufficient.AvailabilityZoneSoldOut")


def test_zone_of_another_region_is_invalid_zone_mismatch_region(client):
    t.expect_error(lambda: run(client, zone="ap-shanghai-2"), "InvalidZone.MismatchRegion")


def test_unknown_instance_type_is_invalid_parameter_value_instance_type_not_found(client):
    t.expect_error(lambda: run(client, instance_type="S5.HUGE999"), "InvalidParameterValue.InstanceTypeNotFound")


def test_unknown_and_malformed_image_ids_have_their_own_codes(client):
    t.expect_error(lambda: run(client, image_id="img-00000000"), "InvalidImageId.NotFound")
    t.expect_error(lambda: run(client, image_id="ubuntu"), "InvalidImageId.Malformed")


def test_launch_in_a_failing_zone_ends_launch_failed(tc, client):
    (iid,) = run(client, zone="ap-guangzhou-4", instance_type="SA2.MEDIUM2")
    assert states(client, [iid]) == {iid: "PENDING"}
    t.advance_clock(tc, LAUNCH_S)
    inst = one(client, iid)
    assert (inst.InstanceState, inst.LatestOperation, inst.LatestOperationState) == (
        "LAUNCH_FAILED",
        "RunInstances",
        "FAILED",
    )
    # StartInstances' error list in the model (from the official Go SDK) has no
    # UnsupportedOperation.InstanceStateLaunchFailed (only TerminateInstances lists it), so
    # tclocal answers the family code a client can match: bare UnsupportedOperation.
    t.expect_error(lambda: start(client, [iid]), "UnsupportedOperation")
    terminate(client, [iid])
    t.advance_clock(tc, TERMINATE_S)
    assert states(client) == {}


# --- DryRun ---------------------------------------------------------------------------------------


def test_dry_run_that_would_succeed_is_dry_run_operation_and_creates_nothing(client):
    t.expect_error(lambda: run(client, 5, DryRun=True), "DryRunOperation")
    assert states(client) == {}


def test_dry_run_reports_the_error_the_real_call_would_get(client):
    t.expect_error(lambda: run(client, 6, DryRun=True), "LimitExceeded.InstanceQuota")
    t.expect_error(lambda: run(client, instance_type="S5.LARGE8", DryRun=True), "ResourcesSoldOut.SpecifiedInstanceType")
    t.expect_error(lambda: run(client, instance_type="GN7.2XLARGE32", DryRun=True), "ResourceUnavailable.InstanceType")
    # RunInstances' model lists InvalidParameterValue.KeyPairNotFound, not the former
    # ResourceNotFound.KeyPairNotFound (per-action lists from the official Go SDK).
    t.expect_error(
        lambda: run(client, LoginSettings=login_keys("skey-00000000"), DryRun=True),
        "InvalidParameterValue.KeyPairNotFound",
    )


# --- termination paths ------------------------------------------------------------------------


def test_prepaid_instance_goes_to_shutdown_then_terminating_then_away(tc, client):
    prepaid = models.InstanceChargePrepaid()
    prepaid.Period = 1
    (iid,) = running(tc, client, InstanceChargeType="PREPAID", InstanceChargePrepaid=prepaid)
    inst = one(client, iid)
    assert inst.InstanceChargeType == "PREPAID"
    assert parse_iso(inst.ExpiredTime) - parse_iso(inst.CreatedTime) == timedelta(days=30)

    terminate(client, [iid])
    inst = one(client, iid)
    assert (inst.InstanceState, inst.IsolatedSource) == ("SHUTDOWN", "MANUAL")
    t.advance_clock(tc, TERMINATE_S)
    assert states(client, [iid]) == {iid: "SHUTDOWN"}, "the recycle bin keeps it"
    t.expect_error(lambda: start(client, [iid]), "UnsupportedOperation.InstanceStateShutdown")

    terminate(client, [iid])
    assert states(client, [iid]) == {iid: "TERMINATING"}
    t.advance_clock(tc, TERMINATE_S)
    assert states(client, [iid]) == {}


def test_pay_as_you_go_instance_goes_straight_to_terminating_then_away(tc, client):
    (iid,) = running(tc, client)
    terminate(client, [iid])
    assert states(client, [iid]) == {iid: "TERMINATING"}
    t.advance_clock(tc, TERMINATE_S - 1)
    assert states(client, [iid]) == {iid: "TERMINATING"}
    t.advance_clock(tc, 1)
    assert states(client, [iid]) == {}


def test_stopped_instance_can_be_terminated(tc, client):
    (iid,) = running(tc, client)
    stop(client, [iid])
    t.advance_clock(tc, STOP_S)
    terminate(client, [iid])
    assert states(client, [iid]) == {iid: "TERMINATING"}


def test_protected_instance_refuses_termination_until_protection_is_lifted(tc, client):
    (iid,) = running(tc, client, DisableApiTermination=True)
    assert one(client, iid).DisableApiTermination is True
    t.expect_error(lambda: terminate(client, [iid]), "UnsupportedOperation.InstancesProtected")
    assert states(client, [iid]) == {iid: "RUNNING"}

    client.ModifyInstancesAttribute(
        ids_request(models.ModifyInstancesAttributeRequest, [iid], DisableApiTermination=False)
    )
    terminate(client, [iid])
    assert states(client, [iid]) == {iid: "TERMINATING"}


def test_stop_charging_mode_is_refused_for_prepaid_instances(tc, client):
    prepaid = models.InstanceChargePrepaid()
    prepaid.Period = 1
    (iid,) = running(tc, client, InstanceChargeType="PREPAID", InstanceChargePrepaid=prepaid)
    t.expect_error(
        lambda: stop(client, [iid], StoppedMode="STOP_CHARGING"), "UnsupportedOperation.StoppedModeStopCharging"
    )


def test_stop_charging_shows_in_stop_charging_mode(tc, client):
    (iid,) = running(tc, client)
    stop(client, [iid], StoppedMode="STOP_CHARGING")
    t.advance_clock(tc, STOP_S)
    assert one(client, iid).StopChargingMode == "STOP_CHARGING"


# --- DescribeInstances filters ----------------------------------------------------------------------


@pytest.fixture
def fleet(tc, client):
    """Three instances that differ in every filtered field.

    web-1: ap-guangzhou-3, vpc-aaaa1111/subnet-aaaa1111, sg-aaaa1111, public IP, env=prod
    web-2: ap-guangzhou-4, vpc-aaaa1111/subnet-bbbb2222, sg-bbbb2222, env=staging
    db-1:  ap-guangzhou-3, default VPC, sg-aaaa1111 + sg-bbbb2222, PREPAID, project 1001,
           team=data, launched 10 s after the others (still PENDING while they run)
    """

    def vpc(v, s):
        m = models.VirtualPrivateCloud()
        m.VpcId, m.SubnetId = v, s
        return m

    net = models.InternetAccessible()
    net.InternetMaxBandwidthOut, net.PublicIpAssigned = 5, True
    (web1,) = run(
        client,
        InstanceName="web-1",
        VirtualPrivateCloud=vpc("vpc-aaaa1111", "subnet-aaaa1111"),
        SecurityGroupIds=["sg-aaaa1111"],
        InternetAccessible=net,
        TagSpecification=instance_tags(env="prod"),
    )
    (web2,) = run(
        client,
        zone="ap-guangzhou-4",
        InstanceName="web-2",
        VirtualPrivateCloud=vpc("vpc-aaaa1111", "subnet-bbbb2222"),
        SecurityGroupIds=["sg-bbbb2222"],
        TagSpecification=instance_tags(env="staging"),
    )
    t.advance_clock(tc, LAUNCH_S)
    prepaid = models.InstanceChargePrepaid()
    prepaid.Period = 1
    (db1,) = run(
        client,
        Placement=placement("ap-guangzhou-3", project_id=1001),
        InstanceName="db-1",
        SecurityGroupIds=["sg-aaaa1111", "sg-bbbb2222"],
        InstanceChargeType="PREPAID",
        InstanceChargePrepaid=prepaid,
        TagSpecification=instance_tags(team="data"),
    )
    insts = {i.InstanceName: i for i in describe(client).InstanceSet}
    assert set(insts) == {"web-1", "web-2", "db-1"}
    assert [insts[n].InstanceId for n in ("web-1", "web-2", "db-1")] == [web1, web2, db1]
    return insts


def _names(client, *filters, **fields):
    resp = describe(client, filters=filters, **fields)
    assert resp.TotalCount == len(resp.InstanceSet)
    return [i.InstanceName for i in resp.InstanceSet]


FILTER_CASES = {
    "zone": (lambda f: [flt("zone", "ap-guangzhou-4")], ["web-2"]),
    "zone-two-values-or": (lambda f: [flt("zone", "ap-guangzhou-3", "ap-guangzhou-4")], ["web-1", "web-2", "db-1"]),
    "instance-state-running": (lambda f: [flt("instance-state", "RUNNING")], ["web-1", "web-2"]),
    "instance-state-pending": (lambda f: [flt("instance-state", "PENDING")], ["db-1"]),
    "instance-name-substring": (lambda f: [flt("instance-name", "b-1")], ["web-1", "db-1"]),
    "instance-name-prefix": (lambda f: [flt("instance-name", "web")], ["web-1", "web-2"]),
    "instance-id": (lambda f: [flt("instance-id", f["web-2"].InstanceId)], ["web-2"]),
    "uuid": (lambda f: [flt("uuid", f["db-1"].Uuid)], ["db-1"]),
    "project-id": (lambda f: [flt("project-id", "1001")], ["db-1"]),
    "vpc-id": (lambda f: [flt("vpc-id", "vpc-aaaa1111")], ["web-1", "web-2"]),
    "subnet-id": (lambda f: [flt("subnet-id", "subnet-bbbb2222")], ["web-2"]),
    "security-group-id": (lambda f: [flt("security-group-id", "sg-aaaa1111")], ["web-1", "db-1"]),
    "instance-charge-type": (lambda f: [flt("instance-charge-type", "PREPAID")], ["db-1"]),
    "private-ip-address": (lambda f: [flt("private-ip-address", f["web-2"].PrivateIpAddresses[0])], ["web-2"]),
    "public-ip-address": (lambda f: [flt("public-ip-address", f["web-1"].PublicIpAddresses[0])], ["web-1"]),
    "tag-key": (lambda f: [flt("tag-key", "env")], ["web-1", "web-2"]),
    "tag-value": (lambda f: [flt("tag-value", "prod", "data")], ["web-1", "db-1"]),
    "tag-colon-key": (lambda f: [flt("tag:env", "staging")], ["web-2"]),
    "tag-colon-key-no-match": (lambda f: [flt("tag:team", "prod")], []),
    "creation-start-time": (
        lambda f: [flt("creation-start-time", as_filter_time(parse_iso(f["db-1"].CreatedTime)))],
        ["db-1"],
    ),
    "creation-end-time": (
        lambda f: [flt("creation-end-time", as_filter_time(parse_iso(f["web-2"].CreatedTime) + timedelta(seconds=5)))],
        ["web-1", "web-2"],
    ),
    "filters-and": (lambda f: [flt("zone", "ap-guangzhou-3"), flt("security-group-id", "sg-bbbb2222")], ["db-1"]),
}


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_describe_instances_filter(client, fleet, case):
    make, expected = FILTER_CASES[case]
    assert _names(client, *make(fleet)) == expected


def test_describe_instances_pages_with_offset_and_limit_and_counts_all(client, fleet):
    resp = describe(client, Offset=1, Limit=1)
    assert resp.TotalCount == 3
    assert [i.InstanceName for i in resp.InstanceSet] == ["web-2"]


def test_ten_filters_are_accepted(client, fleet):
    assert _names(client, *[flt("zone", "ap-guangzhou-3")] * 10) == ["web-1", "db-1"]


def test_eleven_filters_are_invalid_parameter_value_limit_exceeded(client):
    t.expect_error(lambda: describe(client, filters=[flt("zone", "ap-guangzhou-3")] * 11), "InvalidParameterValue.LimitExceeded")


def test_six_values_in_one_filter_are_invalid_filter_value_limit_exceeded(client):
    zones = [f"ap-guangzhou-{n}" for n in (1, 2, 3, 4, 6, 7)]
    t.expect_error(lambda: describe(client, filters=[flt("zone", *zones)]), "InvalidFilterValue.LimitExceeded")


def test_five_values_in_one_filter_are_accepted(client):
    zones = [f"ap-guangzhou-{n}" for n in (1, 2, 3, 4, 6)]
    assert describe(client, filters=[flt("zone", *zones)]).TotalCount == 0


def test_unknown_filter_name_is_invalid_filter(client):
    t.expect_error(lambda: describe(client, filters=[flt("colour", "red")]), "InvalidFilter")


def test_instance_state_filter_with_an_unknown_state_is_invalid_parameter_value(client):
    t.expect_error(lambda: describe(client, filters=[flt("instance-state", "running")]), "InvalidParameterValue")


def test_creation_time_filter_not_a_time_is_invalid_time_format(client):
    t.expect_error(
        lambda: describe(client, filters=[flt("creation-start-time", "yesterday")]),
        "InvalidParameterValue.InvalidTimeFormat",
    )


def test_instance_ids_and_filters_together_are_invalid_parameter(client):
    # DescribeInstances' model (the official Go SDK's per-action list) has no
    # InvalidParameterCombination: tclocal answers the listed InvalidParameter (the message
    # still says the two cannot be given together).
    err = t.expect_error(
        lambda: describe(client, ["ins-00000000"], filters=[flt("zone", "ap-guangzhou-3")]),
        "InvalidParameter",
    )
    assert "InstanceIds" in err.get_message() and "Filters" in err.get_message(), err.get_message()


def test_creation_end_time_equal_to_created_time_includes_the_instance(tc, client):
    # Launch half-way through an emulated second, so CreatedTime (whole seconds) is earlier
    # than the creation instant, as it nearly always is.
    now = t.emulated_now_ms(tc)
    t.advance_clock(tc, (1500 - now % 1000) / 1000)
    (iid,) = run(client, InstanceName="web-1")
    end = as_filter_time(parse_iso(one(client, iid).CreatedTime))
    assert _names(client, flt("creation-end-time", end)) == ["web-1"]


# --- ClientToken --------------------------------------------------------------------------------


def test_same_client_token_returns_the_same_instances_and_launches_nothing_more(client):
    first = client.RunInstances(run_request(2, ClientToken="deploy-42"))
    again = client.RunInstances(run_request(2, ClientToken="deploy-42"))
    assert again.InstanceIdSet == first.InstanceIdSet
    assert again.RequestId != first.RequestId
    assert set(states(client)) == set(first.InstanceIdSet)


def test_client_token_retry_is_answered_even_when_the_quota_is_full(client):
    first = client.RunInstances(run_request(5, ClientToken="fill-up"))
    again = client.RunInstances(run_request(5, ClientToken="fill-up"))
    assert again.InstanceIdSet == first.InstanceIdSet
    t.expect_error(lambda: run(client, ClientToken="another"), "LimitExceeded.InstanceQuota")


def test_different_client_tokens_launch_different_instances(client):
    a = run(client, ClientToken="token-a")
    b = run(client, ClientToken="token-b")
    assert set(a).isdisjoint(b)
    assert len(states(client)) == 2


def test_client_token_longer_than_64_characters_is_invalid_client_token_too_long(client):
    t.expect_error(lambda: run(client, ClientToken="x" * 65), "InvalidClientToken.TooLong")


# --- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["qcloud:x", "tencent:owner", "project"])
def test_reserved_tag_key_is_failed_operation_tag_key_reserved(client, key):
    t.expect_error(lambda: run(client, TagSpecification=instance_tags(**{key: "v"})), "FailedOperation.TagKeyReserved")
    assert states(client) == {}


# --- ModifyInstancesAttribute / ResetInstancesType ------------------------------------------------


def test_renamed_instance_is_found_by_its_new_name(client):
    (iid,) = run(client, InstanceName="old-name")
    client.ModifyInstancesAttribute(ids_request(models.ModifyInstancesAttributeRequest, [iid], InstanceName="new-name"))
    assert one(client, iid).InstanceName == "new-name"
    assert _names(client, flt("instance-name", "new")) == ["new-name"]
    assert _names(client, flt("instance-name", "old")) == []


def test_modify_without_any_attribute_is_missing_parameter(client):
    (iid,) = run(client)
    # ModifyInstancesAttribute's model lists MissingParameter but not MissingParameter.AtLeastOne
    # (the official Go SDK's per-action list), so the bare family code is answered.
    t.expect_error(
        lambda: client.ModifyInstancesAttribute(ids_request(models.ModifyInstancesAttributeRequest, [iid])),
        "MissingParameter",
    )


def test_reset_instances_type_needs_a_stopped_instance_or_force_stop(tc, client):
    (iid,) = running(tc, client)
    req = ids_request(models.ResetInstancesTypeRequest, [iid], InstanceType="S5.LARGE16")
    t.expect_error(lambda: client.ResetInstancesType(req), "UnsupportedOperation.InstanceStateRunning")
    req.ForceStop = True
    client.ResetInstancesType(req)
    inst = one(client, iid)
    assert (inst.InstanceType, inst.CPU, inst.Memory, inst.InstanceState) == ("S5.LARGE16", 4, 16, "STOPPED")
    assert inst.LatestOperation == "ResetInstancesType"


def test_reset_to_a_sold_out_or_unsold_type_is_refused(tc, client):
    (iid,) = running(tc, client)
    sold_out = ids_request(models.ResetInstancesTypeRequest, [iid], InstanceType="S5.LARGE8", ForceStop=True)
    t.expect_error(lambda: client.ResetInstancesType(sold_out), "ResourcesSoldOut.SpecifiedInstanceType")
    gpu = ids_request(models.ResetInstancesTypeRequest, [iid], InstanceType="GN7.2XLARGE32", ForceStop=True)
    t.expect_error(lambda: client.ResetInstancesType(gpu), "ResourceUnavailable.InstanceType")
    # A type that exists nowhere: ResetInstancesType's model lists
    # ResourceNotFound.InvalidZoneInstanceType, not InvalidParameterValue.InstanceTypeNotFound
    # (that one is RunInstances'), per the official Go SDK's per-action lists.
    unknown = ids_request(models.ResetInstancesTypeRequest, [iid], InstanceType="S5.HUGE999", ForceStop=True)
    t.expect_error(lambda: client.ResetInstancesType(unknown), "ResourceNotFound.InvalidZoneInstanceType")
    assert one(client, iid).InstanceType == "S5.MEDIUM2"


# --- key pairs ----------------------------------------------------------------------------------


def test_created_key_pair_returns_its_openssh_private_key_once(client):
    kp = create_key(client, "ci_key")
    assert isinstance(kp, models.KeyPair)
    assert KEY_ID_RE.match(kp.KeyId)
    assert kp.KeyName == "ci_key"
    assert kp.PublicKey.startswith("ssh-ed25519 ")
    assert kp.PrivateKey.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    listed = key_pairs(client, [kp.KeyId])
    assert listed.TotalCount == 1
    assert listed.KeyPairSet[0].PublicKey == kp.PublicKey
    assert listed.KeyPairSet[0].PrivateKey is None


def test_imported_public_key_is_listed_and_its_name_is_unique(client):
    req = models.ImportKeyPairRequest()
    req.KeyName, req.ProjectId = "laptop", 0
    req.PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGX7iEAd89GFJIuBy69pz9Ttc9/yYJ2njE+BdC2lQ/Ca me@laptop"
    key_id = client.ImportKeyPair(req).KeyId
    assert KEY_ID_RE.match(key_id)
    assert key_pairs(client, [key_id]).KeyPairSet[0].PublicKey.startswith(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGX7iEAd89GFJIuBy69pz9Ttc9/yYJ2njE+BdC2lQ/Ca"
    )
    t.expect_error(lambda: create_key(client, "laptop"), "InvalidKeyPairName.Duplicate")


def test_key_pair_name_with_a_dash_is_invalid_key_pair_name_include_illegal_char(client):
    t.expect_error(lambda: create_key(client, "ci-key"), "InvalidKeyPairNameIncludeIllegalChar")


def test_key_pair_bound_at_launch_shows_on_the_instance_and_the_key(client):
    kp = create_key(client, "deploy")
    (iid,) = run(client, LoginSettings=login_keys(kp.KeyId))
    assert one(client, iid).LoginSettings.KeyIds == [kp.KeyId]
    assert key_pairs(client, [kp.KeyId]).KeyPairSet[0].AssociatedInstanceIds == [iid]


def test_unknown_key_in_login_settings_is_invalid_parameter_value_key_pair_not_found(client):
    # RunInstances' model lists InvalidParameterValue.KeyPairNotFound; the former
    # ResourceNotFound.KeyPairNotFound is not in it (official Go SDK per-action list).
    err = t.expect_error(
        lambda: run(client, LoginSettings=login_keys("skey-00000000")), "InvalidParameterValue.KeyPairNotFound"
    )
    assert "skey-00000000" in err.get_message(), err.get_message()
    assert states(client) == {}


def test_deleting_a_bound_key_pair_is_resource_in_use_and_keeps_key_and_binding(client):
    kp = create_key(client, "deploy")
    (iid,) = run(client, LoginSettings=login_keys(kp.KeyId))
    err = t.expect_error(lambda: delete_keys(client, [kp.KeyId]), "ResourceInUse")
    assert kp.KeyId in err.get_message() and iid in err.get_message()
    listed = key_pairs(client, [kp.KeyId])
    assert listed.TotalCount == 1
    assert listed.KeyPairSet[0].AssociatedInstanceIds == [iid]


def test_key_pair_bound_to_a_terminating_instance_is_still_in_use(tc, client):
    kp = create_key(client, "deploy")
    (iid,) = running(tc, client, LoginSettings=login_keys(kp.KeyId))
    terminate(client, [iid])
    t.expect_error(lambda: delete_keys(client, [kp.KeyId]), "ResourceInUse")


def test_key_pair_is_deleted_once_its_instance_has_terminated(tc, client):
    kp = create_key(client, "deploy")
    (iid,) = running(tc, client, LoginSettings=login_keys(kp.KeyId))
    terminate(client, [iid])
    t.advance_clock(tc, TERMINATE_S)
    assert key_pairs(client, [kp.KeyId]).KeyPairSet[0].AssociatedInstanceIds == []
    delete_keys(client, [kp.KeyId])
    assert key_pairs(client).TotalCount == 0
    t.expect_error(lambda: delete_keys(client, [kp.KeyId]), "InvalidKeyPairId.NotFound")


def test_associating_a_key_needs_a_stopped_instance_or_force_stop(tc, client):
    first = create_key(client, "first")
    second = create_key(client, "second")
    (iid,) = running(tc, client, LoginSettings=login_keys(first.KeyId))
    req = models.AssociateInstancesKeyPairsRequest()
    req.InstanceIds, req.KeyIds = [iid], [second.KeyId]
    t.expect_error(lambda: client.AssociateInstancesKeyPairs(req), "UnsupportedOperation.InstanceStateRunning")
    req.ForceStop = True
    client.AssociateInstancesKeyPairs(req)
    inst = one(client, iid)
    assert inst.LoginSettings.KeyIds == [first.KeyId, second.KeyId]
    assert inst.InstanceState == "STOPPED"

    un = models.DisassociateInstancesKeyPairsRequest()
    un.InstanceIds, un.KeyIds = [iid], [first.KeyId]
    client.DisassociateInstancesKeyPairs(un)
    assert one(client, iid).LoginSettings.KeyIds == [second.KeyId]
    delete_keys(client, [first.KeyId])
    assert [k.KeyId for k in key_pairs(client).KeyPairSet] == [second.KeyId]


def test_windows_instance_refuses_key_pairs(tc, client):
    kp = create_key(client, "ops")
    (iid,) = running(tc, client, image_id=WINDOWS)
    req = models.AssociateInstancesKeyPairsRequest()
    req.InstanceIds, req.KeyIds, req.ForceStop = [iid], [kp.KeyId], True
    # AssociateInstancesKeyPairs' model lists UnsupportedOperation.InstanceOsWindows;
    # UnsupportedOperation.KeyPairUnsupportedWindows is RunInstances' code (not this action's).
    t.expect_error(lambda: client.AssociateInstancesKeyPairs(req), "UnsupportedOperation.InstanceOsWindows")


def test_malformed_key_id_is_invalid_key_pair_id_malformed(client):
    t.expect_error(lambda: key_pairs(client, ["skey-1122"]), "InvalidKeyPairId.Malformed")


# --- catalogue actions -------------------------------------------------------------------------


def test_ap_guangzhou_3_sells_s5_sa2_m5_and_no_gpu(client):
    req = models.DescribeInstanceTypeConfigsRequest()
    req.Filters = [flt("zone", "ap-guangzhou-3")]
    resp = client.DescribeInstanceTypeConfigs(req)
    families = {c.InstanceFamily for c in resp.InstanceTypeConfigSet}
    assert {"S5", "SA2", "M5"} <= families
    assert "GN7" not in families
    assert all(c.GPU == 0 for c in resp.InstanceTypeConfigSet)
    large8 = next(c for c in resp.InstanceTypeConfigSet if c.InstanceType == "S5.LARGE8")
    assert (large8.Zone, large8.CPU, large8.Memory) == ("ap-guangzhou-3", 4, 8)


def test_public_images_are_described_by_id(client):
    req = models.DescribeImagesRequest()
    req.ImageIds = [TENCENTOS, UBUNTU, WINDOWS]
    resp = client.DescribeImages(req)
    assert resp.TotalCount == 3
    images = {i.ImageId: i for i in resp.ImageSet}
    assert images[TENCENTOS].OsName == "TencentOS Server 3.1 (TK4)"
    assert images[UBUNTU].OsName == "Ubuntu Server 22.04 LTS 64bit"
    assert images[WINDOWS].Platform == "Windows"
    assert {i.ImageType for i in resp.ImageSet} == {"PUBLIC_IMAGE"}


# --- emulated time, regions, accounts ----------------------------------------------------------------


def test_clock_advance_moves_emulated_time_forward_only(tc):
    before = t.emulated_now_ms(tc)
    after = t.advance_clock(tc, 3600)
    assert after - before >= 3_600_000
    status, _ = t.control(tc, "POST", "/_tclocal/clock/advance?seconds=-5")
    assert status == 400
    status, _ = t.control(tc, "POST", "/_tclocal/clock/advance?seconds=soon")
    assert status == 400


def test_signatures_keep_wall_time_after_emulated_time_moves_a_day(tc, client):
    # A day is far beyond --max-skew (300 s): the SDK's wall-clock timestamp is still accepted.
    t.advance_clock(tc, 86_400)
    (iid,) = run(client)
    assert states(client, [iid]) == {iid: "PENDING"}


def test_instances_of_one_region_are_invisible_from_another(tc, client):
    (iid,) = run(client)
    shanghai = t.cvm(tc, "ap-shanghai")
    assert describe(shanghai).TotalCount == 0
    assert states(shanghai) == {}
    t.expect_error(lambda: terminate(shanghai, [iid]), "InvalidInstanceId.NotFound")


def test_instances_of_one_account_are_invisible_to_another(tc, client):
    # A second account from the control plane (its own AppId, OwnerUin and root key).
    status, other = t.control(tc, "POST", "/_tclocal/accounts")
    assert status == 201, other
    theirs = t.cvm(tc, secret_id=other["SecretId"], secret_key=other["SecretKey"])

    (mine,) = run(client, InstanceName="mine")
    kp = create_key(client, "deploy")
    assert describe(theirs).TotalCount == 0
    assert describe(theirs, [mine]).TotalCount == 0
    assert states(theirs) == {}
    assert key_pairs(theirs).TotalCount == 0
    t.expect_error(lambda: terminate(theirs, [mine]), "InvalidInstanceId.NotFound")
    t.expect_error(lambda: delete_keys(theirs, [kp.KeyId]), "InvalidKeyPairId.NotFound")

    # Their instances are theirs: the same names, ids of their own, and the first account
    # still sees only its own.
    (yours,) = run(theirs, InstanceName="mine")
    assert yours != mine
    assert [i.InstanceId for i in describe(theirs).InstanceSet] == [yours]
    assert [i.InstanceId for i in describe(client).InstanceSet] == [mine]
    assert states(client, [mine]) == {mine: "PENDING"}

"""Snapshots, resets and seeds, seen through the official SDK: what a test suite does
between its cases (save, reset, load) and at start-up (`--seed`)."""

from __future__ import annotations

import json

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.cvm.v20170312 import models

import tcsupport as t


def _run(client, name: str, count: int = 1) -> list[str]:
    req = models.RunInstancesRequest()
    req.Placement = models.Placement()
    req.Placement.Zone = "ap-guangzhou-3"
    req.InstanceType = "S5.MEDIUM2"
    req.ImageId = "img-zsxdft8i"
    req.InstanceCount = count
    req.InstanceName = name
    return list(client.RunInstances(req).InstanceIdSet)


def _instances(client) -> dict[str, str]:
    resp = client.DescribeInstances(models.DescribeInstancesRequest())
    assert resp.TotalCount == len(resp.InstanceSet)
    return {i.InstanceId: i.InstanceName for i in resp.InstanceSet}


def test_save_reset_and_load_round_trip_instances_seen_by_the_sdk(tclocal_serve):
    server = tclocal_serve("state", "--cvm-timings", "instant")
    client = t.cvm(server)
    ids = _run(client, "web", 2) + _run(client, "db")
    before = _instances(client)
    assert set(before) == set(ids)

    status, snapshot = t.control(server, "GET", "/_tclocal/state")
    assert status == 200, snapshot
    assert snapshot["format"] == "tclocal-state" and snapshot["version"] == 2
    assert t.DEV_SECRET_KEY not in json.dumps(snapshot), "no secrets without ?secrets=true"

    status, body = t.control(server, "POST", "/_tclocal/reset")
    assert status == 200, body
    assert _instances(client) == {}, "reset empties CVM"
    # The root key comes back with the default account.
    assert t.cvm(server).DescribeZones(models.DescribeZonesRequest()).TotalCount > 0

    status, body = t.control(server, "PUT", "/_tclocal/state", snapshot)
    assert status == 200, body
    assert _instances(client) == before, "loading the snapshot restores every instance"


def test_reset_of_one_service_keeps_the_others(tclocal_serve):
    server = tclocal_serve("state-scope", "--cvm-timings", "instant")
    _run(t.cvm(server), "app")
    cred = credential.Credential(t.DEV_SECRET_ID, t.DEV_SECRET_KEY)
    cam = cam_client.CamClient(cred, "", t.profile(server))
    req = cam_models.AddUserRequest()
    req.Name = "ci-bot"
    req.UseApi = 1
    cam.AddUser(req)

    status, body = t.control(server, "POST", "/_tclocal/reset?service=cvm")
    assert status == 200, body
    assert _instances(t.cvm(server)) == {}
    get = cam_models.GetUserRequest()
    get.Name = "ci-bot"
    assert cam.GetUser(get).Name == "ci-bot", "CAM is untouched by a CVM reset"

    status, body = t.control(server, "POST", "/_tclocal/reset?service=s3")
    assert status == 400 and "cvm" in body["error"], body


def test_seed_file_is_there_before_the_first_call(tclocal_serve, tmp_path):
    source = tclocal_serve("seed-source", "--cvm-timings", "instant")
    ids = _run(t.cvm(source), "seeded", 3)
    status, snapshot = t.control(source, "GET", "/_tclocal/state?service=cvm")
    assert status == 200, snapshot
    seed = tmp_path / "fixtures.json"
    seed.write_text(json.dumps(snapshot))

    server = tclocal_serve("seeded", "--seed", str(seed))
    status, body = t.control(server, "GET", "/_tclocal/ready")
    assert status == 200, body
    assert set(_instances(t.cvm(server))) == set(ids)


def test_one_account_is_saved_reset_and_loaded_while_another_keeps_working(tclocal_serve):
    """What parallel CI jobs sharing one tclocal do: each owns an account and resets or
    restores only its own, while the other job's instances stay."""
    server = tclocal_serve("state-account", "--cvm-timings", "instant")
    status, account = t.control(server, "POST", "/_tclocal/accounts")
    assert status == 201, account
    app_id, owner = str(account["AppId"]), account["OwnerUin"]
    mine = t.cvm(server)
    theirs = t.cvm(server, secret_id=account["SecretId"], secret_key=account["SecretKey"])
    my_ids = _run(mine, "mine")
    their_ids = _run(theirs, "theirs", 2)

    status, snapshot = t.control(server, "GET", f"/_tclocal/state?account={owner}")
    assert status == 200, snapshot
    assert snapshot["scope"]["account"] == app_id, "the file names the account by AppId"
    rows = snapshot["tables"]["cvm.instances"]
    assert len(rows) == 2 and all(k.startswith(f"{app_id}/") for k in rows), rows
    assert list(snapshot["tables"]["identity.accounts"]) == [app_id]

    _run(theirs, "later")
    status, body = t.control(server, "POST", f"/_tclocal/reset?account={app_id}")
    assert status == 200, body
    assert _instances(theirs) == {}, "the account's instances are gone"
    assert set(_instances(mine)) == set(my_ids), "the other account's stay"
    # The account and its root key survive its reset.
    assert theirs.DescribeZones(models.DescribeZonesRequest()).TotalCount > 0

    status, body = t.control(server, "PUT", f"/_tclocal/state?account={app_id}", snapshot)
    assert status == 200, body
    assert set(_instances(theirs)) == set(their_ids), "the saved instances are back"
    assert set(_instances(mine)) == set(my_ids), "loading one account leaves the other"

    status, body = t.control(server, "POST", "/_tclocal/reset?account=123")
    assert status == 404 and "123" in body["error"], body


def test_snapshots_carry_emulated_time(tclocal_serve):
    source = tclocal_serve("state-clock-source")
    t.advance_clock(source, 7200)
    status, snapshot = t.control(source, "GET", "/_tclocal/state")
    assert status == 200, snapshot
    assert snapshot["clock"]["offset_ms"] == 7_200_000

    target = tclocal_serve("state-clock-target")
    before = t.emulated_now_ms(target)
    status, body = t.control(target, "PUT", "/_tclocal/state", snapshot)
    assert status == 200, body
    assert t.emulated_now_ms(target) >= before + 7_200_000, "an import moves time forward"

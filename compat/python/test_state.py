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
    assert snapshot["format"] == "tclocal-state" and snapshot["version"] == 1
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

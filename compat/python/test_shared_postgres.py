"""Two tclocal processes on one PostgreSQL database, driven by the official SDK: what
parallel CI jobs pointed at one shared emulated cloud rely on. Needs
TCLOCAL_TEST_POSTGRES_URL (scripts/test.sh runs the suites under scripts/postgres.sh);
skipped without it."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.cvm.v20170312 import models

import tcsupport as t

URL = os.environ.get("TCLOCAL_TEST_POSTGRES_URL", "")
QUOTA = 6

pytestmark = pytest.mark.skipif(
    not URL, reason="TCLOCAL_TEST_POSTGRES_URL is not set (scripts/postgres.sh sets it)"
)


def _run_request(token: str | None = None) -> models.RunInstancesRequest:
    req = models.RunInstancesRequest()
    req.Placement = models.Placement()
    req.Placement.Zone = "ap-guangzhou-3"
    req.InstanceType = "S5.MEDIUM2"
    req.ImageId = "img-zsxdft8i"
    req.InstanceCount = 1
    if token:
        req.ClientToken = token
    return req


def _attempt(client, token: str | None = None):
    try:
        return ("ok", list(client.RunInstances(_run_request(token)).InstanceIdSet))
    except TencentCloudSDKException as e:
        t.assert_request_id(e.get_request_id())
        return (e.get_code(), None)


def _ids(client) -> set[str]:
    req = models.DescribeInstancesRequest()
    req.Limit = 100
    return {i.InstanceId for i in client.DescribeInstances(req).InstanceSet}


@pytest.fixture
def pair(tclocal_serve):
    flags = ("--store", URL, "--cvm-timings", "instant", "--cvm-instance-quota", str(QUOTA))
    a = tclocal_serve("shared-a", *flags)
    status, _ = t.control(a, "POST", "/_tclocal/reset")
    assert status == 200
    b = tclocal_serve("shared-b", *flags)
    return t.cvm(a), t.cvm(b)


def test_a_client_token_raced_through_two_processes_creates_once(pair):
    a, b = pair
    clients = [a, b] * 4
    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(lambda c: _attempt(c, "py-shared-token"), clients))
    answered = {tuple(ids) for code, ids in results if code == "ok"}
    assert [code for code, _ in results] == ["ok"] * len(clients), results
    assert len(answered) == 1, answered
    assert _ids(a) == _ids(b) == set(next(iter(answered)))


def test_a_quota_holds_across_two_processes_and_both_show_the_same_instances(pair):
    a, b = pair
    clients = [a, b] * 6
    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(_attempt, clients))
    codes = [code for code, _ in results]
    assert codes.count("ok") == QUOTA, codes
    assert all(c == "ok" or c.startswith("LimitExceeded") for c in codes), codes
    assert len(_ids(a)) == QUOTA
    assert _ids(a) == _ids(b)


def test_a_stop_raced_through_two_processes_happens_once(pair):
    a, b = pair
    [instance] = a.RunInstances(_run_request()).InstanceIdSet

    def stop(client):
        req = models.StopInstancesRequest()
        req.InstanceIds = [instance]
        try:
            client.StopInstances(req)
            return "ok"
        except TencentCloudSDKException as e:
            return e.get_code()

    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(stop, [a, b]))
    assert codes.count("ok") == 1, codes

"""The control plane through the official Python SDK: the journal finds every RequestId the
SDK saw, fault rules make calls fail on purpose, and rate limits answer RequestLimitExceeded,
which the SDK's opt-in retryer retries until it succeeds."""

from __future__ import annotations

import json
import logging
import time
import urllib.request

import pytest
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.retry import StandardRetryer
from tencentcloud.common import credential
from tencentcloud.cvm.v20170312 import cvm_client, models

import tcsupport as t


def post_json(server, path: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        server.url + path,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_journal_finds_a_successful_call_by_its_request_id(server):
    resp = t.cvm(server).DescribeZones(models.DescribeZonesRequest())
    status, entry = t.control(server, "GET", f"/_tclocal/requests/{resp.RequestId}")
    assert status == 200
    assert entry["request_id"] == resp.RequestId
    assert entry["code"] is None
    assert entry["action"] == "DescribeZones"
    assert entry["service"] == "cvm"
    assert entry["auth"] == "verified"
    assert entry["client"].startswith("SDK_PYTHON_")
    assert entry["trace_id"], "the Python SDK sends X-TC-TraceId"


def test_journal_finds_a_failed_call_and_shows_what_the_server_signed(server):
    bad = t.cvm(server, secret_key="x" * 32)
    err = t.expect_error(lambda: bad.DescribeZones(models.DescribeZonesRequest()), "AuthFailure.SignatureFailure")
    status, entry = t.control(server, "GET", f"/_tclocal/requests/{err.get_request_id()}")
    assert status == 200
    assert entry["code"] == "AuthFailure.SignatureFailure"
    assert entry["signature"]["canonical_request"].startswith("POST\n/\n\ncontent-type:application/json\n")
    assert "x" * 32 not in json.dumps(entry), "the journal holds no secret"
    status, listing = t.control(server, "GET", "/_tclocal/requests?code=AuthFailure.SignatureFailure&limit=50")
    assert err.get_request_id() in [e["request_id"] for e in listing["requests"]]


def test_fault_rule_fails_describe_instances_status_until_removed(tclocal_serve):
    server = tclocal_serve("faults")
    client = t.cvm(server)
    status, rule = post_json(
        server,
        "/_tclocal/faults",
        {"service": "cvm", "action": "DescribeInstancesStatus", "code": "InternalError", "probability": 1.0},
    )
    assert status == 201, rule
    for _ in range(3):
        t.expect_error(lambda: client.DescribeInstancesStatus(models.DescribeInstancesStatusRequest()), "InternalError")
    # Other actions are untouched.
    client.DescribeZones(models.DescribeZonesRequest())
    req = urllib.request.Request(server.url + f"/_tclocal/faults/{rule['id']}", method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 204
    resp = client.DescribeInstancesStatus(models.DescribeInstancesStatusRequest())
    assert resp.TotalCount == 0


def test_rate_limit_is_request_limit_exceeded_and_the_sdk_retryer_retries(tclocal_serve):
    server = tclocal_serve("ratelimit", "--rate-limit", "DescribeZones=2")
    plain = t.cvm(server)
    codes = []
    for _ in range(6):
        try:
            plain.DescribeZones(models.DescribeZonesRequest())
            codes.append("ok")
        except Exception as e:  # noqa: BLE001 - the SDK's exception carries the code
            codes.append(e.get_code())
    assert codes[:2] == ["ok", "ok"] and "RequestLimitExceeded" in codes, codes

    # The SDK's opt-in retryer retries RequestLimitExceeded with its backoff, and tclocal
    # answers the retry that lands in the next second with success. (tencentcloud-sdk-python
    # 3.1.x keeps the first error once one attempt failed, so StandardRetryer raises it even
    # after a successful retry: the server side is what this test can hold tclocal to.)
    time.sleep(1.1)
    retry_profile: ClientProfile = t.profile(server)
    retry_profile.retryer = StandardRetryer(max_attempts=3, backoff_fn=lambda n: 1.0, logger=logging.getLogger("retry"))
    retrying = cvm_client.CvmClient(credential.Credential(t.DEV_SECRET_ID, t.DEV_SECRET_KEY), t.REGION, retry_profile)
    before = t.control(server, "GET", "/_tclocal/requests?action=DescribeZones&limit=1000")[1]["total"]
    for _ in range(3):
        try:
            retrying.DescribeZones(models.DescribeZonesRequest())
        except Exception as e:  # noqa: BLE001
            assert e.get_code() == "RequestLimitExceeded", e
    status, listing = t.control(server, "GET", "/_tclocal/requests?action=DescribeZones&limit=1000")
    after = listing["total"]
    assert after - before == 5, "two calls pass, the third is retried twice"
    recent = [e["code"] for e in reversed(listing["requests"][: after - before])]
    assert recent == [None, None, "RequestLimitExceeded", None, None], recent


def test_documented_rate_limits_apply_to_actions_the_model_limits(tclocal_serve):
    server = tclocal_serve("documented", "--rate-limits", "documented")
    ocr = t.common(server, service="ocr", version="2018-11-19")
    # RecognizeStoreName is documented at 1 request per second; tclocal validates it and
    # answers that it does not emulate OCR, or that the limit is exceeded.
    codes = []
    for _ in range(3):
        try:
            ocr.call_json("RecognizeStoreName", {})
        except Exception as e:  # noqa: BLE001
            codes.append(e.get_code())
    assert codes[0] == "UnsupportedOperation", codes
    assert "RequestLimitExceeded" in codes[1:], codes

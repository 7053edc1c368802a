"""--auth off / soft and --max-skew change what the signature checks let through."""

import time
import types

import pytest
from tencentcloud.common import abstract_client
from tencentcloud.cvm.v20170312 import models

import tcsupport as t

WRONG_KEY = "w" * 32


def _status(client):
    return client.DescribeInstancesStatus(models.DescribeInstancesStatusRequest())


def test_strict_default_rejects_the_wrong_secret_key(server):
    t.expect_error(lambda: _status(t.cvm(server, secret_key=WRONG_KEY)), "AuthFailure.SignatureFailure")


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1"])
def test_auth_off_accepts_the_wrong_secret_key(server_auth_off, sign_method):
    resp = _status(t.cvm(server_auth_off, secret_key=WRONG_KEY, sign_method=sign_method))
    assert resp.TotalCount == 0 and resp.InstanceStatusSet == []
    t.assert_request_id(resp.RequestId)


def test_auth_off_still_validates_parameters(server_auth_off):
    t.expect_error(
        lambda: t.cvm(server_auth_off, secret_key=WRONG_KEY).DescribeInstancesStatus(_limit(101)),
        "InvalidParameterValue",
    )


def _limit(n):
    req = models.DescribeInstancesStatusRequest()
    req.Limit = n
    return req


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256"])
def test_auth_soft_serves_a_request_with_a_wrong_signature(server_auth_soft, sign_method):
    resp = _status(t.cvm(server_auth_soft, secret_key=WRONG_KEY, sign_method=sign_method))
    assert resp.TotalCount == 0 and resp.InstanceStatusSet == []
    t.assert_request_id(resp.RequestId)


def test_auth_soft_serves_a_correctly_signed_request(server_auth_soft):
    assert _status(t.cvm(server_auth_soft)).TotalCount == 0


def _skewed(monkeypatch, seconds):
    real = time.time
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: real() + seconds))


def test_max_skew_flag_tightens_the_timestamp_window(server_max_skew_60, server, monkeypatch):
    _skewed(monkeypatch, -120)
    t.expect_error(lambda: _status(t.cvm(server_max_skew_60)), "AuthFailure.SignatureExpire")
    # The same 120 s skew is inside the default 300 s window.
    assert _status(t.cvm(server)).TotalCount == 0


def test_max_skew_flag_still_accepts_a_small_skew(server_max_skew_60, monkeypatch):
    _skewed(monkeypatch, 30)
    assert _status(t.cvm(server_max_skew_60)).TotalCount == 0

"""Each common error code the contract makes reachable, as the SDK's exception code."""

import time
import types
import urllib.request

import pytest
from tencentcloud.common import abstract_client
from tencentcloud.cvm.v20170312 import models

import tcsupport as t


def _status_req(**fields):
    req = models.DescribeInstancesStatusRequest()
    for k, v in fields.items():
        setattr(req, k, v)
    return req


# --- method ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_http_method_is_unsupported_protocol_enveloped_200(server, method):
    req = urllib.request.Request(server.url + "/", method=method, data=b"{}" if method != "DELETE" else None)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        resp = t.RawResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    t.assert_enveloped_error(resp, "UnsupportedProtocol")


# --- common parameters ---------------------------------------------------------------------


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1"])
def test_cvm_call_without_region_is_missing_parameter(server, sign_method):
    err = t.expect_error(
        lambda: t.cvm(server, "", sign_method=sign_method).DescribeInstancesStatus(_status_req()), "MissingParameter"
    )
    assert "Region" in err.get_message()


def test_bare_get_without_any_parameter_is_missing_parameter_action(server):
    resp = t.raw_request(server, "GET", "/")
    r = t.assert_enveloped_error(resp, "MissingParameter")
    assert "Action" in r["Error"]["Message"]


@pytest.mark.parametrize("header", ["X-TC-Action", "X-TC-Version"])
def test_tc3_request_without_action_or_version_header_is_missing_parameter(server, header):
    headers = t.tc3_headers(host=server.endpoint, action="DescribeInstancesStatus", body=b"{}", language="en-US")
    del headers[header]
    r = t.assert_enveloped_error(t.raw_request(server, "POST", headers=headers, body=b"{}"), "MissingParameter")
    name = header.split("-")[-1]
    assert f"`{name}`" in r["Error"]["Message"], r


def test_start_instances_without_instance_ids_is_missing_parameter(server):
    err = t.expect_error(lambda: t.cvm(server).StartInstances(models.StartInstancesRequest()), "MissingParameter")
    assert "InstanceIds" in err.get_message()


# --- Authorization header ----------------------------------------------------------------

MALFORMED_AUTHORIZATIONS = [
    "garbage",
    "TC3-HMAC-SHA256",
    "TC3-HMAC-SHA256 Credential=AKIDtclocalDevelopmentKey00000000000/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host",
    "TC3-HMAC-SHA256 Credential=AKIDtclocalDevelopmentKey00000000000, SignedHeaders=content-type;host, Signature=00",
]


@pytest.mark.parametrize("authorization", MALFORMED_AUTHORIZATIONS, ids=["garbage", "algorithm-only", "no-signature", "no-scope"])
def test_malformed_authorization_from_patched_sdk_is_invalid_authorization(server, monkeypatch, authorization):
    original = abstract_client.AbstractClient._build_req_with_tc3_signature

    def build(self, action, params, req, options=None):
        original(self, action, params, req, options)
        req.header["Authorization"] = authorization

    monkeypatch.setattr(abstract_client.AbstractClient, "_build_req_with_tc3_signature", build)
    t.expect_error(lambda: t.cvm(server).DescribeInstancesStatus(_status_req()), "AuthFailure.InvalidAuthorization")


def test_raw_request_with_garbage_authorization_is_invalid_authorization(server):
    headers = t.tc3_headers(host=server.endpoint, action="DescribeInstancesStatus", body=b"{}")
    headers["Authorization"] = "Basic dXNlcjpwYXNz"
    t.assert_enveloped_error(t.raw_request(server, "POST", headers=headers, body=b"{}"), "AuthFailure.InvalidAuthorization")


# --- timestamp -----------------------------------------------------------------------------


def _skewed(monkeypatch, seconds):
    real = time.time
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: real() + seconds))


@pytest.mark.parametrize("skew", [-3600, -420, 420, 3600], ids=["1h-past", "7min-past", "7min-future", "1h-future"])
@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256"])
def test_timestamp_outside_max_skew_is_signature_expire(server, monkeypatch, skew, sign_method):
    _skewed(monkeypatch, skew)
    t.expect_error(
        lambda: t.cvm(server, sign_method=sign_method).DescribeInstancesStatus(_status_req()),
        "AuthFailure.SignatureExpire",
    )


@pytest.mark.parametrize("skew", [-200, 200], ids=["200s-past", "200s-future"])
def test_timestamp_inside_max_skew_is_accepted(server, monkeypatch, skew):
    _skewed(monkeypatch, skew)
    resp = t.cvm(server).DescribeInstancesStatus(_status_req())
    assert resp.TotalCount == 0


# --- credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1"])
def test_secret_id_that_is_not_key_shaped_is_invalid_secret_id(server, sign_method):
    t.expect_error(
        lambda: t.cvm(server, secret_id="not-a-key", sign_method=sign_method).DescribeInstancesStatus(_status_req()),
        "AuthFailure.InvalidSecretId",
    )


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1"])
def test_key_shaped_secret_id_never_issued_is_secret_id_not_found(server, sign_method):
    t.expect_error(
        lambda: t.cvm(server, secret_id=t.UNKNOWN_SECRET_ID, sign_method=sign_method).DescribeInstancesStatus(
            _status_req()
        ),
        "AuthFailure.SecretIdNotFound",
    )


def test_wrong_secret_key_is_signature_failure(server):
    t.expect_error(
        lambda: t.cvm(server, secret_key=t.DEV_SECRET_KEY[:-1] + "1").DescribeInstancesStatus(_status_req()),
        "AuthFailure.SignatureFailure",
    )


def test_signature_expire_is_checked_before_the_secret_id(server, monkeypatch):
    # Check order (architecture.md §1.2): timestamp skew -> SecretId -> signature.
    _skewed(monkeypatch, -3600)
    t.expect_error(
        lambda: t.cvm(server, secret_id=t.UNKNOWN_SECRET_ID).DescribeInstancesStatus(_status_req()),
        "AuthFailure.SignatureExpire",
    )


# --- service, version, action ------------------------------------------------------------


def test_unknown_version_is_no_such_version(server):
    t.expect_error(lambda: t.common(server, "cvm", "2099-01-01").call_json("DescribeInstancesStatus", {}), "NoSuchVersion")


def test_unknown_action_is_invalid_action(server):
    t.expect_error(lambda: t.common(server).call_json("NoSuchAction", {}), "InvalidAction")


# --- region --------------------------------------------------------------------------------


def test_unknown_region_is_invalid_parameter_value(server):
    err = t.expect_error(lambda: t.cvm(server, "gz").DescribeInstancesStatus(_status_req()), "InvalidParameterValue")
    assert "Region" in err.get_message()


def test_region_without_cvm_is_unsupported_region(server):
    t.expect_error(lambda: t.cvm(server, "na-toronto").DescribeInstancesStatus(_status_req()), "UnsupportedRegion")


# --- parameters ----------------------------------------------------------------------------


def test_extra_member_is_unknown_parameter(server):
    err = t.expect_error(lambda: t.common(server).call_json("DescribeInstancesStatus", {"Foo": 1}), "UnknownParameter")
    assert "Foo" in err.get_message()


def test_string_limit_is_invalid_parameter(server):
    err = t.expect_error(lambda: t.common(server).call_json("DescribeInstancesStatus", {"Limit": "abc"}), "InvalidParameter")
    assert "Limit" in err.get_message()


def test_limit_101_is_invalid_parameter_value(server):
    t.expect_error(lambda: t.cvm(server).DescribeInstancesStatus(_status_req(Limit=101)), "InvalidParameterValue")


def test_limit_100_is_accepted(server):
    assert t.cvm(server).DescribeInstancesStatus(_status_req(Limit=100)).TotalCount == 0


def test_negative_offset_is_invalid_parameter_value(server):
    t.expect_error(lambda: t.cvm(server).DescribeInstancesStatus(_status_req(Offset=-1)), "InvalidParameterValue")


def test_101_instance_ids_is_limit_exceeded(server):
    ids = [f"ins-{i:08x}" for i in range(101)]
    t.expect_error(
        lambda: t.cvm(server).DescribeInstancesStatus(_status_req(InstanceIds=ids)), "InvalidParameterValue.LimitExceeded"
    )


def test_malformed_instance_id_is_invalid_instance_id_malformed(server):
    t.expect_error(
        lambda: t.cvm(server).DescribeInstancesStatus(_status_req(InstanceIds=["bad-id"])), "InvalidInstanceId.Malformed"
    )


# DescribeInstancesOperationLimit is in the CVM model but not emulated (DescribeKeyPairs, used
# here before, is emulated now).


def _operation_limit_req(**fields):
    req = models.DescribeInstancesOperationLimitRequest()
    req.InstanceIds = ["ins-r8hr2upy"]
    req.Operation = "INSTANCE_DEGRADE"
    for k, v in fields.items():
        setattr(req, k, v)
    return req


def test_modelled_but_not_emulated_action_is_unsupported_operation(server):
    err = t.expect_error(
        lambda: t.cvm(server, language="en-US").DescribeInstancesOperationLimit(_operation_limit_req()),
        "UnsupportedOperation",
    )
    assert "DescribeInstancesOperationLimit" in err.get_message()


def test_not_emulated_action_still_validates_parameters_first(server):
    t.expect_error(
        lambda: t.common(server).call_json("DescribeInstancesOperationLimit", {"Operation": "INSTANCE_DEGRADE", "Foo": 1}),
        "UnknownParameter",
    )


def test_not_emulated_action_still_requires_its_required_members(server):
    err = t.expect_error(
        lambda: t.cvm(server).DescribeInstancesOperationLimit(_operation_limit_req(InstanceIds=None)),
        "MissingParameter",
    )
    assert "InstanceIds" in err.get_message()


# --- messages the real cloud is known to send (protocol.md §7, architecture.md §1.2) -------

EN_US_MESSAGES = {
    "missing-region": (
        lambda s: t.cvm(s, "", language="en-US").DescribeInstancesStatus(_status_req()),
        "MissingParameter",
        "The request is missing a required parameter `Region`.",
    ),
    "signature-failure": (
        lambda s: t.cvm(s, secret_key="y" * 32, language="en-US").DescribeInstancesStatus(_status_req()),
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    ),
    "secret-id-not-found": (
        lambda s: t.cvm(s, secret_id=t.UNKNOWN_SECRET_ID, language="en-US").DescribeInstancesStatus(_status_req()),
        "AuthFailure.SecretIdNotFound",
        "The SecretId is not found, please ensure that your SecretId is correct.",
    ),
    "invalid-action": (
        lambda s: t.common(s, language="en-US").call_json("NoSuchAction", {}),
        "InvalidAction",
        "The request `Action` is invalid or not found.",
    ),
    "bad-region": (
        lambda s: t.cvm(s, "gz", language="en-US").DescribeInstancesStatus(_status_req()),
        "InvalidParameterValue",
        "A value specified in `Region` is not valid, is unsupported, or cannot be used.",
    ),
    "unsupported-region": (
        lambda s: t.cvm(s, "na-toronto", language="en-US").DescribeInstancesStatus(_status_req()),
        "UnsupportedRegion",
        "The action not support this region.",
    ),
    "unknown-parameter": (
        lambda s: t.common(s, language="en-US").call_json("DescribeInstancesStatus", {"Foo": 1}),
        "UnknownParameter",
        "The parameter `Foo` is not recognized.",
    ),
}


@pytest.mark.parametrize("case", sorted(EN_US_MESSAGES))
def test_en_us_message_is_the_real_clouds_text(server, case):
    call, code, message = EN_US_MESSAGES[case]
    err = t.expect_error(lambda: call(server), code)
    assert err.get_message() == message


def test_en_us_signature_expire_message_is_the_real_clouds_text(server, monkeypatch):
    _skewed(monkeypatch, -3600)
    err = t.expect_error(
        lambda: t.cvm(server, language="en-US").DescribeInstancesStatus(_status_req()), "AuthFailure.SignatureExpire"
    )
    assert err.get_message() == "The signature is expired, please request again."

"""Every way the Python SDK puts a request on the wire is accepted (and checked)."""

import json

import pytest
from tencentcloud.cvm.v20170312 import models

import tcsupport as t

WRONG_KEY = "x" * len(t.DEV_SECRET_KEY)


def _status(client, **fields):
    req = models.DescribeInstancesStatusRequest()
    req.from_json_string(json.dumps(fields))
    return client.DescribeInstancesStatus(req)


def _assert_empty(resp):
    assert resp.TotalCount == 0
    assert resp.InstanceStatusSet == []
    t.assert_request_id(resp.RequestId)


def test_tc3_post_json_is_accepted(server, recorded):
    _assert_empty(_status(t.cvm(server), Limit=10, Offset=0))
    (req, _), = recorded
    assert req.method == "POST"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=" + t.DEV_SECRET_ID + "/")
    assert "/cvm/tc3_request" in req.headers["Authorization"]


def test_tc3_get_query_string_is_accepted_and_coerces_numbers(server, recorded):
    _assert_empty(_status(t.cvm(server, method="GET"), Limit=10, Offset=0))
    (req, _), = recorded
    assert req.method == "GET"
    assert "Limit=10" in req.url and "Offset=0" in req.url
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_tc3_get_flattened_list_parameter_is_rebuilt(server, recorded):
    # InstanceIds.0=bad-id: the list must be rebuilt from the dotted key, or the
    # id check could not see it.
    err = t.expect_error(lambda: _status(t.cvm(server, method="GET"), InstanceIds=["bad-id"]), "InvalidInstanceId.Malformed")
    assert err
    (req, _), = recorded
    assert "InstanceIds.0=bad-id" in req.url


def test_tc3_get_with_wrong_key_is_signature_failure(server):
    t.expect_error(lambda: _status(t.cvm(server, method="GET", secret_key=WRONG_KEY)), "AuthFailure.SignatureFailure")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("sign_method", ["HmacSHA1", "HmacSHA256"])
def test_v1_signature_is_accepted(server, recorded, sign_method, method):
    _assert_empty(_status(t.cvm(server, method=method, sign_method=sign_method), Limit=5))
    (req, _), = recorded
    assert req.method == method
    assert "Authorization" not in req.headers
    where = req.url if method == "GET" else req.body
    assert f"SignatureMethod={sign_method}" in where
    assert "Limit=5" in where


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("sign_method", ["HmacSHA1", "HmacSHA256"])
def test_v1_signature_with_wrong_key_is_signature_failure(server, sign_method, method):
    t.expect_error(
        lambda: _status(t.cvm(server, method=method, sign_method=sign_method, secret_key=WRONG_KEY)),
        "AuthFailure.SignatureFailure",
    )


@pytest.mark.parametrize("sign_method", ["HmacSHA1", "HmacSHA256"])
def test_v1_parameter_errors_are_reported_after_a_valid_signature(server, sign_method):
    t.expect_error(
        lambda: _status(t.cvm(server, sign_method=sign_method), Limit=101),
        "InvalidParameterValue",
    )


def test_unsigned_payload_is_accepted(server, recorded):
    _assert_empty(_status(t.cvm(server, unsigned_payload=True), Limit=3))
    (req, _), = recorded
    assert req.headers["X-TC-Content-SHA256"] == "UNSIGNED-PAYLOAD"


def test_unsigned_payload_with_wrong_key_is_signature_failure(server):
    t.expect_error(
        lambda: _status(t.cvm(server, unsigned_payload=True, secret_key=WRONG_KEY)),
        "AuthFailure.SignatureFailure",
    )


def test_endpoint_with_http_scheme_is_signed_with_the_literal_host(server, recorded):
    # HttpProfile(endpoint="http://127.0.0.1:PORT") sends that very string as Host
    # (scheme included) and signs it: the server must verify with the raw header.
    client = t.cvm(server, endpoint=server.url)
    _assert_empty(_status(client))
    (req, _), = recorded
    assert req.headers["Host"] == server.url


def test_endpoint_with_http_scheme_and_wrong_key_is_signature_failure(server):
    t.expect_error(
        lambda: _status(t.cvm(server, endpoint=server.url, secret_key=WRONG_KEY)),
        "AuthFailure.SignatureFailure",
    )


def test_localhost_endpoint_is_accepted(server, recorded):
    _assert_empty(_status(t.cvm(server, endpoint=f"localhost:{server.port}")))
    (req, _), = recorded
    assert req.headers["Host"] == f"localhost:{server.port}"


def test_tc3_body_is_hashed_raw_non_ascii_escapes_and_all(server):
    # json.dumps escapes non-ASCII as \\uXXXX; the hash covers those exact bytes.
    # The id is malformed on purpose: success of the signature check shows as the
    # business error, not AuthFailure.
    t.expect_error(lambda: _status(t.cvm(server), InstanceIds=["未命名"]), "InvalidInstanceId.Malformed")


def test_raw_tc3_with_extra_signed_header_like_the_official_demo(server):
    # The official signing demo signs content-type;host;x-tc-action with the value
    # lower-cased (protocol.md §3.2): any SignedHeaders list with content-type and
    # host must verify.
    body = b"{}"
    headers = t.tc3_headers(
        host=server.endpoint,
        action="DescribeInstancesStatus",
        body=body,
        extra_signed={"X-TC-Action": "DescribeInstancesStatus"},
    )
    assert "SignedHeaders=content-type;host;x-tc-action," in headers["Authorization"]
    resp = t.raw_request(server, "POST", headers=headers, body=body)
    assert resp.status == 200 and resp.content_type == "application/json"
    r = resp.json()["Response"]
    assert "Error" not in r, r
    assert r["TotalCount"] == 0 and r["InstanceStatusSet"] == []
    t.assert_request_id(r["RequestId"])


def test_raw_tc3_with_tampered_body_is_signature_failure(server):
    headers = t.tc3_headers(
        host=server.endpoint, action="DescribeInstancesStatus", body=b'{"Limit": 2}', signed_body=b'{"Limit": 1}'
    )
    resp = t.raw_request(server, "POST", headers=headers, body=b'{"Limit": 2}')
    t.assert_enveloped_error(resp, "AuthFailure.SignatureFailure")


def test_raw_tc3_signed_by_our_signer_is_accepted(server):
    # Guards the two tests above: our own signer produces signatures the server takes.
    body = b'{"Limit": 1}'
    headers = t.tc3_headers(host=server.endpoint, action="DescribeInstancesStatus", body=body)
    resp = t.raw_request(server, "POST", headers=headers, body=body)
    assert resp.status == 200 and resp.content_type == "application/json"
    r = resp.json()["Response"]
    assert "Error" not in r, r
    assert r["TotalCount"] == 0


def test_raw_tc3_signed_for_another_host_is_signature_failure(server):
    # The Node SDK's port-less host is accepted by a retry without the port; any
    # other host difference must still fail.
    body = b"{}"
    headers = t.tc3_headers(
        host=server.endpoint, action="DescribeInstancesStatus", body=body, signed_host=f"127.0.0.2:{server.port}"
    )
    t.assert_enveloped_error(t.raw_request(server, "POST", headers=headers, body=body), "AuthFailure.SignatureFailure")


def test_raw_tc3_signed_host_without_port_is_accepted(server):
    # What the Node SDK does (protocol.md §1.3, vector N2), reproduced byte for byte.
    body = b"{}"
    headers = t.tc3_headers(
        host=server.endpoint, action="DescribeInstancesStatus", body=body, signed_host="127.0.0.1", service="127"
    )
    resp = t.raw_request(server, "POST", headers=headers, body=body)
    r = resp.json()["Response"]
    assert "Error" not in r, r
    assert r["TotalCount"] == 0


def test_raw_tc3_scope_date_other_than_the_timestamps_is_signature_failure(server):
    # protocol.md §3.3: the credential-scope date must be the UTC date of X-TC-Timestamp.
    body = b"{}"
    headers = t.tc3_headers(host=server.endpoint, action="DescribeInstancesStatus", body=body, scope_date="2019-02-25")
    t.assert_enveloped_error(t.raw_request(server, "POST", headers=headers, body=body), "AuthFailure.SignatureFailure")


@pytest.mark.parametrize(
    "method,sign_method",
    [("GET", "TC3-HMAC-SHA256"), ("POST", "HmacSHA1"), ("GET", "HmacSHA256")],
)
def test_endpoint_with_http_scheme_in_every_mode(server, recorded, method, sign_method):
    # v1 signs "METHOD" + endpoint + "/?..." with that same literal endpoint string.
    client = t.cvm(server, endpoint=server.url, method=method, sign_method=sign_method)
    _assert_empty(_status(client, Limit=2))
    (req, _), = recorded
    assert req.headers["Host"] == server.url


def test_keep_alive_connection_serves_several_requests(server):
    client = t.cvm(server)
    client.profile.httpProfile.keepAlive = True
    client.request.set_keep_alive()
    ids = {_status(client).RequestId for _ in range(5)}
    assert len(ids) == 5


def test_concurrent_requests_are_all_answered(server):
    from concurrent.futures import ThreadPoolExecutor

    def one(i):
        return _status(t.cvm(server), Limit=1 + i % 100).RequestId

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(one, range(32)))
    assert len(set(ids)) == 32


AWKWARD_VALUE = "未 命名&x=y+z/%"


@pytest.mark.parametrize(
    "method,sign_method",
    [
        ("POST", "TC3-HMAC-SHA256"),
        ("GET", "TC3-HMAC-SHA256"),
        ("GET", "HmacSHA1"),
        ("POST", "HmacSHA1"),
        ("GET", "HmacSHA256"),
        ("POST", "HmacSHA256"),
    ],
)
def test_awkward_characters_are_signed_and_verified_as_sent(server, method, sign_method):
    # Non-ASCII, space (`+` from urlencode), `&`, `=`, `+`, `/`, `%` in a value: the
    # server must verify against the raw query/body (TC3) or the decoded values (v1).
    # The value is not a valid instance id, so a verified signature shows as that
    # business error rather than AuthFailure.
    t.expect_error(
        lambda: _status(t.cvm(server, method=method, sign_method=sign_method), InstanceIds=[AWKWARD_VALUE]),
        "InvalidInstanceId.Malformed",
    )

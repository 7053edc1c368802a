"""Every published product through the official Python SDK (issue 9).

tclocal embeds the models of all 262 products. A product it does not emulate is still
routed, authenticated and validated against its model; a valid call is then answered with
the documented not-emulated error (`UnsupportedOperation`, message naming the action,
product and version), or with `--stub-responses` a deterministic answer that follows the
output model. The SDK's generic `CommonClient` (in `tencentcloud-sdk-python-common`) speaks
to any product; the typed VPC client runs when `tencentcloud-sdk-python-vpc` is installed.
"""

from __future__ import annotations

import pytest

from tcsupport import (
    REGION,
    assert_request_id,
    common,
    expect_error,
    profile,
)

VPC = ("vpc", "2017-03-12")

NOT_EMULATED_EN = "The action `{0}` of `{1}` (version `{2}`) is valid but tclocal does not emulate it yet."

# (product, version, action, a valid request, a required member or None)
SAMPLE = [
    ("vpc", "2017-03-12", "DescribeVpcs", {"Limit": "20"}, None),
    ("vpc", "2017-03-12", "CreateVpc", {"VpcName": "v", "CidrBlock": "10.0.0.0/16"}, "VpcName"),
    ("cbs", "2017-03-12", "DescribeDisks", {"Limit": 10, "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}]}, None),
    ("clb", "2018-03-17", "DescribeLoadBalancers", {"LoadBalancerIds": ["lb-1"]}, None),
    ("cdb", "2017-03-20", "DescribeDBInstances", {"Limit": 5}, None),
    ("tke", "2018-05-25", "DescribeClusters", {"ClusterIds": ["cls-1"]}, None),
    ("scf", "2018-04-16", "ListFunctions", {"Namespace": "default"}, None),
    ("ssm", "2019-09-23", "GetSecretValue", {"SecretName": "s", "VersionId": "v1"}, "SecretName"),
    ("kms", "2019-01-18", "Encrypt", {"KeyId": "k", "Plaintext": "aGk="}, "Plaintext"),
    ("tag", "2018-08-13", "GetTags", {"MaxResults": 10}, None),
]


@pytest.fixture(scope="module")
def stub_server(tclocal_serve_module):
    return tclocal_serve_module("stub-responses", "--stub-responses")


@pytest.fixture(scope="module")
def tclocal_serve_module(_log_dir):
    """Like `tclocal_serve`, for the servers this module shares between its tests."""
    from conftest import _Process

    started = []

    def start(name, *args):
        p = _Process(list(args), {}, _log_dir, name)
        started.append(p)
        return p.server

    try:
        yield start
    finally:
        for p in started:
            p.stop()


@pytest.mark.parametrize("product,version,action,params,required", SAMPLE)
def test_valid_calls_to_products_not_emulated_say_so(server, product, version, action, params, required):
    client = common(server, product, version, language="en-US")
    err = expect_error(lambda: client.call_json(action, params), "UnsupportedOperation")
    assert err.get_message() == NOT_EMULATED_EN.format(action, product, version)


@pytest.mark.parametrize("product,version,action,params,required", SAMPLE)
def test_parameters_are_checked_against_each_products_model(server, product, version, action, params, required):
    client = common(server, product, version)
    err = expect_error(lambda: client.call_json(action, {**params, "TclocalNoSuchMember": 1}), "UnknownParameter")
    assert "TclocalNoSuchMember" in err.get_message()
    if required:
        missing = {k: v for k, v in params.items() if k != required}
        err = expect_error(lambda: client.call_json(action, missing), "MissingParameter")
        assert required in err.get_message()
    # A list where the model has a string, or a string where it has a number or a list.
    name, value = next(iter(params.items()))
    wrong = "not-a-number" if isinstance(value, (int, list)) else [value]
    expect_error(lambda: client.call_json(action, {**params, name: wrong}), "InvalidParameter")


def test_versions_offline_and_unknown_actions(server):
    expect_error(lambda: common(server, "vpc", "2099-01-01").call_json("DescribeVpcs", {}), "NoSuchVersion")
    expect_error(lambda: common(server, *VPC).call_json("DescribeNothing", {}), "InvalidAction")
    # chdfs 2019-07-18 is offline in the model.
    expect_error(
        lambda: common(server, "chdfs", "2019-07-18").call_json("CreateFileSystem", {"FileSystemName": "f", "CapacityQuota": 1}),
        "ActionOffline",
    )


def test_stub_responses_follow_the_output_model(stub_server):
    resp = common(stub_server, *VPC).call_json("DescribeVpcs", {})
    body = resp["Response"]
    assert list(body) == ["TotalCount", "VpcSet", "RequestId"], body
    assert body["TotalCount"] == 0 and body["VpcSet"] == []
    assert_request_id(body["RequestId"])
    # Deterministic: the same answer but for the RequestId.
    again = common(stub_server, *VPC).call_json("DescribeVpcs", {})["Response"]
    assert {k: v for k, v in again.items() if k != "RequestId"} == {"TotalCount": 0, "VpcSet": []}
    # Validation still comes first.
    expect_error(lambda: common(stub_server, *VPC).call_json("CreateVpc", {}), "MissingParameter")
    # Strings, structures and nested members of a richer answer.
    caller = common(stub_server, "ssm", "2019-09-23").call_json("GetSecretValue", {"SecretName": "s", "VersionId": "v1"})
    assert caller["Response"]["SecretName"] == "stub-SecretName"


def test_typed_vpc_client(server, stub_server):
    """`tencentcloud-sdk-python-vpc`'s own client and models, when installed."""
    vpc = pytest.importorskip("tencentcloud.vpc.v20170312")
    from tencentcloud.common import credential
    from tencentcloud.vpc.v20170312 import models, vpc_client

    from tcsupport import DEV_SECRET_ID, DEV_SECRET_KEY

    cred = credential.Credential(DEV_SECRET_ID, DEV_SECRET_KEY)
    client = vpc_client.VpcClient(cred, REGION, profile(server, language="en-US"))
    err = expect_error(lambda: client.DescribeVpcs(models.DescribeVpcsRequest()), "UnsupportedOperation")
    assert "DescribeVpcs" in err.get_message()

    stubbed = vpc_client.VpcClient(cred, REGION, profile(stub_server))
    resp = stubbed.DescribeVpcs(models.DescribeVpcsRequest())
    assert resp.TotalCount == 0
    assert resp.VpcSet == []
    assert_request_id(resp.RequestId)
    assert vpc is not None

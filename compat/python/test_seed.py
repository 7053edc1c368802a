"""The seeds' own example, and the working CVM read actions, through the official SDK."""

from tencentcloud.cvm.v20170312 import models

import tcsupport as t


def test_seed_example_describe_instances_status_returns_empty_set(server):
    resp = t.cvm(server).DescribeInstancesStatus(models.DescribeInstancesStatusRequest())
    assert resp.TotalCount == 0
    assert resp.InstanceStatusSet == []
    t.assert_request_id(resp.RequestId)


def test_seed_example_envelope_has_exactly_the_documented_members(server, recorded):
    doc = t.common(server).call_json("DescribeInstancesStatus", {})
    assert set(doc) == {"Response"}
    assert doc["Response"]["TotalCount"] == 0
    assert doc["Response"]["InstanceStatusSet"] == []
    assert set(doc["Response"]) == {"TotalCount", "InstanceStatusSet", "RequestId"}
    t.assert_request_id(doc["Response"]["RequestId"])
    (_req, http_resp), = recorded
    assert http_resp.status_code == 200
    assert http_resp.headers["Content-Type"] == "application/json"


def test_error_answer_is_http_200_with_exact_json_content_type(server, recorded):
    # The Python SDK only reads Response.Error under exactly `application/json`
    # (protocol.md §6.2): anything else would turn this error into a silent success.
    t.expect_error(
        lambda: t.cvm(server, secret_key="wrong" + t.DEV_SECRET_KEY[5:]).DescribeInstancesStatus(
            models.DescribeInstancesStatusRequest()
        ),
        "AuthFailure.SignatureFailure",
    )
    (_req, http_resp), = recorded
    assert http_resp.status_code == 200
    assert http_resp.headers["Content-Type"] == "application/json"


def test_request_ids_are_fresh_uuid4_per_request(server):
    client = t.cvm(server)
    ids = {client.DescribeInstancesStatus(models.DescribeInstancesStatusRequest()).RequestId for _ in range(5)}
    assert len(ids) == 5
    for rid in ids:
        t.assert_request_id(rid)


def test_error_request_id_is_exposed_by_the_sdk_exception(server):
    err = t.expect_error(lambda: t.cvm(server, "gz").DescribeRegions(models.DescribeRegionsRequest()), "InvalidParameterValue")
    assert err.requestId == err.get_request_id()
    assert err.get_request_id() in str(err)


def test_describe_regions_lists_ap_guangzhou(server):
    resp = t.cvm(server).DescribeRegions(models.DescribeRegionsRequest())
    regions = {r.Region: r for r in resp.RegionSet}
    assert "ap-guangzhou" in regions, sorted(regions)
    assert resp.TotalCount == len(resp.RegionSet)
    assert regions["ap-guangzhou"].RegionState == "AVAILABLE"
    t.assert_request_id(resp.RequestId)


def test_describe_zones_lists_ap_guangzhou_3_with_zh_cn_name(server):
    resp = t.cvm(server).DescribeZones(models.DescribeZonesRequest())
    zones = {z.Zone: z for z in resp.ZoneSet}
    assert "ap-guangzhou-3" in zones, sorted(zones)
    assert zones["ap-guangzhou-3"].ZoneName == "广州三区"
    assert zones["ap-guangzhou-3"].ZoneState == "AVAILABLE"
    assert resp.TotalCount == len(resp.ZoneSet)
    t.assert_request_id(resp.RequestId)

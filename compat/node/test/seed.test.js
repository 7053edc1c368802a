"use strict";
// The seeds' own example, and the working CVM read actions, through the official SDK.
const assert = require("node:assert/strict");
const { after, before, test } = require("node:test");
const tc = require("../lib/tclocal");

let server;
before(async () => {
  server = await tc.startServer();
});
after(async () => {
  await server.stop();
});

test("seed example: DescribeInstancesStatus returns an empty set", async () => {
  const resp = await tc.cvm(server).DescribeInstancesStatus({});
  assert.equal(resp.TotalCount, 0);
  assert.deepEqual(resp.InstanceStatusSet, []);
  tc.assertRequestId(resp.RequestId);
});

test("seed example: the envelope has exactly the documented members, HTTP 200, application/json", async () => {
  const rec = tc.record();
  let resp;
  try {
    resp = await tc.common(server).request("DescribeInstancesStatus", {});
  } finally {
    rec.stop();
  }
  assert.deepEqual(Object.keys(resp).sort(), ["InstanceStatusSet", "RequestId", "TotalCount"]);
  assert.equal(rec.length, 1);
  assert.equal(rec[0].status, 200);
  assert.equal(rec[0].contentType, "application/json");
});

test("an error answer is HTTP 200 with exactly application/json", async () => {
  const rec = tc.record();
  try {
    await tc.expectError(tc.cvm(server, { secretKey: tc.WRONG_SECRET_KEY }).DescribeInstancesStatus({}), "AuthFailure.SignatureFailure");
  } finally {
    rec.stop();
  }
  assert.equal(rec[0].status, 200);
  assert.equal(rec[0].contentType, "application/json");
});

test("RequestIds are fresh UUID v4s, exposed on success and as err.requestId", async () => {
  const client = tc.cvm(server);
  const ids = new Set();
  for (let i = 0; i < 5; i++) ids.add((await client.DescribeInstancesStatus({})).RequestId);
  assert.equal(ids.size, 5);
  ids.forEach(tc.assertRequestId);
  const err = await tc.expectError(tc.cvm(server, { region: "gz" }).DescribeRegions({}), "InvalidParameterValue");
  assert.ok(!ids.has(err.requestId));
  assert.equal(err.getRequestId(), err.requestId);
});

test("DescribeRegions lists ap-guangzhou", async () => {
  const resp = await tc.cvm(server).DescribeRegions({});
  const gz = resp.RegionSet.find((r) => r.Region === "ap-guangzhou");
  assert.ok(gz, JSON.stringify(resp.RegionSet.map((r) => r.Region)));
  assert.equal(gz.RegionState, "AVAILABLE");
  assert.equal(resp.TotalCount, resp.RegionSet.length);
  tc.assertRequestId(resp.RequestId);
});

test("DescribeZones lists ap-guangzhou-3 named in zh-CN by default", async () => {
  const resp = await tc.cvm(server).DescribeZones({});
  const zone = resp.ZoneSet.find((z) => z.Zone === "ap-guangzhou-3");
  assert.ok(zone, JSON.stringify(resp.ZoneSet.map((z) => z.Zone)));
  assert.equal(zone.ZoneName, "广州三区");
  assert.equal(zone.ZoneState, "AVAILABLE");
  assert.equal(resp.TotalCount, resp.ZoneSet.length);
});

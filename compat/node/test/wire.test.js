"use strict";
// Every way the Node SDK puts a request on the wire is accepted (and checked).
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

async function recorded(fn) {
  const rec = tc.record();
  try {
    return { result: await fn(), rec };
  } finally {
    rec.stop();
  }
}

function assertEmpty(resp) {
  assert.equal(resp.TotalCount, 0);
  assert.deepEqual(resp.InstanceStatusSet, []);
  tc.assertRequestId(resp.RequestId);
}

test("TC3 POST JSON (default): host signed without its port, `127` as scope service", async () => {
  const { result, rec } = await recorded(() => tc.cvm(server).DescribeInstancesStatus({ Limit: 10, Offset: 0 }));
  assertEmpty(result);
  const [ex] = rec;
  assert.equal(ex.method, "POST");
  assert.equal(ex.headers["Content-Type"], "application/json");
  assert.equal(ex.headers.Host, server.endpoint);
  assert.match(ex.headers.Authorization, /^TC3-HMAC-SHA256 Credential=AKIDtclocalDevelopmentKey00000000000\/\d{4}-\d\d-\d\d\/127\/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$/);
});

test("TC3 POST with the wrong key is AuthFailure.SignatureFailure (the port fallback is no bypass)", async () => {
  await tc.expectError(tc.cvm(server, { secretKey: tc.WRONG_SECRET_KEY }).DescribeInstancesStatus({}), "AuthFailure.SignatureFailure");
});

test("TC3 GET: query string accepted, numbers coerced", async () => {
  const { result, rec } = await recorded(() => tc.cvm(server, { method: "GET" }).DescribeInstancesStatus({ Limit: 10, Offset: 0 }));
  assertEmpty(result);
  assert.equal(rec[0].method, "GET");
  assert.match(rec[0].url, /\?(.*&)?Limit=10(&|$)/);
});

test("TC3 GET: a flattened list is rebuilt (InstanceIds.0=bad-id is seen)", async () => {
  const { rec } = await recorded(() =>
    tc.expectError(tc.cvm(server, { method: "GET" }).DescribeInstancesStatus({ InstanceIds: ["bad-id"] }), "InvalidInstanceId.Malformed"),
  );
  assert.match(rec[0].url, /InstanceIds\.0=bad-id/);
});

test("TC3 GET with the wrong key is AuthFailure.SignatureFailure", async () => {
  await tc.expectError(tc.cvm(server, { method: "GET", secretKey: tc.WRONG_SECRET_KEY }).DescribeInstancesStatus({}), "AuthFailure.SignatureFailure");
});

for (const signMethod of ["HmacSHA1", "HmacSHA256"]) {
  for (const method of ["GET", "POST"]) {
    test(`v1 ${signMethod} ${method} is accepted`, async () => {
      const { result, rec } = await recorded(() => tc.cvm(server, { signMethod, method }).DescribeInstancesStatus({ Limit: 5 }));
      assertEmpty(result);
      const [ex] = rec;
      assert.equal(ex.method, method);
      assert.equal(ex.headers.Authorization, undefined);
      const where = method === "GET" ? ex.url : ex.body;
      assert.match(where, new RegExp(`SignatureMethod=${signMethod}`));
      assert.match(where, /Limit=5/);
    });

    test(`v1 ${signMethod} ${method} with the wrong key is AuthFailure.SignatureFailure`, async () => {
      await tc.expectError(
        tc.cvm(server, { signMethod, method, secretKey: tc.WRONG_SECRET_KEY }).DescribeInstancesStatus({}),
        "AuthFailure.SignatureFailure",
      );
    });
  }
}

test("service named by the Host (cvm.localhost:PORT) is accepted", async () => {
  const { result, rec } = await recorded(() => tc.commonViaServiceHost(server).request("DescribeInstancesStatus", {}));
  assertEmpty(result);
  assert.equal(rec[0].headers.Host, `cvm.localhost:${server.port}`);
  assert.match(rec[0].headers.Authorization, /\/cvm\/tc3_request,/);
});

test("raw UTF-8 JSON body (not \\u escapes) is hashed as sent", async () => {
  // The id is malformed on purpose: a verified signature shows as the business error.
  await tc.expectError(tc.cvm(server).DescribeInstancesStatus({ InstanceIds: ["未命名"] }), "InvalidInstanceId.Malformed");
});

test("endpoint localhost:PORT: scope service `localhost:PORT`, host signed as `localhost`", async () => {
  const endpoint = `localhost:${server.port}`;
  for (const signMethod of ["TC3-HMAC-SHA256", "HmacSHA256"]) {
    const { result, rec } = await recorded(() =>
      tc.cvm(server, { endpoint, signMethod, agent: tc.localhostAgent() }).DescribeInstancesStatus({}),
    );
    assertEmpty(result);
    if (signMethod === "TC3-HMAC-SHA256") {
      assert.equal(rec[0].headers.Host, endpoint);
      assert.match(rec[0].headers.Authorization, new RegExp(`/${endpoint}/tc3_request,`));
    }
  }
});

test("several concurrent requests are all answered", async () => {
  const client = tc.cvm(server);
  const resps = await Promise.all(Array.from({ length: 32 }, (_, i) => client.DescribeInstancesStatus({ Limit: 1 + i })));
  assert.equal(new Set(resps.map((r) => r.RequestId)).size, 32);
});

const AWKWARD_VALUE = "未 命名&x=y+z/%";
for (const [method, signMethod] of [
  ["POST", "TC3-HMAC-SHA256"],
  ["GET", "TC3-HMAC-SHA256"],
  ["GET", "HmacSHA1"],
  ["POST", "HmacSHA1"],
  ["GET", "HmacSHA256"],
  ["POST", "HmacSHA256"],
]) {
  test(`awkward characters are verified as sent (${method} ${signMethod})`, async () => {
    // Non-ASCII, space (%20 from querystring), &, =, +, /, %: a verified signature
    // shows as the business error for the malformed id, not AuthFailure.
    await tc.expectError(
      tc.cvm(server, { method, signMethod }).DescribeInstancesStatus({ InstanceIds: [AWKWARD_VALUE] }),
      "InvalidInstanceId.Malformed",
    );
  });
}

"use strict";
// --auth off / soft and --max-skew change what the signature checks let through.
const assert = require("node:assert/strict");
const { after, before, test } = require("node:test");
const tc = require("../lib/tclocal");

let strict;
let off;
let soft;
let skew60;
before(async () => {
  strict = await tc.startServer();
  off = await tc.startServer({ name: "auth-off", args: ["--auth", "off"] });
  soft = await tc.startServer({ name: "auth-soft", args: ["--auth", "soft"] });
  skew60 = await tc.startServer({ name: "max-skew-60", args: ["--max-skew", "60"] });
});
after(async () => {
  await Promise.all([strict, off, soft, skew60].filter(Boolean).map((s) => s.stop()));
});

const wrongKey = { secretKey: tc.WRONG_SECRET_KEY };

test("strict (default) rejects the wrong secret key", async () => {
  await tc.expectError(tc.cvm(strict, wrongKey).DescribeInstancesStatus({}), "AuthFailure.SignatureFailure");
});

for (const signMethod of ["TC3-HMAC-SHA256", "HmacSHA1"]) {
  test(`--auth off accepts the wrong secret key (${signMethod})`, async () => {
    const resp = await tc.cvm(off, { ...wrongKey, signMethod }).DescribeInstancesStatus({});
    assert.equal(resp.TotalCount, 0);
    assert.deepEqual(resp.InstanceStatusSet, []);
    tc.assertRequestId(resp.RequestId);
  });

  test(`--auth soft serves a request with a wrong signature (${signMethod})`, async () => {
    const resp = await tc.cvm(soft, { ...wrongKey, signMethod }).DescribeInstancesStatus({});
    assert.equal(resp.TotalCount, 0);
    tc.assertRequestId(resp.RequestId);
  });
}

test("--auth off still validates parameters", async () => {
  await tc.expectError(tc.cvm(off, wrongKey).DescribeInstancesStatus({ Limit: 101 }), "InvalidParameterValue");
});

test("--max-skew 60 rejects a 120 s old timestamp the default accepts", async () => {
  await tc.withSkew(-120, async () => {
    await tc.expectError(tc.cvm(skew60).DescribeInstancesStatus({}), "AuthFailure.SignatureExpire");
    assert.equal((await tc.cvm(strict).DescribeInstancesStatus({})).TotalCount, 0);
  });
});

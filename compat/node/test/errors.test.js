"use strict";
// Each common error code the contract makes reachable, as the Node SDK's err.code.
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

// --- method ---------------------------------------------------------------------------

for (const method of ["PUT", "DELETE", "PATCH"]) {
  test(`${method} / is UnsupportedProtocol, enveloped, HTTP 200`, async () => {
    const res = await fetch(`${server.url}/`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: method === "DELETE" ? undefined : "{}",
    });
    tc.assertEnvelopedError({ status: res.status, contentType: res.headers.get("content-type"), text: await res.text() }, "UnsupportedProtocol");
  });
}

// --- common parameters -------------------------------------------------------------------

test("CVM call without a region is MissingParameter", async () => {
  const err = await tc.expectError(tc.cvm(server, { region: "" }).DescribeInstancesStatus({}), "MissingParameter");
  assert.match(err.message, /Region/);
});

test("StartInstances without InstanceIds is MissingParameter", async () => {
  const err = await tc.expectError(tc.cvm(server).StartInstances({}), "MissingParameter");
  assert.match(err.message, /InstanceIds/);
});

// --- Authorization ----------------------------------------------------------------------

const MALFORMED = {
  garbage: "garbage",
  "algorithm-only": "TC3-HMAC-SHA256",
  "no-signature": `TC3-HMAC-SHA256 Credential=${tc.DEV_SECRET_ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host`,
  "no-scope": `TC3-HMAC-SHA256 Credential=${tc.DEV_SECRET_ID}, SignedHeaders=content-type;host, Signature=00`,
};
for (const [name, value] of Object.entries(MALFORMED)) {
  test(`malformed Authorization (${name}) is AuthFailure.InvalidAuthorization`, async () => {
    await tc.withAuthorization(value, () =>
      tc.expectError(tc.cvm(server).DescribeInstancesStatus({}), "AuthFailure.InvalidAuthorization"),
    );
  });
}

test("raw request with a garbage Authorization is AuthFailure.InvalidAuthorization", async () => {
  const ts = Math.floor(Date.now() / 1000);
  const resp = await tc.rawRequest(server, {
    headers: {
      "Content-Type": "application/json",
      "X-TC-Action": "DescribeInstancesStatus",
      "X-TC-Version": tc.CVM_VERSION,
      "X-TC-Region": tc.REGION,
      "X-TC-Timestamp": String(ts),
      Authorization: "Bearer abc.def.ghi",
    },
    body: "{}",
  });
  tc.assertEnvelopedError(resp, "AuthFailure.InvalidAuthorization");
});

// --- timestamp -------------------------------------------------------------------------

for (const skew of [-3600, -420, 420, 3600]) {
  for (const signMethod of ["TC3-HMAC-SHA256", "HmacSHA256"]) {
    test(`timestamp ${skew} s off (${signMethod}) is AuthFailure.SignatureExpire`, async () => {
      await tc.withSkew(skew, () =>
        tc.expectError(tc.cvm(server, { signMethod }).DescribeInstancesStatus({}), "AuthFailure.SignatureExpire"),
      );
    });
  }
}

for (const skew of [-200, 200]) {
  test(`timestamp ${skew} s off is inside the default window`, async () => {
    const resp = await tc.withSkew(skew, () => tc.cvm(server).DescribeInstancesStatus({}));
    assert.equal(resp.TotalCount, 0);
  });
}

// --- credentials -------------------------------------------------------------------------

for (const signMethod of ["TC3-HMAC-SHA256", "HmacSHA1"]) {
  test(`SecretId not-a-key (${signMethod}) is AuthFailure.InvalidSecretId`, async () => {
    await tc.expectError(tc.cvm(server, { signMethod, secretId: "not-a-key" }).DescribeInstancesStatus({}), "AuthFailure.InvalidSecretId");
  });

  test(`key-shaped SecretId never issued (${signMethod}) is AuthFailure.SecretIdNotFound`, async () => {
    await tc.expectError(tc.cvm(server, { signMethod, secretId: tc.UNKNOWN_SECRET_ID }).DescribeInstancesStatus({}), "AuthFailure.SecretIdNotFound");
  });
}

test("right SecretId, wrong SecretKey is AuthFailure.SignatureFailure", async () => {
  await tc.expectError(tc.cvm(server, { secretKey: tc.DEV_SECRET_KEY.slice(0, -1) + "1" }).DescribeInstancesStatus({}), "AuthFailure.SignatureFailure");
});

// --- service, version, action ------------------------------------------------------------

test("CommonClient cvm version 2099-01-01 is NoSuchVersion", async () => {
  await tc.expectError(tc.commonViaServiceHost(server, { version: "2099-01-01" }).request("DescribeInstancesStatus", {}), "NoSuchVersion");
});

test("CommonClient with the default endpoint (scope service `127`) and version 2099-01-01 is NoSuchVersion", async () => {
  // Nothing names the service here: the server must infer it from the action.
  await tc.expectError(tc.common(server, { version: "2099-01-01" }).request("DescribeInstancesStatus", {}), "NoSuchVersion");
});

test("CommonClient cvm 2017-03-12 action NoSuchAction is InvalidAction", async () => {
  await tc.expectError(tc.commonViaServiceHost(server).request("NoSuchAction", {}), "InvalidAction");
});

// --- region ----------------------------------------------------------------------------

test("region gz is InvalidParameterValue", async () => {
  const err = await tc.expectError(tc.cvm(server, { region: "gz" }).DescribeInstancesStatus({}), "InvalidParameterValue");
  assert.match(err.message, /Region/);
});

test("region na-toronto (no CVM there) is UnsupportedRegion", async () => {
  await tc.expectError(tc.cvm(server, { region: "na-toronto" }).DescribeInstancesStatus({}), "UnsupportedRegion");
});

// --- parameters --------------------------------------------------------------------------

test("extra member Foo is UnknownParameter", async () => {
  const err = await tc.expectError(tc.common(server).request("DescribeInstancesStatus", { Foo: 1 }), "UnknownParameter");
  assert.match(err.message, /Foo/);
});

test('Limit "abc" is InvalidParameter', async () => {
  const err = await tc.expectError(tc.common(server).request("DescribeInstancesStatus", { Limit: "abc" }), "InvalidParameter");
  assert.match(err.message, /Limit/);
});

test("Limit 101 is InvalidParameterValue", async () => {
  await tc.expectError(tc.cvm(server).DescribeInstancesStatus({ Limit: 101 }), "InvalidParameterValue");
});

test("Limit 100 is accepted", async () => {
  assert.equal((await tc.cvm(server).DescribeInstancesStatus({ Limit: 100 })).TotalCount, 0);
});

test("Offset -1 is InvalidParameterValue", async () => {
  await tc.expectError(tc.cvm(server).DescribeInstancesStatus({ Offset: -1 }), "InvalidParameterValue");
});

test("101 InstanceIds is InvalidParameterValue.LimitExceeded", async () => {
  const ids = Array.from({ length: 101 }, (_, i) => `ins-${i.toString(16).padStart(8, "0")}`);
  await tc.expectError(tc.cvm(server).DescribeInstancesStatus({ InstanceIds: ids }), "InvalidParameterValue.LimitExceeded");
});

test('InstanceIds ["bad-id"] is InvalidInstanceId.Malformed', async () => {
  await tc.expectError(tc.cvm(server).DescribeInstancesStatus({ InstanceIds: ["bad-id"] }), "InvalidInstanceId.Malformed");
});

// DescribeInstancesOperationLimit is in the CVM model but not emulated (DescribeKeyPairs, used
// here before, is emulated now): it is validated like any action, then answered
// UnsupportedOperation.
test("a modelled but not emulated action is UnsupportedOperation", async () => {
  await tc.expectError(
    tc.cvm(server).DescribeInstancesOperationLimit({ InstanceIds: ["ins-r8hr2upy"], Operation: "INSTANCE_DEGRADE" }),
    "UnsupportedOperation",
  );
});

"use strict";
// Transparent mode (`tclocal serve --tls`): the Node SDK with its endpoint left at the real
// default (`cvm.tencentcloudapi.com`, HTTPS) reaches tclocal through a proxy variable.
//
// What the SDK supports, found here: its fetch wrapper reads only `process.env.http_proxy`
// (lower case), and uses it for HTTPS requests too (https-proxy-agent, CONNECT); it ignores
// `HTTPS_PROXY`/`https_proxy` and `NO_PROXY`. Node itself trusts an extra CA from
// `NODE_EXTRA_CA_CERTS`. So: `http_proxy` + `NODE_EXTRA_CA_CERTS`, both printed by
// `tclocal env`.
//
// Each client is a child `node` process with an environment built from nothing. Nothing
// resolves or reaches a Tencent Cloud host: tclocal is the proxy and answers every tunnel
// itself, and in every child DNS lookups are replaced by an immediate failure (the proxy is
// an IP address, so a client that honours it never looks a name up). Certificate checks
// stay on (no NODE_TLS_REJECT_UNAUTHORIZED).
const assert = require("node:assert/strict");
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, before, test } = require("node:test");
const tc = require("../lib/tclocal");

const NODE_DIR = path.resolve(__dirname, "..");
const REPO = path.resolve(NODE_DIR, "..", "..");
const BIN = process.env.TCLOCAL_BIN || path.join(REPO, "target", "debug", "tclocal");

let caDir;
let bundle;
let server;
before(async () => {
  caDir = fs.mkdtempSync(path.join(os.tmpdir(), "tclocal-node-ca-"));
  execFileSync(BIN, ["ca", "--ca-dir", caDir]);
  bundle = path.join(fs.realpathSync(caDir), "ca.pem");
  server = await tc.startServer({ name: "tls", args: ["--tls", "--ca-dir", caDir] });
});
after(async () => {
  await server.stop();
  fs.rmSync(caDir, { recursive: true, force: true });
});

// The child: one SDK call with the endpoint given (or none), printing {response} or {error}.
// TEST_BLOCK_DNS replaces DNS lookups with an immediate failure first.
const CHILD = `
const dns = require("node:dns");
if (process.env.TEST_BLOCK_DNS) {
  const fail = (host) => Object.assign(new Error("tclocal-test: no DNS lookup of " + host), { code: "ENOTFOUND" });
  dns.lookup = (host, options, cb) => process.nextTick(typeof options === "function" ? options : cb, fail(host));
  dns.promises.lookup = async (host) => { throw fail(host); };
}
const { cvm } = require("tencentcloud-sdk-nodejs-cvm");
const [method, endpoint, action] = process.argv.slice(1);
const httpProfile = { reqMethod: method, reqTimeout: 15 };
if (endpoint) httpProfile.endpoint = endpoint;
const client = new cvm.v20170312.Client({
  credential: { secretId: process.env.SDK_SECRET_ID, secretKey: process.env.SDK_SECRET_KEY },
  region: "ap-guangzhou",
  profile: { httpProfile },
});
client[action]({}).then(
  (response) => console.log(JSON.stringify({ response })),
  (e) => console.log(JSON.stringify({ error: String(e && (e.message || e)), code: e && e.code })),
);
`;

function runChild(env, { method = "POST", endpoint = "", action = "DescribeInstancesStatus" } = {}) {
  const childEnv = {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    SDK_SECRET_ID: tc.DEV_SECRET_ID,
    SDK_SECRET_KEY: tc.DEV_SECRET_KEY,
    TEST_BLOCK_DNS: "1",
    ...env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", CHILD, method, endpoint, action], {
      cwd: NODE_DIR,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch {
        reject(new Error(`child exited ${code} without a result:\n${out}\n${err}`));
      }
    });
  });
}

async function journal(requestId) {
  const resp = await tc.rawRequest(server, { method: "GET", path: `/_tclocal/requests/${requestId}`, headers: { Host: server.endpoint } });
  assert.equal(resp.status, 200, resp.text);
  return JSON.parse(resp.text);
}

const proxyEnv = () => ({ http_proxy: `http://${server.endpoint}`, NODE_EXTRA_CA_CERTS: bundle });

for (const method of ["POST", "GET"]) {
  test(`${method}: the default endpoint cvm.tencentcloudapi.com through http_proxy + NODE_EXTRA_CA_CERTS`, async () => {
    const out = await runChild(proxyEnv(), { method });
    assert.ok(out.response, JSON.stringify(out));
    assert.equal(out.response.TotalCount, 0);
    assert.deepEqual(out.response.InstanceStatusSet, []);
    tc.assertRequestId(out.response.RequestId);
    const entry = await journal(out.response.RequestId);
    assert.deepEqual([entry.service, entry.action, entry.method], ["cvm", "DescribeInstancesStatus", method]);
  });
}

test("a regional endpoint, cvm.ap-guangzhou.tencentcloudapi.com", async () => {
  const out = await runChild(proxyEnv(), { endpoint: "cvm.ap-guangzhou.tencentcloudapi.com", action: "DescribeZones" });
  assert.ok(out.response, JSON.stringify(out));
  assert.ok(out.response.ZoneSet.some((z) => z.Zone === "ap-guangzhou-3"));
});

test("the SDK ignores HTTPS_PROXY: it would go to the real host (DNS is stubbed to fail here)", async () => {
  const out = await runChild({
    HTTPS_PROXY: `http://${server.endpoint}`,
    https_proxy: `http://${server.endpoint}`,
    NODE_EXTRA_CA_CERTS: bundle,
  });
  assert.ok(out.error, JSON.stringify(out));
  assert.match(out.error, /tclocal-test: no DNS lookup of cvm\.tencentcloudapi\.com/);
});

test("without tclocal's CA the certificate is refused (checks stay on)", async () => {
  const out = await runChild({ http_proxy: `http://${server.endpoint}` });
  assert.ok(out.error, JSON.stringify(out));
  assert.match(out.error, /unable to verify the first certificate/);
});

test("an endpoint outside Tencent Cloud is refused by the proxy", async () => {
  // https-proxy-agent hands the proxy's 403 to the SDK, which reports its status text.
  const out = await runChild(proxyEnv(), { endpoint: "example.com" });
  assert.equal(out.error, "Forbidden", JSON.stringify(out));
});

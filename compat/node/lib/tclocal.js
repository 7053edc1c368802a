"use strict";
// Shared helpers of the Node.js compatibility suite: start tclocal on a free loopback
// port, build official-SDK clients pointed at it, and observe what the SDK sends.
// Every request goes to 127.0.0.1 (names under .localhost resolve to it, here only).

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const dns = require("node:dns");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const { CommonClient } = require("tencentcloud-sdk-nodejs-common");
const sdkFetch = require("tencentcloud-sdk-nodejs-common/tencentcloud/common/http/fetch");
const Sign = require("tencentcloud-sdk-nodejs-common/tencentcloud/common/sign").default;
const CvmClient = require("tencentcloud-sdk-nodejs-cvm").cvm.v20170312.Client;

const REPO = path.resolve(__dirname, "..", "..", "..");
const HEALTH_TIMEOUT_MS = 10_000;

const DEV_SECRET_ID = "AKIDtclocalDevelopmentKey00000000000";
const DEV_SECRET_KEY = "tclocalDevelopmentSecretKey00000";
// Key-shaped (AKID + 32 alphanumerics) but never issued by tclocal.
const UNKNOWN_SECRET_ID = "AKID" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp";
const WRONG_SECRET_KEY = "x".repeat(32);
const CVM_VERSION = "2017-03-12";
const REGION = "ap-guangzhou";
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EN_MISSING_REGION = "The request is missing a required parameter `Region`.";
const ZONE_NAMES = { "zh-CN": "广州三区", "en-US": "Guangzhou Zone 3", "ja-JP": "広州ゾーン3" };

// Requests to 127.0.0.1 never go through a proxy from the environment (the SDK's
// fetch wrapper reads process.env.http_proxy).
for (const v of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]) {
  delete process.env[v];
}

function binary() {
  const bin = process.env.TCLOCAL_BIN || path.join(REPO, "target", "debug", "tclocal");
  if (!fs.existsSync(bin)) {
    throw new Error(`tclocal binary not found at ${bin} (build it, or set TCLOCAL_BIN)`);
  }
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/_tclocal/health", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start `tclocal serve --ephemeral --listen 127.0.0.1:<free port> ...args`, wait for
 * GET /_tclocal/health (10 s at most). Returns {host, port, endpoint, url, stop()}.
 */
async function startServer({ args = [], env = {}, name = "default" } = {}) {
  const childEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A stray TCLOCAL_AUTH=off or TCLOCAL_SECRET_KEY would change what is tested.
    if (!k.startsWith("TCLOCAL_")) childEnv[k] = v;
  }
  Object.assign(childEnv, env);
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const logPath = path.join(os.tmpdir(), `tclocal-node-${name}-${port}-${process.pid}.log`);
    const log = fs.openSync(logPath, "w");
    const cmd = [binary(), "serve", "--ephemeral", "--listen", `127.0.0.1:${port}`, ...args];
    const child = spawn(cmd[0], cmd.slice(1), { env: childEnv, stdio: ["ignore", log, log] });
    let exited = null;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
    });
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (Date.now() < deadline && exited === null) {
      if (await healthy(port)) {
        fs.closeSync(log);
        const server = {
          host: "127.0.0.1",
          port,
          endpoint: `127.0.0.1:${port}`,
          url: `http://127.0.0.1:${port}`,
          logPath,
          async stop() {
            if (exited === null) {
              const done = new Promise((r) => child.once("exit", r));
              child.kill("SIGTERM");
              const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
              await done;
              clearTimeout(timer);
            }
            fs.rmSync(logPath, { force: true });
          },
        };
        return server;
      }
      await sleep(50);
    }
    if (exited === null) {
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await done;
    }
    fs.closeSync(log);
    const text = fs.readFileSync(logPath, "utf8");
    lastError =
      `\`${cmd.join(" ")}\` (env ${JSON.stringify(env)}) not healthy within ${HEALTH_TIMEOUT_MS} ms, ` +
      `exit ${JSON.stringify(exited)}; log:\n${text.slice(-4000)}`;
    if (!/in use/i.test(text)) break;
  }
  throw new Error(lastError);
}

/** An http.Agent that resolves `localhost` and `*.localhost` to 127.0.0.1, nothing else. */
function localhostAgent() {
  function lookup(hostname, options, cb) {
    if (typeof options === "function") {
      cb = options;
      options = {};
    }
    if (hostname === "localhost" || hostname.endsWith(".localhost")) {
      if (options && options.all) return cb(null, [{ address: "127.0.0.1", family: 4 }]);
      return cb(null, "127.0.0.1", 4);
    }
    return dns.lookup(hostname, options, cb);
  }
  return new http.Agent({ lookup });
}

/**
 * The SDK's client config for `server`. language: undefined sends no language; a value
 * the SDK refuses (ja-JP) is set on the client after construction (see setLanguage).
 */
function config(server, { region = REGION, secretId = DEV_SECRET_ID, secretKey = DEV_SECRET_KEY, method = "POST", signMethod, language, endpoint, agent } = {}) {
  const httpProfile = { endpoint: endpoint || server.endpoint, protocol: "http://", reqMethod: method, reqTimeout: 15 };
  if (agent) httpProfile.agent = agent;
  const profile = { httpProfile };
  if (signMethod) profile.signMethod = signMethod;
  if (language === "zh-CN" || language === "en-US") profile.language = language;
  return { credential: { secretId, secretKey }, region, profile };
}

function setLanguage(client, language) {
  if (language !== undefined && language !== "zh-CN" && language !== "en-US") {
    // The SDK validates the language only in its constructor.
    client.profile.language = language;
  }
  return client;
}

function cvm(server, opts = {}) {
  return setLanguage(new CvmClient(config(server, opts)), opts.language);
}

function common(server, { service = "cvm", version = CVM_VERSION, ...opts } = {}) {
  return setLanguage(new CommonClient(`${service}.tencentcloudapi.com`, version, config(server, opts)), opts.language);
}

/**
 * A CommonClient whose endpoint is `cvm.localhost:PORT`: the Node SDK then puts `cvm`
 * (the endpoint's first label) in the credential scope and the Host header names the
 * service, as against the real cloud. Name resolution is local (localhostAgent).
 */
function commonViaServiceHost(server, { service = "cvm", ...opts } = {}) {
  return common(server, { service, endpoint: `${service}.localhost:${server.port}`, agent: localhostAgent(), ...opts });
}

function assertRequestId(id) {
  assert.equal(typeof id, "string", `RequestId is not a string: ${id}`);
  assert.match(id, UUID4, `RequestId is not a lowercase UUID v4: ${id}`);
}

/** Await `promise`, assert it rejected with the SDK exception carrying exactly `code`. */
async function expectError(promise, code) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.equal(
      err.code,
      code,
      `expected code ${code}, got code=${err.code} message=${JSON.stringify(err.message)} requestId=${err.requestId} httpCode=${err.httpCode}`,
    );
    assert.equal(typeof err.message, "string");
    assert.ok(err.message.length > 0, "empty Error.Message");
    assertRequestId(err.requestId);
    return err;
  }
  assert.fail(`expected error ${code}, call succeeded with ${JSON.stringify(result)}`);
}

/**
 * Record every request the SDK sends until the returned stop() is called:
 * [{url, method, headers, body, status, contentType}].
 */
function record() {
  const original = sdkFetch.default;
  const exchanges = [];
  sdkFetch.default = async function recordingFetch(url, options) {
    const res = await original(url, options);
    exchanges.push({
      url,
      method: options.method,
      headers: { ...options.headers },
      body: options.body,
      status: res.status,
      contentType: res.headers.get("content-type"),
    });
    return res;
  };
  exchanges.stop = () => {
    sdkFetch.default = original;
  };
  return exchanges;
}

/** Run `fn` with the clock the SDK reads moved by `seconds` (new Date() and Date.now()). */
async function withSkew(seconds, fn) {
  const RealDate = globalThis.Date;
  const offset = seconds * 1000;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = SkewedDate;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

/** Run `fn` with the SDK's TC3 signer replaced so that Authorization is `value`. */
async function withAuthorization(value, fn) {
  const original = Sign.sign3;
  Sign.sign3 = () => value;
  try {
    return await fn();
  } finally {
    Sign.sign3 = original;
  }
}

/** One raw HTTP request to the server with exactly these headers. */
function rawRequest(server, { method = "POST", path: p = "/", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: server.host, port: server.port, method, path: p, headers, timeout: 15000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode, contentType: res.headers["content-type"], text });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** HTTP 200, exact JSON content type, envelope with Error.Code === code and a UUID v4. */
function assertEnvelopedError(resp, code) {
  assert.equal(resp.status, 200, `HTTP ${resp.status}: ${resp.text}`);
  assert.equal(resp.contentType, "application/json");
  const doc = JSON.parse(resp.text);
  assert.deepEqual(Object.keys(doc), ["Response"]);
  assert.ok(doc.Response.Error, `no Error in ${resp.text}`);
  assert.equal(doc.Response.Error.Code, code, resp.text);
  assert.ok(doc.Response.Error.Message, resp.text);
  assertRequestId(doc.Response.RequestId);
  return doc.Response;
}

module.exports = {
  CVM_VERSION,
  DEV_SECRET_ID,
  DEV_SECRET_KEY,
  EN_MISSING_REGION,
  REGION,
  UNKNOWN_SECRET_ID,
  WRONG_SECRET_KEY,
  ZONE_NAMES,
  assertEnvelopedError,
  assertRequestId,
  common,
  commonViaServiceHost,
  cvm,
  expectError,
  localhostAgent,
  rawRequest,
  record,
  startServer,
  withAuthorization,
  withSkew,
};

"use strict";
// Helpers of the dashboard browser test: start tclocal on a free loopback port, call its
// API with TC3-HMAC-SHA256 requests signed here (node:crypto, no SDK), and use the
// control plane. Everything talks to 127.0.0.1 only.

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const REPO = path.resolve(__dirname, "..", "..", "..");
const DEV_SECRET_ID = "AKIDtclocalDevelopmentKey00000000000";
const DEV_SECRET_KEY = "tclocalDevelopmentSecretKey00000";
const HEALTH_TIMEOUT_MS = 10_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function binary() {
  let bin = process.env.TCLOCAL_BIN || path.join("target", "debug", "tclocal");
  if (!path.isAbsolute(bin)) bin = path.join(REPO, bin);
  if (!fs.existsSync(bin)) {
    throw new Error(`tclocal binary not found at ${bin} (build it with cargo build -p tclocal, or set TCLOCAL_BIN)`);
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

/** One HTTP request to 127.0.0.1:port; resolves {status, headers, text, json}. */
function request(port, { method = "GET", path: p = "/", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: p, headers, timeout: 15_000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`timeout: ${method} ${p}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function healthy(port, token) {
  try {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    return (await request(port, { path: "/_tclocal/health", headers })).status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts `tclocal serve --ephemeral --listen 127.0.0.1:<free port> --cvm-timings instant ...args`
 * and waits for /_tclocal/health (with the admin token, when the server has one).
 * Returns {port, url, logPath, stop()}.
 */
async function startServer(args = [], { token } = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A stray TCLOCAL_AUTH=off or TCLOCAL_ADMIN_TOKEN would change what is tested.
    if (!k.startsWith("TCLOCAL_")) env[k] = v;
  }
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const logPath = path.join(os.tmpdir(), `tclocal-browser-${port}-${process.pid}.log`);
    const log = fs.openSync(logPath, "w");
    const cmd = [binary(), "serve", "--ephemeral", "--listen", `127.0.0.1:${port}`, "--cvm-timings", "instant", ...args];
    const child = spawn(cmd[0], cmd.slice(1), { env, stdio: ["ignore", log, log] });
    let exited = null;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
    });
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (Date.now() < deadline && exited === null) {
      if (await healthy(port, token)) {
        fs.closeSync(log);
        return {
          port,
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
    fs.rmSync(logPath, { force: true });
    lastError = `\`${cmd.join(" ")}\` not healthy within ${HEALTH_TIMEOUT_MS} ms, exit ${JSON.stringify(exited)}; log:\n${text.slice(-4000)}`;
    if (!/in use/i.test(text)) break;
  }
  throw new Error(lastError);
}

const sha256hex = (s) => crypto.createHash("sha256").update(s, "utf8").digest("hex");
const hmac = (key, s) => crypto.createHmac("sha256", key).update(s, "utf8").digest();

/**
 * Calls one API action with a TC3-HMAC-SHA256 signed JSON POST (the algorithm of the
 * official SDKs, written out). Resolves the parsed `Response` object.
 */
async function callApi(server, { service = "cvm", action, version = "2017-03-12", region, params = {}, secretId = DEV_SECRET_ID, secretKey = DEV_SECRET_KEY, language = "en-US" }) {
  const host = `127.0.0.1:${server.port}`;
  const body = JSON.stringify(params);
  const timestamp = Math.floor(Date.now() / 1000);
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const contentType = "application/json; charset=utf-8";
  const canonicalHeaders = `content-type:${contentType}\nhost:${host}\n`;
  const signedHeaders = "content-type;host";
  const canonicalRequest = ["POST", "/", "", canonicalHeaders, signedHeaders, sha256hex(body)].join("\n");
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = ["TC3-HMAC-SHA256", String(timestamp), scope, sha256hex(canonicalRequest)].join("\n");
  const kDate = hmac(`TC3${secretKey}`, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, "tc3_request");
  const signature = crypto.createHmac("sha256", kSigning).update(stringToSign, "utf8").digest("hex");
  const headers = {
    Authorization: `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    "Content-Type": contentType,
    Host: host,
    "X-TC-Action": action,
    "X-TC-Version": version,
    "X-TC-Timestamp": String(timestamp),
    "X-TC-Language": language,
    "Content-Length": Buffer.byteLength(body),
  };
  if (region) headers["X-TC-Region"] = region;
  const res = await request(server.port, { method: "POST", path: "/", headers, body });
  if (!res.json || !res.json.Response) {
    throw new Error(`${action}: not an API answer (HTTP ${res.status}): ${res.text.slice(0, 500)}`);
  }
  return res.json.Response;
}

/** GET/POST/DELETE on the control plane; `token` adds the Bearer header. */
async function control(server, method, p, { token, json } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  }
  return request(server.port, { method, path: `/_tclocal${p}`, headers, body });
}

module.exports = { DEV_SECRET_ID, DEV_SECRET_KEY, REPO, callApi, control, request, sleep, startServer };

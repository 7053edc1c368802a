"use strict";
// The dashboard (/_tclocal/ui/) in a real headless Chromium (Debian's `chromium`), driven
// by playwright-core. Data is created through the API (TC3-signed requests), then the page
// must show it; the fault form and delete buttons must drive the control plane; the page
// must load nothing from outside the emulator; a screenshot lands in out/dashboard.png.

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { after, before, describe, test } = require("node:test");
const { chromium } = require("playwright-core");

const { callApi, control, startServer } = require("../lib/tclocal.js");

const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const OUT = path.join(__dirname, "..", "out");
const SCREENSHOT = path.join(OUT, "dashboard.png");
const REGION = "ap-guangzhou";
const WRONG_SECRET_KEY = "x".repeat(32);
const TIMEOUT = 10_000;

async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

/** A page that records every request it makes and every error it logs. */
async function openPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const seen = { requests: [], errors: [], failed: [], refused: [] };
  page.on("request", (r) => seen.requests.push({ url: r.url(), headers: r.headers() }));
  page.on("response", (r) => {
    if (r.status() >= 400) seen.refused.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  page.on("requestfailed", (r) => seen.failed.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
  page.on("pageerror", (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // HTTP errors are checked through `refused`; the browser also logs each one.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) seen.errors.push(`console: ${m.text()}`);
  });
  const response = await page.goto(url, { waitUntil: "load" });
  return { context, page, seen, response };
}

/** Resolves the PNG's width and height, checking the signature. */
function pngSize(file) {
  const buf = fs.readFileSync(file);
  assert.equal(buf.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "not a PNG");
  return { bytes: buf.length, width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

async function runInstances(server, params, region = REGION) {
  const r = await callApi(server, { action: "RunInstances", region, params: { ImageId: "img-zsxdft8i", ...params } });
  assert.equal(r.Error, undefined, `RunInstances failed: ${JSON.stringify(r.Error)}`);
  return r.InstanceIdSet;
}

describe("dashboard", () => {
  let server;
  let browser;
  let page;
  let seen;
  const ids = {};

  before(async () => {
    server = await startServer();
    // Two regions, so the page has something to group.
    ids.gz = await runInstances(server, { Placement: { Zone: "ap-guangzhou-3" }, InstanceCount: 2, InstanceName: "web-{R:1}" });
    ids.sh = await runInstances(server, { Placement: { Zone: "ap-shanghai-2" }, InstanceName: "db" }, "ap-shanghai");
    for (const action of ["DescribeInstances", "DescribeZones", "DescribeInstancesStatus"]) {
      const r = await callApi(server, { action, region: REGION });
      assert.equal(r.Error, undefined, `${action}: ${JSON.stringify(r.Error)}`);
    }
    // One failing call: signed with a wrong key.
    const bad = await callApi(server, { action: "DescribeInstances", region: REGION, secretKey: WRONG_SECRET_KEY });
    assert.equal(bad.Error.Code, "AuthFailure.SignatureFailure");
    ids.badRequest = bad.RequestId;
    browser = await launch();
    ({ page, seen } = await openPage(browser, `${server.url}/_tclocal/ui/`));
    await page.waitForSelector("body[data-loaded=true]");
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test("the header shows version, store, uptime and the emulated clock", async () => {
    const info = (await control(server, "GET", "/info")).json;
    await page.waitForFunction((v) => document.querySelector("#version").textContent === `v${v}`, info.version);
    assert.equal(await page.textContent("#store"), "memory");
    const emulated = info.services.filter((s) => s.emulated).map((s) => s.service);
    assert.ok(emulated.includes("cvm"));
    assert.equal(await page.textContent("#services"), emulated.join(", "));
    assert.match(await page.textContent("#uptime"), /^\d+(s|m \d\ds)$/);
    assert.match(await page.textContent("#clock"), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  });

  test("accounts and keys (SecretId only) are listed", async () => {
    await page.waitForSelector('[data-testid=account-row][data-app-id="1250000000"]');
    const keys = await page.$$eval("[data-testid=key-secret-id]", (els) => els.map((e) => e.textContent));
    assert.deepEqual(keys, ["AKIDtclocalDevelopmentKey00000000000"]);
    const html = await page.content();
    assert.ok(!html.includes("tclocalDevelopmentSecretKey00000"), "the page must never show a secret key");
  });

  test("instances appear grouped by region with a RUNNING state badge", async () => {
    for (const id of ids.gz) {
      const badge = page.locator(`[data-testid=region-ap-guangzhou] [data-testid=state-${id}]`);
      await badge.waitFor();
      assert.equal(await badge.textContent(), "RUNNING");
      assert.equal(await badge.getAttribute("data-state"), "RUNNING");
    }
    const sh = page.locator(`[data-testid=region-ap-shanghai] [data-testid=instance-${ids.sh[0]}]`);
    await sh.waitFor();
    assert.match(await sh.textContent(), /db/);
    assert.equal(await page.textContent("[data-testid=instances-count]"), "3");
  });

  test("the journal shows the failing call's code, highlighted, newest first", async () => {
    const row = page.locator(`[data-testid=journal-row][data-request-id="${ids.badRequest}"]`);
    await row.waitFor();
    const code = row.locator("[data-testid=journal-code]");
    assert.equal(await code.textContent(), "AuthFailure.SignatureFailure");
    assert.match(await code.getAttribute("class"), /\berr\b/);
    assert.match(await row.getAttribute("class"), /error-row/);
    const times = await page.$$eval("[data-testid=journal-row]", (rows) => rows.map((r) => r.querySelector("td").getAttribute("title")));
    assert.deepEqual(times, [...times].sort().reverse(), "journal rows are newest first");
    const first = await page.getAttribute("[data-testid=journal-row] >> nth=0", "data-request-id");
    assert.equal(first, ids.badRequest, "the failing call was the last one made");
  });

  test("searching a RequestId shows its details with the server's canonical request", async () => {
    const entry = (await control(server, "GET", `/requests/${ids.badRequest}`)).json;
    assert.ok(entry.signature, "the journal entry of a signature failure carries diagnostics");
    await page.fill("[data-testid=search-request-id]", ids.badRequest);
    await page.click("[data-testid=search-button]");
    const canonical = page.locator("[data-testid=request-detail] [data-testid=canonical-request]");
    await canonical.waitFor();
    assert.equal(await canonical.textContent(), entry.signature.canonical_request);
    assert.match(await canonical.textContent(), /^POST\n\/\n\ncontent-type:application\/json; charset=utf-8\nhost:127\.0\.0\.1:\d+\n/);
    assert.equal(await page.textContent("[data-testid=string-to-sign]"), entry.signature.string_to_sign);
    assert.equal(await page.textContent("[data-testid=detail-request-id]"), ids.badRequest);
    assert.match(await page.textContent("[data-testid=detail-code]"), /AuthFailure\.SignatureFailure/);
    // An unknown id is answered, not an error.
    await page.fill("[data-testid=search-request-id]", "00000000-0000-4000-8000-000000000000");
    await page.click("[data-testid=search-button]");
    await page.locator("[data-testid=detail-not-found]").waitFor();
  });

  test("clicking a journal row shows that entry", async () => {
    const ok = (await control(server, "GET", "/requests?action=DescribeZones&limit=1")).json.requests[0];
    await page.click(`[data-testid=journal-row][data-request-id="${ok.request_id}"]`);
    await page.waitForFunction((id) => document.querySelector("[data-testid=detail-request-id]")?.textContent === id, ok.request_id);
    assert.match(await page.textContent("[data-testid=detail-code]"), /Success/);
    assert.equal(await page.locator("[data-testid=request-detail] [data-testid=canonical-request]").count(), 0);
  });

  test("the code filter narrows the journal", async () => {
    await page.fill("[data-testid=filter-code]", "AuthFailure.SignatureFailure");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=journal-row]").length === 1);
    const codes = await page.$$eval("[data-testid=journal-row] [data-testid=journal-code]", (els) => els.map((e) => e.textContent));
    assert.deepEqual(codes, ["AuthFailure.SignatureFailure"]);
    await page.fill("[data-testid=filter-code]", "Success");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("[data-testid=journal-row] [data-testid=journal-code]")];
      return rows.length >= 5 && rows.every((r) => r.textContent === "Success");
    });
    await page.fill("[data-testid=filter-code]", "");
    await page.check("[data-testid=errors-only]");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("[data-testid=journal-row] [data-testid=journal-code]")];
      return rows.length === 1 && rows[0].textContent === "AuthFailure.SignatureFailure";
    });
    await page.uncheck("[data-testid=errors-only]");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=journal-row]").length >= 6);
  });

  test("a fault rule added through the form applies, shows up, and is deleted through the page", async () => {
    await page.fill("[data-testid=fault-service]", "cvm");
    await page.fill("[data-testid=fault-action]", "DescribeInstancesStatus");
    await page.fill("[data-testid=fault-code]", "InternalError");
    await page.fill("[data-testid=fault-probability]", "1");
    await page.fill("[data-testid=fault-latency]", "5");
    await page.fill("[data-testid=fault-count]", "3");
    await page.click("[data-testid=fault-submit]");
    const row = page.locator("[data-testid=fault-row]");
    await row.waitFor();
    const rules = (await control(server, "GET", "/faults")).json.faults;
    assert.equal(rules.length, 1);
    const rule = rules[0];
    assert.deepEqual(
      { service: rule.service, action: rule.action, region: rule.region, code: rule.code, probability: rule.probability, latency_ms: rule.latency_ms, count: rule.count },
      { service: "cvm", action: "DescribeInstancesStatus", region: null, code: "InternalError", probability: 1, latency_ms: 5, count: 3 },
      "empty form fields are left out (match everything)",
    );
    assert.equal(await row.getAttribute("data-fault-id"), rule.id);
    assert.match(await row.textContent(), /DescribeInstancesStatus/);

    // It is live: the next call fails with the rule's code, and the page counts the hit.
    const faulted = await callApi(server, { action: "DescribeInstancesStatus", region: REGION });
    assert.equal(faulted.Error && faulted.Error.Code, "InternalError");
    await page.waitForFunction(() => {
      const cells = document.querySelectorAll("[data-testid=fault-row] td");
      return cells.length && cells[9].textContent === "1" && cells[8].textContent === "2";
    });
    const jrow = page.locator(`[data-testid=journal-row][data-request-id="${faulted.RequestId}"]`);
    await jrow.waitFor();
    assert.equal(await jrow.locator("[data-testid=journal-code]").textContent(), "InternalError");

    // A refused rule shows the server's reason.
    await page.fill("[data-testid=fault-code]", "Made.Up");
    await page.click("[data-testid=fault-submit]");
    await page.waitForSelector("[data-testid=fault-error]:not([hidden])");
    assert.match(await page.textContent("[data-testid=fault-error]"), /Made\.Up/);
    assert.equal((await control(server, "GET", "/faults")).json.faults.length, 1);

    await page.click(`[data-testid=fault-delete][data-fault-id="${rule.id}"]`);
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=fault-row]").length === 0);
    assert.deepEqual((await control(server, "GET", "/faults")).json.faults, []);
    const healed = await callApi(server, { action: "DescribeInstancesStatus", region: REGION });
    assert.equal(healed.Error, undefined);
  });

  test("the advance button moves the emulated clock by 10 s", async () => {
    const before = (await control(server, "GET", "/clock")).json.now_ms;
    const wallBefore = Date.now();
    await page.click("[data-testid=advance-clock]");
    await page.waitForFunction((b) => Number(document.querySelector("#clock").dataset.nowMs) >= b + 10_000, before);
    const after = (await control(server, "GET", "/clock")).json.now_ms;
    const moved = after - before - (Date.now() - wallBefore);
    assert.ok(moved >= 9_000 && moved <= 10_500, `emulated time moved ${moved} ms beyond the wall clock`);
  });

  test("the chart draws requests and errors as SVG", async () => {
    await page.waitForFunction(() => Number(document.querySelector("[data-testid=chart-svg]")?.dataset.requests) >= 8);
    const chart = await page.$eval("[data-testid=chart-svg]", (s) => ({
      tag: s.tagName.toLowerCase(),
      ns: s.namespaceURI,
      bars: s.querySelectorAll("rect.bar-req").length,
      errBars: s.querySelectorAll("rect.bar-err").length,
      errors: Number(s.dataset.errors),
      width: s.getBoundingClientRect().width,
    }));
    assert.equal(chart.tag, "svg");
    assert.equal(chart.ns, "http://www.w3.org/2000/svg");
    assert.ok(chart.bars >= 1, "at least one request bar");
    assert.ok(chart.errBars >= 1, "at least one error bar");
    assert.ok(chart.errors >= 2, "the signature failure and the faulted call");
    assert.ok(chart.width > 300);
  });

  test("the page loads nothing from outside the emulator and logs no errors", async () => {
    const origin = `${server.url}/`;
    const outside = seen.requests.map((r) => r.url).filter((u) => !u.startsWith(origin) && !u.startsWith("data:"));
    assert.deepEqual(outside, []);
    assert.deepEqual(seen.failed, []);
    assert.deepEqual(seen.errors, []);
    // Only the two refusals the tests asked for: an unknown RequestId, an unknown code.
    assert.deepEqual(seen.refused, ["GET /_tclocal/requests/00000000-0000-4000-8000-000000000000 404", "POST /_tclocal/faults 400"]);
    assert.ok(seen.requests.some((r) => r.url.endsWith("/_tclocal/ui/app.js")));
  });

  test("a screenshot of the dashboard renders its data", async () => {
    fs.mkdirSync(OUT, { recursive: true });
    // A standing rule, so the picture shows the fault table.
    await page.fill("[data-testid=fault-action]", "RunInstances");
    await page.fill("[data-testid=fault-region]", "ap-shanghai");
    await page.fill("[data-testid=fault-code]", "InternalError");
    await page.fill("[data-testid=fault-probability]", "0.25");
    await page.fill("[data-testid=fault-latency]", "200");
    await page.fill("[data-testid=fault-count]", "");
    await page.click("[data-testid=fault-submit]");
    await page.locator("[data-testid=fault-row]").waitFor();
    assert.equal(await page.isHidden("[data-testid=fault-error]"), true, "a new edit clears the last refusal");
    // Show the signature failure's details in the picture.
    await page.fill("[data-testid=search-request-id]", ids.badRequest);
    await page.click("[data-testid=search-button]");
    await page.locator("[data-testid=canonical-request]").waitFor();
    const overflowing = await page.$$eval(".card, .table-wrap, .region", (els) =>
      els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.id || e.className));
    assert.deepEqual(overflowing, [], "no card needs a horizontal scroll bar at 1440 px");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = pngSize(SCREENSHOT);
    assert.ok(png.bytes > 40_000, `screenshot is only ${png.bytes} bytes`);
    assert.equal(png.width, 1440, "the page fits the viewport's width (nothing overflows)");
    assert.ok(png.height >= 1000, `screenshot height ${png.height}`);
  });
});

describe("dashboard with --admin-token", () => {
  const TOKEN = "s3cret-dashboard-token";
  let server;
  let browser;

  before(async () => {
    server = await startServer(["--admin-token", TOKEN], { token: TOKEN });
    await runInstances(server, { Placement: { Zone: "ap-guangzhou-3" }, InstanceName: "guarded" });
    browser = await launch();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test("the control plane refuses calls without the token", async () => {
    for (const p of ["/info", "/resources", "/requests", "/faults", "/clock", "/state", "/ui/"]) {
      const res = await control(server, "GET", p);
      assert.equal(res.status, 401, `GET ${p} without the token`);
    }
    // The script and the stylesheet hold no data and stay open, so <script src> needs no token.
    for (const p of ["/ui/app.js", "/ui/style.css", "/health", "/ready"]) {
      const res = await control(server, "GET", p);
      assert.equal(res.status, 200, `GET ${p} without the token`);
    }
    assert.equal((await control(server, "POST", "/reset")).status, 401);
    assert.equal((await control(server, "GET", "/info", { token: "wrong" })).status, 401);
    assert.equal((await control(server, "POST", "/faults", { json: { code: "InternalError" } })).status, 401);
    assert.equal((await control(server, "GET", "/info", { token: TOKEN })).status, 200);
  });

  test("the page opened with ?token= works and sends the token on every call", async () => {
    const { context, page, seen } = await openPage(browser, `${server.url}/_tclocal/ui/?token=${TOKEN}`);
    try {
      await page.waitForSelector("body[data-loaded=true]");
      await page.locator("[data-testid=region-ap-guangzhou] .instance-row").waitFor();
      assert.match(await page.textContent("[data-testid=region-ap-guangzhou]"), /guarded/);
      assert.match(await page.textContent("#version"), /^v\d/);
      assert.equal(await page.isHidden("[data-testid=banner]"), true);
      // Add and delete a fault through the page, with the token.
      await page.fill("[data-testid=fault-action]", "DescribeZones");
      await page.click("[data-testid=fault-submit]");
      await page.locator("[data-testid=fault-row]").waitFor();
      assert.equal((await control(server, "GET", "/faults", { token: TOKEN })).json.faults.length, 1);
      await page.click("[data-testid=fault-delete]");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=fault-row]").length === 0);
      const calls = seen.requests.filter((r) => /\/_tclocal\/(?!ui\/)/.test(r.url));
      assert.ok(calls.length >= 6, `only ${calls.length} control-plane calls seen`);
      for (const c of calls) {
        assert.equal(c.headers.authorization, `Bearer ${TOKEN}`, `no token on ${c.url}`);
      }
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(seen.refused, []);
    } finally {
      await context.close();
    }
  });

  test("the page opened without the token is refused", async () => {
    const { context, response } = await openPage(browser, `${server.url}/_tclocal/ui/`);
    try {
      assert.equal(response.status(), 401);
    } finally {
      await context.close();
    }
  });
});

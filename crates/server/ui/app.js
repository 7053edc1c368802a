// The tclocal dashboard. Vanilla JavaScript, no dependencies, nothing loaded from the
// network: it reads the control plane under /_tclocal/ (sending the admin token when the
// page was opened with ?token=…) and draws the chart as inline SVG.
"use strict";

(function () {
  const BASE = "/_tclocal";
  const REFRESH_MS = 2000;
  const JOURNAL_ROWS = 200;
  const REGION_ROWS = 100;
  const BUCKET_MS = 10_000;
  const WINDOW_MS = 5 * 60_000;
  const TOKEN = new URLSearchParams(location.search).get("token");
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    info: null,
    infoAt: 0,
    clock: null,
    clockAt: 0,
    serverOffsetMs: 0, // server wall clock minus ours, from the HTTP Date header
    journalKey: "",
    journalSeq: 0,
    // The chart's points by RequestId: {t, err}; fetched incrementally, pruned to the window.
    chartPoints: new Map(),
    chartNewest: 0,
    actionsSeen: new Set(),
    codesSeen: new Set(),
    selectedId: null,
    busy: false,
    timer: null,
    lastFaultsKey: "",
    resourcesKey: "",
  };

  // ---- helpers ---------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** h("td", {class: "x", "data-testid": "y", onclick: f}, child, "text", [more]) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  function replace(el, ...children) {
    el.replaceChildren();
    append(el, children);
  }

  const pad = (n, w = 2) => String(n).padStart(w, "0");

  /** UTC "HH:MM:SS" (with .mmm when asked). */
  function hms(ms, millis) {
    const d = new Date(ms);
    const s = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    return millis ? `${s}.${pad(d.getUTCMilliseconds(), 3)}` : s;
  }

  /** UTC "YYYY-MM-DD HH:MM:SS". */
  function ymdhms(ms) {
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hms(ms)}`;
  }

  function duration(secs) {
    secs = Math.max(0, Math.floor(secs));
    const d = Math.floor(secs / 86400);
    const hh = Math.floor((secs % 86400) / 3600);
    const mm = Math.floor((secs % 3600) / 60);
    const ss = secs % 60;
    if (d) return `${d}d ${hh}h ${pad(mm)}m`;
    if (hh) return `${hh}h ${pad(mm)}m ${pad(ss)}s`;
    if (mm) return `${mm}m ${pad(ss)}s`;
    return `${ss}s`;
  }

  function latency(us) {
    if (us === null || us === undefined) return "";
    if (us < 1000) return `${(us / 1000).toFixed(2)} ms`;
    if (us < 100_000) return `${(us / 1000).toFixed(1)} ms`;
    return `${Math.round(us / 1000)} ms`;
  }

  const serverNow = () => Date.now() + state.serverOffsetMs;

  // ---- the control plane -----------------------------------------------------------

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (TOKEN) headers.Authorization = `Bearer ${TOKEN}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    const date = Date.parse(res.headers.get("date") || "");
    if (!Number.isNaN(date)) {
      // The header has one-second resolution; only follow large differences.
      const offset = date - Date.now();
      if (Math.abs(offset - state.serverOffsetMs) > 2000) state.serverOffsetMs = offset;
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    if (!res.ok) {
      throw new HttpError(res.status, (json && json.error) || `HTTP ${res.status}`);
    }
    return json;
  }

  function banner(message) {
    const el = $("banner");
    if (message) {
      el.textContent = message;
      el.hidden = false;
    } else {
      el.hidden = true;
    }
  }

  function explain(err) {
    if (err instanceof HttpError && err.status === 401) {
      return "This tclocal was started with --admin-token: open the dashboard as /_tclocal/ui/?token=<token>.";
    }
    if (err instanceof HttpError && err.status === 403) {
      return "The control plane answers loopback clients only (start tclocal with --admin-token to allow others).";
    }
    if (err instanceof HttpError) return `The control plane answered ${err.status}: ${err.message}`;
    return `Cannot reach tclocal (${err.message}); retrying every ${REFRESH_MS / 1000} s.`;
  }

  // ---- header: info and clock ----------------------------------------------------

  async function loadInfo() {
    state.info = await api("/info");
    state.infoAt = Date.now();
    const i = state.info;
    $("version").textContent = `v${i.version}`;
    $("store").textContent = i.store;
    $("request-total").textContent = String(i.requests);
    const emulated = (i.services || []).filter((x) => x.emulated);
    $("services").textContent = emulated.map((x) => x.service).join(", ") || "none";
    $("services").title = (i.services || []).map((x) => `${x.service} ${x.versions.join(", ")}: ${x.actions} actions${x.emulated ? "" : " (model only)"}`).join("\n");
    const s = i.settings || {};
    $("auth-mode").textContent = s.auth || "?";
    $("auth-mode").title = `listen ${s.listen || "?"} · language ${s.language || "?"} · rate limits ${s.rate_limits || "?"}`;
    tickHeader();
  }

  async function loadClock() {
    state.clock = await api("/clock");
    state.clockAt = Date.now();
    tickHeader();
  }

  /** Advances the displayed uptime and emulated clock between fetches. */
  function tickHeader() {
    if (state.info) {
      const secs = state.info.uptime_secs + (Date.now() - state.infoAt) / 1000;
      $("uptime").textContent = duration(secs);
    }
    if (state.clock) {
      const now = state.clock.now_ms + (Date.now() - state.clockAt);
      const el = $("clock");
      el.textContent = `${ymdhms(now)} UTC`;
      el.dataset.nowMs = String(state.clock.now_ms);
    }
  }

  async function advanceClock() {
    const btn = $("advance-clock");
    btn.disabled = true;
    try {
      state.clock = await api("/clock/advance?seconds=10", { method: "POST" });
      state.clockAt = Date.now();
      tickHeader();
      await loadResources(); // transitions due by then have happened
      banner(null);
    } catch (err) {
      banner(explain(err));
    } finally {
      btn.disabled = false;
    }
  }

  // ---- resources -------------------------------------------------------------------

  const STATE_CLASS = {
    RUNNING: "ok",
    PENDING: "warn",
    STARTING: "warn",
    STOPPING: "warn",
    REBOOTING: "warn",
    TERMINATING: "warn",
    STOPPED: "idle",
    SHUTDOWN: "idle",
    LAUNCH_FAILED: "err",
  };

  function stateBadge(s, id) {
    return h("span", {
      class: `badge state ${STATE_CLASS[s] || "idle"}`,
      "data-testid": id ? `state-${id}` : "state",
      "data-state": s,
    }, s);
  }

  async function loadResources() {
    const r = await api("/resources");
    const key = JSON.stringify(r);
    if (key === state.resourcesKey) return; // unchanged: keep the DOM (and any text selection)
    state.resourcesKey = key;
    // One row per account, whatever order or repetition the list comes in.
    const accounts = [...new Map((r.accounts || []).map((a) => [a.AppId, a])).values()].sort((a, b) => a.AppId - b.AppId);
    const keys = r.keys || [];
    const cvm = (r.products && r.products.cvm) || { instances: [], key_pairs: 0 };
    const instances = cvm.instances || [];

    $("accounts-count").textContent = String(accounts.length);
    replace(
      document.querySelector("#accounts tbody"),
      accounts.length
        ? accounts.map((a) =>
            h("tr", { "data-testid": "account-row", "data-app-id": a.AppId },
              h("td", { class: "mono" }, a.AppId),
              h("td", { class: "mono" }, a.OwnerUin),
              h("td", { class: "num" }, keys.filter((k) => k.AppId === a.AppId).length),
              h("td", { class: "num" }, instances.filter((i) => i.AppId === a.AppId).length)))
        : h("tr", { class: "empty" }, h("td", { colspan: 4 }, "no accounts")),
    );

    $("keys-count").textContent = String(keys.length);
    replace(
      document.querySelector("#keys tbody"),
      keys.length
        ? keys.map((k) =>
            h("tr", { "data-testid": "key-row" },
              h("td", {},
                h("div", { class: "mono", "data-testid": "key-secret-id" }, k.SecretId),
                h("div", { class: "muted small" }, `AppId ${k.AppId} · Uin ${k.Uin}${k.Uin === k.OwnerUin ? " (root)" : ""}`)),
              h("td", { class: "num" }, h("span", { class: `badge ${k.Enabled ? "ok" : "idle"}` }, k.Enabled ? "enabled" : "disabled"))))
        : h("tr", { class: "empty" }, h("td", { colspan: 2 }, "no keys")),
    );

    renderInstances(instances, cvm.key_pairs, accounts.length > 1);
  }

  function stateCounts(list) {
    const counts = {};
    for (const i of list) counts[i.InstanceState] = (counts[i.InstanceState] || 0) + 1;
    return Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([s, n]) => h("span", { class: `badge ${STATE_CLASS[s] || "idle"}` }, `${n} ${s}`));
  }

  function renderInstances(instances, keyPairs, manyAccounts) {
    $("instances-count").textContent = String(instances.length);
    $("key-pairs").textContent = `key pairs: ${keyPairs || 0}`;
    replace($("state-summary"), stateCounts(instances));
    const box = $("instances");
    box.classList.toggle("many-accounts", Boolean(manyAccounts)); // one more column: wider regions
    if (!instances.length) {
      replace(box, h("div", { class: "empty-state" },
        "No instances yet. Create some with ", h("code", {}, "RunInstances"),
        " through any SDK or tccli pointed at ", h("code", {}, location.host), "."));
      return;
    }
    const byRegion = new Map();
    for (const i of instances) {
      if (!byRegion.has(i.Region)) byRegion.set(i.Region, []);
      byRegion.get(i.Region).push(i);
    }
    const regions = [...byRegion.keys()].sort();
    replace(box, regions.map((region) => {
      const all = byRegion.get(region).slice().sort((a, b) =>
        (a.CreatedTime || "").localeCompare(b.CreatedTime || "") || a.InstanceId.localeCompare(b.InstanceId));
      const list = all.slice(0, REGION_ROWS);
      return h("div", { class: "region", "data-testid": `region-${region}`, "data-region": region },
        h("div", { class: "region-head" },
          h("h3", {}, region),
          h("span", { class: "count" }, all.length),
          stateCounts(all)),
        h("table", { class: "table" },
          h("thead", {}, h("tr", {},
            h("th", {}, "InstanceId"), h("th", {}, "name"), h("th", {}, "state"),
            h("th", {}, "type"), h("th", {}, "zone"), h("th", {}, "created (UTC)"), manyAccounts ? h("th", {}, "AppId") : null)),
          h("tbody", {}, list.map((i) =>
            h("tr", { "data-testid": `instance-${i.InstanceId}`, "data-instance-id": i.InstanceId, class: "instance-row" },
              h("td", { class: "mono" }, i.InstanceId),
              h("td", {}, i.InstanceName),
              h("td", {}, stateBadge(i.InstanceState, i.InstanceId)),
              h("td", { class: "mono" }, i.InstanceType),
              h("td", { class: "mono" }, i.Zone),
              h("td", { class: "mono" }, (i.CreatedTime || "").replace("T", " ").replace("Z", "")),
              manyAccounts ? h("td", { class: "mono" }, i.AppId) : null)),
            all.length > list.length
              ? h("tr", { class: "empty" }, h("td", { colspan: 7 }, `… and ${all.length - list.length} more (the first ${REGION_ROWS} by creation time are shown)`))
              : null)));
    }));
  }

  // ---- journal ---------------------------------------------------------------------

  function codeBadge(entry) {
    if (!entry.code) return h("span", { class: "badge ok", "data-testid": "journal-code", "data-code": "Success" }, "Success");
    return h("span", { class: "badge err code-err", "data-testid": "journal-code", "data-code": entry.code, title: entry.message || "" }, entry.code);
  }

  function journalQuery() {
    const code = $("filter-code").value.trim();
    const action = $("filter-action").value.trim();
    const errorsOnly = $("errors-only").checked;
    const q = new URLSearchParams({ limit: String(errorsOnly && !code ? 2000 : JOURNAL_ROWS) });
    if (code) q.set("code", code);
    if (action) q.set("action", action);
    return { q: q.toString(), errorsOnly };
  }

  async function loadJournal() {
    const { q, errorsOnly } = journalQuery();
    const seq = ++state.journalSeq;
    const res = await api(`/requests?${q}`);
    if (seq !== state.journalSeq) return; // the filters changed meanwhile
    let entries = res.requests || [];
    if (errorsOnly) entries = entries.filter((e) => e.code);
    entries = entries.slice(0, JOURNAL_ROWS);
    const key = `${q}|${errorsOnly}|${state.selectedId}|${entries.map((e) => e.request_id).join(",")}`;
    $("journal-count").textContent = String(entries.length);
    $("journal-count").title = `${res.total} requests since start`;
    if (key === state.journalKey) return;
    state.journalKey = key;
    const tbody = document.querySelector("#journal tbody");
    if (!entries.length) {
      replace(tbody, h("tr", { class: "empty" }, h("td", { colspan: 7 },
        q.includes("code=") || q.includes("action=") || errorsOnly ? "no request matches the filters" : "no requests yet")));
      return;
    }
    replace(tbody, entries.map((e) =>
      h("tr", {
        "data-testid": "journal-row",
        "data-request-id": e.request_id,
        class: [e.code ? "error-row" : "", e.request_id === state.selectedId ? "selected" : ""].join(" ").trim() || null,
        tabindex: 0,
        onclick: () => select(e),
        onkeydown: (ev) => { if (ev.key === "Enter") select(e); },
      },
        h("td", { class: "mono", title: e.time }, hms(e.time_ms, true)),
        h("td", { class: "rid", title: e.request_id }, `${e.request_id.slice(0, 8)}…`),
        h("td", { title: [e.service, e.action, e.version].filter(Boolean).join(" · ") }, e.action || h("span", { class: "muted" }, "—")),
        h("td", { class: "mono" }, e.region || ""),
        h("td", { class: "mono" }, e.app_id || h("span", { class: "muted" }, "—")),
        h("td", {}, codeBadge(e), e.fault ? h("span", { class: "badge fault", title: `fault rule ${e.fault}` }, "fault") : null),
        h("td", { class: "num" }, latency(e.latency_us)))));
  }

  function select(entry) {
    state.selectedId = entry.request_id;
    for (const tr of document.querySelectorAll("#journal tbody tr")) {
      tr.classList.toggle("selected", tr.dataset.requestId === entry.request_id);
    }
    showDetail(entry);
  }

  function showDetail(e) {
    const d = $("request-detail");
    $("detail-close").hidden = false;
    const row = (label, value, testid) =>
      [h("dt", {}, label), h("dd", { "data-testid": testid || null }, value === null || value === undefined || value === "" ? h("span", { class: "muted" }, "—") : value)];
    const outcome = e.code
      ? h("span", {}, h("span", { class: "badge err code-err" }, e.code), e.message ? h("div", { class: "muted" }, e.message) : null)
      : h("span", { class: "badge ok" }, "Success");
    replace(d,
      h("dl", {},
        row("RequestId", h("span", { class: "mono" }, e.request_id), "detail-request-id"),
        row("time", `${ymdhms(e.time_ms)}.${pad(e.time_ms % 1000, 3)} UTC`),
        row("outcome", outcome, "detail-code"),
        row("call", [e.service, e.action, e.version].filter(Boolean).join(" · ")),
        row("region", e.region),
        row("account", e.app_id ? `AppId ${e.app_id} · Uin ${e.uin || "?"}` : null),
        row("SecretId", e.secret_id ? h("span", { class: "mono" }, e.secret_id) : null),
        row("auth", e.auth),
        row("method", e.method),
        row("language", e.language),
        row("latency", latency(e.latency_us)),
        row("client", e.client),
        row("TraceId", e.trace_id),
        row("fault rule", e.fault)),
      e.signature
        ? [
            h("h3", {}, "Canonical request (as the server built it)"),
            h("pre", { "data-testid": "canonical-request" }, e.signature.canonical_request),
            h("h3", {}, "String to sign"),
            h("pre", { "data-testid": "string-to-sign" }, e.signature.string_to_sign),
            h("p", { class: "hint" }, "Compare these with what your client signed: the first line that differs is where the signing code goes wrong. Keys and derived keys are never recorded."),
          ]
        : null);
  }

  function clearDetail() {
    state.selectedId = null;
    state.journalKey = "";
    $("detail-close").hidden = true;
    replace($("request-detail"), h("p", { class: "muted" }, "Click a journal row, or find a RequestId, to see what the emulator recorded."));
    for (const tr of document.querySelectorAll("#journal tbody tr.selected")) tr.classList.remove("selected");
  }

  async function search(ev) {
    ev.preventDefault();
    const id = $("search-id").value.trim();
    if (!id) {
      clearDetail();
      return;
    }
    try {
      const entry = await api(`/requests/${encodeURIComponent(id)}`);
      select(entry);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) {
        state.selectedId = null;
        $("detail-close").hidden = false;
        replace($("request-detail"),
          h("p", { class: "not-found", "data-testid": "detail-not-found" }, "No request ", h("span", { class: "mono" }, id), " in the journal."),
          h("p", { class: "muted" }, "The journal keeps the most recent requests (--journal-size); RequestIds of requests that never reached tclocal are unknown to it."));
      } else {
        banner(explain(err));
      }
    }
  }

  // ---- chart -----------------------------------------------------------------------

  async function loadChart() {
    const windowStart = serverNow() - WINDOW_MS - BUCKET_MS;
    // Entries are recorded when answered but stamped when they arrived, so a slow call can
    // appear behind newer ones: re-read the last minute and skip what is already counted.
    const since = Math.floor(Math.max(windowStart, state.chartNewest - 60_000));
    const res = await api(`/requests?limit=10000&since=${since}`);
    let changed = false;
    for (const e of res.requests || []) {
      if (e.action) state.actionsSeen.add(e.action);
      if (e.code) state.codesSeen.add(e.code);
      if (state.chartPoints.has(e.request_id)) continue;
      state.chartPoints.set(e.request_id, { t: e.time_ms, err: Boolean(e.code) });
      state.chartNewest = Math.max(state.chartNewest, e.time_ms);
      changed = true;
    }
    for (const [id, p] of state.chartPoints) {
      if (p.t < windowStart) state.chartPoints.delete(id);
    }
    if (changed) {
      replace($("actions-seen"), [...state.actionsSeen].sort().map((a) => h("option", { value: a })));
      replace($("codes-seen"), h("option", { value: "Success" }), [...state.codesSeen].sort().map((c) => h("option", { value: c })));
    }
    drawChart();
  }

  function niceMax(n) {
    if (n <= 4) return 4;
    const p = Math.pow(10, Math.floor(Math.log10(n)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
    return 10 * p;
  }

  function drawChart() {
    const box = $("chart");
    const W = Math.max(320, Math.round(box.clientWidth || 800));
    const H = 240;
    const m = { l: 40, r: 12, t: 12, b: 26 };
    const n = WINDOW_MS / BUCKET_MS;
    const end = Math.ceil(serverNow() / BUCKET_MS) * BUCKET_MS;
    const start = end - WINDOW_MS;
    const req = new Array(n).fill(0);
    const err = new Array(n).fill(0);
    for (const p of state.chartPoints.values()) {
      const i = Math.floor((p.t - start) / BUCKET_MS);
      if (i < 0 || i >= n) continue;
      req[i] += 1;
      if (p.err) err[i] += 1;
    }
    const total = req.reduce((a, b) => a + b, 0);
    const errors = err.reduce((a, b) => a + b, 0);
    $("chart-requests").textContent = String(total);
    $("chart-errors").textContent = String(errors);

    const max = niceMax(Math.max(...req));
    const pw = W - m.l - m.r;
    const ph = H - m.t - m.b;
    const slot = pw / n;
    const y = (v) => m.t + ph - (v / max) * ph;
    const x = (i) => m.l + i * slot;

    const root = svg("svg", {
      viewBox: `0 0 ${W} ${H}`,
      width: W,
      height: H,
      role: "img",
      "aria-label": `${total} requests and ${errors} errors in the last 5 minutes`,
      "data-testid": "chart-svg",
      "data-requests": total,
      "data-errors": errors,
    });
    for (const v of [0, max / 2, max]) {
      root.appendChild(svg("line", { class: v ? "grid-line" : "axis", x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
      root.appendChild(svg("text", { class: "tick", x: m.l - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
    }
    for (let i = 0; i <= n; i += 6) {
      root.appendChild(svg("line", { class: "axis", x1: x(i), x2: x(i), y1: m.t + ph, y2: m.t + ph + 4 }));
      root.appendChild(svg("text", { class: "tick", x: x(i), y: H - 8, "text-anchor": i === 0 ? "start" : i === n ? "end" : "middle" }, hms(start + i * BUCKET_MS)));
    }
    const bw = Math.max(2, slot * 0.72);
    const bars = svg("g", { "data-testid": "chart-bars" });
    for (let i = 0; i < n; i++) {
      if (!req[i]) continue;
      const bx = x(i) + (slot - bw) / 2;
      const title = svg("title", {}, `${hms(start + i * BUCKET_MS)}–${hms(start + (i + 1) * BUCKET_MS)} UTC: ${req[i]} requests, ${err[i]} errors`);
      const g = svg("g", {}, title);
      g.appendChild(svg("rect", { class: "bar-req", x: bx, y: y(req[i]), width: bw, height: Math.max(1, y(0) - y(req[i])), rx: 2 }));
      if (err[i]) g.appendChild(svg("rect", { class: "bar-err", x: bx, y: y(err[i]), width: bw, height: Math.max(1, y(0) - y(err[i])), rx: 2 }));
      bars.appendChild(g);
    }
    root.appendChild(bars);
    if (!total) {
      root.appendChild(svg("text", { class: "tick", x: m.l + pw / 2, y: m.t + ph * 0.3, "text-anchor": "middle" }, "no requests in the last 5 minutes"));
    }
    box.replaceChildren(root);
  }

  // ---- faults ----------------------------------------------------------------------

  async function loadFaults() {
    const res = await api("/faults");
    const faults = res.faults || [];
    $("faults-count").textContent = String(faults.length);
    const key = JSON.stringify(faults);
    if (key === state.lastFaultsKey) return;
    state.lastFaultsKey = key;
    const any = (v) => (v === null || v === undefined ? h("span", { class: "muted" }, "any") : v);
    replace(
      document.querySelector("#faults tbody"),
      faults.length
        ? faults.map((f) =>
            h("tr", { "data-testid": "fault-row", "data-fault-id": f.id },
              h("td", { class: "mono" }, f.id),
              h("td", {}, any(f.service)),
              h("td", {}, any(f.action)),
              h("td", {}, any(f.region)),
              h("td", {}, any(f.account)),
              h("td", {}, f.code ? h("span", { class: "badge err code-err" }, f.code) : h("span", { class: "muted" }, "latency only")),
              h("td", { class: "num" }, f.probability),
              h("td", { class: "num" }, f.latency_ms ? `${f.latency_ms} ms` : "—"),
              h("td", { class: "num" }, f.count === null || f.count === undefined ? "∞" : f.count),
              h("td", { class: "num" }, f.hits),
              h("td", { class: "num" }, h("button", {
                type: "button",
                class: "danger",
                "data-testid": "fault-delete",
                "data-fault-id": f.id,
                onclick: (ev) => removeFault(f.id, ev.currentTarget),
              }, "delete"))))
        : h("tr", { class: "empty" }, h("td", { colspan: 11 }, "no fault rules: every call is answered normally")),
    );
  }

  function faultError(message) {
    const el = $("fault-error");
    el.textContent = message || "";
    el.hidden = !message;
  }

  function faultFormChanged() {
    faultError(null);
  }

  async function addFault(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const rule = {};
    for (const name of ["service", "action", "region", "code"]) {
      const v = form.elements[name].value.trim();
      if (v) rule[name] = v; // empty means "any": the field is left out
    }
    const prob = form.elements.probability.value.trim();
    if (prob) rule.probability = Number(prob);
    const lat = form.elements.latency_ms.value.trim();
    if (lat) rule.latency_ms = Number(lat);
    const count = form.elements.count.value.trim();
    if (count) rule.count = Number(count);
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      faultError("probability must be between 0 and 1");
      return;
    }
    for (const k of ["latency_ms", "count"]) {
      if (rule[k] !== undefined && !(Number.isInteger(rule[k]) && rule[k] >= 0)) {
        faultError(`${k} must be a whole number`);
        return;
      }
    }
    const btn = $("fault-submit");
    btn.disabled = true;
    try {
      await api("/faults", { method: "POST", body: rule });
      faultError(null);
      state.lastFaultsKey = "";
      await loadFaults();
    } catch (err) {
      faultError(err instanceof HttpError && err.status === 400 ? err.message : explain(err));
    } finally {
      btn.disabled = false;
    }
  }

  async function removeFault(id, btn) {
    if (btn) btn.disabled = true;
    try {
      await api(`/faults/${encodeURIComponent(id)}`, { method: "DELETE" });
    } catch (err) {
      // 404: the rule used up its count meanwhile; the list below shows the truth.
      if (!(err instanceof HttpError && err.status === 404)) banner(explain(err));
    }
    state.lastFaultsKey = "";
    await loadFaults().catch((err) => banner(explain(err)));
  }

  // ---- refresh loop ----------------------------------------------------------------

  async function refresh() {
    if (state.busy) return;
    state.busy = true;
    try {
      const results = await Promise.allSettled([loadInfo(), loadClock(), loadResources(), loadJournal(), loadChart(), loadFaults()]);
      const failed = results.find((r) => r.status === "rejected");
      banner(failed ? explain(failed.reason) : null);
      if (!failed) $("updated").textContent = `updated ${hms(Date.now())} UTC`;
      document.body.dataset.loaded = "true";
    } finally {
      state.busy = false;
    }
  }

  function setLive(on) {
    clearInterval(state.timer);
    state.timer = on ? setInterval(refresh, REFRESH_MS) : null;
  }

  function start() {
    $("advance-clock").addEventListener("click", advanceClock);
    $("search-form").addEventListener("submit", search);
    $("fault-form").addEventListener("submit", addFault);
    $("fault-form").addEventListener("input", faultFormChanged);
    $("detail-close").addEventListener("click", clearDetail);
    $("live").addEventListener("change", (ev) => setLive(ev.currentTarget.checked));
    let filterTimer = null;
    const refilter = () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => loadJournal().catch((err) => banner(explain(err))), 150);
    };
    for (const id of ["filter-code", "filter-action"]) $(id).addEventListener("input", refilter);
    $("errors-only").addEventListener("change", refilter);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(drawChart, 100);
    });
    setInterval(tickHeader, 1000);
    refresh();
    setLive(true);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

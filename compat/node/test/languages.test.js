"use strict";
// zh-CN, en-US and ja-JP: localised fields and error messages follow the request.
// The SDK accepts only zh-CN and en-US in its constructor; ja-JP is set on the client
// afterwards, which makes it send X-TC-Language: ja-JP (TC3) or Language=ja-JP (v1).
const assert = require("node:assert/strict");
const { after, before, test } = require("node:test");
const tc = require("../lib/tclocal");

const KANA = /[\u3040-\u30ff]/;
const HAN = /[\u4e00-\u9fff]/;

let server;
let serverEnUs;
let serverJaJpEnv;
before(async () => {
  server = await tc.startServer();
  serverEnUs = await tc.startServer({ name: "en-US", args: ["--language", "en-US"] });
  serverJaJpEnv = await tc.startServer({ name: "ja-JP-env", env: { TCLOCAL_LANGUAGE: "ja-JP" } });
});
after(async () => {
  await Promise.all([server, serverEnUs, serverJaJpEnv].filter(Boolean).map((s) => s.stop()));
});

async function zoneName(client, zone = "ap-guangzhou-3") {
  const resp = await client.DescribeZones({});
  const z = resp.ZoneSet.find((x) => x.Zone === zone);
  assert.ok(z, JSON.stringify(resp.ZoneSet.map((x) => x.Zone)));
  return z.ZoneName;
}

for (const language of ["zh-CN", "en-US", "ja-JP"]) {
  for (const signMethod of ["TC3-HMAC-SHA256", "HmacSHA1"]) {
    test(`ZoneName follows the request language ${language} (${signMethod})`, async () => {
      const rec = tc.record();
      try {
        assert.equal(await zoneName(tc.cvm(server, { language, signMethod })), tc.ZONE_NAMES[language]);
      } finally {
        rec.stop();
      }
      if (signMethod === "TC3-HMAC-SHA256") assert.equal(rec[0].headers["X-TC-Language"], language);
      else assert.match(rec[0].body, new RegExp(`Language=${language}`));
    });
  }
}

async function missingRegionMessage(s, language) {
  const err = await tc.expectError(tc.cvm(s, { region: "", language }).DescribeInstancesStatus({}), "MissingParameter");
  return err.message;
}

test("MissingParameter message is localised per language", async () => {
  const m = {};
  for (const lang of ["zh-CN", "en-US", "ja-JP"]) m[lang] = await missingRegionMessage(server, lang);
  assert.equal(m["en-US"], tc.EN_MISSING_REGION);
  assert.equal(new Set(Object.values(m)).size, 3, JSON.stringify(m));
  assert.ok(HAN.test(m["zh-CN"]) && !KANA.test(m["zh-CN"]), JSON.stringify(m));
  assert.ok(KANA.test(m["ja-JP"]), JSON.stringify(m));
});

test("the Node SDK sends no language by default: the server's zh-CN applies", async () => {
  const rec = tc.record();
  try {
    assert.equal(await zoneName(tc.cvm(server)), "广州三区");
  } finally {
    rec.stop();
  }
  assert.equal(rec[0].headers["X-TC-Language"], undefined);
});

test("--language en-US is the default for requests that name none", async () => {
  assert.equal(await zoneName(tc.cvm(serverEnUs)), "Guangzhou Zone 3");
  assert.equal(await missingRegionMessage(serverEnUs, undefined), tc.EN_MISSING_REGION);
  assert.equal(await zoneName(tc.cvm(serverEnUs, { signMethod: "HmacSHA256" })), "Guangzhou Zone 3");
});

test("the request's language wins over --language", async () => {
  assert.equal(await zoneName(tc.cvm(serverEnUs, { language: "zh-CN" })), "广州三区");
  assert.equal(await zoneName(tc.cvm(serverEnUs, { language: "ja-JP" })), "広州ゾーン3");
});

test("TCLOCAL_LANGUAGE=ja-JP sets the default", async () => {
  assert.equal(await zoneName(tc.cvm(serverJaJpEnv)), "広州ゾーン3");
  assert.equal(await zoneName(tc.cvm(serverJaJpEnv, { language: "en-US" })), "Guangzhou Zone 3");
});

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  checkSasToken,
  createSasToken,
  encodeUriComponentStrict,
  parseSasToken,
} from "./sas_token.ts";

const KEY = btoa("0123456789abcdef0123456789abcdef");
const OTHER = btoa("fedcba9876543210fedcba9876543210");
const NOW = 1_700_000_000;

function expectation(overrides: Partial<Parameters<typeof checkSasToken>[1]> = {}) {
  return {
    hosts: ["hub.example", "edge.local"],
    deviceId: "Dev1",
    moduleId: "sensor",
    keys: [OTHER, KEY],
    nowSeconds: NOW,
    ...overrides,
  };
}

Deno.test("createSasToken() signs sr + newline + se with HMAC-SHA256 of the decoded key", () => {
  const token = createSasToken({ host: "hub.example", deviceId: "dev1" }, {
    keyBase64: KEY,
    expiry: NOW + 60,
  });
  const sr = encodeUriComponentStrict("hub.example/devices/dev1");
  const sig = createHmac("sha256", atob(KEY)).update(`${sr}\n${NOW + 60}`).digest("base64");
  assert.equal(
    token,
    `SharedAccessSignature sr=${sr}&sig=${encodeUriComponentStrict(sig)}&se=${NOW + 60}`,
  );
});

Deno.test("checkSasToken() accepts a module token signed with either key, ids in any case", () => {
  const token = createSasToken({ host: "EDGE.local", deviceId: "dev1", moduleId: "Sensor" }, {
    keyBase64: KEY,
    expiry: NOW + 60,
  });
  assert.deepEqual(checkSasToken(token, expectation()), { ok: true });
});

Deno.test("checkSasToken() refuses what is not this identity's valid token", async (t) => {
  const sign = (resource: Parameters<typeof createSasToken>[0], key = KEY, expiry = NOW + 60) =>
    createSasToken(resource, { keyBase64: key, expiry });
  const cases: [string, string, RegExp][] = [
    [
      "expired",
      sign({ host: "hub.example", deviceId: "dev1", moduleId: "sensor" }, KEY, NOW),
      /expired/,
    ],
    [
      "wrong key",
      sign({ host: "hub.example", deviceId: "dev1", moduleId: "sensor" }, btoa("x".repeat(32))),
      /signature/,
    ],
    [
      "wrong host",
      sign({ host: "evil.example", deviceId: "dev1", moduleId: "sensor" }),
      /audience/,
    ],
    [
      "another module",
      sign({ host: "hub.example", deviceId: "dev1", moduleId: "other" }),
      /audience/,
    ],
    ["the device, not the module", sign({ host: "hub.example", deviceId: "dev1" }), /audience/],
    ["not a token", "Bearer abc", /SharedAccessSignature/],
    ["missing se", "SharedAccessSignature sr=a&sig=b", /se is missing/],
    [
      "policy token",
      sign({ host: "hub.example", deviceId: "dev1", moduleId: "sensor" }) + "&skn=iothubowner",
      /skn/,
    ],
  ];
  for (const [name, token, reason] of cases) {
    await t.step(name, () => {
      const verdict = checkSasToken(token, expectation());
      assert.equal(verdict.ok, false);
      assert.match((verdict as { reason: string }).reason, reason);
    });
  }
});

Deno.test("parseSasToken() names the malformed field", () => {
  assert.throws(
    () => parseSasToken("SharedAccessSignature sr=a&sig=b&se=soon"),
    /se must be Unix seconds/,
  );
  assert.throws(() => parseSasToken("SharedAccessSignature sr=a&sr=b&sig=c&se=1"), /sr repeated/);
});

Deno.test("checkSasToken() refuses a token that lives longer than maxLifetimeSeconds", () => {
  const resource = { host: "hub.example", deviceId: "dev1", moduleId: "sensor" };
  const at = (expiry: number) => createSasToken(resource, { keyBase64: KEY, expiry });
  const bounded = expectation({ maxLifetimeSeconds: 3600 });
  assert.deepEqual(checkSasToken(at(NOW + 3600), bounded), { ok: true });
  const verdict = checkSasToken(at(NOW + 3601), bounded);
  assert.equal(verdict.ok, false);
  assert.match((verdict as { reason: string }).reason, /max_sas_token_lifetime_seconds/);
  assert.deepEqual(checkSasToken(at(NOW + 10 * 365 * 86400), expectation()), { ok: true });
});

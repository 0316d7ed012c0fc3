import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { connectSettings } from "./connect_settings.ts";

const KEY = "ZGV2aWNlLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=";
const parent = { hostname: "parent.local", port: 8883, protocol: "mqtts" as const, caPem: "CA" };

Deno.test("connectSettings() names a module connection as the Azure IoT SDK does", () => {
  const settings = connectSettings({ deviceId: "child", moduleId: "sensor" }, {
    parent,
    credential: { kind: "sas", keyBase64: KEY },
    nowSeconds: 1_700_000_000,
    tokenLifetimeSeconds: 3600,
  });
  assert.equal(settings.url, "mqtts://parent.local:8883");
  assert.equal(settings.clientId, "child/sensor");
  assert.match(
    settings.username,
    /^parent\.local\/child\/sensor\/\?api-version=2021-04-12&DeviceClientType=ledge%2F/,
  );
  assert.equal(settings.ca, "CA");
  assert.equal(settings.tokenExpiry, 1_700_003_600);
});

Deno.test("connectSettings() signs sr = host/devices/id with the key and the expiry", () => {
  const settings = connectSettings({ deviceId: "child" }, {
    parent,
    credential: { kind: "sas", keyBase64: KEY },
    nowSeconds: 1_700_000_000.7,
    tokenLifetimeSeconds: 60,
  });
  const sr = encodeURIComponent("parent.local/devices/child");
  const expected = createHmac("sha256", Buffer.from(KEY, "base64"))
    .update(`${sr}\n1700000060`).digest("base64");
  assert.equal(
    settings.password,
    `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(expected)}&se=1700000060`,
  );
});

Deno.test("connectSettings() sends a client certificate and no password with X.509", () => {
  const settings = connectSettings({ deviceId: "child" }, {
    parent: { ...parent, protocol: "wss", port: 443, caPem: undefined },
    credential: { kind: "x509", certPem: "CERT", keyPem: "KEY" },
    nowSeconds: 0,
    tokenLifetimeSeconds: 60,
  });
  assert.equal(settings.url, "wss://parent.local:443/$iothub/websocket");
  assert.equal(settings.password, undefined);
  assert.equal(settings.cert, "CERT");
  assert.equal(settings.key, "KEY");
  assert.equal("ca" in settings, false);
});

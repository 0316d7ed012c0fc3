import assert from "node:assert/strict";
import { derivedSasKey } from "./derived_key.ts";

// Expected values computed with `openssl dgst -sha256 -mac HMAC -macopt hexkey:…`, not with the
// code under test.
const DEVICE_KEY = "ZGV2aWNlLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=";
const options = { ownDeviceId: "edge1", deviceKeyBase64: DEVICE_KEY };

Deno.test("derivedSasKey() gives this device its own key", () => {
  assert.equal(derivedSasKey({ deviceId: "EDGE1" }, options), DEVICE_KEY);
});

Deno.test("derivedSasKey() derives a module key as HMAC(device key, module id)", () => {
  assert.equal(
    derivedSasKey({ deviceId: "edge1", moduleId: "sensor" }, options),
    "VTxX+6GYY19SAvJO0q+XiwyGu2Q2HQhB2eu1a5NE+OY=",
  );
});

Deno.test('derivedSasKey() derives a lower device key as HMAC(device key, "devices/" + id)', () => {
  assert.equal(
    derivedSasKey({ deviceId: "leaf7" }, options),
    "utj4YinFDz6kbRskv1PuMXA9sPYurHRfpfCDLAKwQAc=",
  );
});

Deno.test("derivedSasKey() derives a lower device's module key from that device's key", () => {
  assert.equal(
    derivedSasKey({ deviceId: "leaf7", moduleId: "cam" }, options),
    "uzW26c3ZNC5kwa2/NuHjhID4SmBmTIkZMjLAtbrgMYo=",
  );
});

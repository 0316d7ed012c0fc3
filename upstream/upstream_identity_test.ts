import assert from "node:assert/strict";
import { identityKey, identityLabel } from "../iothub/mod.ts";
import { senderIdentity } from "./upstream_identity.ts";

function message(systemProperties: Record<string, string>) {
  return { body: new Uint8Array(), appProperties: {}, systemProperties };
}

Deno.test("senderIdentity() forwards a module's message as that module of its device", () => {
  const sent = message({ connectionDeviceId: "edge1", connectionModuleId: "sensor" });
  assert.deepEqual(senderIdentity(sent, "edge1"), { deviceId: "edge1", moduleId: "sensor" });
});

Deno.test("senderIdentity() forwards a leaf device's message as that device", () => {
  assert.deepEqual(senderIdentity(message({ connectionDeviceId: "leaf7" }), "edge1"), {
    deviceId: "leaf7",
  });
});

Deno.test("senderIdentity() forwards a message without a sender as this device", () => {
  assert.deepEqual(senderIdentity(message({ messageId: "m1" }), "edge1"), { deviceId: "edge1" });
});

Deno.test("identityKey() ignores case; the label keeps it", () => {
  const identity = { deviceId: "Edge1", moduleId: "Sensor" };
  assert.equal(identityKey(identity), "edge1/sensor");
  assert.equal(identityLabel(identity), "Edge1/Sensor");
  assert.equal(identityKey({ deviceId: "Edge1" }), "edge1");
});

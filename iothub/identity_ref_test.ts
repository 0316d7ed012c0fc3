import assert from "node:assert/strict";
import { identityKey, identityLabel } from "./identity_ref.ts";

Deno.test("identityLabel() keeps the spelling; identityKey() lower-cases it", () => {
  assert.equal(identityLabel({ deviceId: "Edge1" }), "Edge1");
  assert.equal(identityLabel({ deviceId: "Edge1", moduleId: "Sensor" }), "Edge1/Sensor");
  assert.equal(identityKey({ deviceId: "Edge1", moduleId: "Sensor" }), "edge1/sensor");
  assert.equal(identityKey({ deviceId: "Edge1", moduleId: undefined }), "edge1");
});

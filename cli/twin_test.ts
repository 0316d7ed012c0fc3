import assert from "node:assert/strict";
import { UsageError } from "./_shared.ts";
import { twinTarget } from "./twin.ts";

Deno.test("twinTarget() names this device's modules, device/module, a device, or a device's module", () => {
  const own = { deviceId: "edge1", device: undefined };
  assert.deepEqual(twinTarget("sensor", own), { deviceId: "edge1", moduleId: "sensor" });
  assert.deepEqual(twinTarget("child/sensor", own), { deviceId: "child", moduleId: "sensor" });
  assert.deepEqual(twinTarget(undefined, { deviceId: "edge1", device: "leaf" }), {
    deviceId: "leaf",
  });
  assert.deepEqual(twinTarget("$edgeAgent", { deviceId: "edge1", device: "child" }), {
    deviceId: "child",
    moduleId: "$edgeAgent",
  });
  assert.throws(() => twinTarget(undefined, own), UsageError);
});

import assert from "node:assert/strict";
import { UsageError } from "./_shared.ts";
import { invokeTarget } from "./invoke.ts";

Deno.test("invokeTarget() reads --device as a device, or with a module as that device's module", () => {
  const own = { ownDeviceId: "edge1", device: undefined };
  assert.deepEqual(invokeTarget({ target: "sensor", method: "reset" }, own), {
    deviceId: "edge1",
    moduleId: "sensor",
    methodName: "reset",
  });
  assert.deepEqual(
    invokeTarget({ target: "reboot", method: undefined }, { ownDeviceId: "edge1", device: "leaf" }),
    { deviceId: "leaf", methodName: "reboot" },
  );
  assert.deepEqual(
    invokeTarget({ target: "sensor", method: "echo" }, { ownDeviceId: "edge1", device: "child" }),
    { deviceId: "child", moduleId: "sensor", methodName: "echo" },
  );
  assert.throws(() => invokeTarget({ target: "sensor", method: undefined }, own), UsageError);
});

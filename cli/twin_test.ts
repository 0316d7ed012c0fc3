import assert from "node:assert/strict";
import { UsageError } from "./_shared.ts";
import { twinPath } from "./twin.ts";

Deno.test("twinPath() names this device's modules, device/module, a device, or a device's module", () => {
  const own = { deviceId: "edge1", device: undefined };
  assert.equal(twinPath("sensor", own), "/v1/twins/edge1/modules/sensor");
  assert.equal(twinPath("child/sensor", own), "/v1/twins/child/modules/sensor");
  assert.equal(twinPath(undefined, { deviceId: "edge1", device: "leaf" }), "/v1/twins/leaf");
  assert.equal(
    twinPath("$edgeAgent", { deviceId: "edge1", device: "child" }),
    "/v1/twins/child/modules/%24edgeAgent",
  );
  assert.throws(() => twinPath(undefined, own), UsageError);
});

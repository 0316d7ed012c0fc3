import assert from "node:assert/strict";
import {
  checkModuleServerName,
  type ModuleNameRules,
  ServerNameNotAllowedError,
} from "./server_names.ts";

const RULES: ModuleNameRules = {
  moduleId: "Sensor",
  otherModuleIds: ["Sensor", "filter", "sensor.cam"],
  hubNames: ["edge.local", "hub.example", "localhost", "gateway-7"],
};

Deno.test("checkModuleServerName() grants a module its own name and names under it", () => {
  assert.equal(checkModuleServerName("sensor", RULES), "sensor");
  assert.equal(checkModuleServerName("SENSOR", RULES), "sensor");
  assert.equal(checkModuleServerName("sensor.plant.local", RULES), "sensor.plant.local");
  assert.equal(checkModuleServerName("sensor.edge.local.", RULES), "sensor.edge.local");
  assert.equal(checkModuleServerName("sensor.camera", RULES), "sensor.camera", "not sensor.cam");
});

Deno.test("checkModuleServerName() refuses the hub's names, other modules' names and anything else", async (t) => {
  for (
    const [name, reason] of [
      ["edge.local", /hub's names/],
      ["HUB.example", /hub's names/],
      ["localhost", /hub's names/],
      ["gateway-7", /hub's names/],
      ["filter", /only "sensor" and names under it/],
      ["filter.sensor", /only "sensor" and names under it/],
      ["plant.local", /only "sensor" and names under it/],
      ["sensors", /only "sensor" and names under it/],
      ["sensor.cam", /belong to module "sensor\.cam"/],
      ["sensor.cam.local", /belong to module "sensor\.cam"/],
    ] as const
  ) {
    await t.step(name, () => {
      assert.throws(() => checkModuleServerName(name, RULES), (error: Error) => {
        assert.ok(error instanceof ServerNameNotAllowedError, error.message);
        assert.match(error.message, reason);
        assert.match(error.message, new RegExp(`"${name.replaceAll(".", "\\.")}"`));
        return true;
      });
    });
  }
});

Deno.test("checkModuleServerName() refuses what is not a DNS name as bad input", () => {
  for (const name of ["127.0.0.1", "::1", "*.sensor", "sensor..x", "sensor/x", "-sensor", ""]) {
    assert.throws(() => checkModuleServerName(name, RULES), RangeError, name);
  }
});

Deno.test("checkModuleServerName(): of nested module ids the longer owns its names", () => {
  const nested = { ...RULES, moduleId: "sensor.cam" };
  assert.equal(checkModuleServerName("sensor.cam", nested), "sensor.cam");
  assert.equal(checkModuleServerName("sensor.cam.local", nested), "sensor.cam.local");
  assert.throws(() => checkModuleServerName("sensor", nested), ServerNameNotAllowedError);
});

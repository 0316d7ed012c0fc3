import assert from "node:assert/strict";
import { LinkAddressError, parseLinkAddress } from "./link_address.ts";

Deno.test("parseLinkAddress() reads the nodes the Azure IoT SDK attaches", async (t) => {
  await t.step("CBS in both directions", () => {
    assert.deepEqual(parseLinkAddress("$cbs", "clientSends"), { kind: "cbs" });
    assert.deepEqual(parseLinkAddress("$cbs", "clientReceives"), { kind: "cbs" });
  });
  await t.step("device telemetry and C2D", () => {
    assert.deepEqual(parseLinkAddress("/devices/leaf1/messages/events", "clientSends"), {
      kind: "events",
      identity: { deviceId: "leaf1" },
    });
    assert.deepEqual(parseLinkAddress("/devices/leaf1/messages/devicebound", "clientReceives"), {
      kind: "c2d",
      identity: { deviceId: "leaf1" },
    });
    // edgeHub spells it deviceBound; fixed segments compare case-insensitively.
    assert.equal(
      parseLinkAddress("/devices/leaf1/messages/deviceBound", "clientReceives").kind,
      "c2d",
    );
  });
  await t.step("module outputs and inputs share one address, told apart by direction", () => {
    const address = "/devices/edge/modules/filter/messages/events";
    assert.deepEqual(parseLinkAddress(address, "clientSends"), {
      kind: "events",
      identity: { deviceId: "edge", moduleId: "filter" },
    });
    assert.deepEqual(parseLinkAddress(address, "clientReceives"), {
      kind: "inputs",
      identity: { deviceId: "edge", moduleId: "filter" },
    });
  });
  await t.step("the twin and method link pairs", () => {
    for (const role of ["clientSends", "clientReceives"] as const) {
      assert.deepEqual(parseLinkAddress("/devices/edge/modules/$edgeAgent/twin", role), {
        kind: "twin",
        identity: { deviceId: "edge", moduleId: "$edgeAgent" },
      });
      assert.deepEqual(parseLinkAddress("/devices/d%2Fx/methods/devicebound", role), {
        kind: "methods",
        identity: { deviceId: "d/x" },
      });
    }
  });
  await t.step("a full amqps:// URI is read by its path", () => {
    assert.equal(
      parseLinkAddress("amqps://hub.example/devices/d/messages/events?x=1", "clientSends").kind,
      "events",
    );
  });
});

Deno.test("parseLinkAddress() refuses what is not an IoT Hub node, naming it", () => {
  const refused: [string | undefined, "clientSends" | "clientReceives"][] = [
    [undefined, "clientSends"],
    ["", "clientSends"],
    ["/queues/x", "clientSends"],
    ["/devices/", "clientSends"],
    ["/devices/d/messages/events", "clientReceives"],
    ["/devices/d/messages/devicebound", "clientSends"],
    ["/devices/d/modules/m/messages/devicebound", "clientReceives"],
    ["/devices/d/modules/m/inputs", "clientReceives"],
    ["/devices/%E0%A4%A/messages/events", "clientSends"],
    [`/devices/${"x".repeat(129)}/messages/events`, "clientSends"],
  ];
  for (const [address, role] of refused) {
    assert.throws(() => parseLinkAddress(address, role), LinkAddressError, String(address));
  }
  assert.throws(
    () => parseLinkAddress("/devices/d/messages/events", "clientReceives"),
    /receiving from it is not supported/,
  );
});

import assert from "node:assert/strict";
import { publishDenial, subscribeDenial } from "./acl.ts";

const moduleA = { deviceId: "edge", moduleId: "a" };
const leaf = { deviceId: "leaf1" };

Deno.test("publishDenial() lets a module publish its own telemetry, twin and method replies", () => {
  for (
    const topic of [
      "devices/edge/modules/a/messages/events/",
      "devices/edge/modules/a/messages/events/%24.on=out1",
      "devices/EDGE/modules/A/messages/events/x=1",
      "$iothub/twin/GET/?$rid=1",
      "$iothub/twin/PATCH/properties/reported/?$rid=2",
      "$iothub/methods/res/200/?$rid=3",
    ]
  ) assert.equal(publishDenial(moduleA, topic), undefined, topic);
});

Deno.test("publishDenial() refuses another identity's topics, wildcards, $SYS and hub-only topics", () => {
  for (
    const topic of [
      "devices/edge/modules/b/messages/events/",
      "devices/edge/messages/events/",
      "devices/other/modules/a/messages/events/",
      "devices/edge/modules/a/inputs/in1/",
      "$SYS/broker/x",
      "$iothub/methods/POST/reboot/?$rid=1",
      "$iothub/twin/res/200/?$rid=1",
      "$iothub/twin/PATCH/properties/desired/?$version=2",
      "devices/edge/modules/a/messages/events/#",
      "anything",
    ]
  ) assert.notEqual(publishDenial(moduleA, topic), undefined, topic);
  assert.equal(publishDenial(leaf, "devices/leaf1/messages/events/a=b"), undefined);
  assert.notEqual(publishDenial(leaf, "devices/leaf1/modules/x/messages/events/"), undefined);
});

Deno.test("subscribeDenial() grants a module its inputs, twin and method filters", () => {
  for (
    const filter of [
      "devices/edge/modules/a/inputs/#",
      "devices/edge/modules/a/inputs/in1/#",
      "devices/edge/modules/a/inputs/+/#",
      "$iothub/twin/res/#",
      "$iothub/twin/PATCH/properties/desired/#",
      "$iothub/methods/POST/#",
    ]
  ) assert.equal(subscribeDenial(moduleA, filter), undefined, filter);
});

Deno.test("subscribeDenial() checks filters as filters: wildcards never widen access", () => {
  for (
    const filter of [
      "#",
      "+/#",
      "devices/#",
      "devices/+/modules/a/inputs/#",
      "devices/edge/modules/+/inputs/#",
      "devices/edge/modules/b/inputs/#",
      "devices/edge/modules/a/#",
      "devices/edge/modules/a/messages/events/#",
      "$iothub/#",
      "$iothub/+/res/#",
      "$SYS/#",
      "devices/edge/modules/a/inputs/in#",
      "",
    ]
  ) assert.notEqual(subscribeDenial(moduleA, filter), undefined, filter);
  assert.equal(subscribeDenial(leaf, "devices/leaf1/messages/devicebound/#"), undefined);
  assert.notEqual(subscribeDenial(leaf, "devices/leaf2/messages/devicebound/#"), undefined);
  assert.notEqual(subscribeDenial(leaf, "devices/leaf1/modules/x/inputs/#"), undefined);
});

import assert from "node:assert/strict";
import {
  c2dTopic,
  inputTopic,
  methodRequestTopic,
  parseInboundTopic,
  twinResponseTopic,
} from "./topic_codec.ts";
import { parsePropertyBag, PropertyBagError } from "./property_bag.ts";

Deno.test("parseInboundTopic() recognises telemetry of devices and modules", () => {
  assert.deepEqual(parseInboundTopic("devices/d/messages/events/a=1"), {
    kind: "telemetry",
    deviceId: "d",
    moduleId: undefined,
    bag: "a=1",
  });
  assert.deepEqual(parseInboundTopic("devices/d/modules/m/messages/events/"), {
    kind: "telemetry",
    deviceId: "d",
    moduleId: "m",
    bag: "",
  });
  assert.deepEqual(parseInboundTopic("devices/d/messages/events/a=1&b=x%2Fy/"), {
    kind: "telemetry",
    deviceId: "d",
    moduleId: undefined,
    bag: "a=1&b=x%2Fy",
  });
  assert.deepEqual(parseInboundTopic("devices/d/messages/events"), {
    kind: "telemetry",
    deviceId: "d",
    moduleId: undefined,
    bag: "",
  });
});

Deno.test("parseInboundTopic() recognises twin requests and method replies with their rid", () => {
  assert.deepEqual(parseInboundTopic("$iothub/twin/GET/?$rid=7"), { kind: "twinGet", rid: "7" });
  assert.deepEqual(parseInboundTopic("$iothub/twin/PATCH/properties/reported/?$rid=ab"), {
    kind: "twinPatchReported",
    rid: "ab",
  });
  assert.deepEqual(parseInboundTopic("$iothub/methods/res/200/?$rid=5"), {
    kind: "methodResponse",
    status: 200,
    rid: "5",
  });
  assert.deepEqual(parseInboundTopic("devices/d/modules/m/inputs/x/"), { kind: "unknown" });
  assert.deepEqual(parseInboundTopic("$iothub/methods/POST/x/?$rid=1"), { kind: "unknown" });
});

Deno.test("the outbound topics have the shapes the SDK parses", () => {
  assert.equal(
    inputTopic("d", "m", { input: "in1", bag: "a=1" }),
    "devices/d/modules/m/inputs/in1/a=1",
  );
  assert.equal(c2dTopic("d", ""), "devices/d/messages/devicebound/");
  assert.equal(
    twinResponseTopic(204, { rid: "3", version: 9 }),
    "$iothub/twin/res/204/?$rid=3&$version=9",
  );
  assert.equal(methodRequestTopic("reboot", "1f"), "$iothub/methods/POST/reboot/?$rid=1f");
});

Deno.test("parsePropertyBag() decodes keys and values and refuses broken escapes", () => {
  assert.deepEqual([...parsePropertyBag("a=1&%24.mid=x%2Fy&empty&b=")], [
    ["a", "1"],
    ["$.mid", "x/y"],
    ["empty", ""],
    ["b", ""],
  ]);
  assert.throws(() => parsePropertyBag("a=%E0%A4%A"), PropertyBagError);
});

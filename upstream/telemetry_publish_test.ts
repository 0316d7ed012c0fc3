import assert from "node:assert/strict";
import { messageFromTelemetry, parseInboundTopic } from "../iothub/mod.ts";
import { telemetryPublish } from "./telemetry_publish.ts";

const body = new TextEncoder().encode('{"t":21.5}');

Deno.test("telemetryPublish() round-trips every property through the hub's own codec", () => {
  const message = {
    body,
    appProperties: { alert: "high temp", "a&b": "x=y" },
    systemProperties: {
      messageId: "m-1",
      correlationId: "c-1",
      contentType: "application/json",
      contentEncoding: "utf-8",
      creationTime: "2024-05-01T10:00:00.000Z",
      outputName: "temperature",
      connectionDeviceId: "child",
      connectionModuleId: "sensor",
      enqueuedTime: "2024-05-01T10:00:01.000Z",
    },
  };
  const { topic, payload } = telemetryPublish(message, { deviceId: "child", moduleId: "sensor" });
  const parsed = parseInboundTopic(topic);
  assert.equal(parsed.kind, "telemetry");
  if (parsed.kind !== "telemetry") return;
  assert.equal(parsed.deviceId, "child");
  assert.equal(parsed.moduleId, "sensor");
  const received = messageFromTelemetry(payload, {
    bag: parsed.bag,
    sender: { deviceId: "child", moduleId: "sensor" },
    maxMessageBytes: 262144,
    now: () => new Date("2024-05-01T10:00:02.000Z"),
  });
  assert.deepEqual(received.appProperties, message.appProperties);
  assert.deepEqual(received.systemProperties, {
    ...message.systemProperties,
    enqueuedTime: "2024-05-01T10:00:02.000Z",
  });
  assert.equal(received.body, body);
});

Deno.test("telemetryPublish() leaves the sender to the connection, not the bag", () => {
  const { topic } = telemetryPublish({
    body,
    appProperties: {},
    systemProperties: { connectionDeviceId: "leaf7", messageId: "m" },
  }, { deviceId: "leaf7" });
  assert.equal(topic, "devices/leaf7/messages/events/%24.mid=m");
});

import assert from "node:assert/strict";
import { DEVICE_TELEMETRY_SOURCE, messageSource, systemPropertyName } from "./message.ts";
import type { Message } from "./message.ts";

function rawMessage(body: string, system: Record<string, string>): Message {
  return { body: new TextEncoder().encode(body), appProperties: {}, systemProperties: system };
}

Deno.test("messageSource() names a module output, a module, or device telemetry", () => {
  const from = (system: Record<string, string>) => messageSource(rawMessage("", system));
  assert.equal(from({ connectionModuleId: "a", outputName: "o" }), "/messages/modules/a/outputs/o");
  assert.equal(from({ connectionModuleId: "a" }), "/messages/modules/a");
  assert.equal(from({ connectionDeviceId: "leaf", outputName: "o" }), DEVICE_TELEMETRY_SOURCE);
  assert.equal(from({}), DEVICE_TELEMETRY_SOURCE);
});

Deno.test("systemPropertyName() maps any case to the IoT Hub name, and dt-subject to componentName", () => {
  assert.equal(systemPropertyName("CONNECTIONMODULEID"), "connectionModuleId");
  assert.equal(systemPropertyName("dt-subject"), "componentName");
  assert.equal(systemPropertyName("iothub-something"), "iothub-something");
});

import assert from "node:assert/strict";
import { DEVICE_TELEMETRY_SOURCE, messageSource, systemPropertyName } from "./message.ts";
import { rawMessage } from "../routing/_test_messages.ts";
import { MessageContext } from "../routing/message_context.ts";

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

Deno.test("MessageContext looks properties up exactly first, then case-insensitively", () => {
  const message = rawMessage("", { contentType: "application/json" }, {
    Temp: "1",
    temp: "2",
    Other: "3",
  });
  const context = new MessageContext(message);
  assert.equal(context.appProperty("Temp", "temp"), "1");
  assert.equal(context.appProperty("temp", "temp"), "2");
  assert.equal(context.appProperty("OTHER", "other"), "3");
  assert.equal(context.appProperty("toString", "tostring"), undefined);
  assert.equal(context.appProperty("constructor", "constructor"), undefined);
  assert.equal(context.systemProperty("contenttype", "contenttype"), "application/json");
});

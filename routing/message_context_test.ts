import assert from "node:assert/strict";
import { rawMessage } from "./_test_messages.ts";
import { MessageContext } from "./message_context.ts";

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

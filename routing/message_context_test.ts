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

Deno.test("MessageContext finds case-insensitive names of a shared frozen bag and of a changed bag", () => {
  const shared = Object.freeze({ Temp: "1" });
  for (let i = 0; i < 2; i++) {
    const context = new MessageContext(rawMessage("", {}, shared));
    assert.equal(context.appProperty("TEMP", "temp"), "1");
    assert.equal(context.appProperty("$connectionModuleId", "$connectionmoduleid"), undefined);
  }
  // A bag that is not frozen may change between messages: it is read again for each.
  const changing: Record<string, string> = { Temp: "1" };
  assert.equal(new MessageContext(rawMessage("", {}, changing)).appProperty("TEMP", "temp"), "1");
  changing.Temp = "2";
  changing.Extra = "3";
  const context = new MessageContext(rawMessage("", {}, changing));
  assert.equal(context.appProperty("TEMP", "temp"), "2");
  assert.equal(context.appProperty("EXTRA", "extra"), "3");
});

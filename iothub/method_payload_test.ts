import assert from "node:assert/strict";
import { methodPayload } from "./method_payload.ts";

Deno.test("methodPayload() reads JSON, keeps other text, and makes nothing null", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assert.deepEqual(methodPayload(bytes('{"n":1}')), { n: 1 });
  assert.equal(methodPayload(bytes("plain")), "plain");
  assert.equal(methodPayload(bytes("")), null);
  assert.equal(methodPayload(bytes("3")), 3);
});

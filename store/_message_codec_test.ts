import assert from "node:assert/strict";
import { utf8Length } from "./_message_codec.ts";

Deno.test("utf8Length() counts the bytes TextEncoder writes", async (t) => {
  const encoder = new TextEncoder();
  const samples = {
    "empty": "",
    "ASCII": '[{"temperatureAlert":"true"},{"messageId":"m-1"}]',
    "two-byte letters": "ünïcødé",
    "three-byte symbols": "✓ €100 温度",
    "surrogate pairs": "🌡️ 📦 𝄞",
    "a lone high surrogate": "a\ud800b",
    "a lone low surrogate at the end": "a\udc00",
    "a high surrogate at the end": "abc\ud83d",
  };
  for (const [name, text] of Object.entries(samples)) {
    await t.step(name, () => {
      assert.equal(utf8Length(text), encoder.encode(text).byteLength);
    });
  }
});

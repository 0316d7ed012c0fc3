import assert from "node:assert/strict";
import { utf8Length, utf8LengthFrom } from "./_message_codec.ts";

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
      assert.equal(utf8LengthFrom(text, 0), encoder.encode(text).byteLength);
    });
  }
});

Deno.test("utf8Length() counts a text longer than its scratch buffer, cut anywhere", () => {
  const encoder = new TextEncoder();
  const pieces = ["a", "\u00fc", "\u20ac", "\ud83c\udf21", "\ud800", "\udc00"];
  // Lengths around the 4096-byte scratch: the cut falls on each kind of character, a pair too.
  for (let length = 1300; length < 4200; length += 97) {
    for (let shift = 0; shift < pieces.length; shift++) {
      let text = "";
      for (let i = 0; text.length < length; i++) text += pieces[(i + shift) % pieces.length];
      assert.equal(utf8Length(text), encoder.encode(text).byteLength, `length ${length}`);
    }
  }
  assert.equal(utf8Length("x".repeat(100_000)), 100_000);
  assert.equal(utf8Length("\u20ac".repeat(5000)), 15_000);
});

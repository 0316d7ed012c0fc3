import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { JsonObject, JsonSyntaxError, scanJson, toPlain } from "./json_scan.ts";

Deno.test("scanJson() keeps every member in order, repeated keys included", () => {
  const value = scanJson('{"a":1,"A":{"b":[true,null]},"a":"x"}');
  assert.ok(value instanceof JsonObject);
  assert.deepEqual(value.members.map(([key]) => key), ["a", "A", "a"]);
  assert.deepEqual(toPlain(value), { a: "x", A: { b: [true, null] } });
});

Deno.test("scanJson() refuses what JSON.parse refuses", () => {
  const bad = [
    "",
    "{",
    '{"a":1,}',
    "[1,]",
    "{'a':1}",
    '{"a":01}',
    '{"a":NaN}',
    '{"a":1}//',
    '{"a":"\t"}',
    '{"a":"\\x41"}',
    '{"a" 1}',
    "\uFEFF{}",
    "{} {}",
    "-",
    "1.",
    ".5",
    '"\\u12"',
  ];
  for (const text of bad) {
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    assert.throws(() => scanJson(text), JsonSyntaxError, text);
  }
});

Deno.test("scanJson() refuses unpaired surrogates and deep nesting", () => {
  assert.throws(() => scanJson('{"a":"\\ud800"}'), /unpaired surrogate/);
  assert.deepEqual(scanJson('"\\ud83d\\ude00"'), "😀");
  assert.throws(() => scanJson("[".repeat(100) + "]".repeat(100)), /nested deeper/);
});

Deno.test("scanJson() agrees with JSON.parse on 5,000 mutated documents (seeded)", () => {
  const random = seededRandom(19);
  const seeds = [
    '{"HostConfig":{"Binds":["/a:/b"],"Privileged":false},"Cmd":["x","y"],"n":-1.5e3}',
    '{"a":[1,2,{"b":"\\u00e9\\n"}],"c":null,"d":true}',
  ];
  const alphabet = '{}[]:,"\\ ntrufalse0123456789.-eE\u00e9';
  for (let i = 0; i < 5000; i++) {
    let text = seeds[i % seeds.length]!;
    for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
      const at = Math.floor(random() * (text.length + 1));
      const char = alphabet[Math.floor(random() * alphabet.length)]!;
      const kind = random();
      text = kind < 0.4
        ? text.slice(0, at) + char + text.slice(at)
        : kind < 0.8
        ? text.slice(0, at) + text.slice(at + 1)
        : text.slice(0, at) + char + text.slice(at + 1);
    }
    let expected: unknown;
    let parsed = true;
    try {
      expected = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (parsed) assert.deepEqual(toPlain(scanJson(text)), expected, text);
    else assert.throws(() => scanJson(text), JsonSyntaxError, text);
  }
});

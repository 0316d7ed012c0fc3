import assert from "node:assert/strict";
import { createLogBuffer } from "./log_buffer.ts";

Deno.test("createLogBuffer() keeps the newest lines, oldest first", () => {
  const buffer = createLogBuffer(3);
  assert.deepEqual(buffer.lines(), []);
  for (let i = 1; i <= 2; i++) buffer.append(`line ${i}`, i);
  assert.deepEqual(buffer.lines().map((line) => line.time), [1, 2]);
  for (let i = 3; i <= 5; i++) buffer.append(`line ${i}`, i);
  assert.deepEqual(buffer.lines(), [
    { time: 3, text: "line 3" },
    { time: 4, text: "line 4" },
    { time: 5, text: "line 5" },
  ]);
});

Deno.test("createLogBuffer() tells subscribers about new lines until they unsubscribe", () => {
  const buffer = createLogBuffer(2);
  const seen: string[] = [];
  const unsubscribe = buffer.subscribe((line) => seen.push(line.text));
  buffer.append("a");
  unsubscribe();
  buffer.append("b");
  assert.deepEqual(seen, ["a"]);
});

Deno.test("createLogBuffer() rejects a size that is not a positive integer", () => {
  assert.throws(() => createLogBuffer(0), RangeError);
});

import assert from "node:assert/strict";
import { sizedReads } from "./process_run.ts";

Deno.test("a process's output read in sized buffers arrives whole, across quiet and busy reads", async () => {
  // ~290 KB at once (busy reads), then a pause and a short line (a quiet read again).
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", "seq 1 50000; sleep 0.1; echo last"],
    stdout: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  const sizes: number[] = [];
  let text = "";
  for await (const chunk of sizedReads(child.stdout)) {
    sizes.push(chunk.byteLength);
    text += decoder.decode(chunk, { stream: true });
  }
  await child.status;
  const expected = Array.from({ length: 50000 }, (_, i) => `${i + 1}\n`).join("") + "last\n";
  assert.equal(text, expected);
  assert.ok(sizes.every((size) => size <= 64 * 1024));
});

import assert from "node:assert/strict";
import { tempDir } from "./_testing.ts";

const CHILD = new URL("./testdata/acked_release.ts", import.meta.url);

Deno.test("an acked message is let go at once, even by the row taken for it; a leased one is kept", async () => {
  await using dir = await tempDir();
  // A process of its own: only there can the test collect garbage (--expose-gc) for certain.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--expose-gc", "-A", CHILD.pathname, `${dir.path}/messages.db`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `the child failed: ${stderr}`);
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.deepEqual(result, {
    // The collection ran (what nothing references is gone) ...
    // ... the store keeps what it may still deliver, and lets an acked message go at once,
    // though its row waits for the ack commit (a minute away here).
    reachable: { acked: false, leased: true, unreferenced: false },
    // The row the consumer took and still holds: its message is the empty one.
    bodyBytesAfterAck: 0,
    // Close committed the pending ack: only the unacked message is left in the file.
    left: [32 * 1024],
  });
});

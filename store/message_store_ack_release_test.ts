import assert from "node:assert/strict";
import { tempDir } from "./_testing.ts";

const CHILD = new URL("./testdata/acked_release.ts", import.meta.url);
const KiB = 1024;

Deno.test("the store keeps no message it handed out, leased or acked; it keeps those still to hand out", async () => {
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
    // The collection ran (what nothing references is gone). A message the store handed out is
    // the taker's to keep: the store holds its key only, in flight (leased) or acked with its
    // delete still waiting for the ack commit (a minute away here). A message not taken yet is
    // the store's.
    reachable: { acked: false, leased: false, waiting: true, unreferenced: false },
    // The released message is read from the file again, before the ones that waited.
    retaken: [32 * KiB, 16 * KiB, 8 * KiB],
    // Close committed the pending ack: the acked message is gone from the file.
    left: [32 * KiB, 16 * KiB, 8 * KiB],
  });
});

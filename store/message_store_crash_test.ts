import assert from "node:assert/strict";
import { bodyText, tempDir } from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";
import { LOGGED_BODY_BYTES } from "./_body_log.ts";

const CHILD = new URL("./testdata/enqueue_until_killed.ts", import.meta.url);

/** Reads the child's stdout lines; kills it with SIGKILL once `killAfter` lines arrived. */
async function runUntilKilled(child: Deno.ChildProcess, killAfter: number): Promise<number[]> {
  const resolved: number[] = [];
  let killed = false;
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const line of lines) resolved.push(Number(line));
    if (!killed && resolved.length >= killAfter) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  assert.equal(rest, "", "the child writes whole lines");
  return resolved;
}

/**
 * Runs the child with bodies of `base` bytes and up, kills it once `killAfter` enqueues resolved,
 * and checks that every resolved message is in both queues once, with its body.
 */
async function survivesKill(base: number, killAfter: number): Promise<void> {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CHILD.pathname, path, "1000000", String(base)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const resolved = await runUntilKilled(child, killAfter);
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "the child was killed mid-stream, not finished");
  assert.ok(resolved.length >= killAfter);
  if (base >= LOGGED_BODY_BYTES) {
    assert.ok([...Deno.readDirSync(`${path}-bodies`)].length > 0, "the bodies went to the log");
  }

  const store = openMessageStore(path, { maxSizeBytes: 1024 * 1024 * 1024, purgeIntervalMs: 0 });
  try {
    for (const endpoint of ["upstream", "module/filter/input1"]) {
      const found = new Map<number, string>();
      for (;;) {
        const batch = store.take(endpoint, 5000);
        if (batch.length === 0) break;
        for (const queued of batch) {
          const n = Number(queued.message.appProperties.n);
          assert.ok(!found.has(n), `${endpoint}: message ${n} stored once`);
          found.set(n, bodyText(queued.message));
        }
      }
      const missing = resolved.filter((n) => !found.has(n));
      assert.deepEqual(
        missing.slice(0, 10),
        [],
        `${endpoint}: ${missing.length} acknowledged messages lost`,
      );
      for (const n of resolved) {
        assert.equal(
          found.get(n),
          `message ${n} `.padEnd(base + (n % 300) * base / 200, "x"),
          `${endpoint}: body of ${n}`,
        );
      }
    }
  } finally {
    await store.close();
  }
}

Deno.test("every message whose enqueue resolved survives kill -9 of the process", async () => {
  await survivesKill(200, 20_000);
});

Deno.test("every large message (8-20 KiB, in the body log) whose enqueue resolved survives kill -9", async () => {
  await survivesKill(8192, 2_000);
});

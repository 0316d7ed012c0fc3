import assert from "node:assert/strict";
import { serviceTest } from "../tests/_services.ts";
import { tempDir } from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";
import type { MessageStore } from "./store_types.ts";

const upstream = [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }];

function numbered(n: number, bodyBytes: number) {
  return {
    body: new Uint8Array(bodyBytes).fill(n & 0xff),
    appProperties: { n: String(n) },
    systemProperties: {},
  };
}

/**
 * Enqueues bursts of `burst` concurrent messages until a burst fails; returns the numbers that
 * were acknowledged and the outcomes of the failed burst.
 */
async function fillUntilFull(store: MessageStore, burst: number, bodyBytes: number) {
  const acknowledged: number[] = [];
  for (let start = 0; start < 100_000; start += burst) {
    const numbers = Array.from({ length: burst }, (_, i) => start + i);
    const outcomes = await Promise.allSettled(
      numbers.map((n) => store.enqueue(numbered(n, bodyBytes), upstream)),
    );
    if (outcomes.some((o) => o.status === "rejected")) return { acknowledged, outcomes };
    acknowledged.push(...numbers);
  }
  throw new Error("the store never filled up");
}

function takeAll(store: MessageStore): number[] {
  const numbers: number[] = [];
  for (;;) {
    const batch = store.take("upstream", 1000);
    if (batch.length === 0) return numbers;
    numbers.push(...batch.map((m) => Number(m.message.appProperties.n)));
  }
}

function assertWholeBurstRejected(outcomes: PromiseSettledResult<void>[], pattern: RegExp) {
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected", "every enqueue of the failed commit is rejected");
    assert.match(String((outcome as PromiseRejectedResult).reason), pattern);
  }
}

Deno.test("a commit that finds the file full rejects its batch and leaves the store usable", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const options = { maxSizeBytes: 1 << 30, purgeIntervalMs: 0, maxDatabaseBytes: 2 << 20 };
  let store = openMessageStore(path, options);
  try {
    const { acknowledged, outcomes } = await fillUntilFull(store, 40, 4096);
    assertWholeBurstRejected(
      outcomes,
      /Error: Cannot enqueue: commit to .*messages\.db failed: database or disk is full/,
    );
    assert.equal(store.commitCounters().failed, 1);
    assert.equal(store.stats()[0]!.count, acknowledged.length);

    const taken = store.take("upstream", 100);
    store.ack("upstream", taken.map((m) => m.seq));
    // The acks share the next commit and free the pages it needs.
    await store.enqueue(numbered(-1, 4096), upstream);
    await store.close();

    store = openMessageStore(path, options);
    const expected = [...acknowledged.slice(100), -1];
    assert.deepEqual(takeAll(store), expected);
  } finally {
    await store.close();
  }
});

async function mountTmpfs(directory: string, sizeBytes: number): Promise<void> {
  const { success, stderr } = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", directory],
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`Cannot mount tmpfs: ${new TextDecoder().decode(stderr)}`);
}

async function unmount(directory: string): Promise<void> {
  const { success, stderr } = await new Deno.Command("umount", {
    args: [directory],
    stderr: "piped",
  })
    .output();
  if (!success) throw new Error(`Cannot unmount tmpfs: ${new TextDecoder().decode(stderr)}`);
}

/** Writes a file until the file system refuses more (ENOSPC). */
async function fillDisk(path: string): Promise<void> {
  const file = await Deno.open(path, { create: true, write: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    if (!String(error).includes("No space left")) throw error;
  } finally {
    file.close();
  }
}

const root = {
  what: "root",
  missing: Deno.uid() === 0 ? undefined : "not root (the test mounts a small tmpfs)",
};

serviceTest(
  "a real full disk (ENOSPC) rejects the batch, and enqueues succeed again once space is back",
  [root],
  async () => {
    await using dir = await tempDir();
    await mountTmpfs(dir.path, 8 * 1024 * 1024);
    try {
      const path = `${dir.path}/messages.db`;
      const options = {
        maxSizeBytes: 1 << 30,
        purgeIntervalMs: 0,
        minFreeBytes: 0,
        reserveBytes: 0,
      };
      let store = openMessageStore(path, options);
      try {
        const first = Array.from({ length: 50 }, (_, n) => n);
        await Promise.all(first.map((n) => store.enqueue(numbered(n, 4096), upstream)));
        await fillDisk(`${dir.path}/filler`);
        const outcomes = await Promise.allSettled(
          [50, 51, 52].map((n) => store.enqueue(numbered(n, 64 * 1024), upstream)),
        );
        assertWholeBurstRejected(
          outcomes,
          /Cannot enqueue: commit to .*messages\.db failed: (database or disk is full|disk I\/O error)/,
        );
        await Deno.remove(`${dir.path}/filler`);
        await store.enqueue(numbered(53, 4096), upstream);
        await store.close();
        store = openMessageStore(path, options);
        assert.deepEqual(takeAll(store), [...first, 53]);
      } finally {
        await store.close();
      }
    } finally {
      await unmount(dir.path);
    }
  },
);

import assert from "node:assert/strict";
import { serviceTest } from "../tests/_services.ts";
import { fillDisk, mountTmpfs, rootRequirement } from "../tests/_tmpfs.ts";
import { createLogger } from "../core/log.ts";
import { waitFor } from "../tests/_wait.ts";
import { tempDir } from "./_testing.ts";
import { StoreFullError } from "./store_full_error.ts";
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

serviceTest(
  "a real full disk (ENOSPC) rejects the batch, and enqueues succeed again once space is back",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(8 * 1024 * 1024);
    const path = `${disk.path}/messages.db`;
    // No floor and no reserve: the commit itself meets the full disk.
    const options = { maxSizeBytes: 1 << 30, purgeIntervalMs: 0, minFreeBytes: 0, reserveBytes: 0 };
    let store = openMessageStore(path, options);
    try {
      const first = Array.from({ length: 50 }, (_, n) => n);
      await Promise.all(first.map((n) => store.enqueue(numbered(n, 4096), upstream)));
      await fillDisk(`${disk.path}/filler`);
      const outcomes = await Promise.allSettled(
        [50, 51, 52].map((n) => store.enqueue(numbered(n, 64 * 1024), upstream)),
      );
      assertWholeBurstRejected(
        outcomes,
        // 64 KiB bodies go to the body log: the append meets the full disk first.
        /Cannot enqueue: append to .*messages\.db-bodies\/\d+\.log failed: No space left on device/,
      );
      await Deno.remove(`${disk.path}/filler`);
      await store.enqueue(numbered(53, 4096), upstream);
      await store.close();
      store = openMessageStore(path, options);
      assert.deepEqual(takeAll(store), [...first, 53]);
    } finally {
      await store.close();
    }
  },
);

const MiB = 1024 * 1024;
/**
 * The floor and reserve of the tests below, on a 24 MiB tmpfs. Their fills were worked out with
 * 4 KiB pages (where a refusal falls against the floor; that the close's checkpoint fits and
 * deletes the WAL, so the reopened store's acks need the reserve), so they pin that size.
 */
const guarded = {
  maxSizeBytes: 1 << 30,
  purgeIntervalMs: 0,
  minFreeBytes: 4 * MiB,
  reserveBytes: MiB,
  pageBytes: 4096,
};

/** Enqueues 16 KiB messages, 20 at a time, until one is refused; returns what was acknowledged. */
async function fillUntilRefused(store: MessageStore, from = 0) {
  const acknowledged: number[] = [];
  for (let start = from; start < from + 100_000; start += 20) {
    const numbers = Array.from({ length: 20 }, (_, i) => start + i);
    const outcomes = await Promise.allSettled(
      numbers.map((n) => store.enqueue(numbered(n, 16 * 1024), upstream)),
    );
    outcomes.forEach((o, i) => o.status === "fulfilled" && acknowledged.push(numbers[i]!));
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    if (refused) return { acknowledged, error: refused.reason as Error };
  }
  throw new Error("the store never refused a message");
}

function drain(store: MessageStore): number[] {
  const numbers: number[] = [];
  for (;;) {
    const batch = store.take("upstream", 100);
    if (batch.length === 0) return numbers;
    store.ack("upstream", batch.map((m) => m.seq));
    numbers.push(...batch.map((m) => Number(m.message.appProperties.n)));
  }
}

/** Resolves once the store accepts a message again (it retries as a sender would). */
async function acceptedAgain(store: MessageStore, n: number): Promise<void> {
  await waitFor(
    `message ${n} accepted again`,
    () => store.enqueue(numbered(n, 1024), upstream).then(() => true),
    10_000,
  );
}

function recordingLogger(lines: string[]) {
  return createLogger({ level: "debug", format: "json", write: (line) => lines.push(line) });
}

serviceTest(
  "the store refuses new messages at its free-space floor, and a drain brings them back within seconds, without a reopen",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(24 * MiB);
    const path = `${disk.path}/messages.db`;
    const logs: string[] = [];
    const store = openMessageStore(path, { ...guarded, logger: recordingLogger(logs) });
    try {
      assert.equal((await Deno.stat(`${path}-reserve`)).size, MiB, "the reserve is in place");
      const { acknowledged, error } = await fillUntilRefused(store);
      assert.ok(error instanceof StoreFullError && error.reason === "disk", String(error));
      assert.match(error.message, /disk is nearly full/);
      assert.ok(acknowledged.length > 300, `only ${acknowledged.length} accepted`);
      // Refused before the disk filled: no commit ever failed.
      assert.equal(store.commitCounters().failed, 0);
      // Still refused, counted, and logged once for the episode.
      await assert.rejects(store.enqueue(numbered(-1, 16 * 1024), upstream), StoreFullError);
      assert.ok(store.commitCounters().refusedDiskFull >= 2);
      assert.equal(logs.filter((line) => line.includes("disk nearly full")).length, 1);

      assert.deepEqual(drain(store), acknowledged, "every acknowledged message, in order");
      await acceptedAgain(store, 100_000);
      assert.equal(logs.filter((line) => line.includes("accepting new messages")).length, 1);
      const again = await fillUntilRefused(store, 200_000);
      assert.ok(again.acknowledged.length > 300, "the drained space is used again");
    } finally {
      await store.close();
    }
  },
);

serviceTest(
  "when something else fills the disk, the reserve lets acks commit, and the store opens on a full disk",
  [rootRequirement],
  async () => {
    await using disk = await mountTmpfs(24 * MiB);
    const path = `${disk.path}/messages.db`;
    const logs: string[] = [];
    const options = { ...guarded, logger: recordingLogger(logs) };
    let store = openMessageStore(path, options);
    let acknowledged: number[];
    const half = () => Math.floor(acknowledged.length / 2);
    try {
      ({ acknowledged } = await fillUntilRefused(store));
      await fillDisk(`${disk.path}/filler`);
      // Half the backlog delivered and acked on a disk with no byte free.
      const taken = store.take("upstream", half());
      store.ack("upstream", taken.map((m) => m.seq));
    } finally {
      await store.close(); // commits the acks; the checkpoint deletes the WAL, which frees space
    }
    await fillDisk(`${disk.path}/filler-2`);
    // Opens on the full disk, delivers the rest, and commits those acks too: the WAL has to grow
    // for them, and only the reserve has the room.
    store = openMessageStore(path, options);
    try {
      assert.deepEqual(drain(store), acknowledged.slice(half()), "the acked half is gone");
    } finally {
      await store.close();
    }
    assert.ok(logs.some((line) => line.includes("released the store's reserve")), logs.join("\n"));
    await Deno.remove(`${disk.path}/filler`);
    await Deno.remove(`${disk.path}/filler-2`);
    store = openMessageStore(path, options);
    try {
      assert.deepEqual(drain(store), [], "every ack was committed");
      await acceptedAgain(store, 100_000);
    } finally {
      await store.close();
    }
  },
);

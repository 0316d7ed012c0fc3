import assert from "node:assert/strict";
import {
  bodyText,
  fileNumber,
  manualClock,
  storeFileBytes,
  tempDir,
  textMessage,
} from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";
import type { CommitCounters, EnqueueTarget, StoreOptions } from "./store_types.ts";
import { StoreFullError } from "./store_full_error.ts";
import { waitFor } from "../tests/_wait.ts";

const MiB = 1024 * 1024;

function to(endpoint: string, priority = 0, ttlSeconds = -1): EnqueueTarget {
  return { endpoint, priority, ttlSeconds };
}

/**
 * The commit counters but where the syncs ran (on the loop, or on the pool after a slow disk:
 * that depends on the machine); checks that each commit had its sync.
 */
function withoutSyncs(counters: CommitCounters): Omit<CommitCounters, "syncs"> {
  const { syncs, ...rest } = counters;
  assert.equal(syncs.onLoop + syncs.onPool, counters.commits, "a sync per commit");
  assert.equal(syncs.seconds.count, counters.commits, "each sync timed");
  return rest;
}

function open(dir: string, options: Partial<StoreOptions> = {}) {
  return openMessageStore(`${dir}/messages.db`, {
    maxSizeBytes: 64 * MiB,
    purgeIntervalMs: 0,
    ...options,
  });
}

Deno.test("take() returns messages by priority, then arrival", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    await store.enqueue(textMessage("low-1"), [to("upstream", 2000000000)]);
    await store.enqueue(textMessage("high-1"), [to("upstream", 0)]);
    await Promise.all([
      store.enqueue(textMessage("mid-1"), [to("upstream", 5)]),
      store.enqueue(textMessage("low-2"), [to("upstream", 2000000000)]),
      store.enqueue(textMessage("high-2"), [to("upstream", 0)]),
    ]);
    const taken = store.take("upstream", 10);
    assert.deepEqual(taken.map((m) => bodyText(m.message)), [
      "high-1",
      "high-2",
      "mid-1",
      "low-1",
      "low-2",
    ]);
    assert.deepEqual(taken.map((m) => m.priority), [0, 0, 5, 2000000000, 2000000000]);
    const seqs = taken.map((m) => m.seq);
    assert.ok(seqs[0]! < seqs[1]!, "seq increases with arrival within a priority");
  } finally {
    await store.close();
  }
});

Deno.test("take() returns the message as it was enqueued", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const store = open(dir.path, { now: clock.now });
  try {
    const body = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
    await store.enqueue({
      body,
      appProperties: { "temp-alert": "true", "ünïcode": "✓" },
      systemProperties: { messageId: "m1", contentType: "application/json", outputName: undefined },
    }, [to("module/filter/input1", 3, 60)]);
    const [queued] = store.take("module/filter/input1", 1);
    assert.ok(queued);
    assert.deepEqual(queued.message.body, body);
    assert.deepEqual(queued.message.appProperties, { "temp-alert": "true", "ünïcode": "✓" });
    assert.deepEqual(queued.message.systemProperties, {
      messageId: "m1",
      contentType: "application/json",
    });
    assert.equal(queued.endpoint, "module/filter/input1");

    // A view into a larger buffer (as a packet parser hands out) stores only its own bytes.
    const packet = new TextEncoder().encode("HEADERpayloadTRAILER");
    await store.enqueue(
      { body: packet.subarray(6, 13), appProperties: {}, systemProperties: {} },
      [to("views")],
    );
    assert.equal(bodyText(store.take("views", 1)[0]!.message), "payload");
    assert.equal(queued.enqueuedAtMs, clock.now());
    assert.equal(queued.expiresAtMs, clock.now() + 60_000);
  } finally {
    await store.close();
  }
});

Deno.test("take() leases messages so a second take does not return them", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    await Promise.all(
      ["a", "b", "c"].map((text) => store.enqueue(textMessage(text), [to("upstream")])),
    );
    const first = store.take("upstream", 2);
    const second = store.take("upstream", 2);
    assert.deepEqual(first.map((m) => bodyText(m.message)), ["a", "b"]);
    assert.deepEqual(second.map((m) => bodyText(m.message)), ["c"]);
    assert.deepEqual(store.take("upstream", 5), []);
    assert.deepEqual(store.take("nobody", 5), []);
  } finally {
    await store.close();
  }
});

Deno.test("take() steps over more in-flight messages than it returns", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) => store.enqueue(textMessage(`m${i}`), [to("upstream")])),
    );
    const first = store.take("upstream", 2500);
    assert.equal(first.length, 2500);
    store.release("upstream", first.filter((_, i) => i % 1000 === 999).map((m) => m.seq));
    const next = store.take("upstream", 10);
    assert.deepEqual(next.map((m) => bodyText(m.message)), [
      "m999",
      "m1999",
      "m2500",
      "m2501",
      "m2502",
      "m2503",
      "m2504",
      "m2505",
      "m2506",
      "m2507",
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("take() returns a more urgent message that arrives after less urgent ones were taken", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    for (const text of ["low-1", "low-2", "low-3"]) {
      await store.enqueue(textMessage(text), [to("upstream", 9)]);
    }
    assert.deepEqual(store.take("upstream", 2).map((m) => bodyText(m.message)), ["low-1", "low-2"]);
    await store.enqueue(textMessage("urgent"), [to("upstream", 0)]);
    await store.enqueue(textMessage("low-4"), [to("upstream", 9)]);
    assert.deepEqual(store.take("upstream", 10).map((m) => bodyText(m.message)), [
      "urgent",
      "low-3",
      "low-4",
    ]);
    assert.deepEqual(store.take("upstream", 10), []);
  } finally {
    await store.close();
  }
});

Deno.test("a backlog past what the store keeps in memory is read back from the file, in order", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    const total = 3_000;
    await Promise.all(
      Array.from(
        { length: total },
        (_, i) => store.enqueue(textMessage(`m${i}`), [to("upstream", i % 2 === 0 ? 1 : 0)]),
      ),
    );
    const expected = [
      ...Array.from({ length: total / 2 }, (_, i) => `m${2 * i + 1}`),
      ...Array.from({ length: total / 2 }, (_, i) => `m${2 * i}`),
    ];
    const seen: string[] = [];
    for (let batch; (batch = store.take("upstream", 300)).length > 0;) {
      seen.push(...batch.map((m) => bodyText(m.message)));
      store.ack("upstream", batch.map((m) => m.seq));
      if (seen.length === 2100) await store.enqueue(textMessage("late"), [to("upstream", 1)]);
    }
    // "late" has the lowest priority and arrived last.
    assert.deepEqual(seen, [...expected, "late"]);
  } finally {
    await store.close();
  }
});

Deno.test("release() makes leased messages available again in their original order", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    for (const text of ["a", "b", "c", "d"]) await store.enqueue(textMessage(text), [to("m/in")]);
    const taken = store.take("m/in", 3);
    store.ack("m/in", [taken[1]!.seq]);
    store.release("m/in", [taken[2]!.seq, taken[0]!.seq, taken[1]!.seq, 999_999]);
    assert.deepEqual(store.take("m/in", 10).map((m) => bodyText(m.message)), ["a", "c", "d"]);
  } finally {
    await store.close();
  }
});

Deno.test("ack() deletes messages for good, and repeated or unknown acks change nothing", async () => {
  await using dir = await tempDir();
  let store = open(dir.path);
  try {
    for (const text of ["a", "b", "c"]) await store.enqueue(textMessage(text), [to("upstream")]);
    const taken = store.take("upstream", 2);
    const seqs = taken.map((m) => m.seq);
    store.ack("upstream", seqs);
    store.ack("upstream", seqs);
    store.ack("upstream", [123_456]);
    store.ack("nobody", [1]);
    assert.equal(store.stats()[0]!.count, 1);
    await store.close();
    store = open(dir.path);
    assert.deepEqual(store.take("upstream", 10).map((m) => bodyText(m.message)), ["c"]);
    assert.equal(store.stats()[0]!.count, 1);
  } finally {
    await store.close();
  }
});

Deno.test("acks of one commit, across statement chunks and of bodies shared by two queues, delete every row and body", async () => {
  await using dir = await tempDir();
  let store = open(dir.path);
  try {
    const texts = Array.from({ length: 70 }, (_, i) => `m${i}`);
    await Promise.all(texts.map((text) => store.enqueue(textMessage(text), [to("x"), to("y")])));
    await Promise.all(texts.map((text) => store.enqueue(textMessage(text), [to("x")])));
    const x = store.take("x", 1000);
    const y = store.take("y", 1000);
    assert.equal(x.length, 140);
    // One seq at a time, as a PUBACK acks, and as an array: all in one commit.
    for (const m of y) store.ack("y", m.seq);
    store.ack("x", x.map((m) => m.seq));
    await store.close();
    assert.equal(fileNumber(`${dir.path}/messages.db`, "SELECT count(*) FROM queue"), 0);
    assert.equal(fileNumber(`${dir.path}/messages.db`, "SELECT count(*) FROM messages"), 0);
    store = open(dir.path);
    assert.deepEqual(store.stats().map((q) => q.count), [0, 0]);
  } finally {
    await store.close();
  }
});

Deno.test("an in-order drain deletes its acks as ranges; bodies another queue holds stay", async () => {
  await using dir = await tempDir();
  let store = open(dir.path);
  try {
    // 0–39 go to both queues (one body, two references), 40–99 upstream only; the drain acks
    // each one alone, in order, as PUBACKs arrive.
    await Promise.all(Array.from({ length: 100 }, (_, i) =>
      store.enqueue(
        textMessage(`m${i}`),
        i < 40 ? [to("upstream"), to("m/in")] : [to("upstream")],
      )));
    await store.close();
    store = open(dir.path); // the backlog is read from the file
    const drained: string[] = [];
    for (let batch; (batch = store.take("upstream", 30)).length > 0;) {
      for (const queued of batch) {
        drained.push(bodyText(queued.message));
        store.ack("upstream", queued.seq);
      }
    }
    assert.deepEqual(drained, Array.from({ length: 100 }, (_, i) => `m${i}`));
    await store.close();
    store = open(dir.path);
    assert.deepEqual(store.take("upstream", 10), []);
    const kept = store.take("m/in", 100);
    assert.deepEqual(kept.map((m) => bodyText(m.message)), drained.slice(0, 40));
    for (const queued of kept) store.ack("m/in", queued.seq);
    await store.close();
    const count = (table: string) =>
      fileNumber(`${dir.path}/messages.db`, `SELECT count(*) FROM ${table}`);
    assert.deepEqual([count("queue"), count("messages")], [0, 0]);
    store = open(dir.path);
  } finally {
    await store.close();
  }
});

Deno.test("seq keeps increasing across a restart once every message was acked", async () => {
  await using dir = await tempDir();
  let store = open(dir.path);
  try {
    await store.enqueue(textMessage("a"), [to("upstream")]);
    const [first] = store.take("upstream", 1);
    store.ack("upstream", first!.seq);
    await store.close();
    store = open(dir.path);
    await store.enqueue(textMessage("b"), [to("upstream")]);
    const [second] = store.take("upstream", 1);
    assert.ok(second!.seq > first!.seq, `${second!.seq} after ${first!.seq}`);
  } finally {
    await store.close();
  }
});

Deno.test("reopening the store makes every unacked message available again", async () => {
  await using dir = await tempDir();
  let store = open(dir.path);
  try {
    for (const text of ["a", "b", "c", "d"]) {
      await store.enqueue(textMessage(text), [to("upstream", text === "d" ? 1 : 2)]);
    }
    const taken = store.take("upstream", 3); // d, a, b leased
    store.ack("upstream", [taken[1]!.seq]); // a acked
    const lastSeq = Math.max(...taken.map((m) => m.seq));
    await store.close();
    store = open(dir.path);
    const again = store.take("upstream", 10);
    assert.deepEqual(again.map((m) => bodyText(m.message)), ["d", "b", "c"]);
    await store.enqueue(textMessage("e"), [to("upstream", 2)]);
    const [next] = store.take("upstream", 1);
    assert.ok(next!.seq > lastSeq, "seq keeps increasing across a restart");
  } finally {
    await store.close();
  }
});

Deno.test("a message routed to several endpoints is stored once and delivered to each", async () => {
  await using dir = await tempDir();
  let store = open(dir.path);
  try {
    await store.enqueue(textMessage("fan"), [to("upstream"), to("a/in"), to("b/in", 4)]);
    const upstream = store.take("upstream", 1);
    store.ack("upstream", upstream.map((m) => m.seq));
    const a = store.take("a/in", 1);
    store.ack("a/in", a.map((m) => m.seq));
    await store.close();
    store = open(dir.path);
    assert.deepEqual(store.take("upstream", 1), []);
    assert.deepEqual(store.take("a/in", 1), []);
    const [b] = store.take("b/in", 1);
    assert.equal(bodyText(b!.message), "fan");
    assert.equal(b!.priority, 4);
    store.ack("b/in", [b!.seq]);
    await store.close();
    store = open(dir.path);
    assert.deepEqual(store.stats().map((s) => s.count), [0, 0, 0]);
  } finally {
    await store.close();
  }
});

Deno.test("enqueue() merges targets that name the same endpoint", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const store = open(dir.path, { now: clock.now });
  try {
    await store.enqueue(textMessage("x"), [to("upstream", 5, 10), to("upstream", 1, 60)]);
    await store.enqueue(textMessage("y"), [to("upstream", 3, 10), to("upstream", 7, -1)]);
    const taken = store.take("upstream", 10);
    assert.deepEqual(taken.map((m) => [bodyText(m.message), m.priority, m.expiresAtMs]), [
      ["x", 1, clock.now() + 60_000],
      ["y", 3, null],
    ]);
  } finally {
    await store.close();
  }
});

Deno.test("concurrent enqueues share one commit", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => store.enqueue(textMessage(`m${i}`), [to("upstream")])),
    );
    assert.deepEqual(withoutSyncs(store.commitCounters()), {
      commits: 1,
      messages: 500,
      failed: 0,
      refusedDiskFull: 0,
    });
    await store.enqueue(textMessage("later"), [to("upstream")]);
    assert.deepEqual(withoutSyncs(store.commitCounters()), {
      commits: 2,
      messages: 501,
      failed: 0,
      refusedDiskFull: 0,
    });
  } finally {
    await store.close();
  }
});

Deno.test("maxBatchMessages splits a burst into several commits", async () => {
  await using dir = await tempDir();
  const store = open(dir.path, { maxBatchMessages: 100 });
  try {
    await Promise.all(
      Array.from({ length: 250 }, (_, i) => store.enqueue(textMessage(`m${i}`), [to("upstream")])),
    );
    assert.deepEqual(withoutSyncs(store.commitCounters()), {
      commits: 3,
      messages: 250,
      failed: 0,
      refusedDiskFull: 0,
    });
    assert.equal(store.take("upstream", 1000).length, 250);
  } finally {
    await store.close();
  }
});

Deno.test("take() never returns an expired message, and purgeExpired() deletes and counts it", async (t) => {
  await using dir = await tempDir();
  const clock = manualClock();
  const store = open(dir.path, { now: clock.now });
  try {
    await store.enqueue(textMessage("short"), [to("upstream", 0, 10), to("m/in", 0, 100)]);
    await store.enqueue(textMessage("forever"), [to("upstream", 0, -1)]);
    await store.enqueue(textMessage("long"), [to("upstream", 0, 3600)]);

    await t.step("before its TTL the message is delivered", () => {
      const taken = store.take("upstream", 10);
      assert.deepEqual(taken.map((m) => bodyText(m.message)), ["short", "forever", "long"]);
      store.release("upstream", taken.map((m) => m.seq));
    });

    await t.step("at its TTL it is skipped, in this queue only", () => {
      clock.advance(10_000);
      const taken = store.take("upstream", 10);
      assert.deepEqual(taken.map((m) => bodyText(m.message)), ["forever", "long"]);
      store.release("upstream", taken.map((m) => m.seq));
      assert.deepEqual(store.take("m/in", 10).map((m) => bodyText(m.message)), ["short"]);
    });

    await t.step("the purge deletes expired messages that are not leased", () => {
      clock.advance(100_000); // "short" in m/in expired too, but it is leased
      assert.equal(store.purgeExpired(), 1);
      const upstream = store.stats().find((s) => s.endpoint === "upstream")!;
      assert.equal(upstream.count, 2);
      assert.deepEqual(upstream.dropped, { expired: 1, full: 0, lost: 0 });
      const input = store.stats().find((s) => s.endpoint === "m/in")!;
      assert.equal(input.count, 1);
      store.release("m/in", store.take("m/in", 10).map((m) => m.seq));
      assert.equal(store.purgeExpired(), 0, "a released expired message is not taken…");
    });

    await t.step("and once released it is purged like the others", () => {
      store.release("m/in", [1, 2, 3]);
      assert.equal(store.take("m/in", 10).length, 0);
      assert.equal(store.purgeExpired(), 1);
      assert.equal(store.stats().find((s) => s.endpoint === "m/in")!.dropped.expired, 1);
      assert.equal(store.purgeExpired(), 0);
    });
  } finally {
    await store.close();
  }
});

Deno.test("enqueue() refuses a message that does not fit one of its queues, writing it to none", async () => {
  await using dir = await tempDir();
  let store = open(dir.path, { maxSizeBytes: 1024 * 1024 });
  try {
    const big = { body: new Uint8Array(400 * 1024), appProperties: {}, systemProperties: {} };
    await store.enqueue(big, [to("full")]);
    await store.enqueue(big, [to("full")]);
    const before = store.stats();
    const error = await store.enqueue(big, [to("roomy"), to("full")]).then(
      () => assert.fail("enqueue should have been refused"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof StoreFullError);
    assert.equal(error.name, "StoreFullError");
    assert.equal(error.endpoint, "full");
    const bytes = before.find((s) => s.endpoint === "full")!.bytes;
    assert.equal(
      error.message,
      `Cannot enqueue to full: queue full (${bytes} of 1048576 bytes)`,
    );
    const after = store.stats();
    assert.equal(after.find((s) => s.endpoint === "roomy")!.count, 0);
    assert.deepEqual(after.find((s) => s.endpoint === "full")!.dropped, {
      expired: 0,
      full: 1,
      lost: 0,
    });
    assert.deepEqual(after.find((s) => s.endpoint === "roomy")!.dropped, {
      expired: 0,
      full: 0,
      lost: 0,
    });

    await store.close();
    store = open(dir.path, { maxSizeBytes: 1024 * 1024 });
    assert.deepEqual(store.take("roomy", 10), []);
    assert.equal(store.take("full", 10).length, 2);
  } finally {
    await store.close();
  }
});

Deno.test("the bound counts enqueues still waiting for their commit, and frees on ack", async () => {
  await using dir = await tempDir();
  const store = open(dir.path, { maxSizeBytes: 1024 * 1024 });
  try {
    const big = { body: new Uint8Array(300 * 1024), appProperties: {}, systemProperties: {} };
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => store.enqueue(big, [to("upstream")])),
    );
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
    ]);
    assert.equal(store.stats()[0]!.dropped.full, 2);
    store.ack("upstream", store.take("upstream", 1).map((m) => m.seq));
    await store.enqueue(big, [to("upstream")]);
    assert.equal(store.stats()[0]!.count, 3);
  } finally {
    await store.close();
  }
});

Deno.test("setMaxSizeBytes() changes the bound for new messages", async () => {
  await using dir = await tempDir();
  const store = open(dir.path, { maxSizeBytes: 1024 * 1024 });
  try {
    const big = { body: new Uint8Array(600 * 1024), appProperties: {}, systemProperties: {} };
    await store.enqueue(big, [to("upstream")]);
    await assert.rejects(store.enqueue(big, [to("upstream")]), StoreFullError);
    store.setMaxSizeBytes(2 * 1024 * 1024);
    await store.enqueue(big, [to("upstream")]);
    assert.throws(() => store.setMaxSizeBytes(0), /maxSizeBytes must be a positive integer, got 0/);
  } finally {
    await store.close();
  }
});

Deno.test("stats() reports depth, bytes, oldest age and drops per endpoint", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const store = open(dir.path, { now: clock.now });
  try {
    assert.deepEqual(store.stats(), []);
    const message = textMessage("hello");
    await store.enqueue(message, [to("b/in", 2000000000, 5)]);
    clock.advance(30_000);
    await store.enqueue(message, [to("b/in", 0), to("a/in")]);
    clock.advance(15_000);
    const size = 5 + JSON.stringify([message.appProperties, message.systemProperties]).length;
    assert.deepEqual(store.stats(), [
      {
        endpoint: "a/in",
        count: 1,
        bytes: size,
        oldestAgeSeconds: 15,
        dropped: { expired: 0, full: 0, lost: 0 },
      },
      {
        endpoint: "b/in",
        count: 2,
        bytes: 2 * size,
        oldestAgeSeconds: 45,
        dropped: { expired: 0, full: 0, lost: 0 },
      },
    ]);
    store.purgeExpired();
    const [a, b] = store.stats();
    assert.equal(a!.count, 1);
    assert.deepEqual(b, {
      endpoint: "b/in",
      count: 1,
      bytes: size,
      oldestAgeSeconds: 15,
      dropped: { expired: 1, full: 0, lost: 0 },
    });
    store.ack("a/in", store.take("a/in", 1).map((m) => m.seq));
    assert.deepEqual(store.stats()[0], {
      endpoint: "a/in",
      count: 0,
      bytes: 0,
      oldestAgeSeconds: null,
      dropped: { expired: 0, full: 0, lost: 0 },
    });
  } finally {
    await store.close();
  }
});

Deno.test("onEnqueued() wakes a listener once the message can be taken", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    const seen: number[] = [];
    const unsubscribe = store.onEnqueued("m/in", () => seen.push(store.take("m/in", 10).length));
    const other = store.onEnqueued("m/in", () => {
      throw new Error("a broken listener does not stop the others");
    });
    await Promise.all([
      store.enqueue(textMessage("a"), [to("m/in")]),
      store.enqueue(textMessage("b"), [to("m/in")]),
      store.enqueue(textMessage("c"), [to("upstream")]),
    ]);
    assert.deepEqual(seen, [2], "one wake-up per commit, after it");
    store.release("m/in", [1, 2]);
    assert.deepEqual(seen, [2, 2], "a release wakes consumers too");
    unsubscribe();
    other();
    await store.enqueue(textMessage("d"), [to("m/in")]);
    assert.deepEqual(seen, [2, 2]);
  } finally {
    await store.close();
  }
});

Deno.test("close() commits pending enqueues and acks", async () => {
  await using dir = await tempDir();
  let store = open(dir.path, { ackWindowMs: 60_000 });
  try {
    await store.enqueue(textMessage("a"), [to("upstream")]);
    store.ack("upstream", store.take("upstream", 1).map((m) => m.seq));
    const pending = store.enqueue(textMessage("b"), [to("upstream")]);
    await store.close();
    await pending;
    await assert.rejects(
      store.enqueue(textMessage("c"), [to("upstream")]),
      /Cannot enqueue: message store .*messages\.db is closed/,
    );
    assert.throws(
      () => store.take("upstream", 1),
      /Cannot take from upstream: message store .* is closed/,
    );
    store = open(dir.path);
    assert.deepEqual(store.take("upstream", 10).map((m) => bodyText(m.message)), ["b"]);
  } finally {
    await store.close();
  }
});

Deno.test("purgeExpired() gives the freed space back to the file system", async () => {
  await using dir = await tempDir();
  const clock = manualClock();
  const path = `${dir.path}/messages.db`;
  const store = open(dir.path, { now: clock.now });
  try {
    const body = new Uint8Array(64 * 1024).fill(1);
    const message = { body, appProperties: {}, systemProperties: {} };
    // One message that never expires, small enough to stay in the database: a large one would
    // keep its body log segment (see the test of LOG_MAX_BYTES).
    await store.enqueue(textMessage("stays"), [to("upstream", 0, -1)]);
    await Promise.all(
      Array.from({ length: 320 }, () => store.enqueue(message, [to("upstream", 0, 60)])),
    );
    const full = storeFileBytes(path);
    assert.ok(full > 20 * MiB, `20 MiB queued takes ${full} bytes`);
    clock.advance(60_000);
    assert.equal(store.purgeExpired(), 320);
    const after = storeFileBytes(path);
    assert.ok(after < 2 * MiB, `after the purge the store takes ${after} bytes`);
    assert.equal(store.take("upstream", 10).length, 1);
  } finally {
    await store.close();
  }
});

Deno.test("purgeExpired() also gives back the space of a drained backlog", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const store = open(dir.path);
  try {
    const message = {
      body: new Uint8Array(16 * 1024).fill(2),
      appProperties: {},
      systemProperties: {},
    };
    await Promise.all(Array.from({ length: 1000 }, () => store.enqueue(message, [to("upstream")])));
    assert.ok(storeFileBytes(path) > 15 * MiB);
    for (;;) {
      const batch = store.take("upstream", 200);
      if (batch.length === 0) break;
      store.ack("upstream", batch.map((m) => m.seq));
    }
    await store.enqueue(textMessage("after"), [to("upstream")]); // commits the acks
    assert.equal(store.purgeExpired(), 0);
    const after = storeFileBytes(path);
    assert.ok(after < MiB, `after the drain and a purge the store takes ${after} bytes`);
  } finally {
    await store.close();
  }
});

Deno.test("the maintenance tick gives a drained backlog's space back once the store is quiet", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const store = open(dir.path, { purgeIntervalMs: 50 });
  try {
    const message = {
      body: new Uint8Array(16 * 1024).fill(2),
      appProperties: {},
      systemProperties: {},
    };
    await Promise.all(Array.from({ length: 500 }, () => store.enqueue(message, [to("upstream")])));
    for (let batch; (batch = store.take("upstream", 100)).length > 0;) {
      for (const queued of batch) store.ack("upstream", queued.seq);
    }
    await waitFor("the file to shrink", () => storeFileBytes(path) < MiB, 20_000);
    await store.enqueue(textMessage("after"), [to("upstream")]);
    assert.equal(bodyText(store.take("upstream", 1)[0]!.message), "after");
  } finally {
    await store.close();
  }
});

Deno.test("the store file and its WAL are readable by the owner only", async () => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    await store.enqueue(textMessage("a"), [to("upstream")]);
    for (const file of ["messages.db", "messages.db-wal"]) {
      const { mode } = await Deno.stat(`${dir.path}/${file}`);
      assert.equal(mode! & 0o777, 0o600, file);
    }
  } finally {
    await store.close();
  }
});

Deno.test("bad arguments get an error naming the field and change nothing", async (t) => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    const good = textMessage("ok");
    const cases: [string, () => Promise<void>, RegExp][] = [
      [
        "empty endpoint",
        () => store.enqueue(good, [to("")]),
        /target endpoint must be a non-empty string/,
      ],
      [
        "negative priority",
        () => store.enqueue(good, [to("e", -1)]),
        /Cannot enqueue to e: priority must be an integer/,
      ],
      [
        "fractional priority",
        () => store.enqueue(good, [to("e", 1.5)]),
        /priority must be an integer 0–4294967295, got 1.5/,
      ],
      [
        "NaN ttl",
        () => store.enqueue(good, [to("e", 0, NaN)]),
        /ttlSeconds must be a number, got NaN/,
      ],
      [
        "string body",
        () => store.enqueue({ ...good, body: "x" as unknown as Uint8Array }, [to("e")]),
        /Cannot enqueue: body must be a Uint8Array/,
      ],
      [
        "number property",
        () => store.enqueue({ ...good, appProperties: { n: 1 as unknown as string } }, [to("e")]),
        /Cannot enqueue: appProperties.n must be a string, got number/,
      ],
      [
        "null system property",
        () =>
          store.enqueue({ ...good, systemProperties: { to: null as unknown as string } }, [
            to("e"),
          ]),
        /systemProperties.to must be a string, got null/,
      ],
      [
        "targets not an array",
        () => store.enqueue(good, "upstream" as unknown as []),
        /targets must be an array/,
      ],
    ];
    for (const [name, call, pattern] of cases) {
      await t.step(name, async () => {
        await assert.rejects(call(), pattern);
      });
    }
    assert.throws(
      () => store.take("e", 0),
      /Cannot take from e: limit must be a positive integer, got 0/,
    );
    assert.throws(
      () => store.ack("e", ["1" as unknown as number]),
      /Cannot ack e: seq 1 is not an integer/,
    );
    assert.deepEqual(store.stats().map((s) => s.count), store.stats().map(() => 0));
    assert.deepEqual(withoutSyncs(store.commitCounters()), {
      commits: 0,
      messages: 0,
      failed: 0,
      refusedDiskFull: 0,
    });
  } finally {
    await store.close();
  }
});

Deno.test("openMessageStore() refuses bad options with the option's name", async () => {
  await using dir = await tempDir();
  assert.throws(
    () => openMessageStore(`${dir.path}/m.db`, { maxSizeBytes: -1 }),
    /Cannot open message store: maxSizeBytes must be a positive integer, got -1/,
  );
  assert.throws(
    () => openMessageStore(`${dir.path}/m.db`, { maxSizeBytes: 1, commitWindowMs: -2 }),
    /commitWindowMs must be a number ≥ 0, got -2/,
  );
});

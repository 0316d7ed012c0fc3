import assert from "node:assert/strict";
import { tempDir } from "./_testing.ts";
import { openMessageStore } from "./message_store.ts";
import type { IncomingMessage, StoredMessage } from "./stored_message.ts";

const TARGETS = [{ endpoint: "upstream", priority: 0, ttlSeconds: -1 }];

function open(dir: string) {
  return openMessageStore(`${dir}/messages.db`, { maxSizeBytes: 1 << 24, purgeIntervalMs: 0 });
}

/** The message `take` returns, and the same message read back from the file after a reopen. */
async function storedAndReread(dir: string, message: IncomingMessage, afterEnqueue = () => {}) {
  const store = open(dir);
  let taken: StoredMessage;
  try {
    const durable = store.enqueue(message, TARGETS);
    afterEnqueue();
    await durable;
    taken = store.take("upstream", 1)[0]!.message;
  } finally {
    await store.close();
  }
  const again = open(dir);
  try {
    return { taken, reread: again.take("upstream", 1)[0]!.message };
  } finally {
    await again.close();
  }
}

Deno.test("enqueue() keeps frozen property bags as they are, not copies", async () => {
  await using dir = await tempDir();
  const appProperties = Object.freeze({ temp: "21" });
  const systemProperties = Object.freeze({ messageId: "m-1", connectionDeviceId: "d" });
  const message = { body: new Uint8Array([1, 2]), appProperties, systemProperties };
  const { taken, reread } = await storedAndReread(dir.path, message);
  assert.equal(taken.appProperties, appProperties);
  assert.equal(taken.systemProperties, systemProperties);
  assert.deepEqual(reread.appProperties, { temp: "21" });
  assert.deepEqual(reread.systemProperties, { messageId: "m-1", connectionDeviceId: "d" });
});

Deno.test("enqueue() copies a bag its caller can still change", async (t) => {
  await t.step("a bag the caller changes after the enqueue", async () => {
    await using dir = await tempDir();
    const appProperties: Record<string, string> = { temp: "21" };
    const systemProperties: Record<string, string> = { messageId: "m-1" };
    const message = { body: new Uint8Array([1]), appProperties, systemProperties };
    const { taken, reread } = await storedAndReread(dir.path, message, () => {
      appProperties.temp = "99";
      appProperties.added = "x";
      systemProperties.messageId = "changed";
    });
    assert.notEqual(taken.appProperties, appProperties);
    for (const stored of [taken, reread]) {
      assert.deepEqual(stored.appProperties, { temp: "21" });
      assert.deepEqual(stored.systemProperties, { messageId: "m-1" });
    }
  });
  await t.step("a frozen system bag with an undefined value: copied without it", async () => {
    await using dir = await tempDir();
    const systemProperties = Object.freeze({ messageId: "m-1", correlationId: undefined });
    const message = { body: new Uint8Array([1]), appProperties: {}, systemProperties };
    const { taken, reread } = await storedAndReread(dir.path, message);
    assert.notEqual(taken.systemProperties, systemProperties);
    assert.deepEqual(taken.systemProperties, { messageId: "m-1" });
    assert.ok(!("correlationId" in taken.systemProperties));
    assert.deepEqual(reread.systemProperties, { messageId: "m-1" });
  });
  await t.step("a frozen bag with another prototype", async () => {
    await using dir = await tempDir();
    const appProperties = Object.freeze(Object.assign(Object.create({ inherited: "no" }), {
      own: "yes",
    })) as Record<string, string>;
    const message = { body: new Uint8Array([1]), appProperties, systemProperties: {} };
    const { taken } = await storedAndReread(dir.path, message);
    assert.notEqual(taken.appProperties, appProperties);
    assert.deepEqual(taken.appProperties, { own: "yes" });
  });
});

Deno.test("enqueue() refuses bad frozen bags as it refuses bad copied ones", async (t) => {
  await using dir = await tempDir();
  const store = open(dir.path);
  try {
    const bad: [string, Partial<StoredMessage>, RegExp][] = [
      [
        "a number",
        { appProperties: { n: 1 } as unknown as Record<string, string> },
        /^TypeError: Cannot enqueue: appProperties.n must be a string, got number$/,
      ],
      [
        "null",
        { systemProperties: { to: null } as unknown as Record<string, string> },
        /^TypeError: Cannot enqueue: systemProperties.to must be a string, got null$/,
      ],
      [
        "an undefined application property",
        { appProperties: { u: undefined } as unknown as Record<string, string> },
        /^TypeError: Cannot enqueue: appProperties.u must be a string, got undefined$/,
      ],
      [
        "an array",
        { appProperties: ["a"] as unknown as Record<string, string> },
        /^TypeError: Cannot enqueue: appProperties must be an object of strings$/,
      ],
    ];
    for (const [name, bags, pattern] of bad) {
      for (const frozen of [false, true]) {
        await t.step(`${name}, ${frozen ? "frozen" : "not frozen"}`, async () => {
          const message = { body: new Uint8Array(), appProperties: {}, systemProperties: {} };
          for (const [field, bag] of Object.entries(bags)) {
            Object.assign(message, { [field]: frozen ? Object.freeze(bag) : bag });
          }
          await assert.rejects(store.enqueue(message, TARGETS), (error: Error) => {
            assert.match(String(error), pattern);
            return true;
          });
        });
      }
    }
    assert.equal(store.stats().find((s) => s.endpoint === "upstream"), undefined);
  } finally {
    await store.close();
  }
});

/**
 * The store's bound and TTL as a module sees them through the hub: a full endpoint queue refuses
 * the next message (no PUBACK, connection closed) and keeps everything it acknowledged; a route
 * with `timeToLiveSecs: 1` never delivers what expired before the receiver connected, and the
 * expiry is counted in the hub's stats.
 */
import assert from "node:assert/strict";
import { startHubFixture } from "./_hub_fixture.ts";
import { closeClient, collectDeliveries, type MqttClient, publishNumbered } from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";

const MIB = 1024 * 1024;
const BODY_BYTES = 16 * 1024;

function output(moduleId: string, name: string, n: number): string {
  return `devices/edge1/modules/${moduleId}/messages/events/%24.on=${name}&n=${n}`;
}

function body(n: number): string {
  return `${n}:`.padEnd(BODY_BYTES, "x");
}

Deno.test("a full queue refuses the next message without PUBACK and loses nothing it acknowledged", async () => {
  const fixture = await startHubFixture(`[hub.store]\nmax_size_bytes = ${MIB}\n`);
  const clients: MqttClient[] = [];
  try {
    fixture.hub.hub.applyDesired({
      edgeHub: {
        schemaVersion: "1.1",
        routes: {
          bulk:
            'FROM /messages/modules/a/outputs/bulk INTO BrokeredEndpoint("/modules/b/inputs/in")',
        },
      },
      moduleTwins: {},
    });
    const numbers = Array.from({ length: 100 }, (_, i) => i + 1);
    const a = await fixture.connectModule("a");
    clients.push(a);
    const first = await publishNumbered(a, {
      numbers,
      topic: (n) => output("a", "bulk", n),
      body,
      window: 10,
    });
    assert.ok(first.closed, "the hub must close the sender's connection when the queue is full");
    const acked = first.acked.toSorted((x, y) => x - y);
    // 1 MiB holds about 63 messages of 16 KiB: the bound, not anything else, stopped the sender.
    assert.ok(acked.length >= 50 && acked.length < 64, `acknowledged ${acked.length}`);
    assert.deepEqual(acked, numbers.slice(0, acked.length), "acknowledged a prefix, in order");

    const stats = fixture.hub.hub.stats();
    assert.ok(stats.refusedFull >= 1, "the refusal is counted");
    const queue = stats.queues.find((q) => q.endpoint === "/modules/b/inputs/in");
    assert.ok(queue, "b's queue exists");
    // Everything acknowledged is stored. A message stored while the refusal closed the connection
    // may miss its PUBACK (at most the sender's window): the sender resends it, a duplicate at
    // most, never a loss.
    assert.ok(
      queue.count >= acked.length && queue.count <= acked.length + 10,
      `the queue holds what was acknowledged (${acked.length}), and at most a window more: ${queue.count}`,
    );
    assert.ok(queue.bytes <= MIB, `queue bytes ${queue.bytes} within the bound`);
    assert.ok(queue.dropped.full >= 1);
    assert.equal(queue.dropped.expired, 0);

    // The sender retries after reconnecting: still full, still refused.
    const again = await fixture.connectModule("a");
    clients.push(again);
    const retry = await publishNumbered(again, {
      numbers: [acked.length + 1],
      topic: (n) => output("a", "bulk", n),
      body,
      window: 1,
    });
    assert.deepEqual(retry, { acked: [], closed: true });

    // b drains the queue: every acknowledged message, in order, and nothing else.
    const b = await fixture.connectModule("b");
    clients.push(b);
    const deliveries = await collectDeliveries(b, "devices/edge1/modules/b/inputs/#");
    await waitFor(`${queue.count} deliveries at b`, () => deliveries.length >= queue.count);
    const received = deliveries.map((d) => Number(d.body.split(":")[0]));
    assert.deepEqual(
      received.slice(0, acked.length),
      acked,
      "every acknowledged message, in order",
    );
    assert.deepEqual(
      received.slice(acked.length, queue.count),
      numbers.slice(acked.length, queue.count),
      "then the stored ones whose PUBACK the close cut off, in order",
    );

    // With room again the queue accepts new messages.
    await waitFor(
      "b's queue to be empty",
      () =>
        fixture.hub.hub.stats().queues.some((q) =>
          q.endpoint.endsWith("b/inputs/in") && q.count === 0
        ),
    );
    const later = await fixture.connectModule("a");
    clients.push(later);
    const more = await publishNumbered(later, {
      numbers: [1001, 1002],
      topic: (n) => output("a", "bulk", n),
      body,
      window: 2,
    });
    assert.deepEqual(more, { acked: [1001, 1002], closed: false });
    await waitFor("the new messages at b", () => deliveries.length >= acked.length + 2);
  } finally {
    for (const client of clients) await closeClient(client);
    await fixture.stop();
  }
});

Deno.test("messages that expire by the route's TTL before the receiver connects are never delivered, and are counted", async () => {
  const fixture = await startHubFixture("", { purgeIntervalMs: 100 });
  const clients: MqttClient[] = [];
  try {
    fixture.hub.hub.applyDesired({
      edgeHub: {
        schemaVersion: "1.1",
        routes: {
          short: {
            route:
              'FROM /messages/modules/a/outputs/short INTO BrokeredEndpoint("/modules/c/inputs/in")',
            timeToLiveSecs: 1,
          },
          long:
            'FROM /messages/modules/a/outputs/long INTO BrokeredEndpoint("/modules/c/inputs/in")',
        },
      },
      moduleTwins: {},
    });
    const a = await fixture.connectModule("a");
    clients.push(a);
    const short = await publishNumbered(a, {
      numbers: [1, 2, 3, 4, 5],
      topic: (n) => output("a", "short", n),
      window: 5,
    });
    assert.equal(short.acked.length, 5);
    const queued = () =>
      fixture.hub.hub.stats().queues.find((q) => q.endpoint === "/modules/c/inputs/in");
    assert.equal(queued()?.count, 5);

    // The purge (every 100 ms here) drops them once their second is over, and counts them.
    await waitFor("5 expired messages counted", () => queued()?.dropped.expired === 5);
    assert.equal(queued()?.count, 0);

    const long = await publishNumbered(a, {
      numbers: [11, 12, 13],
      topic: (n) => output("a", "long", n),
      window: 3,
    });
    assert.equal(long.acked.length, 3);

    const c = await fixture.connectModule("c");
    clients.push(c);
    const deliveries = await collectDeliveries(c, "devices/edge1/modules/c/inputs/#");
    await waitFor("the live messages at c", () => deliveries.length >= 3);
    // Nothing more is coming: the queue is empty once the three are acknowledged.
    await waitFor("c's queue to be empty", () => queued()?.count === 0);
    assert.deepEqual(deliveries.map((d) => d.body), ["11", "12", "13"]);
    assert.equal(queued()?.dropped.expired, 5);
  } finally {
    for (const client of clients) await closeClient(client);
    await fixture.stop();
  }
});

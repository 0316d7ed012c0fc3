import assert from "node:assert/strict";
import { createClientSession } from "./client_session.ts";
import { startQueuePump } from "./queue_pump.ts";
import type { MessageStore } from "../store/mod.ts";
import { withTempStore } from "./_temp_store.ts";
import { encodePublish } from "./publish_packet.ts";

const ENDPOINT = "/modules/b/inputs/in";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connection that records what the session writes, PUBLISH packet ids included. */
function recordingConnection() {
  const writes: Uint8Array[] = [];
  let corked = 0;
  return {
    writes,
    corkedWrites: 0,
    publish(
      head: Uint8Array | undefined,
      tail: string,
      payload: Uint8Array,
      qos: 0 | 1,
      packetId: number,
    ) {
      const topic = `${head ? decoder.decode(head) : ""}${tail}`;
      writes.push(encodePublish(topic, payload, { qos, packetId }));
      if (corked > 0) this.corkedWrites++;
      return true;
    },
    cork() {
      corked++;
    },
    uncork() {
      corked--;
    },
    once() {},
  };
}

/** Packet id and payload of a QoS 1 PUBLISH written by the session. */
function readPublish(bytes: Uint8Array): { packetId: number; body: string } {
  let at = 1;
  while (bytes[at]! & 0x80) at++;
  at++;
  const topicLength = (bytes[at]! << 8) | bytes[at + 1]!;
  at += 2 + topicLength;
  const packetId = (bytes[at]! << 8) | bytes[at + 1]!;
  return { packetId, body: decoder.decode(bytes.subarray(at + 2)) };
}

async function enqueue(store: MessageStore, from: number, to: number) {
  const pending = [];
  for (let n = from; n <= to; n++) {
    pending.push(store.enqueue(
      { body: encoder.encode(String(n)), appProperties: {}, systemProperties: {} },
      [{ endpoint: ENDPOINT, priority: 0, ttlSeconds: -1 }],
    ));
  }
  await Promise.all(pending);
}

const encode = {
  topicHead: () => encoder.encode("devices/d/modules/b/inputs/in/"),
  topicTail: () => "",
};

function settleNext(
  session: ReturnType<typeof createClientSession>,
  connection: ReturnType<typeof recordingConnection>,
  count: number,
  acked: string[],
) {
  for (const bytes of connection.writes.splice(0, count)) {
    const { packetId, body } = readPublish(bytes);
    assert.ok(session.settle(packetId));
    acked.push(body);
  }
}

Deno.test("startQueuePump() keeps at most maxInflight unacknowledged, in order, written corked", async () => {
  await withTempStore(async (store) => {
    await enqueue(store, 1, 50);
    const connection = recordingConnection();
    const session = createClientSession({ deviceId: "d", moduleId: "b" }, connection);
    const pump = startQueuePump(session, { store, maxInflight: 8, encode });
    pump.addEndpoint(ENDPOINT);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(session.inflight(), 8);
    assert.equal(connection.writes.length, 8);
    assert.equal(connection.corkedWrites, 8, "a batch is written inside one cork");

    const acked: string[] = [];
    // Acks below half the window do not refill; reaching half does.
    settleNext(session, connection, 3, acked);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(connection.writes.length, 5, "no refill while more than half is in flight");
    settleNext(session, connection, 1, acked);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(session.inflight(), 8, "refilled to the window at half");
    while (acked.length < 50) {
      settleNext(session, connection, connection.writes.length, acked);
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.ok(session.inflight() <= 8);
    }
    assert.deepEqual(acked, Array.from({ length: 50 }, (_, i) => String(i + 1)));
    pump.stop();
  });
});

Deno.test("startQueuePump() releases what a closed connection did not acknowledge, for the next one", async () => {
  await withTempStore(async (store) => {
    await enqueue(store, 1, 5);
    const first = recordingConnection();
    const session = createClientSession({ deviceId: "d", moduleId: "b" }, first);
    const pump = startQueuePump(session, { store, maxInflight: 10, encode });
    pump.addEndpoint(ENDPOINT);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const acked: string[] = [];
    settleNext(session, first, 2, acked);
    pump.stop();
    session.end();

    const second = recordingConnection();
    const again = createClientSession({ deviceId: "d", moduleId: "b" }, second);
    const next = startQueuePump(again, { store, maxInflight: 10, encode });
    next.addEndpoint(ENDPOINT);
    await new Promise((resolve) => setTimeout(resolve, 0));
    settleNext(again, second, second.writes.length, acked);
    assert.deepEqual(acked, ["1", "2", "3", "4", "5"]);

    // Messages enqueued later wake the pump.
    await enqueue(store, 6, 7);
    await new Promise((resolve) => setTimeout(resolve, 0));
    settleNext(again, second, second.writes.length, acked);
    assert.deepEqual(acked.slice(5), ["6", "7"]);
    next.stop();
  });
});

Deno.test("startQueuePump() keeps no sent message for its PUBACK, only which row to ack or release", async () => {
  await withTempStore(async (store) => {
    await enqueue(store, 1, 3);
    const connection = recordingConnection();
    const session = createClientSession({ deviceId: "d", moduleId: "b" }, connection);
    // What the session holds per delivery until its PUBACK.
    const tokens: unknown[] = [];
    const sendTracked = session.sendTracked.bind(session);
    session.sendTracked = (head, tail, payload, owner, token) => {
      tokens.push(token);
      return sendTracked(head, tail, payload, owner, token);
    };
    const pump = startQueuePump(session, { store, maxInflight: 10, encode });
    pump.addEndpoint(ENDPOINT);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(tokens.length, 3);
    // The seq alone: a message held for a round trip outlives the young generation (promoted).
    assert.ok(tokens.every((token) => typeof token === "number"), "tokens hold no message");
    settleNext(session, connection, 3, []);
    assert.equal(session.inflight(), 0);
    pump.stop();
  });
});

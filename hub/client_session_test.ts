import assert from "node:assert/strict";
import { createClientSession, type DeliveryOwner } from "./client_session.ts";

/** A connection that records the packet id of each PUBLISH. */
function recorder() {
  const ids: number[] = [];
  const connection = {
    publish(_head: unknown, _tail: unknown, _payload: Uint8Array, _qos: 0 | 1, packetId: number) {
      ids.push(packetId);
      return true;
    },
    once() {},
  };
  return { ids, connection };
}

function owner() {
  const acked: number[] = [];
  const lost: number[] = [];
  const deliveries: DeliveryOwner<number> = {
    acked: (token) => acked.push(token),
    lost: (token) => lost.push(token),
  };
  return { acked, lost, deliveries };
}

const head = new Uint8Array();
const body = new Uint8Array();

Deno.test("a session's packet ids are unique among its deliveries in flight, and each settles once", () => {
  const { ids, connection } = recorder();
  const session = createClientSession({ deviceId: "d" }, connection);
  const { acked, lost, deliveries } = owner();
  const byId = new Map<number, number>();
  // A window of 20 with PUBACKs out of order, over many rounds: ids come back round.
  let token = 0;
  for (let round = 0; round < 200; round++) {
    while (session.inflight() < 20) {
      session.sendTracked(head, "", body, deliveries, token);
      const id = ids.at(-1)!;
      assert.ok(id >= 1 && id <= 65535);
      assert.ok(!byId.has(id), `id ${id} is already in flight`);
      byId.set(id, token++);
    }
    const settle = [...byId.keys()].filter((_, i) => (i + round) % 3 === 0);
    for (const id of settle) {
      assert.ok(session.settle(id));
      assert.equal(acked.at(-1), byId.get(id));
      byId.delete(id);
      assert.equal(session.settle(id), false, "a second PUBACK settles nothing");
    }
  }
  assert.equal(session.settle(0), false);
  assert.equal(session.settle(65535), false);
  assert.equal(session.inflight(), byId.size);
  assert.ok(Math.max(...ids) <= 64, "ids stay within twice the window");
  session.end();
  assert.deepEqual(lost.toSorted((a, b) => a - b), [...byId.values()].toSorted((a, b) => a - b));
  assert.equal(session.inflight(), 0);
});

Deno.test("a session can have 65535 deliveries in flight, not one more", () => {
  const { ids, connection } = recorder();
  const session = createClientSession({ deviceId: "d" }, connection);
  const { acked, deliveries } = owner();
  for (let i = 0; i < 65535; i++) session.sendTracked(head, "", body, deliveries, i);
  assert.equal(new Set(ids).size, 65535);
  assert.throws(() => session.sendTracked(head, "", body, deliveries, -1), RangeError);
  assert.ok(session.settle(ids[1000]!));
  assert.deepEqual(acked, [1000]);
  session.sendTracked(head, "", body, deliveries, 70000);
  assert.equal(ids.at(-1), ids[1000], "the one free id");
  assert.equal(session.inflight(), 65535);
});

Deno.test("a session tells each delivery's own owner of its PUBACK or its loss", () => {
  const { ids, connection } = recorder();
  const session = createClientSession({ deviceId: "d" }, connection);
  // A pump gives each queue its owner, and the seq alone as the token.
  const first = owner();
  const second = owner();
  session.sendTracked(head, "", body, first.deliveries, 1);
  session.sendTracked(head, "", body, second.deliveries, 1);
  session.sendTracked(head, "", body, first.deliveries, 2);
  assert.ok(session.settle(ids[1]!));
  assert.deepEqual([first.acked, second.acked], [[], [1]]);
  session.end();
  assert.deepEqual([first.lost, second.lost], [[1, 2], []]);
});

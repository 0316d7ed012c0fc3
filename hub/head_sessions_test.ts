import assert from "node:assert/strict";
import { silentLogger } from "../core/log.ts";
import type { Message } from "../iothub/mod.ts";
import type { MessageStore } from "../store/mod.ts";
import { HeadSessions } from "./head_sessions.ts";
import { createMethodCalls } from "./method_calls.ts";
import type { HubIdentity } from "./security_port.ts";
import { withTempStore } from "./_temp_store.ts";

const C2D = "/devices/leaf/messages/devicebound";

function sessions(store: MessageStore) {
  const presence: string[] = [];
  const ingested: [HubIdentity, Message][] = [];
  const heads = new HeadSessions({
    store,
    maxInflight: 10,
    methods: createMethodCalls(),
    logger: silentLogger,
    ingest(identity, message) {
      ingested.push([identity, message]);
      return Promise.resolve();
    },
    endpointsOf: (identity) => identity.moduleId === undefined ? [C2D] : [],
    twin: () => ({ desired: { $version: 1 }, reported: { $version: 1 } }),
    patchReported: () => Promise.resolve(2),
    onDelivered: () => {},
    onPresence: (identity, connected) =>
      presence.push(`${identity.deviceId}${connected ? "+" : "-"}`),
  });
  return { heads, presence, ingested };
}

function connection(closed: string[]) {
  return { protocol: "amqp", source: "test", close: (reason: string) => closed.push(reason) };
}

Deno.test("HeadSessions: a new session of an identity ends the older one and tells its connection", async () => {
  await withTempStore(async (store) => {
    const { heads, presence } = sessions(store);
    const firstClosed: string[] = [];
    const first = heads.openSession({ deviceId: "leaf" }, connection(firstClosed));
    const second = heads.openSession({ deviceId: "LEAF" }, connection([]));
    assert.equal(first.ended, true);
    assert.deepEqual(firstClosed, ["LEAF connected again"]);
    assert.deepEqual(heads.clients(), ["LEAF"]);
    second.end();
    // The older session's end is not an absence: the identity stayed connected.
    assert.deepEqual(presence, ["leaf+", "LEAF+", "LEAF-"]);
    assert.deepEqual(heads.clients(), []);
    await Promise.resolve();
  });
});

Deno.test("HeadSessions: desired patches and method calls reach the listening session only", async () => {
  await withTempStore(async (store) => {
    const { heads } = sessions(store);
    const session = heads.openSession({ deviceId: "edge", moduleId: "m" }, connection([]));
    assert.equal(heads.pushDesired("edge/m", { a: 1, $version: 2 }, 2), false, "nobody listens");
    const patches: unknown[] = [];
    session.onDesired((patch) => patches.push(patch));
    assert.equal(heads.pushDesired("edge/m", { a: 1, $version: 2 }, 2), true);
    assert.deepEqual(patches, [{ a: 1, $version: 2 }]);
    assert.equal(heads.takesMethods("edge/m"), false);
    const calls: string[] = [];
    const stop = session.onMethodCall((call) => calls.push(call.methodName));
    assert.equal(
      heads.callMethod("edge/m", { methodName: "reboot", payload: null, rid: "1" }),
      true,
    );
    stop();
    assert.equal(heads.takesMethods("edge/m"), false);
    assert.deepEqual(calls, ["reboot"]);
    session.end();
    await Promise.resolve();
  });
});

Deno.test("HeadSessions: takeOne hands out the identity's next message for one settle", async () => {
  await withTempStore(async (store) => {
    const { heads } = sessions(store);
    await store.enqueue(
      { body: new TextEncoder().encode("c2d"), appProperties: {}, systemProperties: {} },
      [{ endpoint: C2D, priority: 0, ttlSeconds: -1 }],
    );
    const taken = heads.takeOne({ deviceId: "leaf" });
    assert.equal(new TextDecoder().decode(taken?.queued.message.body), "c2d");
    assert.equal(heads.takeOne({ deviceId: "leaf" }), undefined, "it is leased");
    taken!.settle.release();
    const again = heads.takeOne({ deviceId: "leaf" });
    assert.ok(again, "released, it is handed out again");
    again.settle.ack();
    again.settle.release();
    assert.equal(heads.takeOne({ deviceId: "leaf" }), undefined, "the first settle won");
  });
});

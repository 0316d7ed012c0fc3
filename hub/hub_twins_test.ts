import assert from "node:assert/strict";
import { createLogger } from "../core/log.ts";
import type { IdentityRef, TwinProperties } from "../iothub/mod.ts";
import type { ClientSession } from "./client_session.ts";
import { heldSyncs, settled } from "./_held_syncs.ts";
import { HubTwins } from "./hub_twins.ts";
import { openTwinStore, type TwinStore } from "./twin_store.ts";

const decoder = new TextDecoder();

/** What an MQTT session of `deviceId/moduleId` was sent, subscribed to `filters`. */
function recordingSession(deviceId: string, moduleId: string, filters: string[]) {
  const sent: { topic: string; body: unknown }[] = [];
  const session = {
    key: `${deviceId}/${moduleId}`.toLowerCase(),
    identity: { deviceId, moduleId },
    subscriptions: new Set(filters),
    send(topic: string, payload: Uint8Array) {
      const text = decoder.decode(payload);
      sent.push({ topic, body: text === "" ? undefined : JSON.parse(text) });
    },
  } as unknown as ClientSession;
  return { session, sent };
}

async function withTwins(
  test: (parts: {
    paths: HubTwins;
    twins: TwinStore;
    syncs: ReturnType<typeof heldSyncs>;
    module: ReturnType<typeof recordingSession>;
    toHeads: [string, TwinProperties, number][];
    reported: [IdentityRef, TwinProperties][];
    logged: string[];
  }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const syncs = heldSyncs();
  const twins = openTwinStore(`${dir}/twins.db`, syncs.sync);
  const module = recordingSession("Edge1", "Filter", ["$iothub/twin/PATCH/properties/desired/#"]);
  const toHeads: [string, TwinProperties, number][] = [];
  const reported: [IdentityRef, TwinProperties][] = [];
  const logged: string[] = [];
  const paths = new HubTwins({
    twins,
    logger: createLogger({ write: (line) => logged.push(line), format: "json" }),
    session: (key) => key === module.session.key ? module.session : undefined,
    pushToHeads: (key, patch, version) => toHeads.push([key, patch, version]),
    onReported: (identity, patch) => reported.push([identity, patch]),
  });
  try {
    await test({ paths, twins, syncs, module, toHeads, reported, logged });
  } finally {
    await twins.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a desired patch reaches the module's MQTT session and the heads only once it is durable", async () => {
  await withTwins(async ({ paths, twins, syncs, module, toHeads }) => {
    const target = { deviceId: "Edge1", moduleId: "Filter" };
    assert.equal(paths.patchDesired(target, { interval: 5 }), 2);
    assert.deepEqual(paths.document("edge1/filter").desired, { interval: 5, $version: 2 });
    const sync = await syncs.next();
    assert.equal(await settled(twins.durable()), false);
    assert.deepEqual([...module.sent], [], "nothing is pushed before the sync");
    assert.deepEqual([...toHeads], []);
    sync.release();
    // Awaited after the push's own wait for the same sync: the push has run.
    await twins.durable();
    const patch = { interval: 5, $version: 2 };
    assert.deepEqual([...module.sent], [{
      topic: "$iothub/twin/PATCH/properties/desired/?$version=2",
      body: patch,
    }]);
    assert.deepEqual([...toHeads], [["edge1/filter", patch, 2]]);

    // A twin nobody subscribed to over MQTT: only the heads hear of it; an unchanged one: nobody.
    paths.replaceDesired({ deviceId: "Edge1", moduleId: "Other" }, { mode: "fast" });
    paths.replaceDesired(target, { interval: 5 });
    (await syncs.next()).release();
    await twins.durable();
    assert.equal(module.sent.length, 1);
    assert.deepEqual(toHeads.slice(1), [["edge1/other", { mode: "fast", $version: 2 }, 2]]);
  });
});

Deno.test("a reported patch over MQTT is answered 204 with its version after the sync; a bad one at once", async () => {
  await withTwins(async ({ paths, syncs, module, reported }) => {
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const answered = paths.patchReportedOverMqtt(module.session, "7", encode({ temperature: 21 }));
    const sync = await syncs.next();
    assert.equal(await settled(answered), false);
    assert.deepEqual([...module.sent], [], "no answer before the sync");
    assert.deepEqual([...reported], []);
    sync.release();
    await answered;
    assert.deepEqual([...module.sent], [{
      topic: "$iothub/twin/res/204/?$rid=7&$version=2",
      body: undefined,
    }]);
    assert.deepEqual([...reported], [[{ deviceId: "Edge1", moduleId: "Filter" }, {
      temperature: 21,
    }]]);

    await paths.patchReportedOverMqtt(module.session, "8", new TextEncoder().encode("not json"));
    assert.equal(module.sent[1]!.topic, "$iothub/twin/res/400/?$rid=8");
    assert.equal(syncs.begun, 1, "a refused patch writes nothing");
  });
});

Deno.test("a failed sync: the reported answer is 500 naming the file, the desired change is not pushed", async () => {
  await withTwins(async ({ paths, twins, syncs, module, toHeads, reported, logged }) => {
    const answered = paths.patchReportedOverMqtt(
      module.session,
      "9",
      new TextEncoder().encode(JSON.stringify({ temperature: 21 })),
    );
    paths.patchDesired({ deviceId: "Edge1", moduleId: "Filter" }, { interval: 7 });
    (await syncs.next()).fail(new Error("EIO: input/output error"));
    await answered;
    await twins.durable().catch(() => {});
    assert.equal(module.sent.length, 1);
    assert.equal(module.sent[0]!.topic, "$iothub/twin/res/500/?$rid=9");
    assert.match(String((module.sent[0]!.body as { message: string }).message), /twins\.db: EIO/);
    assert.deepEqual([...reported], []);
    assert.deepEqual([...toHeads], []);
    assert.ok(logged.some((line) => line.includes("could not be made durable")));
  });
});

Deno.test("a push or an answer that cannot be sent is logged, and the hub goes on", async () => {
  await withTwins(async ({ paths, twins, syncs, module, logged }) => {
    module.session.send = () => {
      throw new Error("the connection is gone");
    };
    paths.patchDesired({ deviceId: "Edge1", moduleId: "Filter" }, { interval: 9 });
    const answered = paths.patchReportedOverMqtt(
      module.session,
      "10",
      new TextEncoder().encode(JSON.stringify({ temperature: 21 })),
    );
    (await syncs.next()).release();
    await twins.durable();
    await assert.rejects(answered, /the connection is gone/);
    // Awaited after the push's own handlers for the same sync.
    await Promise.resolve();
    assert.ok(logged.some((line) => line.includes("could not be pushed")), logged.join("\n"));
  });
});

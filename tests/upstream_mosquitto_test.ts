/**
 * The upstream connector against a real mosquitto as the parent, over TLS with a CA made by
 * openssl: forwarding with properties, offline then reconnect in priority order with TTL, a parent
 * restart mid-drain, a wrong CA and refused credentials, and an oversized message.
 */
import assert from "node:assert/strict";
import type { MessageStore } from "../store/mod.ts";
import { UPSTREAM_DEAD_LETTER_ENDPOINT, UPSTREAM_ENDPOINT } from "../upstream/mod.ts";
import { commandAvailable, freePort, serviceTest } from "./_services.ts";
import { parentReader, parentSite, upstreamChild } from "./_upstream_parent.ts";
import { waitFor } from "./_wait.ts";

const needs = [await commandAvailable("mosquitto"), await commandAvailable("openssl")];
const KEY = btoa("child-device-key-0123456789abcdef");
const encoder = new TextEncoder();

interface Sent {
  id: string;
  moduleId?: string;
  priority?: number;
  ttlSeconds?: number;
}

function enqueue(store: MessageStore, sent: Sent): Promise<void> {
  const systemProperties: Record<string, string> = {
    messageId: sent.id,
    connectionDeviceId: "child",
    contentType: "application/json",
    contentEncoding: "utf-8",
    creationTime: "2024-05-01T10:00:00.000Z",
    correlationId: `corr-${sent.id}`,
  };
  if (sent.moduleId) {
    systemProperties.connectionModuleId = sent.moduleId;
    systemProperties.outputName = "out1";
  }
  return store.enqueue({
    body: encoder.encode(JSON.stringify({ id: sent.id })),
    appProperties: { kind: "reading", "odd key&=": "v a=l&ue" },
    systemProperties,
  }, [{
    endpoint: UPSTREAM_ENDPOINT,
    priority: sent.priority ?? 0,
    ttlSeconds: sent.ttlSeconds ?? -1,
  }]);
}

function queued(store: MessageStore, endpoint = UPSTREAM_ENDPOINT): number {
  return store.stats().find((queue) => queue.endpoint === endpoint)?.count ?? 0;
}

serviceTest(
  "the connector forwards queued messages to mosquitto with their properties",
  needs,
  async () => {
    await using site = await parentSite();
    const { dir, pki, parent } = site;
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(KEY),
    });
    const count = 3000;
    await Promise.all(
      Array.from(
        { length: count },
        (_, i) => enqueue(child.store, { id: `m${i}`, ...(i % 2 ? { moduleId: "sensor" } : {}) }),
      ),
    );
    await child.start();
    await reader.waitForIds(count, 30_000);
    const device = reader.messages.find((m) => m.properties.get("$.mid") === "m0")!;
    assert.equal(device.deviceId, "child");
    assert.equal(device.moduleId, undefined);
    const module = reader.messages.find((m) => m.properties.get("$.mid") === "m1")!;
    assert.equal(module.moduleId, "sensor");
    assert.equal(module.properties.get("$.on"), "out1");
    const expected: Record<string, string> = {
      kind: "reading",
      "odd key&=": "v a=l&ue",
      "$.ct": "application/json",
      "$.ce": "utf-8",
      "$.ctime": "2024-05-01T10:00:00.000Z",
      "$.cid": "corr-m1",
    };
    for (const [key, value] of Object.entries(expected)) {
      assert.equal(module.properties.get(key), value, key);
    }
    assert.equal(module.body, '{"id":"m1"}');
    // The sender is the connection's identity; it is not repeated in the bag.
    assert.equal(module.properties.has("$.cdid"), false);
    await waitFor("the queue to empty", () => queued(child.store) === 0);
    const state = child.component.upstream.state();
    assert.equal(state.connected, true);
    assert.ok(state.forwarding.forwarded >= count);
    assert.deepEqual(
      state.connections.map((c) => c.identity).sort(),
      ["child", "child/$edgeAgent", "child/$edgeHub", "child/sensor"],
    );
  },
);

serviceTest(
  "messages queued while the parent is down arrive after it starts, in priority order, without the expired ones",
  needs,
  async () => {
    await using site = await parentSite();
    const { dir, pki, parent } = site;
    // The reader's persistent session subscribes before the child can reach the parent, and
    // mosquitto keeps for it what arrives while it reconnects: connected only after the restart,
    // it lost whatever the child forwarded first whenever the child's retry came sooner.
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await parent.stop();
    // The store's clock, moved forward instead of waiting for a TTL to run out.
    const clock = { skewMs: 0 };
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(KEY, `max_inflight = 50`),
      heldModules: [],
      now: () => Date.now() + clock.skewMs,
    });
    await child.start();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      // Low priority first, so arrival order alone would put them ahead.
      sends.push(enqueue(child.store, { id: `low${i}`, priority: 5 }));
      sends.push(enqueue(child.store, { id: `high${i}`, priority: 0 }));
      if (i < 50) {
        sends.push(enqueue(child.store, { id: `short${i}`, priority: 0, ttlSeconds: 1 }));
      }
    }
    await Promise.all(sends);
    await waitFor(
      "a failed attempt",
      () => (child.component.upstream.state().device?.attempts ?? 0) > 0,
    );
    const offline = child.component.upstream.state();
    assert.equal(offline.connected, false);
    assert.equal(offline.device?.lastErrorKind, "network");
    clock.skewMs += 1200; // the short TTL runs out
    await parent.start();
    {
      await reader.waitForIds(800, 30_000);
      await waitFor("the leases to settle", () => {
        const { leased } = child.component.upstream.state().forwarding;
        return leased === 0 && queued(child.store) <= 50;
      });
      const order = reader.messages.map((m) => m.properties.get("$.mid")!);
      assert.equal(order.filter((id) => id.startsWith("short")).length, 0);
      const lastHigh = order.findLastIndex((id) => id.startsWith("high"));
      const firstLow = order.findIndex((id) => id.startsWith("low"));
      assert.ok(lastHigh < firstLow, `high ${lastHigh} must precede low ${firstLow}`);
      // The link purged (and counted) them when it came up; a later purge finds nothing new.
      child.store.purgeExpired();
      const { expired, expiredInQueue } = child.component.upstream.state().forwarding;
      assert.equal(expired + expiredInQueue, 50);
      assert.equal(queued(child.store), 0);
    }
  },
);

serviceTest("a parent restarted mid-drain loses nothing (duplicates allowed)", needs, async () => {
  await using site = await parentSite();
  const { dir, pki, parent } = site;
  await parent.start();
  await using reader = await parentReader(parent, pki.caFile);
  await using child = upstreamChild(dir, {
    upstreamToml: site.linkToml(KEY),
    heldModules: [],
  });
  const count = 20_000;
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, j) =>
          enqueue(child.store, { id: `m${i + j}`, ...(j % 3 ? {} : { moduleId: "sensor" }) }),
      ),
    );
  }
  await child.start();
  await waitFor("a quarter to arrive", () => reader.ids.size >= count / 4, 30_000);
  await parent.stop();
  await waitFor("the child to notice", () => !child.component.upstream.state().connected);
  assert.ok(queued(child.store) > 0, "the restart must happen mid-drain");
  await parent.start();
  await reader.waitForIds(count, 60_000);
  await waitFor("the queue to empty", () => queued(child.store) === 0);
  for (let i = 0; i < count; i++) assert.ok(reader.ids.has(`m${i}`), `m${i} missing`);
  assert.equal(child.component.upstream.state().forwarding.deadLettered.rejected, 0);
});

serviceTest(
  "a wrong parent CA fails clearly, with back-off and not a busy loop",
  needs,
  async () => {
    await using site = await parentSite();
    const { dir, pki, parent } = site;
    await parent.start();
    await using child = upstreamChild(dir, {
      upstreamToml:
        `hostname = "localhost"\nport = ${parent.port}\nca_file = "${pki.wrongCaFile}"\n` +
        `shared_access_key = "${KEY}"`,
      heldModules: [],
    });
    await enqueue(child.store, { id: "kept" });
    const started = performance.now();
    await child.start();
    const state = await waitFor("three attempts", () => {
      const now = child.component.upstream.state();
      return now.device!.totalAttempts >= 3 ? now : undefined;
    });
    const elapsedSeconds = (performance.now() - started) / 1000;
    const device = state.device!;
    assert.equal(device.connected, false);
    assert.equal(device.lastErrorKind, "tls");
    assert.match(device.lastError!, /upstream\.ca_file/);
    // Every wait is at least half of the 1 s base: at most one attempt per 0.5 s, plus the first.
    assert.ok(device.totalAttempts >= 2, `attempts ${device.totalAttempts}`);
    assert.ok(
      device.totalAttempts <= 1 + Math.floor(elapsedSeconds / 0.5),
      `${device.totalAttempts} attempts in ${elapsedSeconds.toFixed(1)} s is a busy loop`,
    );
    const errors = child.logs.map((line) => JSON.parse(line)).filter((record) =>
      record.level === "error" && record.message.startsWith("upstream connection failed")
    );
    assert.equal(errors.length, 1, "the same failure is logged once");
    assert.equal(queued(child.store), 1, "the message stays queued");
  },
);

serviceTest(
  "a parent that refuses the credentials shows CONNACK 5 as an auth failure",
  needs,
  async () => {
    await using site = await parentSite((dir) => [
      "allow_anonymous false",
      `password_file ${dir}/passwords`,
    ]);
    const { dir, parent } = site;
    await Deno.writeTextFile(`${dir}/passwords`, "");
    await parent.start();
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(KEY),
      heldModules: [],
    });
    await child.start();
    await waitFor(
      "a refusal",
      () => child.component.upstream.state().device?.lastErrorKind === "auth",
    );
    assert.match(child.component.upstream.state().device!.lastError!, /CONNACK 5/);
  },
);

serviceTest(
  "a message larger than the parent takes is dead-lettered and counted, the rest flow",
  needs,
  async () => {
    await using site = await parentSite();
    const { dir, pki, parent } = site;
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(KEY, `max_message_bytes = 2048`),
      heldModules: [],
    });
    await enqueue(child.store, { id: "before" });
    await child.store.enqueue({
      body: new Uint8Array(4096),
      appProperties: {},
      systemProperties: { messageId: "huge", connectionDeviceId: "child" },
    }, [{ endpoint: UPSTREAM_ENDPOINT, priority: 0, ttlSeconds: -1 }]);
    await enqueue(child.store, { id: "after" });
    await child.start();
    await reader.waitForIds(2, 20_000);
    await waitFor("the queue to empty", () => queued(child.store) === 0);
    assert.equal(reader.ids.has("huge"), false);
    assert.equal(child.component.upstream.state().forwarding.deadLettered.too_large, 1);
    assert.equal(queued(child.store, UPSTREAM_DEAD_LETTER_ENDPOINT), 1);
  },
);

serviceTest(
  "a message the parent keeps dropping the link on is dead-lettered, not retried forever",
  needs,
  async () => {
    // The parent refuses packets over 2 KiB by closing the connection (MQTT 3.1.1 has no "no").
    await using site = await parentSite(["max_packet_size 2048"]);
    const { dir, pki, parent } = site;
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(KEY),
      heldModules: [],
    });
    await child.store.enqueue({
      body: new Uint8Array(4096),
      appProperties: {},
      systemProperties: { messageId: "poison", connectionDeviceId: "child" },
    }, [{ endpoint: UPSTREAM_ENDPOINT, priority: 0, ttlSeconds: -1 }]);
    for (let i = 0; i < 30; i++) await enqueue(child.store, { id: `ok${i}` });
    await child.start();
    await reader.waitForIds(30, 30_000);
    await waitFor("the queue to empty", () => queued(child.store) === 0, 30_000);
    assert.equal(reader.ids.has("poison"), false);
    const state = child.component.upstream.state();
    assert.equal(state.forwarding.deadLettered.rejected, 1);
    assert.equal(queued(child.store, UPSTREAM_DEAD_LETTER_ENDPOINT), 1);
  },
);

/** A client certificate for `child` signed by the site's CA: `child.pem`, `child.key` in `dir`. */
async function childCertificate(dir: string): Promise<void> {
  const steps = [
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout"],
    ["x509", "-req", "-in", "child.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
  ];
  const args = [
    [...steps[0]!, "child.key", "-out", "child.csr", "-subj", "/CN=child"],
    [...steps[1]!, "-out", "child.pem", "-days", "2", "-extfile", "child.cnf"],
  ];
  await Deno.writeTextFile(`${dir}/child.cnf`, "basicConstraints=CA:FALSE\n");
  for (const command of args) {
    const { success } = await new Deno.Command("openssl", { args: command, cwd: dir }).output();
    assert.ok(success, `openssl ${command.join(" ")}`);
  }
}

serviceTest(
  "a child with a client certificate forwards to a parent that requires one (X.509)",
  needs,
  async () => {
    const certPort = freePort();
    await using site = await parentSite((dir) => [
      `listener ${certPort} 127.0.0.1`,
      `cafile ${dir}/ca.pem`,
      `certfile ${dir}/server.pem`,
      `keyfile ${dir}/server.key`,
      "require_certificate true",
    ]);
    const { dir, pki, parent } = site;
    await childCertificate(dir);
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await using child = upstreamChild(dir, {
      upstreamToml: [
        `hostname = "localhost"`,
        `port = ${certPort}`,
        `ca_file = "${pki.caFile}"`,
        `cert_file = "${dir}/child.pem"`,
        `key_file = "${dir}/child.key"`,
      ].join("\n"),
      heldModules: [],
    });
    await enqueue(child.store, { id: "x509-1" });
    await child.start();
    await reader.waitForIds(1, 30_000);
    assert.ok(reader.ids.has("x509-1"));
  },
);

/**
 * No acknowledged message is lost when ledge is killed with -9: a real `ledge run` with a
 * deployment routing module a's outputs to module b's input (two routes of different
 * priority), b offline, a sending 10,000 numbered QoS 1 messages through the `mqtt` npm client;
 * SIGKILL mid-stream, restart on the same state dir, a resends what was not acknowledged, then
 * b connects and must receive every acknowledged message, each priority in order.
 */
import assert from "node:assert/strict";
import { startLedge } from "./_ledge.ts";
import {
  closeClient,
  collectDeliveries,
  connectIdentity,
  type MqttClient,
  publishNumbered,
} from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";
import {
  type CliRunner,
  moduleCredentials as credentialsOf,
  waitingModule,
} from "./_ledge_modules.ts";
import { deploymentManifest } from "./_manifests.ts";

const TOTAL = 10_000;
const KILL_AFTER_ACKS = 3_000;
const DEVICE = "test-device";
const HOST = "localhost";

const isHigh = (n: number) => n % 4 === 0;

function moduleCredentials(stateDir: string, moduleId: string, cli: CliRunner) {
  return credentialsOf({ stateDir, deviceId: DEVICE, iothubHostname: HOST, moduleId }, cli);
}

function manifest() {
  const routes = (priority: number, prio: string) => ({
    route: `FROM /messages/modules/a/outputs/* WHERE prio = '${prio}' ` +
      `INTO BrokeredEndpoint("/modules/b/inputs/in")`,
    priority,
  });
  return deploymentManifest({ a: waitingModule(), b: waitingModule() }, {
    routes: { high: routes(0, "hi"), low: routes(5, "lo") },
    storeAndForward: { timeToLiveSecs: 7200 },
  });
}

Deno.test({
  name:
    "every message acknowledged before kill -9 reaches the offline module after restart, in order per priority",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    const started = Date.now();
    const extraConfig = `[agent]\nengine = "none"\n`;
    let ledge = await startLedge({ extraConfig });
    const stateDir = ledge.stateDir;
    const clients: MqttClient[] = [];
    try {
      const file = `${stateDir}.deployment.json`;
      await Deno.writeTextFile(file, JSON.stringify(manifest()));
      const deployed = await ledge.cli(["deploy", file]);
      assert.equal(deployed.code, 0, deployed.stderr);

      const a = await moduleCredentials(stateDir, "a", ledge.cli);
      const topic = (n: number) =>
        `devices/${DEVICE}/modules/a/messages/events/%24.on=out1&prio=${
          isHigh(n) ? "hi" : "lo"
        }&n=${n}`;
      const numbers = Array.from({ length: TOTAL }, (_, i) => i + 1);

      // Phase 1: send until KILL_AFTER_ACKS PUBACKs, then SIGKILL the daemon mid-stream.
      const sender = await connectIdentity({
        port: ledge.ports.mqtt,
        caPem: a.caPem,
        iothubHostname: HOST,
        deviceId: DEVICE,
        moduleId: "a",
        credentials: { kind: "sas", token: a.token },
      });
      clients.push(sender);
      let killing: Promise<Deno.CommandStatus> | undefined;
      let acksSoFar = 0;
      const first = await publishNumbered(sender, {
        numbers,
        topic,
        window: 100,
        onAck() {
          if (!killing && ++acksSoFar >= KILL_AFTER_ACKS) killing = ledge.stop("SIGKILL");
        },
      });
      assert.ok(killing, "the daemon must have been killed mid-stream");
      const status = await killing;
      assert.equal(status.signal, "SIGKILL");
      assert.ok(first.closed, "the sender must see its connection drop");
      assert.ok(first.acked.length < TOTAL, "the kill must come before the last PUBACK");
      await closeClient(sender);

      // Phase 2: restart on the same state dir; a resends everything without a PUBACK.
      ledge = await startLedge({ extraConfig, stateDir });
      const ackedBefore = new Set(first.acked);
      const rest = numbers.filter((n) => !ackedBefore.has(n));
      const again = await connectIdentity({
        port: ledge.ports.mqtt,
        caPem: a.caPem,
        iothubHostname: HOST,
        deviceId: DEVICE,
        moduleId: "a",
        credentials: { kind: "sas", token: a.token },
      });
      clients.push(again);
      const second = await publishNumbered(again, { numbers: rest, topic, window: 100 });
      assert.equal(second.closed, false, "the restarted daemon must acknowledge the rest");
      assert.equal(first.acked.length + second.acked.length, TOTAL);

      // b connects for the first time and drains its queue.
      const b = await moduleCredentials(stateDir, "b", ledge.cli);
      const receiver = await connectIdentity({
        port: ledge.ports.mqtt,
        caPem: b.caPem,
        iothubHostname: HOST,
        deviceId: DEVICE,
        moduleId: "b",
        credentials: { kind: "sas", token: b.token },
      });
      clients.push(receiver);
      const deliveries = await collectDeliveries(
        receiver,
        `devices/${DEVICE}/modules/b/inputs/#`,
      );
      const seen = new Set<number>();
      const firstSeen: number[] = [];
      let scanned = 0;
      await waitFor(`all ${TOTAL} messages at b`, () => {
        for (; scanned < deliveries.length; scanned++) {
          const n = Number(deliveries[scanned]!.body);
          if (!seen.has(n)) firstSeen.push(n);
          seen.add(n);
        }
        return seen.size >= TOTAL;
      }, 40_000).catch((error) => {
        const missing = numbers.filter((n) => !seen.has(n));
        const lostAcked = first.acked.filter((n) => !seen.has(n));
        throw new Error(
          `${error.message}: ${missing.length} missing, ${lostAcked.length} of them acknowledged ` +
            `before the kill (first: ${lostAcked.slice(0, 10).join(", ")})`,
        );
      });

      for (const n of first.acked) assert.ok(seen.has(n), `acknowledged message ${n} was lost`);
      for (const delivery of deliveries) {
        assert.match(delivery.topic, /^devices\/test-device\/modules\/b\/inputs\/in\//);
      }
      // Priority: everything high (priority 0) was queued before b connected, so it all comes
      // before anything low (priority 5); within a priority, first deliveries are in order.
      const lastHigh = firstSeen.findLastIndex(isHigh);
      const firstLow = firstSeen.findIndex((n) => !isHigh(n));
      assert.ok(lastHigh < firstLow, "high-priority messages must all come before low ones");
      for (const klass of [firstSeen.filter(isHigh), firstSeen.filter((n) => !isHigh(n))]) {
        for (let i = 1; i < klass.length; i++) {
          assert.ok(klass[i - 1]! < klass[i]!, `out of order: ${klass[i - 1]} before ${klass[i]}`);
        }
      }
      const elapsedSeconds = (Date.now() - started) / 1000;
      console.log(
        `durability: ${first.acked.length} acked before kill -9, ${second.acked.length} after; ` +
          `${deliveries.length} deliveries (${deliveries.length - TOTAL} duplicates); ` +
          `${elapsedSeconds.toFixed(1)} s`,
      );
    } finally {
      for (const client of clients) await closeClient(client);
      await ledge.stop("SIGTERM");
      await Deno.remove(`${stateDir}.deployment.json`).catch(() => {});
      await Deno.remove(`${stateDir}.toml`).catch(() => {});
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  },
});

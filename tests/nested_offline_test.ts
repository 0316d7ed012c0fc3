/**
 * Offline autonomy of a child ledge: its parent is stopped while the child's module sends 50,000
 * QoS 1 messages; the child is killed with -9 and restarted while still offline; the parent is
 * restarted. Every acknowledged message arrives at the parent's sink at least once, the higher
 * priority first, and the ones whose TTL ran out are dropped and counted, not delivered.
 */
import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "./_services.ts";
import { sdkAvailable } from "./_sdk_process.ts";
import { type LedgeProcess, portsToKeep, restartablePorts, startLedge } from "./_ledge.ts";
import {
  deployWith,
  fleetManifest,
  fleetModule,
  jsonLines,
  registerEdgeChild,
  startFleetLedge,
} from "./_fleet.ts";
import { waitFor } from "./_wait.ts";

const node = await commandAvailable("node");
const sdk = await sdkAvailable();

const ALARMS = 5_000;
const READINGS = 44_000;
const EPHEMERAL = 1_000;
const TOTAL = ALARMS + READINGS + EPHEMERAL;

async function metric(ledge: LedgeProcess, name: string): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${ledge.ports.metrics}/metrics`);
  const text = await response.text();
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith(name)) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

serviceTest(
  "a child offline through kill -9 delivers every acknowledged message once the parent is back, priority first, expired ones counted",
  [node, sdk],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-offline-" });
    const running = new Set<LedgeProcess>();
    try {
      let parent = await startFleetLedge({ deviceId: "parent", ports: restartablePorts() });
      running.add(parent);
      const sinkOut = `${dir}/sink.jsonl`;
      const sinkDeploy = await deployWith(
        parent,
        fleetManifest(
          { sink: fleetModule({ mqttPort: parent.ports.mqtt, out: sinkOut }) },
          {
            toSink:
              'FROM /messages/* WHERE $connectionDeviceId = "child" INTO BrokeredEndpoint("/modules/sink/inputs/in")',
          },
        ),
        { dir },
      );
      assert.equal(sinkDeploy.code, 0, sinkDeploy.stderr);
      const link = await registerEdgeChild(parent, "child", dir);
      const parentState = { stateDir: parent.stateDir, ports: portsToKeep(parent) };
      await parent.stop();
      running.delete(parent);

      // The child boots with no parent reachable and works on its own.
      let child = await startFleetLedge({
        deviceId: "child",
        upstream: link.snippet,
        ports: restartablePorts(),
      });
      running.add(child);
      const marker = `${dir}/sent`;
      const started = Date.now();
      const deployed = await deployWith(
        child,
        fleetManifest(
          {
            sensor: fleetModule({
              mqttPort: child.ports.mqtt,
              plan: {
                spec: `out:${READINGS},alarm:${ALARMS},ephemeral:${EPHEMERAL}`,
                once: marker,
                concurrency: 100,
              },
            }),
          },
          {
            readings: {
              route: "FROM /messages/modules/sensor/outputs/out INTO $upstream",
              priority: 5,
            },
            alarms: {
              route: "FROM /messages/modules/sensor/outputs/alarm INTO $upstream",
              priority: 0,
            },
            ephemeral: {
              route: "FROM /messages/modules/sensor/outputs/ephemeral INTO $upstream",
              priority: 1,
              timeToLiveSecs: 2,
            },
          },
        ),
        { dir },
      );
      assert.equal(deployed.code, 0, deployed.stderr);
      await waitFor("the sensor to have every message acknowledged", async () => {
        try {
          return Number(await Deno.readTextFile(marker)) === TOTAL ? true : undefined;
        } catch {
          return undefined;
        }
      }, 120_000);
      const sentAt = Date.now();
      const sendSeconds = (sentAt - started) / 1000;
      const check = await child.cli(["check"]);
      assert.match(check.stdout + check.stderr, /upstream/i);

      // kill -9, and back up while the parent is still down.
      await child.stop("SIGKILL");
      running.delete(child);
      // The ephemeral messages' 2 s TTL counts from their enqueue, before every one was
      // acknowledged: past this deadline each has run out (a real process: no clock to move).
      const ephemeralExpired = sentAt + 2_000 + 50;
      await waitFor("the ephemeral TTL to run out", () => Date.now() > ephemeralExpired);
      child = await startFleetLedge({
        deviceId: "child",
        upstream: link.snippet,
        stateDir: child.stateDir,
        ports: portsToKeep(child),
      });
      running.add(child);

      parent = await startLedge({
        ...parentState,
        deviceId: "parent",
        extraConfig: `[agent]\nengine = "none"\nbackoff_base_seconds = 1`,
      });
      running.add(parent);
      const drainStarted = Date.now();
      const lines = await waitFor(
        "every acknowledged message at the parent's sink",
        async () => {
          const seen = await jsonLines(sinkOut);
          const ids = new Set(seen.map((line) => line.messageId));
          return ids.size >= ALARMS + READINGS ? seen : undefined;
        },
        120_000,
      );
      const drainSeconds = (Date.now() - drainStarted) / 1000;
      console.log(
        `${TOTAL} sent in ${sendSeconds.toFixed(1)} s; ${lines.length} delivered ` +
          `(${lines.length - ALARMS - READINGS} duplicates) ${
            drainSeconds.toFixed(1)
          } s after the parent restarted`,
      );

      const firstIndex = new Map<string, number>();
      lines.forEach((line, index) => {
        const id = String(line.messageId);
        if (!firstIndex.has(id)) firstIndex.set(id, index);
      });
      for (let i = 0; i < READINGS; i++) assert.ok(firstIndex.has(`out-${i}`), `out-${i} arrived`);
      for (let i = 0; i < ALARMS; i++) {
        assert.ok(firstIndex.has(`alarm-${i}`), `alarm-${i} arrived`);
      }
      const ephemeral = [...firstIndex.keys()].filter((id) => id.startsWith("ephemeral-"));
      assert.deepEqual(ephemeral, [], "expired messages are not delivered");
      const lastAlarm = Math.max(
        ...[...firstIndex].filter(([id]) => id.startsWith("alarm-")).map(([, i]) => i),
      );
      const firstReading = Math.min(
        ...[...firstIndex].filter(([id]) => id.startsWith("out-")).map(([, i]) => i),
      );
      assert.ok(
        lastAlarm < firstReading,
        `every alarm (priority 0) before any reading (priority 5): ${lastAlarm} < ${firstReading}`,
      );
      const line0 = lines[firstIndex.get("alarm-0")!]!;
      assert.equal((line0.properties as Record<string, string>)["$.cmid"], "sensor");

      const expired = await waitFor("the expired messages counted", async () => {
        const value = await metric(child, "ledge_upstream_expired_total");
        return value !== undefined && value >= EPHEMERAL ? value : undefined;
      }, 30_000);
      assert.equal(expired, EPHEMERAL);
    } finally {
      for (const ledge of running) await ledge.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/**
 * Three ledge processes nested on loopback — grandparent "gp" ← "parent" ← "child" — each with
 * its own state dir and ports, registered with `ledge identity add-device --edge` and configured
 * with the snippet it prints. Modules are process modules on the unmodified Azure IoT SDK.
 *
 * "Deploy to any device from the parent" means: `ledge deploy --device <id>` on any ancestor sets
 * that device's twins there, and every ledge in between mirrors them down (when several ancestors
 * set one, the highest wins while it holds it). So the grandparent deploys to its grandchild.
 */
import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "./_services.ts";
import type { LedgeProcess } from "./_ledge.ts";
import { sdkAvailable, startSdkProcess } from "./_sdk_process.ts";
import {
  deployWith,
  fleetManifest,
  fleetModule,
  jsonLines,
  listDevice,
  registerEdgeChild,
  startFleetLedge,
} from "./_fleet.ts";
import { waitFor } from "./_wait.ts";

const node = await commandAvailable("node");
const sdk = await sdkAvailable();

serviceTest(
  "three nested ledges: a deployment set at the grandparent runs on the child, its messages reach the grandparent with their properties, methods and C2D come down",
  [node, sdk],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-fleet-" });
    const ledges: LedgeProcess[] = [];
    try {
      const gp = await startFleetLedge({ deviceId: "gp" });
      ledges.push(gp);
      const sinkOut = `${dir}/sink.jsonl`;
      const gpDeploy = await deployWith(
        gp,
        fleetManifest(
          { sink: fleetModule({ mqttPort: gp.ports.mqtt, out: sinkOut }) },
          {
            toSink:
              'FROM /messages/modules/sensor/* INTO BrokeredEndpoint("/modules/sink/inputs/in")',
          },
        ),
        { dir },
      );
      assert.equal(gpDeploy.code, 0, gpDeploy.stderr);

      const parentLink = await registerEdgeChild(gp, "parent", dir);
      assert.match(parentLink.snippet, /\[upstream\]\nenabled = true\nhostname = "localhost"/);
      assert.match(parentLink.snippet, new RegExp(`port = ${gp.ports.mqtt}\n`));
      const parent = await startFleetLedge({ deviceId: "parent", upstream: parentLink.snippet });
      ledges.push(parent);
      const parentDeploy = await deployWith(
        parent,
        fleetManifest({}, { up: "FROM /messages/* INTO $upstream" }),
        { dir },
      );
      assert.equal(parentDeploy.code, 0, parentDeploy.stderr);

      const childLink = await registerEdgeChild(parent, "child", dir);
      const child = await startFleetLedge({
        deviceId: "child",
        upstream: childLink.snippet,
        allowProcessFromUpstream: true,
      });
      ledges.push(child);

      // The grandparent deploys to its grandchild.
      const deployed = await deployWith(
        gp,
        fleetManifest(
          { sensor: fleetModule({ mqttPort: child.ports.mqtt, send: 20 }) },
          { up: "FROM /messages/modules/sensor/outputs/* INTO $upstream" },
          { sensor: { interval: 7 } },
        ),
        { dir, device: "child" },
      );
      assert.equal(deployed.code, 0, deployed.stderr);
      assert.match(deployed.stdout, /deployment for child set: sensor/);

      // It runs on the child; the status is visible at the grandparent and the parent.
      for (const [name, ledge] of [["grandparent", gp], ["parent", parent]] as const) {
        const listed = await waitFor(`the sensor running, seen at the ${name}`, async () => {
          const seen = await listDevice(ledge, "child");
          return seen?.rows.some((row) => row.name === "sensor" && row.status === "running")
            ? seen
            : undefined;
        });
        assert.equal(listed.lastDesiredStatus?.code, 200);
      }
      const table = await gp.cli(["list", "--device", "child"]);
      assert.match(table.stdout, /^NAME\s+STATUS\s+DESCRIPTION\s+CONFIG$/m);
      assert.match(table.stdout, /^sensor\s+running\s+/m);

      // Its messages, routed to $upstream at the child and at the parent, reach the grandparent's
      // sink with their properties and the original sender.
      const received = await waitFor("20 messages at the grandparent's sink", async () => {
        const lines = await jsonLines(sinkOut);
        return new Set(lines.map((line) => line.messageId)).size >= 20 ? lines : undefined;
      });
      const first = received.find((line) => line.messageId === "sensor-0")!;
      assert.ok(first, "message sensor-0 arrived");
      assert.equal(first.body, '{"seq":0}');
      assert.equal(first.contentType, "application/json");
      const properties = first.properties as Record<string, string>;
      assert.equal(properties.seq, "0");
      assert.equal(properties.origin, "child/sensor");
      assert.equal(properties["$.cdid"], "child");
      assert.equal(properties["$.cmid"], "sensor");

      // The module twin set at the grandparent reached the module on the child.
      await waitFor("the sensor's desired twin on the child", async () => {
        const twin = await child.cli(["twin", "sensor"]);
        return twin.code === 0 && JSON.parse(twin.stdout).desired.interval === 7 ? true : undefined;
      });

      // A C2D message sent at the grandparent reaches a leaf device of the child (its identity is
      // held up the chain while it is connected).
      const leafAdded = await child.cli(["identity", "add-device", "leaf"]);
      assert.equal(leafAdded.code, 0, leafAdded.stderr);
      const leaf = startSdkProcess("device_client.cjs", {
        LEDGE_TEST_CONNECTION_STRING: leafAdded.stdout.trim(),
        LEDGE_TEST_CA_FILE: `${child.stateDir}/pki/root_ca.pem`,
        LEDGE_TEST_MQTT_PORT: String(child.ports.mqtt),
      });
      try {
        await leaf.next((event) => event.event === "ready", 30_000);
        const sent = await gp.cli(["send", "leaf", "open valve", "--property", "valve=3"]);
        assert.equal(sent.code, 0, sent.stderr);
        const c2d = await leaf.next((event) => event.event === "c2d", 30_000);
        assert.equal(c2d.body, "open valve");
        assert.equal((c2d.properties as Record<string, string>).valve, "3");
      } finally {
        await leaf.close();
      }

      // A method invoked at the grandparent (two hops) and at the parent (one) comes back.
      for (const ledge of [gp, parent]) {
        const call = await ledge.cli([
          "invoke",
          "--device",
          "child",
          "sensor",
          "echo",
          "--payload",
          '{"x":1}',
          "--timeout",
          "20",
        ]);
        assert.equal(call.code, 0, call.stderr);
        assert.deepEqual(JSON.parse(call.stdout), {
          status: 200,
          payload: { echoed: { x: 1 }, device: "child", module: "sensor" },
        });
      }
    } finally {
      for (const ledge of ledges.reverse()) await ledge.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

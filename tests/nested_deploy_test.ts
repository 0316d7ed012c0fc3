/**
 * Deployments from a parent ledge to a child ledge (two processes on loopback): set while the
 * child is down, the child converges once it reconnects; a manifest from the parent that fails
 * validation is rejected, reported back as lastDesiredStatus 400 (visible at the parent), and
 * the old deployment keeps running.
 */
import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "./_services.ts";
import { sdkAvailable } from "./_sdk_process.ts";
import { type LedgeProcess, portsToKeep, restartablePorts } from "./_ledge.ts";
import {
  deployWith,
  fleetManifest,
  fleetModule,
  listDevice,
  registerEdgeChild,
  startFleetLedge,
} from "./_fleet.ts";
import { waitFor } from "./_wait.ts";

const node = await commandAvailable("node");
const sdk = await sdkAvailable();

async function modulesOf(ledge: LedgeProcess): Promise<{ name: string; status: string }[]> {
  const listed = await ledge.cli(["list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  return JSON.parse(listed.stdout);
}

serviceTest(
  "a deployment set at the parent while the child is down runs once it reconnects; a bad one from the parent is reported as 400 and changes nothing",
  [node, sdk],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-nested-deploy-" });
    const running = new Set<LedgeProcess>();
    try {
      const parent = await startFleetLedge({ deviceId: "parent" });
      running.add(parent);
      const link = await registerEdgeChild(parent, "child", dir);
      let child = await startFleetLedge({
        deviceId: "child",
        upstream: link.snippet,
        allowProcessFromUpstream: true,
        ports: restartablePorts(),
      });
      running.add(child);
      await waitFor("the child's first report at the parent", async () => {
        const seen = await listDevice(parent, "child");
        return seen?.lastDesiredStatus ? seen : undefined;
      });
      await child.stop();
      running.delete(child);

      // Set while the child is down.
      const deployed = await deployWith(
        parent,
        fleetManifest(
          { sensor: fleetModule({ mqttPort: child.ports.mqtt }) },
          { up: "FROM /messages/modules/sensor/outputs/* INTO $upstream" },
        ),
        { dir, device: "child" },
      );
      assert.equal(deployed.code, 0, deployed.stderr);
      const pending = await listDevice(parent, "child");
      assert.ok(!pending?.rows.some((row) => row.name === "sensor"), "nothing runs yet");

      child = await startFleetLedge({
        deviceId: "child",
        upstream: link.snippet,
        allowProcessFromUpstream: true,
        stateDir: child.stateDir,
        ports: portsToKeep(child),
      });
      running.add(child);
      await waitFor("the sensor running on the child", async () => {
        const modules = await modulesOf(child);
        return modules.some((m) => m.name === "sensor" && m.status === "running")
          ? true
          : undefined;
      });
      const accepted = await waitFor("the parent to see it running", async () => {
        const seen = await listDevice(parent, "child");
        return seen?.rows.some((row) => row.name === "sensor" && row.status === "running")
          ? seen
          : undefined;
      });
      assert.equal(accepted.lastDesiredStatus?.code, 200);
      const acceptedVersion = accepted.lastDesiredVersion;

      // A manifest that fails validation, set on the parent's twin directly (the CLI would
      // refuse it): the child rejects it and says why; the sensor keeps running.
      const patched = await parent.cli([
        "twin",
        "--device",
        "child",
        "$edgeAgent",
        "--set-desired",
        JSON.stringify({ modules: { sensor: { restartPolicy: "sometimes" } } }),
      ]);
      assert.equal(patched.code, 0, patched.stderr);
      const rejected = await waitFor("the rejection reported at the parent", async () => {
        const seen = await listDevice(parent, "child");
        return seen?.lastDesiredStatus?.code === 400 ? seen : undefined;
      });
      assert.match(rejected.lastDesiredStatus!.description, /modules\.sensor\.restartPolicy/);
      assert.ok(rejected.rows.some((row) => row.name === "sensor" && row.status === "running"));
      const table = await parent.cli(["list", "--device", "child"]);
      assert.match(table.stdout, /last deployment \(version \d+\): 400 .*restartPolicy/);
      const still = await modulesOf(child);
      assert.ok(still.some((m) => m.name === "sensor" && m.status === "running"));
      // The last accepted deployment is still the one reported.
      assert.equal(rejected.lastDesiredVersion, acceptedVersion);

      // A device that does not allow process modules from its parent refuses them, and says why.
      const strictLink = await registerEdgeChild(parent, "strict", dir);
      const strict = await startFleetLedge({ deviceId: "strict", upstream: strictLink.snippet });
      running.add(strict);
      const toStrict = await deployWith(
        parent,
        fleetManifest({ sensor: fleetModule({ mqttPort: strict.ports.mqtt }) }, {}),
        { dir, device: "strict" },
      );
      assert.equal(toStrict.code, 0, toStrict.stderr);
      const refused = await waitFor("the policy refusal reported at the parent", async () => {
        const seen = await listDevice(parent, "strict");
        return seen?.lastDesiredStatus?.code === 400 ? seen : undefined;
      });
      assert.match(
        refused.lastDesiredStatus!.description,
        /modules\.sensor\.type: .*agent\.allow\.process_modules_from_upstream/,
      );
      assert.ok(!(await modulesOf(strict)).some((m) => m.name === "sensor"), "nothing ran");
    } finally {
      for (const ledge of running) await ledge.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/**
 * The fleet at a real parent with real child ledges on loopback (process modules, no engine):
 * tags and a query, a target condition that picks two children, a layered deployment that adds a
 * module to one, a tag change that moves the third in, a deployment whose module exits at once
 * rolled back on the child while the parent is stopped, and an enrollment group that lets a
 * fresh child register itself with no step at the parent.
 */
import assert from "node:assert/strict";
import { type LedgeProcess, portsToKeep, restartablePorts } from "./_ledge.ts";
import { fleetManifest, listDevice, registerEdgeChild, startFleetLedge } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";
import { shellModule } from "./_manifests.ts";

const CHILD_AGENT = "rollback_after_seconds = 6";

async function ok(ledge: LedgeProcess, args: string[]): Promise<string> {
  const result = await ledge.cli(args);
  assert.equal(result.code, 0, `ledge ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** The modules a child runs, as its parent sees them (running only). */
async function running(parent: LedgeProcess, deviceId: string): Promise<string[] | undefined> {
  const seen = await listDevice(parent, deviceId);
  return seen?.rows.filter((r) => r.status === "running" && !r.name.startsWith("edge")).map((r) =>
    r.name
  ).sort();
}

async function runsExactly(
  parent: LedgeProcess,
  deviceId: string,
  modules: string[],
): Promise<void> {
  await waitFor(`${deviceId} running ${modules.join(", ")}`, async () => {
    const names = await running(parent, deviceId);
    return JSON.stringify(names) === JSON.stringify(modules) ? true : undefined;
  });
}

async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const path = `${dir}/${name}.json`;
  await Deno.writeTextFile(path, JSON.stringify(value));
  return path;
}

Deno.test("a parent manages three child ledges by tags, conditions, layers, rollback and enrollment", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-fleet-children-" });
  const ledges = new Set<LedgeProcess>();
  try {
    let parent = await startFleetLedge({ deviceId: "plant", ports: restartablePorts() });
    ledges.add(parent);
    const children: Record<string, LedgeProcess> = {};
    for (const id of ["c1", "c2", "c3"]) {
      const link = await registerEdgeChild(parent, id, dir);
      const child = await startFleetLedge({
        deviceId: id,
        upstream: link.snippet,
        allowProcessFromUpstream: true,
        agent: CHILD_AGENT,
      });
      ledges.add(child);
      children[id] = child;
    }
    const sleeper = shellModule("exec sleep 600");

    await t.step("tags live at the parent and show in the twin and in queries", async () => {
      await ok(parent, ["twin", "--device", "c1", "--tags", '{"env":"prod","site":{"plant":"A"}}']);
      await ok(parent, ["twin", "--device", "c2", "--tags", '{"env":"prod","site":{"plant":"B"}}']);
      await ok(parent, ["twin", "--device", "c3", "--tags", '{"env":"test"}']);
      const twin = JSON.parse(await ok(parent, ["twin", "--device", "c1"]));
      assert.deepEqual(twin.tags, { env: "prod", site: { plant: "A" } });
      assert.equal(twin.capabilities.iotEdge, true);
      const rows = JSON.parse(
        await ok(parent, [
          "query",
          "SELECT deviceId FROM devices WHERE tags.env = 'prod'",
          "--json",
        ]),
      );
      assert.deepEqual(rows, [{ deviceId: "c1" }, { deviceId: "c2" }]);
    });

    await t.step("a target condition picks two children", async () => {
      const content = await writeJson(dir, "base", fleetManifest({ sleeper }, {}));
      await ok(parent, [
        "deployment",
        "create",
        "base",
        "--content",
        content,
        "--target-condition",
        "tags.env='prod'",
        "--priority",
        "10",
      ]);
      await runsExactly(parent, "c1", ["sleeper"]);
      await runsExactly(parent, "c2", ["sleeper"]);
      const shown = await waitFor("both reported healthy", async () => {
        const view = JSON.parse(await ok(parent, ["deployment", "show", "base", "--json"]));
        return view.systemMetrics.results.reportedSuccessfulCount === 2 ? view : undefined;
      });
      assert.deepEqual(shown.systemMetrics.deviceIds.targetedCount, ["c1", "c2"]);
      assert.deepEqual(await running(parent, "c3"), []);
    });

    await t.step("a layered deployment adds a module to one of them", async () => {
      const layer = await writeJson(dir, "layer", {
        content: {
          modulesContent: { $edgeAgent: { "properties.desired.modules.camera": sleeper } },
        },
      });
      await ok(parent, [
        "deployment",
        "create",
        "camera",
        "--layered",
        "--content",
        layer,
        "--target-condition",
        "tags.site.plant = 'B'",
        "--priority",
        "1",
      ]);
      await runsExactly(parent, "c2", ["camera", "sleeper"]);
      await runsExactly(parent, "c1", ["sleeper"]);
    });

    await t.step("a tag change moves the third child in", async () => {
      await ok(parent, ["twin", "--device", "c3", "--tags", '{"env":"prod"}']);
      await runsExactly(parent, "c3", ["sleeper"]);
    });

    await t.step(
      "a module that exits at once is rolled back on the child, the parent stopped",
      async () => {
        const bad = await writeJson(
          dir,
          "bad",
          fleetManifest({ sleeper, crasher: shellModule("exit 7") }, {}),
        );
        await ok(parent, [
          "deployment",
          "create",
          "bad",
          "--content",
          bad,
          "--target-condition",
          "deviceId = 'c1'",
          "--priority",
          "20",
        ]);
        await waitFor("c1 to take the bad deployment", async () => {
          const seen = await listDevice(parent, "c1");
          return seen?.rows.some((r) => r.name === "crasher") ? true : undefined;
        });
        const ports = portsToKeep(parent);
        await parent.stop();
        ledges.delete(parent);
        const c1 = children.c1!;
        const local = await waitFor("c1 to roll back on its own", async () => {
          const seen = await listDevice(c1, "c1");
          return seen?.lastDesiredStatus?.code === 500 ? seen : undefined;
        });
        assert.match(
          local.lastDesiredStatus!.description,
          /^rolled back from version \d+ to \d+: .*crasher/,
        );
        assert.ok(!local.rows.some((r) => r.name === "crasher"));
        assert.ok(local.rows.some((r) => r.name === "sleeper" && r.status === "running"));
        // The parent comes back: it sees the failure and does not make c1 run it again.
        parent = await startFleetLedge({ deviceId: "plant", stateDir: parent.stateDir, ports });
        ledges.add(parent);
        const failed = await waitFor("the parent to count c1 failed", async () => {
          const view = JSON.parse(await ok(parent, ["deployment", "show", "bad", "--json"]));
          return view.systemMetrics.results.reportedFailedCount === 1 ? view : undefined;
        });
        assert.match(failed.devices[0].description, /rolled back/);
        assert.deepEqual(await running(parent, "c1"), ["sleeper"]);
      },
    );

    await t.step(
      "an enrollment group registers a fresh child with no step at the parent",
      async () => {
        const out = await ok(parent, [
          "enrollment",
          "create",
          "line-7",
          "--edge",
          "--tags",
          '{"env":"prod","line":7}',
          "--ca-out",
          `${dir}/enroll-ca.pem`,
        ]);
        const snippet = out.slice(out.indexOf("[upstream]"));
        assert.match(snippet, /enrollment_group = "line-7"/);
        assert.doesNotMatch(snippet, /shared_access_key/);
        const fresh = await startFleetLedge({
          deviceId: "c4",
          upstream: snippet,
          allowProcessFromUpstream: true,
          agent: CHILD_AGENT,
        });
        ledges.add(fresh);
        await runsExactly(parent, "c4", ["sleeper"]);
        const twin = JSON.parse(await ok(parent, ["twin", "--device", "c4"]));
        assert.deepEqual(twin.tags, { env: "prod", line: 7 });
        assert.equal(twin.enrollmentGroupId, "line-7");
        const identities = await ok(parent, ["identity", "list", "--json"]);
        assert.match(identities, /"deviceId": "c4"[^}]*"kind": "child-edge-device"/s);
        // Deleting the group refuses new registrations; c4 stays.
        await ok(parent, ["enrollment", "delete", "line-7"]);
        const late = await startFleetLedge({
          deviceId: "c5",
          upstream: snippet,
          agent: CHILD_AGENT,
        });
        ledges.add(late);
        await late.waitForLog(/upstream connection failed; retrying with back-off.*"kind":"auth"/);
        const list = JSON.parse(
          await ok(parent, [
            "query",
            "SELECT deviceId FROM devices WHERE enrollmentGroupId = 'line-7'",
            "--json",
          ]),
        );
        assert.deepEqual(list, [{ deviceId: "c4" }]);
      },
    );
  } finally {
    for (const ledge of ledges) await ledge.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

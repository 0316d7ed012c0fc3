/**
 * Staged rollouts at a real parent over simulated children (tests/_fleet_sim.ts): twenty children
 * register themselves through an enrollment group; a deployment rolls out in waves of 10%, 50%
 * and 100%, each released only once the previous one reported success; a bad deployment aborts
 * in its first wave and its devices go back to what they ran before, the rest never get it.
 */
import assert from "node:assert/strict";
import type { LedgeProcess } from "./_ledge.ts";
import { fleetManifest, imageModule, startFleetLedge } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";
import { SimulatedFleet } from "./_fleet_sim.ts";
import { answer, createMgmtClient } from "../cli/_client.ts";

const COUNT = 20;

async function ok(ledge: LedgeProcess, args: string[]): Promise<string> {
  const result = await ledge.cli(args);
  assert.equal(result.code, 0, `ledge ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

interface View {
  rollout: {
    status: string;
    wave: number;
    releasedDeviceIds: string[];
    reason?: string;
    returnedDeviceIds?: string[];
  };
  systemMetrics: { results: Record<string, number> };
}

/** The deployment as the API shows it (polled directly: the CLI's start-up is too slow to see a wave). */
async function show(parent: LedgeProcess, id: string): Promise<View> {
  const client = createMgmtClient(parent.stateDir);
  try {
    return await answer(client.fleet.v1.fleet.deployments[":id"].$get({ param: { id } })) as View;
  } finally {
    client.close();
  }
}

Deno.test("rollouts go wave by wave over simulated children, and a failing wave aborts and returns its devices", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-fleet-rollout-" });
  let parent: LedgeProcess | undefined;
  let sims: SimulatedFleet | undefined;
  try {
    parent = await startFleetLedge({ deviceId: "plant" });
    const enrollment = JSON.parse(
      await ok(parent, [
        "enrollment",
        "create",
        "sims",
        "--edge",
        "--tags",
        '{"fleet":"sim"}',
        "--json",
      ]),
    );
    sims = await SimulatedFleet.start({
      port: parent.ports.mqtt,
      caPem: enrollment.parent.caPem,
      iothubHostname: "localhost",
      groupKey: enrollment.primaryKey,
      count: COUNT,
      fails: (_id, modules) => (modules.includes("bad") ? "bad: exited with code 1" : undefined),
    });
    const fleet = sims;
    const running = (name: string) => fleet.children.filter((c) => c.modules.includes(name)).length;
    const holding = (name: string) =>
      fleet.children.filter((c) => Object.keys((c.desired.modules ?? {}) as object).includes(name))
        .length;
    await waitFor("the children registered with their tags", async () => {
      const rows = JSON.parse(
        await ok(parent!, [
          "query",
          "SELECT COUNT() AS n FROM devices WHERE tags.fleet = 'sim'",
          "--json",
        ]),
      );
      return rows[0].n === COUNT ? true : undefined;
    });

    await t.step("waves of 10%, 50% and 100%, each after the previous one succeeded", async () => {
      await Deno.writeTextFile(
        `${dir}/v1.json`,
        JSON.stringify(fleetManifest({ good: imageModule("good") }, {})),
      );
      await ok(parent!, [
        "deployment",
        "create",
        "v1",
        "--content",
        `${dir}/v1.json`,
        "--target-condition",
        "tags.fleet = 'sim'",
        "--priority",
        "1",
        "--rollout",
        "10%,50%,100%",
        "--rollout-wait",
        "3s",
      ]);
      for (const [wave, released] of [[1, 2], [2, 10], [3, 20]] as const) {
        const view = await waitFor(`wave ${wave}`, async () => {
          const v = await show(parent!, "v1");
          return v.rollout.wave === wave ? v : undefined;
        });
        assert.equal(view.rollout.releasedDeviceIds.length, released);
        await waitFor(
          `the ${released} released children to run it`,
          () => (running("good") === released ? true : undefined),
        );
        assert.equal(holding("good"), released, "no child beyond the wave got it");
      }
      const done = await waitFor("the rollout to complete", async () => {
        const v = await show(parent!, "v1");
        return v.rollout.status === "completed" ? v : undefined;
      });
      assert.equal(done.systemMetrics.results.reportedSuccessfulCount, COUNT);
    });

    await t.step(
      "a failing first wave aborts: its devices return to v1, the rest never get it",
      async () => {
        await Deno.writeTextFile(
          `${dir}/v2.json`,
          JSON.stringify(fleetManifest({ good: imageModule("good"), bad: imageModule("bad") }, {})),
        );
        await ok(parent!, [
          "deployment",
          "create",
          "v2",
          "--content",
          `${dir}/v2.json`,
          "--target-condition",
          "tags.fleet = 'sim'",
          "--priority",
          "2",
          "--rollout",
          "10%,100%",
          "--rollout-wait",
          "2s",
          "--abort-if-failed",
          "5%",
        ]);
        const aborted = await waitFor("the rollout to abort", async () => {
          const v = await show(parent!, "v2");
          return v.rollout.status === "aborted" ? v : undefined;
        });
        assert.match(
          aborted.rollout.reason ?? "",
          /^wave 1 \(10%\): 2 of 2 released devices \(100%\) failed, over the 5% threshold — sim-\d+: bad: exited with code 1/,
        );
        assert.equal(aborted.rollout.returnedDeviceIds?.length, 2);
        await waitFor(
          "every child back on v1",
          () => (holding("bad") === 0 && running("good") === COUNT ? true : undefined),
        );
        const v1 = await waitFor("v1 applied and successful everywhere again", async () => {
          const v = await show(parent!, "v1");
          return v.systemMetrics.results.reportedSuccessfulCount === COUNT ? v : undefined;
        });
        assert.equal(v1.systemMetrics.results.appliedCount, COUNT);
        const text = await ok(parent!, ["deployment", "show", "v2"]);
        assert.match(text, /rollout: aborted, wave 1 of 2/);
        assert.match(text, /returned to what they ran before: sim-/);
      },
    );
  } finally {
    await sims?.close();
    await parent?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

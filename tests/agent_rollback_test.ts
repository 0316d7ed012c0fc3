/**
 * Health-gated rollback on the device, with real process modules: a deployment whose module
 * exits at once is rolled back to the last one that ran healthy, by the device alone, and says
 * so in `lastDesiredStatus`; after a restart the good one runs; `--no-rollback` keeps a bad one
 * and reports it.
 */
import assert from "node:assert/strict";
import { startAgentHarness } from "./_agent_harness.ts";
import { waitFor } from "./_wait.ts";
import { deploymentManifest, shellModule } from "./_manifests.ts";

const SLEEP = "exec sleep 600";
const CRASH = "echo starting; exit 3";

Deno.test("a deployment that does not run healthy is rolled back on the device to the last good one", async (t) => {
  const h = await startAgentHarness({ toml: "rollback_after_seconds = 4" });
  try {
    const reported = () => h.agent().reported();
    await t.step("a deployment that runs becomes the good one", async () => {
      const answer = await h.api(
        "PUT",
        "/v1/deployment",
        deploymentManifest({ a: shellModule(SLEEP) }),
      );
      assert.equal(answer.status, 200);
      assert.equal(reported().deploymentHealth?.state, "checking");
      await waitFor("v1 healthy", () => reported().deploymentHealth?.state === "healthy", {
        timeoutMs: 30_000,
        describe: reported,
      });
      assert.equal(reported().deploymentHealth?.version, 1);
    });

    await t.step("one whose module exits at once is rolled back by itself", async () => {
      const answer = await h.api(
        "PUT",
        "/v1/deployment",
        deploymentManifest({
          a: shellModule(SLEEP),
          b: shellModule(CRASH),
        }),
      );
      assert.equal(answer.status, 200);
      await waitFor("rolled back", () => reported().lastDesiredStatus.code === 500, {
        timeoutMs: 30_000,
        describe: reported,
      });
      const status = reported().lastDesiredStatus;
      assert.equal(status.rolledBackFrom, 2);
      assert.equal(status.runningVersion, 1);
      assert.match(
        status.description,
        /^rolled back from version 2 to 1: not running as it should within 4 s: b: /,
      );
      assert.equal(reported().lastDesiredVersion, 2, "the version asked for is the one reported");
      assert.equal(reported().deploymentHealth?.state, "rolled-back");
      const rows = await h.settle(
        (r) => !r.has("b") && r.get("a")?.status === "running",
        "b gone, a running",
      );
      assert.equal(rows.get("a")?.restartCount, 0, "the module that was fine kept running");
    });

    await t.step(
      "after a restart the good deployment runs, and the rollback is still reported",
      async () => {
        await h.restart();
        await h.settle((r) => !r.has("b") && r.get("a")?.status === "running", "v1 again");
        assert.equal(reported().lastDesiredStatus.rolledBackFrom, 2);
      },
    );

    await t.step(
      "--no-rollback keeps a bad deployment and reports that it is unhealthy",
      async () => {
        const answer = await h.api(
          "PUT",
          "/v1/deployment?rollback=false",
          deploymentManifest({ b: shellModule(CRASH) }),
        );
        assert.equal(answer.status, 200);
        await waitFor("v3 failed", () => reported().deploymentHealth?.state === "failed", {
          timeoutMs: 30_000,
          describe: reported,
        });
        assert.equal(reported().lastDesiredStatus.code, 200);
        assert.match(reported().deploymentHealth?.reason ?? "", /b: /);
        assert.ok((await h.modules()).some((m) => m.name === "b"), "b is still deployed");
      },
    );
  } finally {
    await h.dispose();
  }
});

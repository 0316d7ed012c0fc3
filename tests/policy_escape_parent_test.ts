/**
 * Issue 19's escape attempts through a deployment from a parent: a parent ledge deploys them to
 * a child ledge (two processes on loopback, the child on real Podman or Docker). The child's own
 * `[agent.allow]` decides; every attempt reports `failed` at the parent naming its field and the
 * `[agent.allow]` key, and the child's engine holds no container for any of them.
 */
import assert from "node:assert/strict";
import { INSTANCE_LABEL, ledgeInstanceId } from "../agent/engine/labels.ts";
import { MODULE_SH } from "./_agent_harness.ts";
import { ENGINES, removeContainersLabelled, testImage } from "./_engines.ts";
import {
  escapeAttempts,
  escapeManifest,
  makeEscapeFixtures,
  ownedContainerNames,
  refusalProblem,
} from "./_escape_attempts.ts";
import { deployWith, listDevice, registerEdgeChild, startFleetLedge } from "./_fleet.ts";
import { type LedgeProcess, startLedge } from "./_ledge.ts";
import { waitFor } from "./_wait.ts";
import { serviceTest } from "./_services.ts";

/** Attempts per deployment. */
const BATCH = 20;

for (const engine of ENGINES) {
  serviceTest(
    `${engine.name}: the escape attempts deployed from a parent are refused by the child and reported at the parent`,
    [engine.requirement],
    async () => {
      const image = await testImage(engine, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      const dir = await Deno.makeTempDir({ prefix: "ledge-escape-parent-" });
      const allowed = await Deno.makeTempDir({ prefix: "ledge-escape-allowed-" });
      const running: LedgeProcess[] = [];
      let childState: string | undefined;
      try {
        const parent = await startFleetLedge({ deviceId: "parent" });
        running.push(parent);
        const link = await registerEdgeChild(parent, "child", dir);
        const child = await startLedge({
          deviceId: "child",
          extraConfig: [
            `[agent]\nengine = "docker"\nengine_socket = "${engine.socketPath}"`,
            "backoff_base_seconds = 1",
            `[agent.allow]\nhost_paths = [${JSON.stringify(allowed)}]`,
            link.snippet,
            "reconnect_max_seconds = 2",
          ].join("\n"),
        });
        running.push(child);
        childState = child.stateDir;
        const fixtures = await makeEscapeFixtures(allowed, child.stateDir, engine.socketPath);
        const attempts = escapeAttempts(fixtures);
        const suffix = crypto.randomUUID().slice(0, 6);
        const control = `ctl${suffix}`;
        const names = attempts.map((_, i) => `e${String(i).padStart(2, "0")}${suffix}`);
        // In batches: the child's reported properties at the parent are bounded (32 KB, as at
        // IoT Hub), and each refused module reports its options and the reason.
        const wrong: string[] = [];
        for (let from = 0; from < attempts.length; from += BATCH) {
          const batch = names.slice(from, from + BATCH);
          const modules: Record<string, Record<string, unknown>> = {
            [control]: { createOptions: '{"Cmd":["/bin/module.sh"]}' },
          };
          batch.forEach((name, i) => modules[name] = attempts[from + i]!.settings);
          const deployed = await deployWith(parent, escapeManifest(image, modules), {
            dir,
            device: "child",
          });
          assert.equal(deployed.code, 0, deployed.stderr);
          let last: unknown;
          const rows = await waitFor(
            `the child's report of attempts ${from}-${from + batch.length - 1} at the parent`,
            async () => {
              const seen = await listDevice(parent, "child");
              last = seen;
              const byName = new Map(seen?.rows.map((row) => [row.name, row]));
              const settled = byName.get(control)?.status === "running" &&
                batch.every((name) => byName.get(name)?.status === "failed");
              return settled ? byName : undefined;
            },
            { timeoutMs: 60_000, describe: () => last },
          );
          batch.forEach((name, i) => {
            const attempt = attempts[from + i]!;
            const problem = refusalProblem(attempt, rows.get(name)?.description ?? "");
            if (problem) wrong.push(`${attempt.name}: ${problem}`);
          });
        }
        assert.deepEqual(wrong, []);
        const instance = ledgeInstanceId(child.stateDir);
        assert.deepEqual(await ownedContainerNames(engine, instance), [control]);
      } finally {
        for (const ledge of running.reverse()) await ledge.stop();
        if (childState) {
          await removeContainersLabelled(
            engine,
            `${INSTANCE_LABEL}=${ledgeInstanceId(childState)}`,
          );
        }
        await Deno.remove(dir, { recursive: true });
        await Deno.remove(allowed, { recursive: true });
      }
    },
  );
}

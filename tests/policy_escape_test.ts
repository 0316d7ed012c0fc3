/**
 * Issue 19's escape attempts against real Podman and real Docker, through the path `ledge deploy`
 * takes (the management API's PUT /v1/deployment): one deployment holds an ordinary module and
 * every attempt as a module of its own. Each attempt must report `failed` naming its field and the
 * `[agent.allow]` key that would allow it; the engine must hold no container for any of them;
 * the ordinary module runs with the engine's default capabilities and no host mount. A
 * privileged container an older ledge left behind is recreated under the policy, not started.
 */
import assert from "node:assert/strict";
import { parseDeployment } from "../agent/deployment.ts";
import { CONFIG_HASH_LABEL, INSTANCE_LABEL, MODULE_LABEL } from "../agent/engine/labels.ts";
import { OWNER_LABEL, OWNER_VALUE } from "../agent/engine/labels.ts";
import { MODULE_SH, startAgentHarness } from "./_agent_harness.ts";
import { engineCli, ENGINES, type TestEngine, testImage } from "./_engines.ts";
import {
  escapeAttempts,
  escapeManifest,
  makeEscapeFixtures,
  ownedContainerNames,
  refusalProblem,
} from "./_escape_attempts.ts";
import { serviceTest } from "./_services.ts";

/** CAP_SYS_ADMIN's bit in CapEff. */
const CAP_SYS_ADMIN = 1n << 21n;

async function inspectContainer(engine: TestEngine, name: string) {
  const [found] = JSON.parse(await engineCli(engine, ["inspect", "--type", "container", name]));
  return found as { Id: string; HostConfig: { Privileged: boolean; Binds: string[] | null } };
}

for (const engine of ENGINES) {
  serviceTest(
    `${engine.name}: every escape attempt of issue 19 is refused, named, and never reaches the engine`,
    [engine.requirement],
    async (t) => {
      const image = await testImage(engine, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      const allowed = await Deno.makeTempDir({ prefix: "ledge-escape-allowed-" });
      const h = await startAgentHarness({
        engine,
        toml: `[agent.allow]\nhost_paths = [${JSON.stringify(allowed)}]`,
      });
      const suffix = crypto.randomUUID().slice(0, 6);
      const control = `ctl${suffix}`;
      try {
        const fixtures = await makeEscapeFixtures(allowed, h.stateDir, engine.socketPath);
        const attempts = escapeAttempts(fixtures);
        assert.ok(attempts.length >= 60, `${attempts.length} attempts`);
        const names = attempts.map((_, i) => `e${String(i).padStart(2, "0")}${suffix}`);
        const modules: Record<string, Record<string, unknown>> = {
          [control]: { createOptions: '{"Cmd":["/bin/module.sh"]}' },
        };
        attempts.forEach((attempt, i) => modules[names[i]!] = attempt.settings);
        const manifest = escapeManifest(image, modules);

        await t.step(
          `${attempts.length} attempts each report failed, naming field and key`,
          async () => {
            const { status, body } = await h.api<{ denied: Record<string, string> }>(
              "PUT",
              "/v1/deployment",
              manifest,
            );
            assert.equal(status, 200, JSON.stringify(body));
            const rows = await h.settle(
              (r) =>
                r.get(control)?.status === "running" &&
                names.every((name) => r.get(name)?.status === "failed"),
              "the control running and every attempt failed",
            );
            const wrong = attempts.flatMap((attempt, i) => {
              const problem = refusalProblem(attempt, rows.get(names[i]!)?.description ?? "");
              return problem ? [`${attempt.name}: ${problem}`] : [];
            });
            assert.deepEqual(wrong, []);
          },
        );

        await t.step("the engine holds no container of any attempt", async () => {
          assert.deepEqual(await ownedContainerNames(engine, h.instance), [control]);
        });

        await t.step(
          "the ordinary module runs unprivileged, without the host's files",
          async () => {
            const status = await engineCli(engine, ["exec", control, "cat", "/proc/self/status"]);
            const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(status)![1]}`);
            assert.equal(capEff & CAP_SYS_ADMIN, 0n, `CapEff ${capEff.toString(16)}`);
            await assert.rejects(engineCli(engine, ["exec", control, "ls", "/host"]));
            const inspected = await inspectContainer(engine, control);
            assert.equal(inspected.HostConfig.Privileged, false);
            assert.deepEqual(inspected.HostConfig.Binds?.map((b) => b.split(":")[1]), [
              "/var/run/iotedge",
            ]);
          },
        );

        await t.step(
          "a privileged container an older ledge left is recreated at restart, not started",
          async () => {
            const old = `old${suffix}`;
            const next = escapeManifest(image, {
              [control]: { createOptions: '{"Cmd":["/bin/module.sh"]}' },
              [old]: { createOptions: '{"Cmd":["/bin/module.sh"]}' },
            });
            assert.equal((await h.api("PUT", "/v1/deployment", next)).status, 200);
            await h.settle((r) => r.get(old)?.status === "running", `${old} running`);
            // Stopped ledge; an older ledge's privileged container in its place, labelled with
            // the module's config hash as it wrote it (no policy in it); ledge starts again.
            await h.stop();
            await engineCli(engine, ["rm", "-f", old]);
            const parsed = parseDeployment(next, { version: 1 });
            const legacyHash = parsed.modules.find((m) => m.name === old)!.configHash;
            await engineCli(engine, [
              "create",
              "--name",
              old,
              "--privileged",
              "--network",
              "none",
              "--label",
              `${OWNER_LABEL}=${OWNER_VALUE}`,
              "--label",
              `${INSTANCE_LABEL}=${h.instance}`,
              "--label",
              `${MODULE_LABEL}=${old}`,
              "--label",
              `${CONFIG_HASH_LABEL}=${legacyHash}`,
              image,
              "/bin/module.sh",
            ]);
            const legacyId = (await inspectContainer(engine, old)).Id;
            await h.restart();
            await h.settle(
              (r) => r.get(old)?.status === "running",
              `${old} running after the restart`,
            );
            const now = await inspectContainer(engine, old);
            assert.notEqual(now.Id, legacyId);
            assert.equal(now.HostConfig.Privileged, false);
          },
        );
      } finally {
        await h.dispose();
        await Deno.remove(allowed, { recursive: true });
      }
    },
  );
}

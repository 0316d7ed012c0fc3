/**
 * The engine socket vanishing: the agent logs it once, retries with back-off, and reconverges
 * when the engine returns. The outage is real: a Podman API service of this test's own, on its
 * own socket, is stopped and started again (the shared service is never touched).
 */
import assert from "node:assert/strict";
import { createLogger } from "../core/log.ts";
import { engineCli, ENGINES, type TestEngine, testImage } from "./_engines.ts";
import { MODULE_SH, startAgentHarness } from "./_agent_harness.ts";
import { waitFor } from "./_wait.ts";
import { serviceTest, socketAnswers } from "./_services.ts";

const podman = ENGINES.find((e) => e.name === "podman")!;

function startService(socketPath: string): Deno.ChildProcess {
  return new Deno.Command("podman", {
    args: ["system", "service", "--time=0", `unix://${socketPath}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * A socket where the engine was that hangs up on every connection, counting them: each count is
 * one attempt of the agent to reach its engine.
 */
function hangingUpSocket(socketPath: string) {
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  const state = { attempts: 0 };
  const accepting = (async () => {
    for await (const connection of listener) {
      state.attempts++;
      connection.close();
    }
  })();
  return {
    state,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      await Deno.remove(socketPath).catch(() => {});
    },
  };
}

async function stopService(service: Deno.ChildProcess): Promise<void> {
  try {
    service.kill("SIGTERM");
  } catch {
    // already gone
  }
  await service.status;
}

serviceTest(
  "agent survives the engine socket vanishing: logs once, retries, reconverges when it returns",
  [podman.requirement],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-outage-" });
    const socketPath = `${dir}/podman.sock`;
    let service = startService(socketPath);
    const lines: string[] = [];
    const logger = createLogger({
      format: "json",
      level: "debug",
      write: (line) => lines.push(line),
    });
    const engine: TestEngine = { ...podman, socketPath };
    // Unique: the engine is shared with other tests and worktrees.
    const module = `outage-probe-${crypto.randomUUID().slice(0, 8)}`;
    let h: Awaited<ReturnType<typeof startAgentHarness>> | undefined;
    try {
      await waitFor(
        "the test's podman service",
        async () => (await socketAnswers("podman", socketPath)).missing === undefined,
      );
      const image = await testImage(podman, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      h = await startAgentHarness({ engine, logger });
      const manifest = {
        modulesContent: {
          $edgeAgent: {
            "properties.desired": {
              schemaVersion: "1.1",
              modules: {
                [module]: {
                  type: "docker",
                  restartPolicy: "always",
                  imagePullPolicy: "never",
                  settings: { image, createOptions: { Cmd: ["/bin/module.sh"] } },
                },
              },
            },
          },
        },
      };
      assert.equal((await h.api("PUT", "/v1/deployment", manifest)).status, 200);
      await h.settle((r) => r.get(module)?.status === "running", "the module running");
      const first = (await engineCli(podman, ["inspect", "--format", "{{.Id}}", module])).trim();

      await stopService(service);
      await Deno.remove(socketPath).catch(() => {});
      // While the engine is away the module is removed behind the agent's back.
      await engineCli(podman, ["rm", "-f", module]);
      {
        await using gone = hangingUpSocket(socketPath);
        await waitFor(
          "the agent to see the engine down",
          async () =>
            (await h!.api<{ engine: string }>("GET", "/v1/deployment")).body.engine === "down",
        );
        // It retries (each retry is a connection here); however many, it says so only once.
        const seen = gone.state.attempts;
        await waitFor(
          "two more attempts to reach the engine",
          () => gone.state.attempts >= seen + 2,
        );
      }
      const unreachable = () =>
        lines.filter((l) => l.includes("the container engine is unreachable")).length;
      assert.equal(unreachable(), 1);
      const rows = await h.modules();
      assert.equal(
        rows.find((r) => r.name === module)?.description,
        "the container engine is unreachable",
      );

      service = startService(socketPath);
      await h.settle((r) => r.get(module)?.status === "running", "the module running again");
      const second = (await engineCli(podman, ["inspect", "--format", "{{.Id}}", module])).trim();
      assert.notEqual(second, first, "a new container replaced the removed one");
      assert.equal(unreachable(), 1);
      assert.ok(lines.some((l) => l.includes("the container engine is reachable again")));
    } finally {
      await h?.dispose();
      await stopService(service);
      await engineCli(podman, ["rm", "-f", module]).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/**
 * Pulling images: a real registry (Debian's docker-registry on loopback, htpasswd auth) serves
 * an image this test pushes; the agent pulls it with the manifest's registryCredentials, reports
 * progress, and a wrong password fails only that module with the engine's message. Podman runs
 * as a private API service whose registries.conf marks the loopback registry insecure (plain
 * HTTP); the shared service and system config are never touched.
 */
import assert from "node:assert/strict";
import { createDockerDriver } from "../agent/engine/docker_driver.ts";
import type { PullProgress } from "../agent/engine/driver.ts";
import { createLogger } from "../core/log.ts";
import { engineCli, ENGINES, type TestEngine, testImage } from "./_engines.ts";
import { MODULE_SH, startAgentHarness } from "./_agent_harness.ts";
import { waitFor } from "./_wait.ts";
import { commandAvailable, freePort, serviceTest, socketAnswers } from "./_services.ts";

const podman = ENGINES.find((e) => e.name === "podman")!;
const docker = ENGINES.find((e) => e.name === "docker")!;

async function output(command: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!success) throw new Error(`Cannot run ${command}: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

function manifest(modules: Record<string, { image: string; password: string; address: string }>) {
  return {
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          runtime: {
            type: "docker",
            settings: {
              registryCredentials: Object.fromEntries(
                Object.entries(modules).map((
                  [name, m],
                ) => [name, { username: "edge", password: m.password, address: m.address }]),
              ),
            },
          },
          modules: Object.fromEntries(
            Object.entries(modules).map(([name, m]) => [name, {
              type: "docker",
              restartPolicy: "always",
              imagePullPolicy: "on-create",
              settings: { image: m.image, createOptions: { Cmd: ["/bin/module.sh"] } },
            }]),
          ),
        },
      },
    },
  };
}

serviceTest(
  "agent pulls images with registry credentials on Podman and Docker, and a bad password fails only that module",
  [
    podman.requirement,
    docker.requirement,
    await commandAvailable("docker-registry"),
    await commandAvailable("htpasswd"),
  ],
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-registry-" });
    const port = freePort();
    const address = `127.0.0.1:${port}`;
    await Deno.writeTextFile(
      `${dir}/htpasswd`,
      await output("htpasswd", ["-Bbn", "edge", "edge-pass"]),
    );
    await Deno.writeTextFile(
      `${dir}/config.yml`,
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${address}\nauth:\n  htpasswd:\n    realm: ledge-test\n    path: ${dir}/htpasswd\n`,
    );
    await Deno.writeTextFile(
      `${dir}/registries.conf`,
      `unqualified-search-registries = []\n[[registry]]\nlocation = "${address}"\ninsecure = true\n` +
        `[[registry]]\nlocation = "localhost:${port}"\ninsecure = true\n`,
    );
    const registry = new Deno.Command("docker-registry", {
      args: ["serve", `${dir}/config.yml`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const privatePodman = new Deno.Command("podman", {
      args: ["system", "service", "--time=0", `unix://${dir}/podman.sock`],
      env: { CONTAINERS_REGISTRIES_CONF: `${dir}/registries.conf` },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const pulled = `${address}/ledge/pulled:${port}`;
    try {
      await waitFor("the registry", async () => {
        try {
          return (await fetch(`http://${address}/v2/`)).status === 401;
        } catch {
          return false;
        }
      });
      await waitFor(
        "the private podman service",
        async () => (await socketAnswers("podman", `${dir}/podman.sock`)).missing === undefined,
      );
      const source = await testImage(podman, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      await engineCli(podman, [
        "push",
        "--tls-verify=false",
        "--creds",
        "edge:edge-pass",
        source,
        pulled,
      ]);

      const engines: TestEngine[] = [{ ...podman, socketPath: `${dir}/podman.sock` }, docker];
      for (const engine of engines) {
        await t.step(`on ${engine.name}`, async () => {
          await engineCli(engine, ["rmi", "-f", pulled]).catch(() => {});
          // The driver reports the engine's progress lines as it pulls.
          const driver = createDockerDriver({
            socketPath: engine.socketPath,
            instance: "pull-test",
          });
          const progress: PullProgress[] = [];
          try {
            await driver.pull(pulled, {
              auth: { username: "edge", password: "edge-pass", serveraddress: address },
              onProgress: (p) => progress.push(p),
            });
          } finally {
            await driver.close();
          }
          assert.ok(progress.length > 0 && progress.every((p) => typeof p.status === "string"));
          assert.ok(progress.some((p) => p.layer !== undefined), JSON.stringify(progress));
          await engineCli(engine, ["rmi", "-f", pulled]);
          const lines: string[] = [];
          const logger = createLogger({
            format: "json",
            level: "info",
            write: (l) => lines.push(l),
          });
          const h = await startAgentHarness({ engine, logger });
          // Unique: the engine is shared with other tests and worktrees.
          const suffix = crypto.randomUUID().slice(0, 8);
          const good = `pulled-${engine.name}-${suffix}`;
          const bad = `badpass-${engine.name}-${suffix}`;
          try {
            const deployment = manifest({
              [good]: { image: pulled, password: "edge-pass", address },
              // The same registry under another name, with a wrong password for that name.
              [bad]: {
                image: `localhost:${port}/ledge/pulled:${port}`,
                password: "wrong",
                address: `localhost:${port}`,
              },
            });
            assert.equal((await h.api("PUT", "/v1/deployment", deployment)).status, 200);
            const rows = await h.settle(
              (r) => r.get(good)?.status === "running" && r.get(bad)?.status === "backoff",
              "the pulled module running, the other backing off",
            );
            assert.match(
              rows.get(bad)!.description,
              /Cannot pull localhost:\d+\/ledge\/pulled:\d+: .*(unauthorized|authentication required|denied)/i,
            );
            assert.ok(lines.some((l) => l.includes(`pulled ${pulled}`)), "the pull was logged");
            assert.ok(await engineCli(engine, ["image", "inspect", pulled]));
          } finally {
            await h.dispose();
            await engineCli(engine, ["rmi", "-f", pulled]).catch(() => {});
          }
        });
      }
    } finally {
      registry.kill("SIGTERM");
      await registry.status;
      privatePodman.kill("SIGTERM");
      await privatePodman.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

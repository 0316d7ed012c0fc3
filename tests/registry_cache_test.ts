/**
 * A nested child with no registry of its own pulls its module's image through its parent: the
 * parent runs Debian's docker-registry (distribution) as a pull-through cache of the origin
 * registry, as a process module from examples/registry_cache/; the child's deployment, set at the
 * parent, names the image `$upstream:<port>/…`, which the child's agent resolves to its parent.
 * The image reaches the child's engine (Docker) through the cache, whose storage then holds it.
 */
import assert from "node:assert/strict";
import { MODULE_SH } from "./_agent_harness.ts";
import { engineCli, ENGINES, removeContainersLabelled, testImage } from "./_engines.ts";
import { deployWith, registerEdgeChild, startFleetLedge } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";
import { type LedgeProcess, startLedge } from "./_ledge.ts";
import { deploymentManifest } from "./_manifests.ts";
import { commandAvailable, freePort, serviceTest } from "./_services.ts";
import { INSTANCE_LABEL, ledgeInstanceId } from "../agent/engine/labels.ts";

const EXAMPLE = new URL("../examples/registry_cache/", import.meta.url).pathname;
const docker = ENGINES.find((engine) => engine.name === "docker")!;

async function answers(url: string): Promise<true | undefined> {
  const response = await fetch(url).catch(() => undefined);
  await response?.body?.cancel();
  return response?.ok ? true : undefined;
}

serviceTest(
  "a child with no registry pulls its module's image through its parent's registry cache ($upstream)",
  [docker.requirement, await commandAvailable("docker-registry")],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-registry-cache-" });
    const running: LedgeProcess[] = [];
    const origin = `127.0.0.1:${freePort()}`;
    const cachePort = freePort();
    const run = crypto.randomUUID().slice(0, 8);
    const repository = `ledge/cached-${run}`;
    // The module (and so its container) is named uniquely too: the engine is shared.
    const module = `cached-${run}`;
    await Deno.writeTextFile(
      `${dir}/origin.yml`,
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/origin\nhttp:\n  addr: ${origin}\n`,
    );
    const registry = new Deno.Command("docker-registry", {
      args: ["serve", `${dir}/origin.yml`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let childState: string | undefined;
    try {
      await waitFor("the origin registry", () => answers(`http://${origin}/v2/`));
      const source = await testImage(docker, {
        name: "agent-module",
        files: { "/bin/module.sh": MODULE_SH },
      });
      await engineCli(docker, ["tag", source, `${origin}/${repository}:1`]);
      await engineCli(docker, ["push", `${origin}/${repository}:1`]);
      await engineCli(docker, ["rmi", `${origin}/${repository}:1`]);

      // The parent runs the cache as a module, configured by the example's file and its env.
      const parent = await startFleetLedge({ deviceId: "parent" });
      running.push(parent);
      const cacheModule = JSON.parse(await Deno.readTextFile(`${EXAMPLE}deployment.json`))
        .modulesContent.$edgeAgent["properties.desired"].modules.registrycache;
      cacheModule.settings.args = ["serve", `${EXAMPLE}config.yml`];
      cacheModule.env = {
        REGISTRY_PROXY_REMOTEURL: { value: `http://${origin}` },
        REGISTRY_HTTP_ADDR: { value: `127.0.0.1:${cachePort}` },
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: { value: `${dir}/cache` },
      };
      const cache = await deployWith(
        parent,
        deploymentManifest({ registrycache: cacheModule }),
        { dir },
      );
      assert.equal(cache.code, 0, cache.stderr);
      await waitFor("the parent's cache", () => answers(`http://127.0.0.1:${cachePort}/v2/`));

      const link = await registerEdgeChild(parent, "child", dir);
      const child = await startLedge({
        deviceId: "child",
        extraConfig: [
          `[agent]\nengine = "docker"\nengine_socket = "${docker.socketPath}"\nbackoff_base_seconds = 1`,
          link.snippet,
          "reconnect_max_seconds = 2",
        ].join("\n"),
      });
      running.push(child);
      childState = child.stateDir;
      const image = `$upstream:${cachePort}/${repository}:1`;
      const deployed = await deployWith(
        parent,
        deploymentManifest({
          [module]: {
            type: "docker",
            status: "running",
            restartPolicy: "always",
            imagePullPolicy: "on-create",
            settings: { image, createOptions: { Cmd: ["/bin/module.sh"] } },
          },
        }),
        { dir, device: "child" },
      );
      assert.equal(deployed.code, 0, deployed.stderr);
      const row = await waitFor("the module running on the child", async () => {
        const listed = await child.cli(["list", "--json"]);
        const rows: { name: string; status: string; config: string }[] = JSON.parse(listed.stdout);
        return rows.find((r) => r.name === module && r.status === "running");
      }, 90_000);
      const upstreamHost = /hostname = "([^"]+)"/.exec(link.snippet)![1]!;
      assert.equal(row.config, `${upstreamHost}:${cachePort}/${repository}:1`);
      // It came through the cache, which now holds the repository.
      const stored = await Deno.stat(
        `${dir}/cache/docker/registry/v2/repositories/${repository}`,
      );
      assert.ok(stored.isDirectory);
    } finally {
      for (const ledge of running.reverse()) await ledge.stop();
      if (childState) {
        await removeContainersLabelled(docker, `${INSTANCE_LABEL}=${ledgeInstanceId(childState)}`);
      }
      await engineCli(docker, ["rmi", "-f", `127.0.0.1:${cachePort}/${repository}:1`]).catch(
        () => {},
      );
      await engineCli(docker, ["rmi", "-f", `localhost:${cachePort}/${repository}:1`]).catch(
        () => {},
      );
      registry.kill("SIGTERM");
      await registry.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
);

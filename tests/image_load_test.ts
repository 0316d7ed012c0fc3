/**
 * `ledge image load`: an image saved to a tar (docker-archive on Docker, OCI archive on Podman),
 * gone from the engine, is loaded through the engine's API with progress, and runs as a module
 * with `imagePullPolicy: "never"`; a file that is not an image archive is refused with the
 * engine's reason and nothing else.
 */
import assert from "node:assert/strict";
import { engineCli, ENGINES, testImage } from "./_engines.ts";
import { MODULE_SH, startAgentHarness } from "./_agent_harness.ts";
import { runLedge } from "./_ledge.ts";
import { deploymentManifest } from "./_manifests.ts";
import { serviceTest } from "./_services.ts";

for (const engine of ENGINES) {
  serviceTest(
    `ledge image load puts a saved image into ${engine.name}, where it runs with imagePullPolicy never`,
    [engine.requirement],
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "ledge-image-load-" });
      const tag = crypto.randomUUID().slice(0, 8);
      const loaded = `localhost/ledge-test/loaded:${tag}`;
      // The module (and so its container) is named uniquely too: the engine is shared.
      const module = `loaded-${tag}`;
      try {
        const source = await testImage(engine, {
          name: "agent-module",
          files: { "/bin/module.sh": MODULE_SH },
        });
        await engineCli(engine, ["tag", source, loaded]);
        const format = engine.name === "podman" ? ["--format", "oci-archive"] : [];
        await engineCli(engine, ["save", ...format, "-o", `${dir}/image.tar`, loaded]);
        await engineCli(engine, ["rmi", loaded]);
        const config = `${dir}/config.toml`;
        await Deno.writeTextFile(
          config,
          `[state]\ndir = "${dir}/state"\n[agent]\nengine = "docker"\nengine_socket = "${engine.socketPath}"\n`,
        );
        const env = { LEDGE_CONFIG: config };

        const run = await runLedge(["image", "load", `${dir}/image.tar`], { env });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout.trim(), `loaded ${loaded}`);
        assert.match(run.stderr, /loading .*image\.tar: 100% \(/, "progress on stderr");
        assert.ok(await engineCli(engine, ["image", "inspect", loaded]));

        const h = await startAgentHarness({ engine });
        try {
          const deployment = deploymentManifest({
            [module]: {
              type: "docker",
              status: "running",
              restartPolicy: "always",
              imagePullPolicy: "never",
              settings: { image: loaded, createOptions: { Cmd: ["/bin/module.sh"] } },
            },
          });
          assert.equal((await h.api("PUT", "/v1/deployment", deployment)).status, 200);
          await h.settle((rows) => rows.get(module)?.status === "running", "the module running");
        } finally {
          await h.dispose();
        }

        await Deno.writeTextFile(`${dir}/not-an-image.tar`, "hello\n");
        const bad = await runLedge(["image", "load", `${dir}/not-an-image.tar`], { env });
        assert.equal(bad.code, 1);
        assert.equal(bad.stdout, "");
        assert.match(bad.stderr, /^error: Cannot load .*not-an-image\.tar: .*(tar|format)/m);
      } finally {
        await engineCli(engine, ["rmi", "-f", loaded]).catch(() => {});
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

Deno.test("ledge image load with no container engine says so in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-image-load-" });
  try {
    await Deno.writeTextFile(`${dir}/config.toml`, `[agent]\nengine = "none"\n`);
    const run = await runLedge(["image", "load", `${dir}/x.tar`], {
      env: { LEDGE_CONFIG: `${dir}/config.toml` },
    });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `error: Cannot load ${dir}/x.tar: no container engine (agent.engine is "none" and no engine socket was found)\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

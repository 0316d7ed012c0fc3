/**
 * The example manifests still pass the device policy: with the default `[agent.allow]`, except
 * chunked_create_options.json, whose bind of /srv/opcpublisher needs that host path allowed (as
 * examples/manifests/README.md says), and nothing else.
 */
import assert from "node:assert/strict";
import { describeProblems, judgeModule, policyContext } from "../agent/admission.ts";
import { parseDeployment } from "../agent/deployment.ts";
import { parseConfigText } from "../core/config_load.ts";

const ROOT = new URL("../", import.meta.url);
const EXAMPLES = [
  "examples/manifests/chunked_create_options.json",
  "examples/manifests/process_modules.json",
  "examples/manifests/registry_credentials.json",
  "examples/manifests/simulated_sensor.json",
  "examples/manifests/three_modules.json",
  "examples/quickstart/deployment.json",
  "examples/quickstart/deployment.containers.json",
  "examples/registry_cache/deployment.json",
];
const NEEDS: Record<string, string> = {
  "examples/manifests/chunked_create_options.json": 'host_paths = ["/srv/opcpublisher"]',
};

for (const example of EXAMPLES) {
  Deno.test(`${example} passes the device policy${NEEDS[example] ? ` with ${NEEDS[example]}` : ""}`, async () => {
    const stateDir = "/var/lib/ledge";
    const allowToml = NEEDS[example] ? `\n[agent.allow]\n${NEEDS[example]}` : "";
    const config = parseConfigText(`[state]\ndir = "${stateDir}"${allowToml}`, {
      uid: 0,
      hostname: "test",
      env: {},
    });
    const manifest = JSON.parse(await Deno.readTextFile(new URL(example, ROOT)));
    const deployment = parseDeployment(manifest, { version: 1, upstreamHost: "parent" });
    for (const module of deployment.modules.filter((m) => m.type === "docker")) {
      const { problems } = await judgeModule(module, policyContext(config, stateDir, undefined));
      assert.deepEqual(problems, [], `${module.name}: ${describeProblems(problems)}`);
    }
    if (NEEDS[example]) {
      const strict = parseConfigText(`[state]\ndir = "${stateDir}"`, {
        uid: 0,
        hostname: "t",
        env: {},
      });
      const judged = await Promise.all(
        deployment.modules.filter((m) => m.type === "docker").map((m) =>
          judgeModule(m, policyContext(strict, stateDir, undefined))
        ),
      );
      assert.ok(judged.some((j) => j.problems.some((p) => p.allow === "host_paths")));
    }
  });
}

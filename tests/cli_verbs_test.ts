/**
 * Every verb of `ledge` as a user runs it (the real subprocess): with no daemon, each client
 * verb says one line and exits 1; with a daemon, the tables and the `--json` a script reads, and
 * `start`/`stop` of a module.
 */
import assert from "node:assert/strict";
import { buildProgram } from "../cli/program.ts";
import { mgmtSocketPath } from "../core/state_dir.ts";
import { runLedge, startLedge } from "./_ledge.ts";
import { deploymentManifest, shellModule } from "./_manifests.ts";
import { waitFor } from "./_wait.ts";

/** Verbs that talk to the daemon, each with arguments that pass the CLI's own validation. */
const CLIENT_VERBS: readonly string[][] = [
  ["list"],
  ["list", "--json"],
  ["logs", "sensor"],
  ["logs", "sensor", "--follow", "--tail", "5"],
  ["restart", "sensor"],
  ["start", "sensor"],
  ["stop", "sensor", "--json"],
  ["deploy", "MANIFEST"],
  ["identity", "list"],
  ["identity", "show", "some-device"],
  ["identity", "add-device", "leaf-1"],
  ["identity", "rm", "leaf-1"],
  ["cert", "list", "--json"],
  ["cert", "renew"],
  ["twin", "sensor"],
  ["twin", "sensor", "--set-desired", '{"threshold": 30}'],
  ["invoke", "sensor", "reset"],
  ["send", "leaf-1", "hello"],
  ["console"],
  ["twin", "--device", "leaf-1", "--tags", '{"env": "prod"}'],
  ["query", "SELECT * FROM devices WHERE tags.env = 'prod'"],
  [
    "deployment",
    "create",
    "base",
    "--content",
    "MANIFEST",
    "--target-condition",
    "tags.env='prod'",
  ],
  ["deployment", "list"],
  ["deployment", "show", "base", "--json"],
  ["deployment", "update", "base", "--priority", "3"],
  ["deployment", "delete", "base"],
  ["enrollment", "create", "line-7", "--edge"],
  ["enrollment", "list"],
  ["enrollment", "delete", "line-7"],
  ["update", "status"],
];

/** Verbs that work without a daemon (or are the daemon). */
const LOCAL_VERBS = ["run", "init", "check", "support-bundle", "image", "version"];

function manifest(modules: Record<string, string>) {
  return deploymentManifest(
    Object.fromEntries(
      Object.entries(modules).map(([name, script]) => [name, shellModule(script)]),
    ),
  );
}

async function inBatches<T, R>(items: readonly T[], size: number, run: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...await Promise.all(items.slice(i, i + size).map(run)));
  }
  return results;
}

Deno.test("every verb is either a client of the daemon tested here or one that works without it", () => {
  const verbs = buildProgram().commands.map((command) => command.name()).sort();
  const covered = new Set([...CLIENT_VERBS.map((args) => args[0]!), ...LOCAL_VERBS]);
  assert.deepEqual(verbs.filter((verb) => !covered.has(verb)), []);
  for (const verb of covered) assert.ok(verbs.includes(verb), `${verb} is a verb`);
});

Deno.test("each client verb, with no daemon running, prints one line naming the socket and exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-verbs-" });
  try {
    const stateDir = `${dir}/state`;
    const env = { LEDGE_CONFIG: `${dir}/config.toml` };
    await Deno.writeTextFile(env.LEDGE_CONFIG, `[state]\ndir = "${stateDir}"\n`);
    await Deno.writeTextFile(`${dir}/deployment.json`, JSON.stringify(manifest({ a: "true" })));
    const expected = `error: Cannot reach ledge at ${
      mgmtSocketPath(stateDir)
    }: is \`ledge run\` running?\n`;
    const runs = await inBatches(CLIENT_VERBS, 4, async (args) => {
      const concrete = args.map((arg) => arg === "MANIFEST" ? `${dir}/deployment.json` : arg);
      return { args, ...await runLedge(concrete, { env }) };
    });
    for (const run of runs) {
      const what = `ledge ${run.args.join(" ")}`;
      assert.equal(run.stderr, expected, what);
      assert.equal(run.stdout, "", what);
      assert.equal(run.code, 1, what);
    }
    await assert.rejects(Deno.stat(stateDir), Deno.errors.NotFound, "nothing was created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with a daemon: tables by default, --json that parses, start/stop, one line for an unknown module", async (t) => {
  const ledge = await startLedge({ extraConfig: `[agent]\nengine = "none"` });
  const work = await Deno.makeTempDir({ prefix: "ledge-verbs-" });
  try {
    await Deno.writeTextFile(
      `${work}/deployment.json`,
      JSON.stringify(manifest({ worker: "echo worker up; while :; do sleep 1; done" })),
    );
    const deployed = await ledge.cli(["deploy", `${work}/deployment.json`, "--wait"]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /^deployment \d+ is running$/m);

    await t.step("list", async () => {
      const table = await ledge.cli(["list"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout.split("\n")[0]!, /^NAME\s+STATUS\s+DESCRIPTION\s+CONFIG$/);
      assert.match(table.stdout, /^worker\s+running\s+Up \d+ seconds\s+\/bin\/sh/m);
      const json = JSON.parse((await ledge.cli(["list", "--json"])).stdout);
      assert.equal(json.find((m: { name: string }) => m.name === "worker")?.status, "running");
    });

    await t.step("identity list and cert list", async () => {
      const table = await ledge.cli(["identity", "list"]);
      assert.match(table.stdout.split("\n")[0]!, /^ID\s+KIND\s+AUTH\s+GENERATION$/);
      assert.match(table.stdout, /^test-device\/worker\s+module\s+sas\s/m);
      const identities = JSON.parse((await ledge.cli(["identity", "list", "--json"])).stdout);
      assert.ok(Array.isArray(identities) && identities.length >= 2);
      const certs = await ledge.cli(["cert", "list"]);
      assert.match(
        certs.stdout.split("\n")[0]!,
        /^NAME\s+KIND\s+SUBJECT\s+SANS\s+NOT AFTER\s+DAYS LEFT$/,
      );
      const certJson = JSON.parse((await ledge.cli(["cert", "list", "--json"])).stdout);
      assert.ok(certJson.certificates.length > 0);
    });

    await t.step("check --json", async () => {
      const check = await ledge.cli(["check", "--json"]);
      const results = JSON.parse(check.stdout) as { id: string; status: string }[];
      assert.ok(results.some((result) => result.id === "config"));
      assert.equal(check.code, results.some((result) => result.status === "error") ? 1 : 0);
    });

    await t.step("stop and start a module", async () => {
      const stopped = await ledge.cli(["stop", "worker"]);
      assert.deepEqual([stopped.code, stopped.stdout, stopped.stderr], [0, "stopped worker\n", ""]);
      await waitFor("worker stopped", async () => {
        const list = JSON.parse((await ledge.cli(["list", "--json"])).stdout);
        return list.find((m: { name: string }) => m.name === "worker")?.status === "stopped";
      });
      assert.match((await ledge.cli(["list"])).stdout, /^worker\s+stopped\s/m);
      const started = await ledge.cli(["start", "worker", "--json"]);
      assert.equal(started.code, 0, started.stderr);
      assert.deepEqual(JSON.parse(started.stdout), { name: "worker", action: "start", ok: true });
      await waitFor(
        "worker running",
        async () => /^worker\s+running\s/m.test((await ledge.cli(["list"])).stdout),
      );
      assert.match((await ledge.cli(["list"])).stdout, /^worker\s+running\s/m);
    });

    await t.step("an unknown module is one line and exit 1, and changes nothing", async () => {
      for (const verb of ["start", "stop", "restart"]) {
        const run = await ledge.cli([verb, "nope"]);
        assert.deepEqual(
          [run.code, run.stdout, run.stderr],
          [1, "", 'error: Cannot find module "nope": it is not in the deployment\n'],
          verb,
        );
      }
      assert.match((await ledge.cli(["list"])).stdout, /^worker\s+running\s/m);
    });
  } finally {
    await ledge.stop();
    await Deno.remove(work, { recursive: true });
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

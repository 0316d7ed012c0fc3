/**
 * `ledge deploy/list/logs/restart` as a user runs them: the real `deno run -A main.ts …` against
 * a running `ledge run` daemon (no container engine: process modules).
 */
import assert from "node:assert/strict";
import { mgmtSocketPath } from "../core/state_dir.ts";
import { waitFor } from "./_wait.ts";
import { socketAnswers } from "./_services.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function ledge(config: string, ...args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--config", config, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** The startupOrder of each module in examples/manifests/process_modules.json. */
const STARTUP_ORDER: Record<string, number> = { pa: 0, pb: 1, pc: 2 };

/**
 * Checks what `deploy --wait` printed about each module: any wait names an earlier startupOrder
 * group than the module's own, and the last line of each is `running`.
 */
function assertProgress(stdout: string): void {
  const last = new Map<string, string>();
  for (const [, name, state] of stdout.matchAll(/^(p[abc]): (.*)$/gm)) {
    last.set(name!, state!);
    const waiting = /^unknown: waiting for the modules with startupOrder (\d+) to start$/.exec(
      state!,
    );
    if (waiting) {
      assert.ok(Number(waiting[1]) < STARTUP_ORDER[name!]!, `${name}: ${state}`);
    }
  }
  assert.deepEqual(Object.fromEntries(last), { pa: "running", pb: "running", pc: "running" });
}

Deno.test("ledge deploy, list, logs and restart drive a running daemon", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-cli-test-" });
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `[state]\ndir = "${dir}/state"\n[device]\nid = "cli-test"\nhostname = "cli-gw"\niothub_hostname = "cli-hub"\n` +
      `[hub.mqtt]\nport = 0\n[hub.https]\nport = 0\n[hub.amqp]\nport = 0\n[metrics]\nenabled = false\n` +
      `[agent]\nengine = "none"\nbackoff_base_seconds = 1\nbackoff_max_seconds = 4\n`,
  );
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("../examples/manifests/process_modules.json", import.meta.url)),
  );
  const modules = manifest.modulesContent.$edgeAgent["properties.desired"].modules;
  type ProcessModule = { env: { PIDDIR: { value: string } }; settings: { args: string[] } };
  for (const module of Object.values(modules) as ProcessModule[]) {
    module.env.PIDDIR.value = dir;
  }
  await Deno.writeTextFile(`${dir}/deployment.json`, JSON.stringify(manifest));
  modules.pa.restartPolicy = "sometimes";
  await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(manifest));

  const daemon = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "run", "--config", config, "--log-format", "json"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const daemonLog = new Response(daemon.stderr).text();
  try {
    await waitFor(
      "the daemon's management socket",
      async () =>
        (await socketAnswers("ledge", mgmtSocketPath(`${dir}/state`), "/v1/health")).missing ===
          undefined,
    );

    await t.step("deploy rejects an invalid manifest locally, naming the JSON path", async () => {
      const run = await ledge(config, "deploy", `${dir}/bad.json`);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /Cannot deploy .*bad\.json \(code 400\)/);
      assert.match(
        run.stderr,
        /modulesContent\.\$edgeAgent\["properties\.desired"\]\.modules\.pa\.restartPolicy: expected one of/,
      );
    });

    await t.step("deploy --wait shows progress and exits 0 once every module runs", async () => {
      // The progress is what each 500 ms poll sees: a wait for an earlier group lasts as long
      // as that group takes to start, which may fall between two polls, so it is checked when
      // shown, not required. (Holding pa back by making it fail until the test saw pb waiting
      // raced too: a module in back-off stops blocking later groups.)
      const run = await ledge(
        config,
        "deploy",
        `${dir}/deployment.json`,
        "--wait",
        "--timeout",
        "60",
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^deployment 1 accepted: pa, pb, pc$/m);
      assertProgress(run.stdout);
      assert.match(run.stdout, /^deployment 1 is running$/m);
    });

    await t.step("list prints NAME STATUS DESCRIPTION CONFIG, and JSON with --json", async () => {
      const table = await ledge(config, "list");
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trim().split("\n");
      assert.match(lines[0]!, /^NAME\s+STATUS\s+DESCRIPTION\s+CONFIG$/);
      assert.match(table.stdout, /^pa\s+running\s+Up \d+ seconds\s+\/bin\/sh -c/m);
      assert.match(table.stdout, /^edgeHub\s+running/m);
      const json = await ledge(config, "list", "--json");
      const rows = JSON.parse(json.stdout) as { name: string; status: string }[];
      assert.deepEqual(
        rows.filter((r) => ["pa", "pb", "pc"].includes(r.name)).map((r) => r.status),
        ["running", "running", "running"],
      );
    });

    await t.step("logs prints a module's output, with --tail and --since", async () => {
      const tail = await ledge(config, "logs", "pa", "--tail", "1");
      assert.equal(tail.code, 0, tail.stderr);
      assert.equal(tail.stdout, "module pa started with COLOR=red\n");
      const since = await ledge(config, "logs", "pb", "--since", "10m", "--timestamps");
      assert.match(since.stdout, /^\d{4}-\d\d-\d\dT\S+ module pb started with COLOR=green$/m);
      const future = await ledge(
        config,
        "logs",
        "pb",
        "--since",
        String(Math.floor(Date.now() / 1000) + 3600),
      );
      assert.equal(future.stdout, "");
    });

    await t.step("logs --follow streams new lines", async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "--config", config, "logs", "pc", "--follow"],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("started with COLOR=blue")) text += (await reader.read()).value ?? "";
      await ledge(config, "restart", "pc");
      // Like `docker logs -f`, following ends when the run it follows ends.
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      assert.equal((await child.status).code, 0);
      assert.match(text, /module pc started with COLOR=blue\n(.*\n)*module pc stopping/);
    });

    await t.step("restart restarts the module now", async () => {
      const before = await Deno.readTextFile(`${dir}/pb.pid`);
      const run = await ledge(config, "restart", "pb");
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "restarted pb\n");
      await waitFor(
        "a new pb process",
        async () => (await Deno.readTextFile(`${dir}/pb.pid`)) !== before,
      );
    });

    await t.step("bad arguments and unknown modules fail with one clear line", async () => {
      const since = await ledge(config, "logs", "pa", "--since", "yesterday");
      assert.equal(since.code, 2);
      assert.match(since.stderr, /--since: Cannot read since "yesterday"/);
      const tail = await ledge(config, "logs", "pa", "--tail", "-3");
      assert.equal(tail.code, 2);
      const unknown = await ledge(config, "restart", "nosuch");
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /Cannot find module "nosuch"/);
      const missing = await ledge(config, "deploy", `${dir}/missing.json`);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Cannot read .*missing\.json/);
    });

    await t.step(
      "deploy --wait waits through a restart back-off and exits 0 once it runs",
      async () => {
        // pr fails on its first start only; the agent restarts it after its 1 s back-off.
        const flaky = structuredClone(manifest);
        const desired = flaky.modulesContent.$edgeAgent["properties.desired"];
        const pr = structuredClone(desired.modules.pa);
        pr.restartPolicy = "always";
        pr.settings.args = [
          "-c",
          `if [ ! -f "${dir}/pr.once" ]; then touch "${dir}/pr.once"; exit 3; fi; ` +
          "trap 'exit 0' TERM INT; while :; do sleep 1 & wait $!; done",
        ];
        desired.modules = { pr };
        await Deno.writeTextFile(`${dir}/flaky.json`, JSON.stringify(flaky));
        const run = await ledge(config, "deploy", `${dir}/flaky.json`, "--wait", "--timeout", "60");
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.ok(await Deno.stat(`${dir}/pr.once`), "pr's first start ran and failed");
        assert.match(run.stdout, /^pr: running$/m);
        assert.match(run.stdout, /^deployment \d+ is running$/m);
      },
    );

    await t.step("deploy --wait exits 1 at once on a module that will not restart", async () => {
      const failing = structuredClone(manifest);
      const desired = failing.modulesContent.$edgeAgent["properties.desired"];
      const pf = structuredClone(desired.modules.pa);
      pf.restartPolicy = "never";
      pf.settings.args = ["-c", "exit 4"];
      desired.modules = { pf };
      await Deno.writeTextFile(`${dir}/failing.json`, JSON.stringify(failing));
      const run = await ledge(config, "deploy", `${dir}/failing.json`, "--wait", "--timeout", "60");
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /Cannot run pf \(failed: exited with code 4\)/);
    });
  } finally {
    daemon.kill("SIGTERM");
    const status = await daemon.status;
    const log = await daemonLog;
    await Deno.remove(dir, { recursive: true });
    assert.equal(status.code, 0, log.slice(-2000));
  }
});

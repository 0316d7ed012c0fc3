/**
 * The quickstart as a newcomer runs it: `deno task start` (examples/quickstart/start.ts) with its
 * own state dir and free ports, the real Azure IoT SDK modules under Node, and the `ledge` CLI.
 */
import assert from "node:assert/strict";
import { ledgeInstanceId } from "../agent/engine/labels.ts";
import { mgmtSocketPath } from "../core/state_dir.ts";
import { ENGINES, removeContainersLabelled } from "./_engines.ts";
import { runLedge, splitLines } from "./_ledge.ts";
import { commandAvailable, serviceTest, socketAnswers } from "./_services.ts";
import { waitFor } from "./_wait.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Launcher {
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<Deno.CommandStatus>;
}

function launch(configPath: string, extraArgs: string[] = []): Launcher {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", ...extraArgs, "--log-format", "json"],
    cwd: ROOT,
    env: { LEDGE_CONFIG: configPath },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (
      const line of stream.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    ) {
      lines.push(line);
    }
  };
  const reading = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let status: Promise<Deno.CommandStatus> | undefined;
  return {
    lines,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = lines.find((line) => pattern.test(line));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${lines.join("\n")}`);
    },
    async stop() {
      if (!status) {
        try {
          child.kill("SIGTERM");
        } catch { /* already exited */ }
        status = child.status;
      }
      const result = await status;
      await reading;
      return result;
    },
  };
}

interface Reading {
  reading: number;
  temperature: number;
}

function readings(text: string, pattern: RegExp): Reading[] {
  return [...text.matchAll(pattern)].map((match) => ({
    reading: Number(match[2]),
    temperature: Number(match[1]),
  }));
}

const SENT_WITH_NUMBER = /sensor: sent reading (?<n>\d+) temperature (?<t>[\d.]+)/g;
const FORWARDED = /filter: forwarding temperature ([\d.]+) \(reading (\d+)\)/g;

function sentReadings(text: string): Reading[] {
  return [...text.matchAll(SENT_WITH_NUMBER)].map((match) => ({
    reading: Number(match.groups!.n),
    temperature: Number(match.groups!.t),
  }));
}

async function writeConfig(dir: string, extra: string): Promise<string> {
  const configPath = `${dir}/config.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      `[state]\ndir = "${dir}/state"`,
      `[device]\nid = "quickstart"\nhostname = "quickstart-gw"\niothub_hostname = "quickstart-gw"`,
      `[hub.mqtt]\nport = 0`,
      `[hub.https]\nport = 0`,
      `[hub.amqp]\nport = 0`,
      `[hub.plain]\nport = 0`,
      `[metrics]\nlisten = "127.0.0.1:0"`,
      extra,
    ].join("\n"),
  );
  return configPath;
}

/**
 * Polls `ledge logs <filter>` until it shows `count` forwarded readings. The sensor sends one
 * reading a second, the first five at or below 25, so about 8 s of the wait are the sensor's
 * pace; the rest is for modules starting on a loaded machine.
 */
async function forwardedReadings(
  configPath: string,
  filter: string,
  count: number,
): Promise<Reading[]> {
  let filterLog = "";
  return await waitFor(`${count} readings forwarded by ${filter}`, async () => {
    filterLog = (await runLedge(["logs", filter], { env: { LEDGE_CONFIG: configPath } })).stdout;
    const forwarded = readings(filterLog, FORWARDED);
    return forwarded.length >= count && forwarded;
  }, { timeoutMs: 90_000, describe: () => filterLog });
}

serviceTest(
  "deno task start runs ledge, deploys the quickstart once, and the filter forwards only readings above 25",
  [await commandAvailable("node"), await commandAvailable("npm")],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-quickstart-" });
    const stateDir = `${dir}/state`;
    const configPath = await writeConfig(dir, `[agent]\nengine = "none"`);
    const ledge = (...args: string[]) => runLedge(args, { env: { LEDGE_CONFIG: configPath } });
    let launcher = launch(configPath);
    try {
      // npm ci may run first on a fresh clone; the wait for messages starts at the deployment.
      await launcher.waitFor(/quickstart: deployed .*deployment\.json: filter, sensor/, 180_000);

      const forwarded = await forwardedReadings(configPath, "filter", 3);
      // Read after the filter's log, the sensor's holds every reading up to the last forwarded.
      const sensorLog = (await ledge("logs", "sensor")).stdout;
      const sent = sentReadings(sensorLog);
      const last = Math.max(...forwarded.map((r) => r.reading));
      const upToLast = sent.filter((r) => r.reading <= last);
      assert.ok(
        upToLast.some((r) => r.temperature <= 25),
        `the sensor sent readings at or below 25 too:\n${sensorLog}`,
      );
      // The hub's WHERE clause chose exactly the readings above 25, in order, none lost.
      assert.deepEqual(
        forwarded.map((r) => r.reading),
        upToLast.filter((r) => r.temperature > 25).map((r) => r.reading),
      );
      for (const reading of forwarded) assert.ok(reading.temperature > 25);

      const list = await ledge("list");
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^filter\s+running\s/m);
      assert.match(list.stdout, /^sensor\s+running\s/m);
      const json = JSON.parse((await ledge("list", "--json")).stdout) as {
        name: string;
        status: string;
      }[];
      assert.deepEqual(
        json.filter((m) => m.name === "filter" || m.name === "sensor").map((m) => m.status),
        ["running", "running"],
      );

      const stopped = await launcher.stop();
      assert.equal(stopped.code, 0, launcher.lines.join("\n"));
      assert.ok(launcher.lines.some((line) => /"message":"stopped"/.test(line)));
      const answer = await socketAnswers("ledge", mgmtSocketPath(stateDir), "/v1/health");
      assert.ok(answer.missing, "ledge is gone once the launcher exited");

      // The same state dir again: the last deployment comes back; the launcher deploys nothing.
      launcher = launch(configPath);
      await launcher.waitFor(/quickstart: this state dir already runs deployment 1/, 60_000);
      assert.ok(!launcher.lines.some((line) => /quickstart: deployed/.test(line)));
      assert.equal((await launcher.stop()).code, 0);
    } finally {
      await launcher.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

const podman = ENGINES.find((engine) => engine.name === "podman")!;

/**
 * The container variant's manifest with its modules, and so their containers, named uniquely for
 * this run (`filter<run>`, `sensor<run>`, routes to match): Podman is shared with the other tests
 * and worktrees, and a second run's `filter` would clash with this one's.
 */
async function containersManifestForRun(dir: string, run: string): Promise<string> {
  const source = new URL("../examples/quickstart/deployment.containers.json", import.meta.url);
  const text = (await Deno.readTextFile(source))
    .replaceAll('"filter":', `"filter${run}":`)
    .replaceAll('"sensor":', `"sensor${run}":`)
    .replaceAll("/modules/filter/", `/modules/filter${run}/`)
    .replaceAll("/modules/sensor/", `/modules/sensor${run}/`);
  const file = `${dir}/deployment.containers.json`;
  await Deno.writeTextFile(file, text);
  return file;
}

serviceTest(
  "the quickstart's container variant runs both modules from the locally built image on Podman",
  [await commandAvailable("node"), await commandAvailable("npm"), podman.requirement],
  async () => {
    const built = await new Deno.Command("bash", {
      args: [new URL("../examples/quickstart/build_image.sh", import.meta.url).pathname, "podman"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.ok(built.success, decode(built.stderr));
    assert.match(
      decode(built.stdout),
      /built localhost\/ledge-quickstart\/modules:1\.0 with podman/,
    );

    const dir = await Deno.makeTempDir({ prefix: "ledge-quickstart-" });
    const configPath = await writeConfig(
      dir,
      `[agent]\nengine = "docker"\nengine_socket = "${podman.socketPath}"`,
    );
    const run = crypto.randomUUID().slice(0, 8);
    const manifest = await containersManifestForRun(dir, run);
    const launcher = launch(configPath, ["--containers", "--manifest", manifest]);
    try {
      await launcher.waitFor(
        new RegExp(
          `quickstart: deployed .*deployment\\.containers\\.json: filter${run}, sensor${run}`,
        ),
        120_000,
      );
      const forwarded = await forwardedReadings(configPath, `filter${run}`, 3);
      for (const reading of forwarded) assert.ok(reading.temperature > 25);
      const list = await runLedge(["list"], { env: { LEDGE_CONFIG: configPath } });
      for (const module of [`filter${run}`, `sensor${run}`]) {
        assert.match(
          list.stdout,
          new RegExp(`^${module}\\s+running\\s.*localhost/ledge-quickstart/modules:1\\.0$`, "m"),
        );
      }
      assert.equal((await launcher.stop()).code, 0);
    } finally {
      await launcher.stop();
      await removeContainersLabelled(
        podman,
        `dev.ledge.instance=${ledgeInstanceId(`${dir}/state`)}`,
      );
      await Deno.remove(dir, { recursive: true });
    }
  },
);

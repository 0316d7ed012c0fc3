/**
 * The quickstart as a newcomer runs it: `deno task start` (examples/quickstart/start.ts) with its
 * own state dir and free ports, the real Azure IoT SDK modules under Node, and the `ledge` CLI.
 */
import assert from "node:assert/strict";
import { mgmtSocketPath } from "../runtime/mgmt_server.ts";
import { runLedge, splitLines } from "./_ledge.ts";
import { commandAvailable, freePort, serviceTest, socketAnswers } from "./_services.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Launcher {
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<Deno.CommandStatus>;
}

function launch(configPath: string): Launcher {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--log-format", "json"],
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

serviceTest(
  "deno task start runs ledge, deploys the quickstart once, and the filter forwards only readings above 25",
  [await commandAvailable("node"), await commandAvailable("npm")],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-quickstart-" });
    const stateDir = `${dir}/state`;
    const configPath = `${dir}/config.toml`;
    await Deno.writeTextFile(
      configPath,
      [
        `[state]\ndir = "${stateDir}"`,
        `[device]\nid = "quickstart"\nhostname = "localhost"\niothub_hostname = "localhost"`,
        `[hub.mqtt]\nport = ${freePort()}`,
        `[hub.https]\nport = ${freePort()}`,
        `[hub.plain]\nport = ${freePort()}`,
        `[metrics]\nlisten = "127.0.0.1:${freePort()}"`,
        `[agent]\nengine = "none"`,
      ].join("\n"),
    );
    const ledge = (...args: string[]) => runLedge(args, { env: { LEDGE_CONFIG: configPath } });
    let launcher = launch(configPath);
    try {
      // npm ci may run first on a fresh clone; the 30 s for messages start at the deployment.
      await launcher.waitFor(/quickstart: deployed .*deployment\.json: filter, sensor/, 180_000);

      const deadline = Date.now() + 30_000;
      let filterLog = "";
      let sensorLog = "";
      while (Date.now() < deadline) {
        filterLog = (await ledge("logs", "filter")).stdout;
        sensorLog = (await ledge("logs", "sensor")).stdout;
        if (readings(filterLog, FORWARDED).length >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const forwarded = readings(filterLog, FORWARDED);
      assert.ok(forwarded.length >= 3, `filtered readings within 30 s:\n${filterLog}`);
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

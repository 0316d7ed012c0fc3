/**
 * A deployment whose `$edgeAgent` report would be over the 32 KiB reported-twin limit, from a
 * parent ledge to a child ledge (two processes on loopback, the child with no container engine):
 * the child cuts its report to fit (the deployment's echoes first, then the descriptions, with a
 * marker) instead of having it refused whole, so the parent lists every module, each with its
 * status, and the report says what was cut.
 */
import assert from "node:assert/strict";
import { CUT_MARKER } from "../agent/mod.ts";
import {
  deployWith,
  fleetManifest,
  listDevice,
  registerEdgeChild,
  startFleetLedge,
} from "./_fleet.ts";
import type { LedgeProcess } from "./_ledge.ts";
import { waitFor } from "./_wait.ts";

/** Docker modules (failed: no engine) whose settings carry a long createOptions. */
const DOCKER_MODULES = 30;
/** Process modules (failed: their command does not exist) with long descriptions. */
const PROCESS_MODULES = 50;

function manifest(): Record<string, unknown> {
  const modules: Record<string, Record<string, unknown>> = {};
  const env = Array.from({ length: 8 }, (_, i) => `PAD${i}=${"p".repeat(40)}`);
  for (let i = 0; i < DOCKER_MODULES; i++) {
    modules[`d${i}`] = {
      version: "1.0",
      type: "docker",
      status: "running",
      restartPolicy: "never",
      settings: { image: "localhost/none:1", createOptions: JSON.stringify({ Env: env }) },
    };
  }
  for (let i = 0; i < PROCESS_MODULES; i++) {
    modules[`p${i}`] = {
      version: "1.0",
      type: "process",
      status: "running",
      restartPolicy: "never",
      settings: { command: `/nonexistent/${"x".repeat(80)}/p${i}` },
    };
  }
  return fleetManifest(modules, {});
}

async function childReportAtParent(parent: LedgeProcess): Promise<Record<string, unknown>> {
  const shown = await parent.cli(["twin", "child/$edgeAgent"]);
  assert.equal(shown.code, 0, shown.stderr);
  const twin = JSON.parse(shown.stdout);
  return twin.properties?.reported ?? twin.reported;
}

Deno.test("a child whose report is over the parent's 32 KiB twin limit cuts it to fit, and the parent lists every module", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-reported-limit-" });
  const running: LedgeProcess[] = [];
  try {
    const parent = await startFleetLedge({ deviceId: "parent" });
    running.push(parent);
    const link = await registerEdgeChild(parent, "child", dir);
    const child = await startFleetLedge({
      deviceId: "child",
      upstream: link.snippet,
      allowProcessFromUpstream: true,
    });
    running.push(child);
    const deployed = await deployWith(parent, manifest(), { dir, device: "child" });
    assert.equal(deployed.code, 0, deployed.stderr);

    const names = [
      ...Array.from({ length: DOCKER_MODULES }, (_, i) => `d${i}`),
      ...Array.from({ length: PROCESS_MODULES }, (_, i) => `p${i}`),
    ];
    let last: unknown;
    const rows = await waitFor("every module reported failing at the parent", async () => {
      const seen = await listDevice(parent, "child");
      last = seen;
      const byName = new Map(seen?.rows.map((row) => [row.name, row]));
      const settled = names.every((name) =>
        ["failed", "backoff"].includes(byName.get(name)?.status ?? "")
      );
      return settled ? byName : undefined;
    }, {
      timeoutMs: 60_000,
      describe: () => ({
        last,
        child: child.logs.filter((line) =>
          /"level":"(warn|error)"/.test(line) && !line.includes("start failed")
        ).slice(-8),
      }),
    });

    const reported = await childReportAtParent(parent);
    const cut = reported.reportCut as Record<string, unknown>;
    assert.equal(cut.fits, true);
    assert.equal(cut.settingsOmitted, true);
    assert.ok((cut.fullBytes as number) > 32 * 1024, `the full report: ${cut.fullBytes} bytes`);
    assert.equal(typeof cut.descriptionsCutTo, "number", "the descriptions were cut too");
    for (const name of names) {
      const description = rows.get(name)!.description;
      const expected = name.startsWith("d") ? "no container engine" : "nonexistent";
      assert.ok(
        description.includes(expected) || description.includes(CUT_MARKER),
        `${name}: ${description}`,
      );
    }
    const modules = reported.modules as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(modules).sort(), [...names].sort());
    for (const module of Object.values(modules)) {
      assert.equal(typeof module.exitCode, "number");
      assert.equal(typeof module.restartCount, "number");
    }
    assert.equal(
      child.logs.filter((line) => line.includes("over the twin limit")).length,
      1,
      "the cut is logged once",
    );
  } finally {
    for (const ledge of running.reverse()) await ledge.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

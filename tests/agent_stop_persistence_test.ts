/**
 * `ledge stop <module>` holds until the next deployment, as the README says, across a restart of
 * the daemon: a real `ledge run` is stopped and started again on the same state dir, and the
 * module stays stopped while the others run; `ledge start` holds the same way, and a new
 * deployment clears both.
 */
import assert from "node:assert/strict";
import { deployWith } from "./_fleet.ts";
import { type LedgeProcess, startLedge } from "./_ledge.ts";
import { deploymentManifest, shellModule } from "./_manifests.ts";
import { waitFor } from "./_wait.ts";

const IDLE = "while :; do sleep 1; done";

interface Row {
  name: string;
  status: string;
}

async function statuses(ledge: LedgeProcess): Promise<Record<string, string>> {
  const listed = await ledge.cli(["list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  return Object.fromEntries((JSON.parse(listed.stdout) as Row[]).map((r) => [r.name, r.status]));
}

async function settled(ledge: LedgeProcess, wanted: Record<string, string>) {
  return await waitFor(`modules ${JSON.stringify(wanted)}`, async () => {
    const now = await statuses(ledge);
    return Object.entries(wanted).every(([name, status]) => now[name] === status) ? now : false;
  }, { describe: () => ledge.logs.slice(-8) });
}

async function restarted(ledge: LedgeProcess): Promise<LedgeProcess> {
  const status = await ledge.stop();
  assert.equal(status.code, 0);
  const again = await startLedge({
    stateDir: ledge.stateDir,
    extraConfig: `[agent]\nengine = "none"`,
  });
  return again;
}

Deno.test("ledge stop and ledge start of a module hold across a daemon restart, until the next deployment", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-stop-persist-" });
  let ledge = await startLedge({ extraConfig: `[agent]\nengine = "none"` });
  try {
    const manifest = deploymentManifest({ keep: shellModule(IDLE), halt: shellModule(IDLE) });
    assert.equal((await deployWith(ledge, manifest, { dir })).code, 0);
    await settled(ledge, { keep: "running", halt: "running" });
    assert.equal((await ledge.cli(["stop", "halt"])).code, 0);
    await settled(ledge, { keep: "running", halt: "stopped" });

    ledge = await restarted(ledge);
    await ledge.waitForLog(/module halt stays stopped as the operator asked/);
    const after = await settled(ledge, { keep: "running", halt: "stopped" });
    assert.equal(after.halt, "stopped", "still stopped after the restart");

    assert.equal((await ledge.cli(["start", "halt"])).code, 0);
    await settled(ledge, { keep: "running", halt: "running" });
    ledge = await restarted(ledge);
    await settled(ledge, { keep: "running", halt: "running" });

    assert.equal((await ledge.cli(["stop", "halt"])).code, 0);
    await settled(ledge, { halt: "stopped" });
    const next = deploymentManifest({ keep: shellModule(IDLE), halt: shellModule(IDLE) });
    assert.equal((await deployWith(ledge, next, { dir })).code, 0);
    await settled(ledge, { keep: "running", halt: "running" });
    ledge = await restarted(ledge);
    await settled(ledge, { keep: "running", halt: "running" });
    assert.ok(
      !ledge.logs.some((line) => /stays stopped/.test(line)),
      "a new deployment cleared the stop",
    );
  } finally {
    await ledge.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

import assert from "node:assert/strict";
import { currentDefaultsContext, defaultConfig } from "../../core/config.ts";
import { silentLogger } from "../../core/log.ts";
import { VERSION } from "../../core/version.ts";
import { type Executable, writeMarker } from "./executable.ts";
import { Updater } from "./updater.ts";

/** An updater of `executable` (none: run as a script) that records `committed` and `exit`. */
function recordingUpdater(stateDir: string, executable: Executable | undefined, parent = false) {
  const config = defaultConfig(currentDefaultsContext());
  config.upstream.enabled = parent;
  const events: string[] = [];
  const { promise: settled, resolve } = Promise.withResolvers<void>();
  const updater = new Updater({
    config,
    stateDir,
    logger: silentLogger,
    upstreamConnected: () => false,
    executable,
    committed: () => {
      events.push("committed");
      resolve();
    },
    exit: (code) => {
      events.push(`exit ${code}`);
      resolve();
    },
  });
  return { updater, events, settled };
}

/** A trial marker for `version` whose window (for the parent to be reached) is 1 s. */
function trialOf(version: string) {
  return { toVersion: version, toSha256: "", fromVersion: "0.0.1", windowSeconds: 1, attempts: 0 };
}

Deno.test("the updater says a version is committed only when no rollback can follow", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-updater-test-" });
  const exe = { path: `${dir}/ledge`, kind: "self-extracting" } as const;
  try {
    await t.step("run as a script: at start", async () => {
      const { updater, events } = recordingUpdater(dir, undefined);
      await updater.start();
      assert.deepEqual(events, ["committed"]);
    });
    await t.step("an executable with no update on trial: at start", async () => {
      const { updater, events } = recordingUpdater(dir, exe);
      await updater.start();
      assert.deepEqual(events, ["committed"]);
    });
    await t.step("the marker of an update that did not happen: at start", async () => {
      await writeMarker(exe.path, trialOf("0.0.0-other"));
      const { updater, events } = recordingUpdater(dir, exe);
      await updater.start();
      assert.deepEqual(events, ["committed"]);
    });
    await t.step("on trial: once the trial is confirmed, not before", async () => {
      await writeMarker(exe.path, trialOf(VERSION));
      const { updater, events, settled } = recordingUpdater(dir, exe);
      await updater.start();
      assert.deepEqual(events, [], "still on trial");
      await settled;
      updater.stop();
      assert.deepEqual(events, ["committed"]);
      await assert.rejects(Deno.stat(`${exe.path}.update`), Deno.errors.NotFound);
    });
    await t.step("on trial and given up (no parent in time): never", async () => {
      await writeMarker(exe.path, trialOf(VERSION));
      const { updater, events, settled } = recordingUpdater(dir, exe, true);
      await updater.start();
      await settled;
      updater.stop();
      assert.deepEqual(events, ["exit 1"], "the launcher puts the previous version back");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

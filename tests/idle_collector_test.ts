/**
 * `ledge run` with the daemon's V8 flags gives its heap back once it goes quiet after start-up.
 */
import assert from "node:assert/strict";
import { DAEMON_V8_FLAGS } from "../core/v8_flags.ts";
import { startLedge } from "./_ledge.ts";

Deno.test("an idle daemon runs a full collection after start-up and its heap shrinks", async () => {
  const ledge = await startLedge({
    extraConfig: '[agent]\nengine = "none"\n',
    denoFlags: [`--v8-flags=${DAEMON_V8_FLAGS}`],
  });
  try {
    const line = await ledge.waitForLog(/collected the heap at idle/, 60_000);
    const record = JSON.parse(line) as { heapBeforeMb: number; heapAfterMb: number };
    assert.ok(
      record.heapAfterMb < record.heapBeforeMb,
      `heap ${record.heapBeforeMb} -> ${record.heapAfterMb} MB`,
    );
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

/**
 * `ledge run` as a subprocess: readiness, clean stop on SIGTERM, one daemon per state dir.
 */
import assert from "node:assert/strict";
import { startLedge } from "./_ledge.ts";

Deno.test("ledge run becomes ready and exits 0 within 10 s of SIGTERM", async () => {
  const ledge = await startLedge();
  try {
    const health = await fetch("http://ledge/v1/health", {
      client: Deno.createHttpClient({
        proxy: { transport: "unix", path: `${ledge.stateDir}/mgmt.sock` },
      }),
    });
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
    const mode = (await Deno.stat(ledge.stateDir)).mode! & 0o777;
    assert.equal(mode, 0o700, "state dir is 0700");
    const begun = Date.now();
    const status = await ledge.stop("SIGTERM");
    const tookMs = Date.now() - begun;
    assert.equal(status.code, 0, ledge.logs.join("\n"));
    assert.ok(tookMs < 10_000, `stopping took ${tookMs} ms`);
    assert.ok(ledge.logs.some((line) => JSON.parse(line).message === "stopped"));
    await assert.rejects(Deno.stat(`${ledge.stateDir}/mgmt.sock`), Deno.errors.NotFound);
  } finally {
    await ledge.stop("SIGKILL");
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

Deno.test("ledge run writes JSON log records tagged by component", async () => {
  const ledge = await startLedge();
  try {
    const ready = JSON.parse(await ledge.waitForLog(/ledge is ready/));
    assert.equal(ready.level, "info");
    assert.equal(ready.component, "ledge");
    assert.equal(typeof ready.time, "string");
    assert.equal(ready.deviceId, "test-device");
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

Deno.test("a second ledge run on the same state dir is refused and the first keeps running", async () => {
  const first = await startLedge();
  try {
    await assert.rejects(
      startLedge({ stateDir: first.stateDir, readyTimeoutMs: 60_000 }),
      /another ledge is running with state dir/,
    );
    const health = await fetch("http://ledge/v1/health", {
      client: Deno.createHttpClient({
        proxy: { transport: "unix", path: `${first.stateDir}/mgmt.sock` },
      }),
    });
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await first.stop();
    await Deno.remove(first.stateDir, { recursive: true });
    await Deno.remove(first.configPath);
  }
});

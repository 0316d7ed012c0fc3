/**
 * A child ledge whose key the parent ledge refuses — a wrong key, or a child removed from the
 * parent's registry — says so clearly in its log and in `ledge check`, and retries with back-off
 * (no busy loop). Removing a child edge device also stops every identity derived from its key.
 */
import type { IdentityRef } from "../iothub/mod.ts";
import assert from "node:assert/strict";
import mqtt from "mqtt";
import { createSasToken, deriveKey } from "../iothub/mod.ts";
import { type LedgeProcess, portsToKeep, restartablePorts } from "./_ledge.ts";
import { registerEdgeChild, startFleetLedge } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";

interface UpstreamAnswer {
  connected: boolean;
  device: { attempts: number; lastError: string | null; lastErrorKind: string | null } | null;
}

async function upstreamState(ledge: LedgeProcess): Promise<UpstreamAnswer> {
  const check = await ledge.cli(["check", "--json"]);
  const results = JSON.parse(check.stdout) as { id: string; status: string; message: string }[];
  const link = results.find((result) =>
    /upstream/.test(result.id) && /connected/.test(result.message)
  );
  assert.ok(link, `an upstream link check in ${check.stdout}`);
  const connected = link.status === "ok";
  const attempts = Number(/after (\d+) attempts/.exec(link.message)?.[1] ?? 0);
  return {
    connected,
    device: { attempts, lastError: connected ? null : link.message, lastErrorKind: null },
  };
}

/** Connects to `parent` as `deviceId[/moduleId]` with `key`; resolves with the CONNACK outcome. */
async function tryConnect(
  parent: LedgeProcess,
  identity: IdentityRef,
  key: string,
  caFile: string,
): Promise<"accepted" | string> {
  const clientId = identity.moduleId === undefined
    ? identity.deviceId
    : `${identity.deviceId}/${identity.moduleId}`;
  try {
    const client = await mqtt.connectAsync(`mqtts://localhost:${parent.ports.mqtt}`, {
      ca: await Deno.readTextFile(caFile),
      clientId,
      username: `localhost/${clientId}/?api-version=2021-04-12`,
      password: createSasToken({ host: "localhost", ...identity }, {
        keyBase64: key,
        expiry: Math.floor(Date.now() / 1000) + 600,
      }),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await client.endAsync(true);
    return "accepted";
  } catch (error) {
    return (error as Error).message;
  }
}

Deno.test("a child with a wrong key logs the refusal, shows it in ledge check and backs off", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-nested-auth-" });
  const running: LedgeProcess[] = [];
  try {
    const parent = await startFleetLedge({ deviceId: "parent" });
    running.push(parent);
    const link = await registerEdgeChild(parent, "child", dir);
    const wrongKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const child = await startFleetLedge({
      deviceId: "child",
      upstream: link.snippet.replace(link.key, wrongKey),
    });
    running.push(child);
    const logged = await child.waitForLog(/CONNACK [45]/, 60_000);
    assert.match(logged, /"level":"error"/);
    assert.match(logged, /not authorized|refused/);

    // Three more attempts: a capped back-off (1 s doubling to 2 s, at least half waited), so
    // at most one attempt per half second — not a busy loop.
    const before = await upstreamState(child);
    assert.equal(before.connected, false);
    const startedAt = Date.now();
    const after = await waitFor("three more attempts", async () => {
      const state = await upstreamState(child);
      return state.device!.attempts >= before.device!.attempts + 3 ? state : undefined;
    });
    const seconds = (Date.now() - startedAt) / 1000;
    assert.ok(after.device!.attempts > before.device!.attempts, "it keeps retrying");
    assert.ok(
      after.device!.attempts - before.device!.attempts <= Math.ceil(seconds / 0.5) + 1,
      `${after.device!.attempts - before.device!.attempts} attempts in ${seconds} s`,
    );
    const check = await child.cli(["check"]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /✘ .*not connected to localhost:\d+ after \d+ attempts: .*CONNACK/);
    assert.match(check.stdout, /→ the parent refuses this device's credentials/);
    // Refused once per state change in the log, not once per attempt.
    const refusals = child.logs.filter((line) => /CONNACK [45]/.test(line) && /"error"/.test(line));
    assert.ok(refusals.length < after.device!.attempts, `${refusals.length} error lines`);
  } finally {
    for (const ledge of running.reverse()) await ledge.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removing a child edge device at the parent refuses it and every identity derived from its key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-nested-revoke-" });
  const running = new Set<LedgeProcess>();
  try {
    const parent = await startFleetLedge({ deviceId: "parent" });
    running.add(parent);
    const link = await registerEdgeChild(parent, "child", dir);
    let child = await startFleetLedge({
      deviceId: "child",
      upstream: link.snippet,
      ports: restartablePorts(),
    });
    running.add(child);
    await waitFor(
      "the child connected",
      async () => (await upstreamState(child)).connected ? true : undefined,
    );

    // Identities below the child authenticate with derived keys while it is registered.
    const moduleKey = deriveKey(link.key, "sensor");
    const leafKey = deriveKey(link.key, "devices/leaf");
    const grandchildModuleKey = deriveKey(deriveKey(link.key, "devices/grandchild"), "filter");
    assert.equal(
      await tryConnect(parent, { deviceId: "child", moduleId: "sensor" }, moduleKey, link.caFile),
      "accepted",
    );
    assert.equal(await tryConnect(parent, { deviceId: "leaf" }, leafKey, link.caFile), "accepted");
    assert.equal(
      await tryConnect(
        parent,
        { deviceId: "grandchild", moduleId: "filter" },
        grandchildModuleKey,
        link.caFile,
      ),
      "accepted",
    );
    // A module may act only as itself: its key does not open another module's identity.
    assert.notEqual(
      await tryConnect(parent, { deviceId: "child", moduleId: "other" }, moduleKey, link.caFile),
      "accepted",
    );

    const removed = await parent.cli(["identity", "rm", "child"]);
    assert.equal(removed.code, 0, removed.stderr);
    for (
      const [identity, key] of [
        [{ deviceId: "child", moduleId: "sensor" }, moduleKey],
        [{ deviceId: "leaf" }, leafKey],
        [{ deviceId: "grandchild", moduleId: "filter" }, grandchildModuleKey],
      ] as const
    ) {
      assert.match(
        await tryConnect(parent, identity, key, link.caFile),
        /[Nn]ot authorized|refused|5/,
      );
    }

    // The child's next connection is refused; it says so and keeps trying.
    await child.stop();
    running.delete(child);
    child = await startFleetLedge({
      deviceId: "child",
      upstream: link.snippet,
      stateDir: child.stateDir,
      ports: portsToKeep(child),
    });
    running.add(child);
    await child.waitForLog(/CONNACK [45]/, 60_000);
    const check = await child.cli(["check"]);
    assert.match(check.stdout, /not connected to localhost:\d+ after \d+ attempts: .*CONNACK/);
  } finally {
    for (const ledge of running) await ledge.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

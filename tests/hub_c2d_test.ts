/**
 * `POST /v1/c2d/<id>` of a real `ledge run`, as IoT Hub answers it: 404 for a device that does
 * not exist (nothing queued), 202 for a registered leaf device; `ledge send` says which.
 */
import assert from "node:assert/strict";
import { mgmtSocketPath } from "../core/state_dir.ts";
import { startLedge } from "./_ledge.ts";

Deno.test("POST /v1/c2d answers 404 for a device that does not exist and 202 for a leaf", async () => {
  const ledge = await startLedge();
  const client = Deno.createHttpClient({
    proxy: { transport: "unix", path: mgmtSocketPath(ledge.stateDir) },
  });
  const post = async (deviceId: string) => {
    const response = await fetch(`http://ledge/v1/c2d/${deviceId}`, {
      client,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ body: "hello" }),
    });
    return { status: response.status, body: await response.json() };
  };
  const queued = async () => {
    const response = await fetch("http://ledge/v1/queues", { client });
    const queues = await response.json() as { endpoint: string; count: number }[];
    return queues.filter((q) => q.endpoint.endsWith("/messages/devicebound"));
  };
  try {
    const missing = await post("no-such-device");
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    assert.match(JSON.stringify(missing.body), /no-such-device: no such device/);
    const sent = await ledge.cli(["send", "no-such-device", "hello"]);
    assert.notEqual(sent.code, 0);
    assert.match(sent.stderr, /no such device/);
    assert.deepEqual(await queued(), [], "nothing queued for it");

    const added = await ledge.cli(["identity", "add-device", "leaf-1"]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await post("leaf-1")).status, 202);
    assert.equal((await ledge.cli(["send", "LEAF-1", "again"])).code, 0);
    const [queue] = await queued();
    assert.equal(queue?.count, 2);
  } finally {
    client.close();
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

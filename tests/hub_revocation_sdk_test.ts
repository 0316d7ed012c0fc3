/**
 * Removal means gone (issue 19 item 4), end to end: official-SDK clients connected to a real
 * `ledge run` are cut off when `ledge identity rm` runs — a leaf device over each transport, and
 * a child edge device with an identity derived from its key (its subtree) — and their next
 * publish is not acknowledged. The time from the removal (the daemon's log record) to the SDK's
 * disconnect event is printed and bounded by the 1 s.
 */
import assert from "node:assert/strict";
import { deriveKey } from "../iothub/mod.ts";
import { registerEdgeChild } from "./_fleet.ts";
import { type LedgeProcess, startLedge } from "./_ledge.ts";
import { sdkAvailable, type SdkProcess, startSdkProcess } from "./_sdk_process.ts";
import { serviceTest } from "./_services.ts";

const TRANSPORTS = ["Mqtt", "MqttWs", "Amqp", "AmqpWs"] as const;
type Transport = typeof TRANSPORTS[number] | "Http";

/** Adds leaf device `id`; resolves with its key. */
async function addLeaf(ledge: LedgeProcess, id: string): Promise<string> {
  const added = await ledge.cli(["identity", "add-device", id]);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.match(/SharedAccessKey=([^;\s]+)/)?.[1];
  assert.ok(key, added.stdout);
  return key;
}

function connectDevice(
  ledge: LedgeProcess,
  options: { deviceId: string; key: string; caFile: string; transport: Transport },
): SdkProcess {
  return startSdkProcess("device_client.cjs", {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    LEDGE_TEST_CONNECTION_STRING:
      `HostName=localhost;DeviceId=${options.deviceId};SharedAccessKey=${options.key};GatewayHostName=localhost`,
    LEDGE_TEST_CA_FILE: options.caFile,
    LEDGE_TEST_TRANSPORT: options.transport,
    // A dropped connection is reported at once, not retried (a retry of a removed identity is
    // refused, and enough refusals would block 127.0.0.1 for the other clients of this test).
    LEDGE_TEST_RETRY: "none",
    LEDGE_TEST_MQTT_PORT: String(ledge.ports.mqtt),
    LEDGE_TEST_AMQP_PORT: String(ledge.ports.amqp),
    LEDGE_TEST_HTTPS_PORT: String(ledge.ports.https),
  });
}

/** Sends one message and waits for its acknowledgement. */
async function sendAcknowledged(client: SdkProcess, id: number): Promise<void> {
  await client.send({ op: "send", id, body: `before ${id}` });
  await client.next((e) => e.event === "sent" && e.id === id);
}

/**
 * Runs `ledge identity rm id`; waits for each client's disconnect event, which the client must
 * have seen within 1 s of the removal the daemon logged, and prints how long each took.
 */
async function removeAndAwaitDisconnects(
  ledge: LedgeProcess,
  id: string,
  clients: Record<string, SdkProcess>,
): Promise<void> {
  const removed = await ledge.cli(["identity", "rm", id]);
  assert.equal(removed.code, 0, removed.stderr);
  const record = JSON.parse(
    await ledge.waitForLog(new RegExp(`device removed","device":"${id}"`)),
  );
  const removedAt = Date.parse(record.time);
  for (const [label, client] of Object.entries(clients)) {
    // The bound is on the client's own time of the event: how long this test took to run the
    // CLI and read the client's output is not the hub's.
    const event = await client.next((e) => e.event === "disconnect", 30_000);
    const tookMs = Number(event.at) - removedAt;
    console.log(`${label}: disconnect event ${tookMs} ms after the removal`);
    assert.ok(tookMs <= 1000, `${label} disconnected ${tookMs} ms after the removal (bound: 1 s)`);
  }
}

/** The client's next publish fails: no PUBACK (nor AMQP disposition) for it. */
async function nextPublishRefused(client: SdkProcess, id: number): Promise<void> {
  await client.send({ op: "send", id, body: `after ${id}` });
  const outcome = await client.next((e) =>
    (e.event === "sent" || e.event === "failed") && e.id === id
  );
  assert.equal(outcome.event, "failed", `publish ${id} after the removal was acknowledged`);
}

serviceTest(
  "ledge identity rm cuts off a connected SDK client at once, on every transport, and its subtree",
  [await sdkAvailable()],
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-revocation-" });
    const ledge = await startLedge();
    const clients: SdkProcess[] = [];
    try {
      // The child's registration writes the CA bundle every client here trusts.
      const child = await registerEdgeChild(ledge, "child", dir);

      for (const transport of TRANSPORTS) {
        await t.step(`a leaf device over ${transport}`, async () => {
          const deviceId = `leaf-${transport.toLowerCase()}`;
          const key = await addLeaf(ledge, deviceId);
          const client = connectDevice(ledge, { deviceId, key, caFile: child.caFile, transport });
          clients.push(client);
          await client.next((e) => e.event === "ready");
          await sendAcknowledged(client, 1);
          await removeAndAwaitDisconnects(ledge, deviceId, {
            [`${transport} ${deviceId}`]: client,
          });
          await nextPublishRefused(client, 2);
        });
      }

      await t.step("a leaf device over Http: its next request is refused", async () => {
        const key = await addLeaf(ledge, "leaf-http");
        const client = connectDevice(ledge, {
          deviceId: "leaf-http",
          key,
          caFile: child.caFile,
          transport: "Http",
        });
        clients.push(client);
        await client.next((e) => e.event === "ready");
        await sendAcknowledged(client, 1);
        const removed = await ledge.cli(["identity", "rm", "leaf-http"]);
        assert.equal(removed.code, 0, removed.stderr);
        await nextPublishRefused(client, 2);
      });

      for (const transport of ["Mqtt", "Amqp"] as const) {
        await t.step(
          `a child edge device and an identity derived from its key, over ${transport}`,
          async () => {
            const childId = `child-${transport.toLowerCase()}`;
            const registered = transport === "Mqtt"
              ? child
              : await registerEdgeChild(ledge, childId, dir);
            const id = transport === "Mqtt" ? "child" : childId;
            const itself = connectDevice(ledge, {
              deviceId: id,
              key: registered.key,
              caFile: child.caFile,
              transport,
            });
            const below = connectDevice(ledge, {
              deviceId: `below-${id}`,
              key: deriveKey(registered.key, `devices/below-${id}`),
              caFile: child.caFile,
              transport,
            });
            clients.push(itself, below);
            for (const client of [itself, below]) {
              await client.next((e) => e.event === "ready");
              await sendAcknowledged(client, 1);
            }
            await removeAndAwaitDisconnects(ledge, id, {
              [`${transport} ${id}`]: itself,
              [`${transport} below-${id} (derived)`]: below,
            });
            await nextPublishRefused(itself, 2);
            await nextPublishRefused(below, 2);
          },
        );
      }
    } finally {
      for (const client of clients) await client.close();
      await ledge.stop();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  },
);

/**
 * A message the hub refuses as too large does not keep its sender offline: the official SDK sends
 * it again at every reconnect, and after a bounded number of refusals of the same message the
 * hub acknowledges it and dead-letters it (counted in the metrics, logged once), so the next
 * messages go through: a message just above hub.max_message_bytes (refused once decoded), and
 * one whose packet exceeds even the framing allowance (refused at its header, its payload
 * skipped). A real `ledge run` and the SDK over MQTT, with its default retry policy.
 */
import assert from "node:assert/strict";
import { startLedge } from "./_ledge.ts";
import { sdkAvailable, startSdkProcess } from "./_sdk_process.ts";
import { serviceTest } from "./_services.ts";
import { DEAD_LETTER_AFTER } from "../hub/too_large_refusals.ts";

function metric(text: string, name: string, reason: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{reason="${reason}"}`));
  return Number(line?.split(" ").at(-1) ?? "NaN");
}

serviceTest(
  "a message refused as too large is acknowledged and dead-lettered after a few refusals, freeing its sender",
  [await sdkAvailable()],
  async () => {
    const ledge = await startLedge({ extraConfig: "[hub]\nmax_message_bytes = 4096" });
    const added = await ledge.cli(["identity", "add-device", "leaf-big"]);
    assert.equal(added.code, 0, added.stderr);
    const key = added.stdout.match(/SharedAccessKey=([^;\s]+)/)?.[1];
    const client = startSdkProcess("device_client.cjs", {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      LEDGE_TEST_CONNECTION_STRING:
        `HostName=localhost;DeviceId=leaf-big;SharedAccessKey=${key};GatewayHostName=localhost`,
      LEDGE_TEST_CA_FILE: `${ledge.stateDir}/pki/root_ca.pem`,
      LEDGE_TEST_MQTT_PORT: String(ledge.ports.mqtt),
    });
    try {
      await client.next((e) => e.event === "ready");
      // 6,000 bytes: decoded, then refused; 100,000: above 4096 + the 64 KiB framing allowance.
      for (const [id, bytes] of [[1, 6000], [3, 100_000]] as const) {
        await client.send({ op: "send", id, messageId: `big-${id}`, body: "x".repeat(bytes) });
        const outcome = await client.next(
          (e) => (e.event === "sent" || e.event === "failed") && e.id === id,
          60_000,
        );
        assert.equal(outcome.event, "sent", JSON.stringify(outcome));
        await client.send({ op: "send", id: id + 1, body: "small" });
        await client.next((e) => e.event === "sent" && e.id === id + 1);
      }

      const deadLettered = ledge.logs.filter((l) => /dead-lettered/.test(l));
      assert.equal(deadLettered.length, 2, deadLettered.join("\n"));
      for (const line of deadLettered) {
        assert.match(line, new RegExp(`"refusals":${DEAD_LETTER_AFTER}`));
      }
      const refused = ledge.logs.filter((l) => /"message refused"/.test(l));
      assert.equal(refused.length, 2, "the refusals of one message are logged once");
      const text = await (await fetch(`http://127.0.0.1:${ledge.ports.metrics}/metrics`)).text();
      assert.equal(metric(text, "edgehub_messages_dead_lettered_total", "too_large"), 2);
      assert.equal(
        metric(text, "edgehub_messages_dropped_total", "too_large"),
        2 * DEAD_LETTER_AFTER,
      );
    } finally {
      await client.close();
      await ledge.stop();
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  },
);

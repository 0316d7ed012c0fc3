/**
 * Renewing the hub's server certificate while clients are connected: the security manager
 * renews (as `ledge cert renew` asks it to), the listeners swap their TLS context in place,
 * connected MQTT/TLS clients stay connected and keep exchanging messages, and a new connection —
 * checked by openssl, independently of ledge — is served the new certificate.
 */
import assert from "node:assert/strict";
import type tls from "node:tls";
import { startHubFixture } from "./_hub_fixture.ts";
import { closeClient, collectDeliveries, type MqttClient, publishNumbered } from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";
import { commandAvailable, serviceTest } from "./_services.ts";

/** The serial (upper-case hex, no leading zeros) of the certificate `port` serves, per openssl. */
async function servedSerial(port: number): Promise<string> {
  const output = await new Deno.Command("sh", {
    args: [
      "-c",
      `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null` +
      " | openssl x509 -noout -serial",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const match = /^serial=([0-9A-F]+)$/.exec(text);
  if (!match) throw new Error(`Cannot read the served certificate: ${text}`);
  return normalize(match[1]!);
}

function normalize(serial: string): string {
  return serial.toUpperCase().replace(/^0+/, "");
}

function peerSerial(client: MqttClient): string {
  const socket = client.stream as unknown as tls.TLSSocket;
  return normalize(socket.getPeerCertificate().serialNumber);
}

function serverSerial(fixture: Awaited<ReturnType<typeof startHubFixture>>): string {
  const server = fixture.security.manager.certificates().find((c) => c.kind === "server");
  assert.ok(server, "the security manager lists the server certificate");
  return normalize(server.serial);
}

serviceTest(
  "a renewed server certificate reaches new connections while connected clients carry on",
  [await commandAvailable("openssl")],
  async () => {
    const fixture = await startHubFixture();
    const clients: MqttClient[] = [];
    try {
      fixture.applyRoutes({
        toB: 'FROM /messages/modules/a/outputs/* INTO BrokeredEndpoint("/modules/b/inputs/in")',
      });
      const a = await fixture.connectModule("a");
      const b = await fixture.connectModule("b");
      clients.push(a, b);
      let closes = 0;
      for (const client of [a, b]) client.on("close", () => closes++);
      const deliveries = await collectDeliveries(b, "devices/edge1/modules/b/inputs/#");
      const topic = (n: number) => `devices/edge1/modules/a/messages/events/%24.on=out&n=${n}`;

      const before = serverSerial(fixture);
      assert.equal(await servedSerial(fixture.ports.mqtts), before);
      assert.equal(peerSerial(a), before);
      const sent = await publishNumbered(a, { numbers: [1, 2, 3], topic, window: 3 });
      assert.deepEqual(sent, { acked: [1, 2, 3], closed: false });
      await waitFor("3 messages at b before the renewal", () => deliveries.length === 3);

      await fixture.security.manager.renew({ ca: false });
      const after = serverSerial(fixture);
      assert.notEqual(after, before, "renewal issues a new server certificate");

      // New connections get the new certificate, on both TLS listeners.
      assert.equal(await servedSerial(fixture.ports.mqtts), after);
      assert.equal(await servedSerial(fixture.ports.https), after);
      const c = await fixture.connectModule("c");
      clients.push(c);
      assert.equal(peerSerial(c), after);

      // The connections made before keep their session and keep working.
      assert.equal(closes, 0, "no client was disconnected");
      assert.ok(a.connected && b.connected);
      assert.equal(peerSerial(a), before);
      const later = await publishNumbered(a, { numbers: [4, 5, 6], topic, window: 3 });
      assert.deepEqual(later, { acked: [4, 5, 6], closed: false });
      await waitFor("3 more messages at b after the renewal", () => deliveries.length === 6);
      assert.deepEqual(deliveries.map((d) => d.body), ["1", "2", "3", "4", "5", "6"]);
      assert.equal(closes, 0);
    } finally {
      for (const client of clients) await closeClient(client);
      await fixture.stop();
    }
  },
);

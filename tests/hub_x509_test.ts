/**
 * X.509 client-certificate login: a leaf device registered with `auth: "x509"` connects with
 * the certificate and key the security manager issued it and no password — with mosquitto_pub
 * (OpenSSL, independent of ledge), the `mqtt` npm client and the Azure IoT SDK (`x509=true`) —
 * its telemetry routes; the same
 * certificate presented for another identity, or no credentials at all, is refused.
 */
import assert from "node:assert/strict";
import { startHubFixture } from "./_hub_fixture.ts";
import {
  closeClient,
  collectDeliveries,
  connectIdentity,
  type MqttClient,
  publishNumbered,
} from "./_hub_mqtt.ts";
import { waitFor } from "./_wait.ts";
import { sdkAvailable, startSdkProcess } from "./_sdk_process.ts";
import { commandAvailable, serviceTest } from "./_services.ts";

async function run(command: string, args: string[]) {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

serviceTest(
  "a leaf device logs in with its X.509 certificate and no password; the certificate cannot log in as anyone else",
  [await commandAvailable("mosquitto_pub"), await sdkAvailable()],
  async (t) => {
    const fixture = await startHubFixture();
    const clients: MqttClient[] = [];
    try {
      fixture.hub.hub.applyDesired({
        edgeHub: {
          schemaVersion: "1.1",
          routes: {
            leaves:
              "FROM /messages/* WHERE $connectionDeviceId = 'leafx' INTO BrokeredEndpoint(\"/modules/b/inputs/leaf\")",
          },
        },
        moduleTwins: {},
      });
      const manager = fixture.security.manager;
      const added = await manager.addDevice("leafx", "x509");
      assert.ok(added.certificateFile && added.keyFile, "an x509 device gets a certificate");
      await manager.addDevice("other", "x509");
      const certificateFile = added.certificateFile;
      const keyFile = added.keyFile;
      const b = await fixture.connectModule("b");
      clients.push(b);
      const deliveries = await collectDeliveries(b, "devices/edge1/modules/b/inputs/#");

      const mosquitto = (deviceId: string, extra: string[] = []) =>
        run("mosquitto_pub", [
          "-h",
          "localhost",
          "-p",
          String(fixture.ports.mqtts),
          "--cafile",
          fixture.caFile,
          "-i",
          deviceId,
          "-u",
          `hub.example/${deviceId}/?api-version=2021-04-12`,
          "-q",
          "1",
          "-t",
          `devices/${deviceId}/messages/events/`,
          "-m",
          `from ${deviceId}`,
          ...extra,
        ]);

      await t.step("mosquitto_pub with --cert/--key and no password is accepted", async () => {
        const pub = await mosquitto("leafx", ["--cert", certificateFile, "--key", keyFile]);
        assert.equal(pub.code, 0, pub.stderr);
        await waitFor("the leaf's message at b", () => deliveries.length === 1);
        assert.equal(deliveries[0]!.body, "from leafx");
      });

      await t.step("the mqtt npm client with the certificate is accepted", async () => {
        const client = await connectIdentity({
          port: fixture.ports.mqtts,
          caPem: manager.trustBundlePem(),
          iothubHostname: "hub.example",
          deviceId: "leafx",
          credentials: {
            kind: "x509",
            certPem: await Deno.readTextFile(certificateFile),
            keyPem: await Deno.readTextFile(keyFile),
          },
        });
        clients.push(client);
        const sent = await publishNumbered(client, {
          numbers: [7],
          topic: () => "devices/leafx/messages/events/",
          window: 1,
        });
        assert.deepEqual(sent, { acked: [7], closed: false });
        await waitFor("the second message at b", () => deliveries.length === 2);
        assert.equal(deliveries[1]!.body, "7");
      });

      await t.step("the Azure IoT SDK with x509=true and the certificate is accepted", async () => {
        const leaf = startSdkProcess("device_client.cjs", {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          // The Node SDK's X.509 provider keeps only HostName (device_client.js builds it from
          // HostName and DeviceId; GatewayHostName is read by the SAS providers alone), so an
          // X.509 leaf names the gateway as its HostName.
          LEDGE_TEST_CONNECTION_STRING: "HostName=localhost;DeviceId=leafx;x509=true",
          LEDGE_TEST_CA_FILE: fixture.caFile,
          LEDGE_TEST_CERT_FILE: certificateFile,
          LEDGE_TEST_KEY_FILE: keyFile,
          LEDGE_TEST_MQTT_PORT: String(fixture.ports.mqtts),
        });
        try {
          await leaf.next((e) => e.event === "ready");
          await leaf.send({ op: "send", id: 1, body: "sdk x509" });
          await leaf.next((e) => e.event === "sent" && e.id === 1);
          await waitFor("the SDK's message at b", () => deliveries.length === 3);
          assert.equal(deliveries[2]!.body, "sdk x509");
        } finally {
          await leaf.close();
        }
      });

      await t.step("the certificate presented as another device is refused", async () => {
        const before = fixture.hub.hub.stats().authFailures;
        const pub = await mosquitto("other", ["--cert", certificateFile, "--key", keyFile]);
        assert.notEqual(pub.code, 0);
        assert.match(pub.stderr, /not authori[sz]ed/i);
        assert.equal(fixture.hub.hub.stats().authFailures, before + 1);
      });

      await t.step("no certificate and no password is refused", async () => {
        const pub = await mosquitto("leafx");
        assert.notEqual(pub.code, 0);
        assert.match(pub.stderr, /not authori[sz]ed/i);
      });
      assert.equal(deliveries.length, 3, "nothing from refused clients reached b");
    } finally {
      for (const client of clients) await closeClient(client);
      await fixture.stop();
    }
  },
);

// A leaf device written against the official Azure IoT SDK: Client.fromConnectionString with
// GatewayHostName, trusting the gateway's CA (EdgeModuleCACertificateFile-style: the `ca` option),
// with a SAS key or, given LEDGE_TEST_CERT_FILE/LEDGE_TEST_KEY_FILE, an X.509 certificate.
// JSON commands on stdin, JSON events on stdout.
"use strict";
const fs = require("node:fs");
const readline = require("node:readline");
const { Client, Message } = require("azure-iot-device");
const { Mqtt } = require("azure-iot-device-mqtt");

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

async function main() {
  const client = Client.fromConnectionString(process.env.LEDGE_TEST_CONNECTION_STRING, Mqtt);
  const options = { ca: fs.readFileSync(process.env.LEDGE_TEST_CA_FILE, "utf8") };
  // X.509 devices (`x509=true` in the connection string) authenticate with their certificate.
  if (process.env.LEDGE_TEST_CERT_FILE) {
    options.cert = fs.readFileSync(process.env.LEDGE_TEST_CERT_FILE, "utf8");
    options.key = fs.readFileSync(process.env.LEDGE_TEST_KEY_FILE, "utf8");
  }
  client.setOptions(options);
  client.on("error", (err) => emit({ event: "error", message: String(err && err.message) }));
  client.on("message", (msg) => {
    const properties = {};
    for (let i = 0; i < msg.properties.count(); i++) {
      const p = msg.properties.getItem(i);
      properties[p.key] = p.value;
    }
    emit({ event: "c2d", body: msg.getData().toString(), messageId: msg.messageId, properties });
    client.complete(msg, () => {});
  });
  await client.open();
  emit({ event: "ready" });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    try {
      if (command.op === "send") {
        const msg = new Message(command.body);
        for (const [k, v] of Object.entries(command.properties || {})) msg.properties.add(k, v);
        await client.sendEvent(msg);
        emit({ event: "sent", id: command.id });
      } else if (command.op === "close") {
        await client.close();
        emit({ event: "closed" });
        process.exit(0);
      }
    } catch (err) {
      emit({ event: "failed", id: command.id, message: String(err && err.message) });
    }
  }
}

main().catch((err) => {
  emit({ event: "fatal", message: String(err && err.stack || err) });
  process.exit(1);
});

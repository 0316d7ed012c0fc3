// A leaf device written against the official Azure IoT SDK: Client.fromConnectionString with
// GatewayHostName, trusting the gateway's CA (EdgeModuleCACertificateFile-style: the `ca` option),
// with a SAS key or, given LEDGE_TEST_CERT_FILE/LEDGE_TEST_KEY_FILE, an X.509 certificate, over
// the transport LEDGE_TEST_TRANSPORT names (Mqtt by default; Amqp, AmqpWs, Http).
// C2D messages are completed at once, or with LEDGE_TEST_C2D=manual kept until a `settle`
// command completes, rejects or abandons them. Except over Http, it answers the direct method
// `echo` and updates reported properties (`report`). LEDGE_TEST_RETRY=none sets the SDK's
// NoRetry policy: a dropped connection is reported (`disconnect`) instead of being retried.
// JSON commands on stdin, JSON events on stdout.
"use strict";
const fs = require("node:fs");
const readline = require("node:readline");
const { Client } = require("azure-iot-device");
const { messageOf, propertiesOf } = require("./_messages.cjs");
const { transportFromEnv } = require("./_transports.cjs");

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

async function main() {
  const client = Client.fromConnectionString(
    process.env.LEDGE_TEST_CONNECTION_STRING,
    transportFromEnv(),
  );
  const options = {
    ca: fs.readFileSync(process.env.LEDGE_TEST_CA_FILE, "utf8"),
  };
  // X.509 devices (`x509=true` in the connection string) authenticate with their certificate.
  if (process.env.LEDGE_TEST_CERT_FILE) {
    options.cert = fs.readFileSync(process.env.LEDGE_TEST_CERT_FILE, "utf8");
    options.key = fs.readFileSync(process.env.LEDGE_TEST_KEY_FILE, "utf8");
  }
  if (process.env.LEDGE_TEST_TOKEN_SECONDS) {
    const seconds = Number(process.env.LEDGE_TEST_TOKEN_SECONDS);
    options.tokenRenewal = {
      tokenValidTimeInSeconds: seconds,
      tokenRenewalMarginInSeconds: Math.floor(seconds / 2),
    };
  }
  // Asynchronous (it first tries the `ca` as a file name): not awaited, the first MQTT or AMQP
  // connection could start before the CA was set, and fail "unable to get local issuer
  // certificate". The Http transport never calls back for these options (the promise would never
  // settle and node would exit); it connects only at its first request, well after this.
  const setting = client.setOptions(options);
  if (process.env.LEDGE_TEST_TRANSPORT !== "Http") await setting;
  if (process.env.LEDGE_TEST_RETRY === "none") {
    client.setRetryPolicy(new (require("azure-iot-common").NoRetry)());
  }
  const held = new Map();
  client.on(
    "error",
    (err) => emit({ event: "error", message: String(err && err.message) }),
  );
  client.on("disconnect", () => emit({ event: "disconnect", at: Date.now() }));
  client.on("message", (msg) => {
    emit({
      event: "c2d",
      body: msg.getData().toString(),
      messageId: msg.messageId,
      properties: propertiesOf(msg),
    });
    if (process.env.LEDGE_TEST_C2D === "manual") held.set(msg.messageId, msg);
    else client.complete(msg, () => {});
  });
  // Direct methods and twins need a transport that has them (not Http).
  const full = process.env.LEDGE_TEST_TRANSPORT !== "Http";
  if (full) {
    client.onDeviceMethod("echo", (request, response) => {
      emit({ event: "method", methodName: request.methodName, payload: request.payload });
      response.send(200, { echoed: request.payload }, () => {});
    });
  }
  await client.open();
  emit({ event: "ready" });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    try {
      if (command.op === "send") {
        await client.sendEvent(messageOf(command));
        emit({ event: "sent", id: command.id });
      } else if (command.op === "sendBatch") {
        await client.sendEventBatch(command.messages.map(messageOf));
        emit({ event: "sent", id: command.id });
      } else if (command.op === "settle") {
        const msg = held.get(command.messageId);
        if (!msg) throw new Error(`no held C2D message ${command.messageId}`);
        held.delete(command.messageId);
        await client[command.how](msg);
        emit({ event: "settled", id: command.id });
      } else if (command.op === "report") {
        const twin = await client.getTwin();
        await new Promise((resolve, reject) =>
          twin.properties.reported.update(command.patch, (err) => err ? reject(err) : resolve())
        );
        emit({ event: "reported", id: command.id, desired: twin.properties.desired });
      } else if (command.op === "close") {
        await client.close();
        emit({ event: "closed" });
        process.exit(0);
      }
    } catch (err) {
      emit({
        event: "failed",
        id: command.id,
        message: String(err && err.message),
      });
    }
  }
}

main().catch((err) => {
  emit({ event: "fatal", message: String(err && err.stack || err) });
  process.exit(1);
});

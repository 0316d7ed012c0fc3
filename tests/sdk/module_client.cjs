// A module written against the official Azure IoT SDK, driven by ledge's tests: JSON commands on
// stdin, JSON events on stdout. It uses only public SDK calls (fromEnvironment, sendOutputEvent,
// on('inputMessage'), getTwin, reported update, on('properties.desired'), onMethod, invokeMethod).
"use strict";
const readline = require("node:readline");
const { ModuleClient } = require("azure-iot-device");
const { messageOf, propertiesOf } = require("./_messages.cjs");
const { transportFromEnv } = require("./_transports.cjs");

const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const transport = transportFromEnv();

function messageEvent(inputName, msg) {
  return {
    event: "input",
    inputName,
    body: msg.getData().toString(),
    messageId: msg.messageId,
    correlationId: msg.correlationId,
    contentType: msg.contentType,
    contentEncoding: msg.contentEncoding,
    properties: propertiesOf(msg),
  };
}

async function main() {
  const client = await ModuleClient.fromEnvironment(transport);
  if (process.env.LEDGE_TEST_TOKEN_SECONDS) {
    const seconds = Number(process.env.LEDGE_TEST_TOKEN_SECONDS);
    // setOptions replaces the transport's options: the CA fromEnvironment set goes with them.
    await client.setOptions({
      ca: require("node:fs").readFileSync(
        process.env.LEDGE_TEST_CA_FILE,
        "utf8",
      ),
      tokenRenewal: {
        tokenValidTimeInSeconds: seconds,
        tokenRenewalMarginInSeconds: Math.floor(seconds / 2),
      },
    });
  }
  client.on(
    "error",
    (err) => emit({ event: "error", message: String(err && err.message) }),
  );
  client.on("disconnect", () => emit({ event: "disconnect" }));
  client.on("inputMessage", (inputName, msg) => {
    emit(messageEvent(inputName, msg));
    client.complete(msg, () => {});
  });
  client.onMethod("echo", (request, response) => {
    emit({
      event: "method",
      methodName: request.methodName,
      payload: request.payload,
    });
    response.send(200, { echoed: request.payload }, () => {});
  });
  await client.open();
  const twin = await client.getTwin();
  twin.on("properties.desired", (delta) => emit({ event: "desired", delta }));
  emit({
    event: "ready",
    desired: twin.properties.desired,
    reported: twin.properties.reported,
  });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    try {
      if (command.op === "send") {
        await client.sendOutputEvent(command.output, messageOf(command));
        emit({ event: "sent", id: command.id });
      } else if (command.op === "report") {
        await new Promise((resolve, reject) =>
          twin.properties.reported.update(
            command.patch,
            (err) => err ? reject(err) : resolve(),
          )
        );
        emit({ event: "reported", id: command.id });
      } else if (command.op === "getTwin") {
        const fresh = await client.getTwin();
        await new Promise((resolve, reject) => fresh.get((err) => err ? reject(err) : resolve()));
        emit({
          event: "twin",
          id: command.id,
          desired: fresh.properties.desired,
          reported: fresh.properties.reported,
        });
      } else if (command.op === "invoke") {
        const result = await client.invokeMethod(
          command.deviceId,
          command.moduleId,
          {
            methodName: command.methodName,
            payload: command.payload,
            responseTimeoutInSeconds: command.responseTimeoutInSeconds || 10,
          },
        );
        emit({ event: "invoked", id: command.id, result });
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
        name: err && err.name,
      });
    }
  }
}

main().catch((err) => {
  emit({ event: "fatal", message: String(err && err.stack || err) });
  process.exit(1);
});

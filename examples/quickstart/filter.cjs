// The quickstart's filter: an IoT Edge module written against the official Azure IoT SDK for
// Node, unmodified. It forwards every message that arrives on input "input1" to output "output1"
// and logs one line per reading. It does no filtering of its own: the hub's route
// (WHERE $body.machine.temperature > 25) decides what reaches it.
"use strict";
const { ModuleClient, Message } = require("azure-iot-device");
const { Mqtt } = require("azure-iot-device-mqtt");

function copy(message) {
  const out = new Message(message.getBytes());
  out.contentType = message.contentType;
  out.contentEncoding = message.contentEncoding;
  for (let i = 0; i < message.properties.count(); i++) {
    const { key, value } = message.properties.getItem(i);
    out.properties.add(key, value);
  }
  return out;
}

async function forward(client, message) {
  let temperature = "?";
  try {
    temperature = JSON.parse(message.getBytes().toString("utf8")).machine.temperature;
  } catch {
    console.error(
      "filter: a message on input1 is not a JSON reading; forwarding it as is",
    );
  }
  const reading = message.properties.getValue("reading");
  console.log(
    `filter: forwarding temperature ${temperature}${reading ? ` (reading ${reading})` : ""}`,
  );
  await client.sendOutputEvent("output1", copy(message));
}

async function main() {
  const client = await ModuleClient.fromEnvironment(Mqtt);
  client.on(
    "error",
    (error) => console.error(`filter: client error: ${error.message}`),
  );
  client.on("inputMessage", (inputName, message) => {
    if (inputName !== "input1") {
      client.complete(message, () => {});
      return;
    }
    forward(client, message)
      .catch((error) => console.error(`filter: cannot forward: ${error.message}`))
      .finally(() => client.complete(message, () => {}));
  });
  await client.open();
  console.log(
    `filter: connected as ${process.env.IOTEDGE_MODULEID}, listening on input1`,
  );
  const shutdown = () => client.close().finally(() => process.exit(0));
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error) => {
  console.error(`filter: ${error.stack || error}`);
  process.exit(1);
});

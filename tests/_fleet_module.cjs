// A module for the nested-fleet tests, written against the official Azure IoT SDK (unmodified,
// from tests/sdk/node_modules via NODE_PATH) and run by ledge as a process module:
// - FLEET_SEND=N: sends N messages on output "out" once connected (messageId <module>-<i>,
//   JSON body {"seq": i}, application properties seq and origin, contentType application/json);
// - FLEET_PLAN="alarm:5000,out:44000": then sends, in that order, that many messages on each
//   output (messageId <output>-<i>), FLEET_CONCURRENCY (default 1) at a time, once: it creates
//   the file FLEET_ONCE when done and sends nothing when that file exists;
// - FLEET_OUT=path: appends every input message it receives to that file, one JSON line each
//   (body, messageId, contentType and every property of the topic, $.cdid/$.cmid included);
// - answers the direct method "echo" with 200 {echoed, device, module};
// - prints "fleet module ready" once connected, and each desired-properties patch.
"use strict";
const fs = require("node:fs");
const { ModuleClient, Message } = require("azure-iot-device");
const { Mqtt } = require("azure-iot-device-mqtt");

const moduleId = process.env.IOTEDGE_MODULEID;
const deviceId = process.env.IOTEDGE_DEVICEID;

async function sendPlan(client) {
  const plan = (process.env.FLEET_PLAN || "").split(",").filter((entry) => entry.includes(":"));
  const once = process.env.FLEET_ONCE;
  if (plan.length === 0 || (once && fs.existsSync(once))) return;
  const concurrency = Number(process.env.FLEET_CONCURRENCY || 1);
  let total = 0;
  for (const entry of plan) {
    const [output, countText] = entry.split(":");
    const count = Number(countText);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const msg = new Message(JSON.stringify({ output, seq: i }));
        msg.messageId = `${output}-${i}`;
        msg.properties.add("seq", String(i));
        await client.sendOutputEvent(output, msg);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    total += count;
  }
  if (once) fs.writeFileSync(once, String(total));
  console.log(`sent plan ${total}`);
}

// A module whose ledge died (kill -9) exits too: the restarted ledge starts its own instance.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 500).unref();

async function main() {
  const client = await ModuleClient.fromEnvironment(Mqtt);
  client.on("error", (error) => console.error(`client error: ${error && error.message}`));
  client.on("inputMessage", (inputName, msg) => {
    const properties = {};
    for (let i = 0; i < msg.properties.count(); i++) {
      const item = msg.properties.getItem(i);
      properties[item.key] = item.value;
    }
    const line = JSON.stringify({
      inputName,
      body: msg.getData().toString(),
      messageId: msg.messageId,
      contentType: msg.contentType,
      properties,
    });
    if (process.env.FLEET_OUT) fs.appendFileSync(process.env.FLEET_OUT, line + "\n");
    client.complete(msg, () => {});
  });
  client.onMethod("echo", (request, response) => {
    response.send(200, { echoed: request.payload, device: deviceId, module: moduleId }, () => {});
  });
  await client.open();
  const twin = await client.getTwin();
  twin.on("properties.desired", (delta) => console.log(`desired ${JSON.stringify(delta)}`));
  console.log("fleet module ready");
  const count = Number(process.env.FLEET_SEND || 0);
  for (let i = 0; i < count; i++) {
    const msg = new Message(JSON.stringify({ seq: i }));
    msg.messageId = `${moduleId}-${i}`;
    msg.contentType = "application/json";
    msg.contentEncoding = "utf-8";
    msg.properties.add("seq", String(i));
    msg.properties.add("origin", `${deviceId}/${moduleId}`);
    await client.sendOutputEvent("out", msg);
  }
  if (count > 0) console.log(`sent ${count}`);
  await sendPlan(client);
  const stop = () => client.close().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error) => {
  console.error(`fatal: ${error && error.stack || error}`);
  process.exit(1);
});

// The quickstart's simulated temperature sensor: an IoT Edge module written against the official
// Azure IoT SDK for Node, unmodified. Every second it sends one reading on output
// "temperatureOutput", shaped like Microsoft's SimulatedTemperatureSensor:
//   {"machine":{"temperature","pressure"},"ambient":{"temperature","humidity"},"timeCreated"}
// The machine temperature swings around 25 °C (a sine of period 10 readings, starting low), so
// the route's WHERE $body.machine.temperature > 25 lets about half of the readings through.
"use strict";
const { ModuleClient, Message } = require("azure-iot-device");
const { Mqtt } = require("azure-iot-device-mqtt");

const INTERVAL_MS = Number(process.env.SEND_INTERVAL_MS || 1000);
const PERIOD = 10;

function reading(n) {
  const swing = -Math.sin((2 * Math.PI * n) / PERIOD);
  const temperature = Math.round((25 + 5 * swing) * 10) / 10;
  return {
    machine: {
      temperature,
      pressure: Math.round((1 + 0.1 * swing) * 1000) / 1000,
    },
    ambient: { temperature: 21, humidity: 25 + (n % 5) },
    timeCreated: new Date().toISOString(),
  };
}

async function main() {
  const client = await ModuleClient.fromEnvironment(Mqtt);
  client.on(
    "error",
    (error) => console.error(`sensor: client error: ${error.message}`),
  );
  await client.open();
  console.log(
    `sensor: connected as ${process.env.IOTEDGE_MODULEID}, one reading every ${INTERVAL_MS} ms`,
  );
  let n = 0;
  let stopping = false;
  const shutdown = () => {
    stopping = true;
    client.close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  while (!stopping) {
    n += 1;
    const body = reading(n);
    const message = new Message(JSON.stringify(body));
    message.contentType = "application/json";
    message.contentEncoding = "utf-8";
    message.properties.add("reading", String(n));
    try {
      await client.sendOutputEvent("temperatureOutput", message);
      console.log(
        `sensor: sent reading ${n} temperature ${body.machine.temperature}`,
      );
    } catch (error) {
      console.error(`sensor: cannot send reading ${n}: ${error.message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
}

main().catch((error) => {
  console.error(`sensor: ${error.stack || error}`);
  process.exit(1);
});

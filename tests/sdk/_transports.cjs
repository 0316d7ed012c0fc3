// The SDK transport a test asks for in LEDGE_TEST_TRANSPORT: Mqtt (default), MqttWs, Amqp,
// AmqpWs or Http, each from its own official package.
"use strict";
const loaders = {
  Mqtt: () => require("azure-iot-device-mqtt").Mqtt,
  MqttWs: () => require("azure-iot-device-mqtt").MqttWs,
  Amqp: () => require("azure-iot-device-amqp").Amqp,
  AmqpWs: () => require("azure-iot-device-amqp").AmqpWs,
  Http: () => require("azure-iot-device-http").Http,
};

function transportFromEnv() {
  const name = process.env.LEDGE_TEST_TRANSPORT || "Mqtt";
  const load = loaders[name];
  if (!load) {
    throw new Error(
      `LEDGE_TEST_TRANSPORT=${name}: expected one of ${Object.keys(loaders)}`,
    );
  }
  return load();
}

module.exports = { transportFromEnv };

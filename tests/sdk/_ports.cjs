// Preloaded with `node --require` by ledge's tests: the SDK always dials 8883 (MQTT) and 443
// (MqttWs, the methods API); this maps those two ports to the test hub's free ports, so the
// module code itself runs unmodified and the tests need no privileged ports.
"use strict";
const tls = require("node:tls");
const map = {
  8883: Number(process.env.LEDGE_TEST_MQTT_PORT || 8883),
  443: Number(process.env.LEDGE_TEST_HTTPS_PORT || 443),
};
const connect = tls.connect;
tls.connect = function (...args) {
  if (typeof args[0] === "object" && args[0] !== null) {
    const options = args[0];
    const port = Number(options.port);
    if (map[port]) args[0] = { ...options, port: map[port] };
  } else if (typeof args[0] === "number" || typeof args[0] === "string") {
    const port = Number(args[0]);
    if (map[port]) args[0] = map[port];
  }
  return connect.apply(this, args);
};

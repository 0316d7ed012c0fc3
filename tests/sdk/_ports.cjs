// Preloaded with `node --require` by ledge's tests: the SDK always dials 8883 (MQTT), 5671 (AMQP)
// and 443 (MqttWs, AmqpWs, HTTP, the methods API); this maps those ports to the test hub's free
// ports, so the module code itself runs unmodified and the tests need no privileged ports.
"use strict";
const tls = require("node:tls");
const map = {
  8883: Number(process.env.LEDGE_TEST_MQTT_PORT || 8883),
  443: Number(process.env.LEDGE_TEST_HTTPS_PORT || 443),
  5671: Number(process.env.LEDGE_TEST_AMQP_PORT || 5671),
};
const connect = tls.connect;
tls.connect = function (...args) {
  // tls.connect(options), tls.connect(port[, host][, options]): an options object's port wins
  // over the positional one (rhea passes both), so both are mapped.
  args = args.map((arg, i) => {
    if (i === 0 && (typeof arg === "number" || typeof arg === "string")) {
      return map[Number(arg)] || arg;
    }
    if (typeof arg === "object" && arg !== null && map[Number(arg.port)]) {
      return { ...arg, port: map[Number(arg.port)] };
    }
    return arg;
  });
  return connect.apply(this, args);
};

// Preloaded by the quickstart's modules (`node --require ./hub_address.cjs`). The SDK always dials
// IOTEDGE_GATEWAYHOSTNAME on port 8883 (MQTT) and 443 (WebSocket, methods); ledge run by a
// normal user serves on 18883 and 18443 instead, on this machine. This maps those two ports to
// LEDGE_HUB_MQTT_PORT / LEDGE_HUB_HTTPS_PORT and, when LEDGE_HUB_ADDRESS is set, dials that
// address while still checking the TLS certificate against the gateway host name. The SDK
// itself is unmodified; with ledge on the standard ports nothing here changes anything.
"use strict";
const tls = require("node:tls");

const ports = {
  8883: Number(process.env.LEDGE_HUB_MQTT_PORT || 8883),
  443: Number(process.env.LEDGE_HUB_HTTPS_PORT || 443),
};
const address = process.env.LEDGE_HUB_ADDRESS || "";
const gateway = process.env.IOTEDGE_GATEWAYHOSTNAME || "";

const connect = tls.connect;
tls.connect = function (...args) {
  const options = args[0];
  if (
    typeof options === "object" && options !== null &&
    ports[Number(options.port)]
  ) {
    const mapped = { ...options, port: ports[Number(options.port)] };
    if (address && gateway && options.host === gateway) {
      mapped.host = address;
      mapped.servername = options.servername || gateway;
    }
    args[0] = mapped;
  }
  return connect.apply(this, args);
};

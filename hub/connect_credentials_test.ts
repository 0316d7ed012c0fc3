import assert from "node:assert/strict";
import {
  ConnectCredentialsError,
  parseConnectCredentials as parseWith,
} from "./connect_credentials.ts";

const HUB_HOSTS = { hubHosts: ["hub.net", "GW.local", "h", "hub"] };

function parseConnectCredentials(clientId: string, username: string | undefined) {
  return parseWith(clientId, username, HUB_HOSTS);
}

Deno.test("parseConnectCredentials() reads both username forms of a module and a device", () => {
  assert.deepEqual(
    parseConnectCredentials("edge/a", "hub.net/edge/a/?api-version=2021-04-12&DeviceClientType=x"),
    { deviceId: "edge", moduleId: "a" },
  );
  assert.deepEqual(
    parseConnectCredentials("leaf", "gw.local/leaf/api-version=2016-11-14&DeviceClientType=y"),
    { deviceId: "leaf" },
  );
  assert.deepEqual(parseConnectCredentials("Leaf", "h/leaf/?api-version=1"), { deviceId: "Leaf" });
});

Deno.test("parseConnectCredentials() refuses mismatched ids or host, no api-version, bad clientIds", () => {
  const bad: [string, string | undefined][] = [
    ["edge/a", "hub/edge/b/?api-version=1"],
    ["edge/a", "hub/edge/?api-version=1"],
    ["edge", "hub/edge/a/?api-version=1"],
    ["edge/a", "hub/edge/a/"],
    ["edge/a", undefined],
    ["edge/a/b", "hub/edge/a/b/?api-version=1"],
    ["ed#ge", "hub/ed#ge/?api-version=1"],
    ["e+", "hub/e+/?api-version=1"],
    ["", "hub//?api-version=1"],
    ["edge/a", "elsewhere.net/edge/a/?api-version=1"],
    ["edge/a", "/edge/a/?api-version=1"],
    ["edge/a", "hub.net.evil/edge/a/?api-version=1"],
  ];
  for (const [clientId, username] of bad) {
    assert.throws(
      () => parseConnectCredentials(clientId, username),
      ConnectCredentialsError,
      `${clientId} ${username}`,
    );
  }
});

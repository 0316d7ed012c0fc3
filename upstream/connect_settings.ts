/**
 * What one connection to the parent sends: URL, clientId, username, password (SAS token) and TLS
 * material, exactly as the Azure IoT device SDK sends them (azure-iot-device-mqtt: clientId
 * `device[/module]`, username `{host}/{clientId}/?api-version=...&DeviceClientType=...`, MQTT 3.1.1,
 * clean session off, keep-alive 180 s). Pure: the caller passes keys, files' contents and time.
 */
import { VERSION } from "../core/version.ts";
import { createSasToken, identityLabel, type IdentityRef } from "../iothub/mod.ts";

/** The IoT Hub API version the SDK puts in the username. */
export const IOTHUB_API_VERSION = "2021-04-12";
/** The path of MQTT over WebSocket on IoT Hub and on ledge. */
export const UPSTREAM_WEBSOCKET_PATH = "/$iothub/websocket";

/** How an identity proves itself to the parent. */
export type UpstreamCredential =
  | { kind: "sas"; keyBase64: string }
  | { kind: "x509"; certPem: string; keyPem: string };

/** Where the parent is and what it is trusted by. */
export interface ParentEndpoint {
  hostname: string;
  port: number;
  protocol: "mqtts" | "wss";
  /** PEM bundle the parent's certificate must chain to; undefined trusts the system roots. */
  caPem: string | undefined;
}

/** The settings of one MQTT connection attempt. */
export interface ConnectSettings {
  url: string;
  clientId: string;
  username: string;
  /** The SAS token; absent with a client certificate. */
  password?: string;
  /** When the SAS token expires (Unix seconds); absent with a client certificate. */
  tokenExpiry?: number;
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * The settings for `identity` at time `nowSeconds`; a SAS token lives `tokenLifetimeSeconds`.
 *
 * @example
 * ```ts
 * connectSettings({ deviceId: "child", moduleId: "sensor" }, {
 *   parent: { hostname: "parent.local", port: 8883, protocol: "mqtts", caPem },
 *   credential: { kind: "sas", keyBase64 }, nowSeconds: 1700000000, tokenLifetimeSeconds: 3600,
 * }).username; // "parent.local/child/sensor/?api-version=2021-04-12&DeviceClientType=ledge%2F0.1.0"
 * ```
 */
export function connectSettings(
  identity: IdentityRef,
  options: {
    parent: ParentEndpoint;
    credential: UpstreamCredential;
    nowSeconds: number;
    tokenLifetimeSeconds: number;
  },
): ConnectSettings {
  const { parent, credential } = options;
  const clientId = identityLabel(identity);
  const url = parent.protocol === "wss"
    ? `wss://${parent.hostname}:${parent.port}${UPSTREAM_WEBSOCKET_PATH}`
    : `mqtts://${parent.hostname}:${parent.port}`;
  const username = `${parent.hostname}/${clientId}/?api-version=${IOTHUB_API_VERSION}` +
    `&DeviceClientType=${encodeURIComponent(`ledge/${VERSION}`)}`;
  const settings: ConnectSettings = { url, clientId, username };
  if (parent.caPem !== undefined) settings.ca = parent.caPem;
  if (credential.kind === "x509") {
    settings.cert = credential.certPem;
    settings.key = credential.keyPem;
    return settings;
  }
  const expiry = Math.floor(options.nowSeconds) + options.tokenLifetimeSeconds;
  const resource = { host: parent.hostname, deviceId: identity.deviceId };
  settings.password = createSasToken(
    identity.moduleId === undefined ? resource : { ...resource, moduleId: identity.moduleId },
    { keyBase64: credential.keyBase64, expiry },
  );
  settings.tokenExpiry = expiry;
  return settings;
}

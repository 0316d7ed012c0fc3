/**
 * What the connector needs of `[upstream]`: the keys that only matter when it is enabled, and
 * the settings of each identity's connection (credentials derived per identity; the CA, the
 * certificate and the key read at each attempt, so a fixed file applies without a restart).
 */
import type { Config } from "../core/config.ts";
import { derivedSasKey, identityLabel, type IdentityRef } from "../iothub/mod.ts";
import {
  type ConnectSettings,
  connectSettings,
  type ParentEndpoint,
  type UpstreamCredential,
} from "./connect_settings.ts";

function readFile(path: string, field: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(`Cannot read upstream.${field} ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Checks the `[upstream]` keys that only matter when it is enabled. */
export function checkUpstreamConfig(upstream: Config["upstream"]): void {
  const hasKey = upstream.shared_access_key !== "";
  const hasCert = upstream.cert_file !== "" || upstream.key_file !== "";
  if (!hasKey && !hasCert) {
    throw new Error(
      "Cannot start upstream: set upstream.shared_access_key, or upstream.cert_file and upstream.key_file",
    );
  }
  if (hasCert && (upstream.cert_file === "" || upstream.key_file === "")) {
    const missing = upstream.cert_file === "" ? "cert_file" : "key_file";
    throw new Error(`Cannot start upstream: upstream.${missing} is empty but its pair is set`);
  }
  if (hasKey) {
    const key = upstream.shared_access_key;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
      throw new Error("Cannot start upstream: upstream.shared_access_key is not base64");
    }
  }
}

/** The settings builder: credentials per identity, files read per attempt (so fixes apply). */
export function settingsBuilder(
  config: Config,
  now: () => number,
): (identity: IdentityRef) => ConnectSettings {
  const upstream = config.upstream;
  const ownDeviceId = config.device.id;
  return (identity) => {
    const parent: ParentEndpoint = {
      hostname: upstream.hostname,
      port: upstream.port,
      protocol: upstream.protocol,
      caPem: upstream.ca_file === "" ? undefined : readFile(upstream.ca_file, "ca_file"),
    };
    const own = identity.moduleId === undefined &&
      identity.deviceId.toLowerCase() === ownDeviceId.toLowerCase();
    let credential: UpstreamCredential;
    if (own && upstream.cert_file !== "") {
      credential = {
        kind: "x509",
        certPem: readFile(upstream.cert_file, "cert_file"),
        keyPem: readFile(upstream.key_file, "key_file"),
      };
    } else if (upstream.shared_access_key !== "") {
      const keyBase64 = derivedSasKey(identity, {
        ownDeviceId,
        deviceKeyBase64: upstream.shared_access_key,
      });
      credential = { kind: "sas", keyBase64 };
    } else {
      throw new Error(
        `Cannot connect ${identityLabel(identity)} upstream: ` +
          "its key is derived from upstream.shared_access_key, which is empty",
      );
    }
    return connectSettings(identity, {
      parent,
      credential,
      nowSeconds: now() / 1000,
      tokenLifetimeSeconds: upstream.token_lifetime_seconds,
    });
  };
}

/**
 * The operator's device administration: registering leaf devices and child edge devices
 * (`ledge identity add-device`) and removing them (`ledge identity rm`), which cuts off the device,
 * its modules and, for a child edge device, every identity derived from its key.
 */
import { hmacSha256Base64 } from "../iothub/mod.ts";
import type { SecurityState } from "./_security_state.ts";
import { generateGenerationId, type Identity, IdentityId, newSasAuth } from "./identity.ts";
import { identityRemoval } from "./identity_removal.ts";
import { issueModuleLeaf } from "./leaf_store.ts";
import { spiffeIdOf } from "./module_apis.ts";
import type { AddedDevice } from "./security_manager_api.ts";

/**
 * SAS keys of a device registered below this one. With an upstream key, the primary key is the
 * one the upstream link uses for that device on the parent (`HMAC(upstream key, "devices/<id>")`),
 * so the device has the same key at every ancestor; otherwise both are random.
 */
function sasAuthBelow(state: SecurityState, deviceId: string): Identity["auth"] {
  const fresh = newSasAuth();
  const upstreamKey = state.config.upstream.shared_access_key;
  if (fresh.type !== "sas" || upstreamKey === "") return fresh;
  return { ...fresh, primaryKey: hmacSha256Base64(upstreamKey, `devices/${deviceId}`) };
}

/** Throws a RangeError naming what is wrong with adding `deviceId` with `auth`. */
export function checkNewDevice(deviceId: string, auth: "sas" | "x509", edge: boolean): void {
  const parsed = IdentityId.safeParse(deviceId);
  if (!parsed.success) {
    throw new RangeError(`Cannot add device "${deviceId}": ${parsed.error.issues[0]!.message}`);
  }
  if (edge && auth !== "sas") {
    throw new RangeError(
      `Cannot add edge device "${deviceId}": child edge devices authenticate with SAS keys`,
    );
  }
}

/**
 * Registers a leaf device, or with `edge` a child edge device (SAS only). An X.509 device gets a
 * certificate and key under `<state>/pki/devices/`.
 */
export async function addDevice(
  state: SecurityState,
  deviceId: string,
  options: { auth: "sas" | "x509"; edge: boolean },
): Promise<AddedDevice> {
  checkNewDevice(deviceId, options.auth, options.edge);
  const ca = state.requireStarted("add a device");
  const opened = await state.openRegistry();
  const identity: Identity = {
    deviceId,
    kind: options.edge ? "child-edge-device" : "leaf-device",
    generationId: generateGenerationId(),
    auth: options.auth === "sas" ? sasAuthBelow(state, deviceId) : { type: "x509-ca" },
    createdAt: state.now().toISOString(),
  };
  await opened.add(identity);
  state.derived.invalidate();
  state.logger.info(options.edge ? "child edge device added" : "leaf device added", {
    device: deviceId,
    auth: identity.auth.type,
  });
  if (options.auth === "sas") return { identity };
  const security = state.config.security;
  const spiffeId = spiffeIdOf(state.config, deviceId);
  const leaf = issueModuleLeaf(ca.issuer, {
    profile: "client",
    commonName: deviceId.slice(0, 64),
    ...(spiffeId ? { spiffeId } : {}),
    trustDomain: security.trust_domain,
    lifetimeSeconds: security.edge_ca_lifetime_days * 86400,
    now: state.now(),
  });
  const files = await leaf.saveTo(`${state.pkiDir}/devices`, deviceId);
  return { identity, certificateFile: files.certificateFile, keyFile: files.keyFile };
}

/**
 * Removes a leaf or child edge device (resolves false when there is none), deletes its issued
 * files, and tells the removal listeners, so the hub closes its connections and those below it.
 *
 * @throws {RangeError} for this edge device itself.
 */
export async function removeDevice(state: SecurityState, deviceId: string): Promise<boolean> {
  const opened = await state.openRegistry();
  const identity = opened.get(deviceId);
  if (!identity) return false;
  if (identity.kind !== "leaf-device" && identity.kind !== "child-edge-device") {
    throw new RangeError(
      `Cannot remove ${identity.deviceId}: it is this edge device; only leaf devices and child edge devices can be removed`,
    );
  }
  await opened.remove(deviceId);
  state.derived.invalidate();
  for (const suffix of [".pem", ".key.pem"]) {
    await Deno.remove(`${state.pkiDir}/devices/${identity.deviceId}${suffix}`).catch(() => {});
  }
  state.logger.info(`${identity.kind === "leaf-device" ? "leaf" : "child edge"} device removed`, {
    device: identity.deviceId,
  });
  state.removalListeners.emit(identityRemoval(identity));
  return true;
}

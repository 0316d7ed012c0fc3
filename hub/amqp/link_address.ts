/**
 * What an AMQP link address means: the `$cbs` node, or one of the IoT Hub nodes under
 * `/devices/{d}[/modules/{m}]` (telemetry, module inputs, C2D, the twin and method link pairs).
 * Pure string work; whether the connection may attach it is decided by the caller.
 */

/** Which way messages flow on a link, seen from the client. */
export type LinkRole = "clientSends" | "clientReceives";

/** The identity a link address names. */
export interface AddressIdentity {
  deviceId: string;
  moduleId?: string;
}

/** What a link is for. */
export type LinkNode =
  | { kind: "cbs" }
  | { kind: "events"; identity: AddressIdentity }
  | { kind: "inputs"; identity: AddressIdentity & { moduleId: string } }
  | { kind: "c2d"; identity: AddressIdentity }
  | { kind: "twin"; identity: AddressIdentity }
  | { kind: "methods"; identity: AddressIdentity };

/** A link address that is not an IoT Hub node (the AMQP error is `amqp:not-found`). */
export class LinkAddressError extends Error {
  override name = "LinkAddressError";
}

function decodeId(raw: string, address: string): string {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw new LinkAddressError(`Cannot attach ${address}: "${raw}" is not valid URL encoding`);
  }
  if (id === "" || id.length > 128) {
    throw new LinkAddressError(`Cannot attach ${address}: ids are 1 to 128 characters`);
  }
  return id;
}

/** The path of an address: `amqps://host/path?query` and `/path?query` both give `/path`. */
function addressPath(address: string): string {
  let path = address;
  const scheme = /^amqps?:\/\/[^/]*/i.exec(path);
  if (scheme) path = path.slice(scheme[0].length);
  const question = path.indexOf("?");
  if (question >= 0) path = path.slice(0, question);
  return path;
}

function nodeFor(
  rest: string,
  identity: AddressIdentity,
  role: LinkRole,
  address: string,
): LinkNode {
  const suffix = rest.toLowerCase();
  if (suffix === "messages/events") {
    if (role === "clientSends") return { kind: "events", identity };
    if (identity.moduleId !== undefined) {
      return { kind: "inputs", identity: { ...identity, moduleId: identity.moduleId } };
    }
  } else if (suffix === "messages/devicebound") {
    if (role === "clientReceives" && identity.moduleId === undefined) {
      return { kind: "c2d", identity };
    }
  } else if (suffix === "twin") {
    return { kind: "twin", identity };
  } else if (suffix === "methods/devicebound") {
    return { kind: "methods", identity };
  }
  const direction = role === "clientSends" ? "sending to" : "receiving from";
  throw new LinkAddressError(`Cannot attach ${address}: ${direction} it is not supported`);
}

/**
 * Classifies a link address.
 *
 * @throws {LinkAddressError} for anything that is not an IoT Hub node.
 * @example
 * ```ts
 * parseLinkAddress("/devices/edge/modules/filter/messages/events", "clientReceives");
 * // { kind: "inputs", identity: { deviceId: "edge", moduleId: "filter" } }
 * ```
 */
export function parseLinkAddress(address: string | undefined, role: LinkRole): LinkNode {
  if (address === undefined || address === "") {
    throw new LinkAddressError("Cannot attach a link without an address");
  }
  const path = addressPath(address);
  if (path === "$cbs" || path === "/$cbs") return { kind: "cbs" };
  const parts = path.split("/");
  if (parts[0] !== "" || parts[1]?.toLowerCase() !== "devices" || parts[2] === undefined) {
    throw new LinkAddressError(`Cannot attach ${address}: expected /devices/{deviceId}/\u2026`);
  }
  const deviceId = decodeId(parts[2], address);
  if (parts[3]?.toLowerCase() === "modules" && parts[4] !== undefined) {
    const moduleId = decodeId(parts[4], address);
    return nodeFor(parts.slice(5).join("/"), { deviceId, moduleId }, role, address);
  }
  return nodeFor(parts.slice(3).join("/"), { deviceId }, role, address);
}

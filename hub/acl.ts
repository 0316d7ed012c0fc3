/**
 * Who may use which topic: each identity publishes only its own telemetry, twin and method
 * replies, and subscribes only to its own inputs, C2D, twin and method topics. SUBSCRIBE filters
 * are checked as filters: a wildcard is accepted only where it cannot reach beyond the identity's
 * own topics, so `#`, `devices/+/...` and `$SYS/...` are refused.
 */
import { identityLabel, type IdentityRef } from "../iothub/mod.ts";

/** The identity a connection authenticated as. */
export type ClientIdentity = IdentityRef;

function ownPrefix(identity: ClientIdentity): string {
  return identity.moduleId === undefined
    ? `devices/${identity.deviceId}/`
    : `devices/${identity.deviceId}/modules/${identity.moduleId}/`;
}

/** Ids compare case-insensitively, as IoT Hub does. */
function sameId(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** Splits `devices/{d}[/modules/{m}]/rest` when the ids are the identity's; else undefined. */
function ownRest(identity: ClientIdentity, topic: string): string | undefined {
  const parts = topic.split("/");
  if (parts[0] !== "devices" || parts[1] === undefined || !sameId(parts[1], identity.deviceId)) {
    return undefined;
  }
  if (identity.moduleId === undefined) {
    return parts[2] === "modules" ? undefined : parts.slice(2).join("/");
  }
  if (parts[2] !== "modules" || parts[3] === undefined || !sameId(parts[3], identity.moduleId)) {
    return undefined;
  }
  return parts.slice(4).join("/");
}

const TWIN_PUBLISH = /^\$iothub\/twin\/(GET|PATCH\/properties\/reported)\/?(\?.*)?$/;
const METHOD_REPLY = /^\$iothub\/methods\/res\/\d{3}\/?(\?.*)?$/;

/** Why a topic is refused, or undefined when `identity` may publish on it. */
export function publishDenial(identity: ClientIdentity, topic: string): string | undefined {
  if (topic.startsWith("$SYS")) return `publishing to ${topic} is reserved to the broker`;
  if (topic.includes("+") || topic.includes("#")) return `wildcards are not allowed in a topic`;
  if (TWIN_PUBLISH.test(topic) || METHOD_REPLY.test(topic)) return undefined;
  const rest = ownRest(identity, topic);
  if (rest !== undefined && (rest === "messages/events" || rest.startsWith("messages/events/"))) {
    return undefined;
  }
  return `${identityLabel(identity)} may not publish to ${topic}`;
}

/** The filters an identity may subscribe to: exact strings, each ending in `/#`. */
function allowedFilters(identity: ClientIdentity): string[] {
  const own = ownPrefix(identity);
  const filters = ["$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"];
  filters.push("$iothub/methods/POST/#");
  if (identity.moduleId !== undefined) filters.push(`${own}inputs/#`);
  else filters.push(`${own}messages/devicebound/#`);
  return filters;
}

function filterWithin(filter: string, allowed: string): boolean {
  // `allowed` ends in `/#`: the filter must start with its literal prefix (no wildcard before it).
  const prefix = allowed.slice(0, -1);
  const base = allowed.slice(0, -2);
  const candidate = filter === base ? filter + "/" : filter;
  if (!candidate.startsWith(prefix)) return false;
  const rest = candidate.slice(prefix.length);
  // Wildcards past the prefix only narrow within the identity's own subtree.
  return rest.split("/").every((level, i, all) =>
    level === "+" || level === "#" && i === all.length - 1 || !/[+#]/.test(level)
  );
}

/** Why a filter is refused, or undefined when `identity` may subscribe to it. */
export function subscribeDenial(identity: ClientIdentity, filter: string): string | undefined {
  if (filter === "") return "empty topic filter";
  const normalized = normalizeOwnIds(identity, filter);
  for (const allowed of allowedFilters(identity)) {
    if (filterWithin(normalized, allowed)) return undefined;
  }
  return `${identityLabel(identity)} may not subscribe to ${filter}`;
}

/** Rewrites the id levels of `devices/{d}/modules/{m}/...` to the identity's spelling. */
function normalizeOwnIds(identity: ClientIdentity, filter: string): string {
  const parts = filter.split("/");
  if (parts[0] !== "devices" || parts[1] === undefined) return filter;
  if (sameId(parts[1], identity.deviceId)) parts[1] = identity.deviceId;
  if (
    identity.moduleId !== undefined && parts[2] === "modules" && parts[3] !== undefined &&
    sameId(parts[3], identity.moduleId)
  ) parts[3] = identity.moduleId;
  return parts.join("/");
}

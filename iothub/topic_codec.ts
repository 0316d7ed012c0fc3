/**
 * The IoT Hub MQTT topic surface: what a client's PUBLISH topic means, and the topics the hub
 * publishes on. Pure string work; who may use which topic is {@linkcode ./acl.ts}.
 */

/** What an inbound PUBLISH topic asks for. */
export type InboundTopic =
  | { kind: "telemetry"; deviceId: string; moduleId: string | undefined; bag: string }
  | { kind: "twinGet"; rid: string }
  | { kind: "twinPatchReported"; rid: string }
  | { kind: "methodResponse"; status: number; rid: string }
  | { kind: "unknown" };

/** Reads `$rid` and other keys from the `?a=b&c=d` tail of a `$iothub/...` topic. */
export function topicQuery(topic: string): URLSearchParams {
  const question = topic.indexOf("?");
  return new URLSearchParams(question < 0 ? "" : topic.slice(question + 1));
}

function iothubTopic(topic: string): InboundTopic {
  const question = topic.indexOf("?");
  const path = question < 0 ? topic : topic.slice(0, question);
  const rid = topicQuery(topic).get("$rid") ?? "";
  if (path === "$iothub/twin/GET/" || path === "$iothub/twin/GET") return { kind: "twinGet", rid };
  if (
    path === "$iothub/twin/PATCH/properties/reported/" ||
    path === "$iothub/twin/PATCH/properties/reported"
  ) return { kind: "twinPatchReported", rid };
  const method = /^\$iothub\/methods\/res\/(\d{3})\/?$/.exec(path);
  if (method) return { kind: "methodResponse", status: Number(method[1]), rid };
  return { kind: "unknown" };
}

/**
 * Classifies a PUBLISH topic.
 *
 * @example
 * ```ts
 * parseInboundTopic("devices/d1/modules/m1/messages/events/%24.on=out1");
 * // { kind: "telemetry", deviceId: "d1", moduleId: "m1", bag: "%24.on=out1" }
 * ```
 */
export function parseInboundTopic(topic: string): InboundTopic {
  if (topic.startsWith("$iothub/")) return iothubTopic(topic);
  const parts = topic.split("/");
  if (parts[0] !== "devices" || !parts[1]) return { kind: "unknown" };
  const deviceId = parts[1];
  let rest: string[];
  let moduleId: string | undefined;
  if (parts[2] === "modules") {
    if (!parts[3]) return { kind: "unknown" };
    moduleId = parts[3];
    rest = parts.slice(4);
  } else {
    rest = parts.slice(2);
  }
  if (rest[0] !== "messages" || rest[1] !== "events") return { kind: "unknown" };
  // The SDK ends the bag with "/" (`.../events/a=1&b=2/`); IoT Hub ignores it.
  const bag = rest.slice(2).join("/").replace(/\/$/, "");
  return { kind: "telemetry", deviceId, moduleId, bag };
}

/** The topic a module receives input messages on. */
export function inputTopic(
  deviceId: string,
  moduleId: string,
  options: { input: string; bag: string },
): string {
  return `devices/${deviceId}/modules/${moduleId}/inputs/${options.input}/${options.bag}`;
}

/** The topic a device receives cloud-to-device messages on. */
export function c2dTopic(deviceId: string, bag: string): string {
  return `devices/${deviceId}/messages/devicebound/${bag}`;
}

/** The twin response topic: `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`. */
export function twinResponseTopic(
  status: number,
  options: { rid: string; version?: number },
): string {
  const version = options.version === undefined ? "" : `&$version=${options.version}`;
  return `$iothub/twin/res/${status}/?$rid=${encodeURIComponent(options.rid)}${version}`;
}

/** The topic desired-property patches are pushed on. */
export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

/** The topic a direct method request is delivered on. */
export function methodRequestTopic(methodName: string, rid: string): string {
  return `$iothub/methods/POST/${methodName}/?$rid=${encodeURIComponent(rid)}`;
}

/**
 * {@linkcode parseInboundTopic} with the telemetry topics remembered: a client publishes on the
 * same topic again and again (`$iothub/...` topics carry a request id, so they are not kept).
 */
export class InboundTopics {
  readonly #telemetry = new Map<string, InboundTopic>();

  constructor(private readonly maxEntries = 1024) {}

  /** What `topic` asks for (the same object each time for a telemetry topic). */
  parse(topic: string): InboundTopic {
    const known = this.#telemetry.get(topic);
    if (known !== undefined) return known;
    const parsed = parseInboundTopic(topic);
    if (parsed.kind === "telemetry") {
      if (this.#telemetry.size >= this.maxEntries) this.#telemetry.clear();
      this.#telemetry.set(topic, Object.freeze(parsed));
    }
    return parsed;
  }
}

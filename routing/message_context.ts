import type { Message } from "../iothub/mod.ts";
import { isQueryableBody, NOT_QUERYABLE, parseJsonBody } from "./message_body.ts";

/**
 * Per-message state shared by every route of one table evaluation: the JSON body is decoded
 * and parsed at most once, and only when a route asks for it; the lower-cased property maps
 * used for case-insensitive lookups are built at most once, and only on a miss.
 */
export class MessageContext {
  /** The message being routed. */
  readonly message: Message;
  #queryableBody: unknown = UNREAD;
  #twinBody: unknown = UNREAD;
  #appPropertiesByLowerName: Map<string, string> | undefined;
  #systemPropertiesByLowerName: Map<string, string> | undefined;

  constructor(message: Message) {
    this.message = message;
  }

  /**
   * An application property. Names match exactly first, then case-insensitively (IoT Hub
   * property names are not case-sensitive; with two names differing only in case, the first
   * one wins).
   */
  appProperty(name: string, lowerName: string): string | undefined {
    const value = this.message.appProperties[name];
    if (typeof value === "string") return value;
    this.#appPropertiesByLowerName ??= lowerNamesOf(this.message.appProperties);
    return this.#appPropertiesByLowerName.get(lowerName);
  }

  /** A system property, looked up like {@link appProperty}. */
  systemProperty(name: string, lowerName: string): string | undefined {
    const value = this.message.systemProperties[name];
    if (typeof value === "string") return value;
    // Not lowerNamesOf: a system bag is the message's own (frozen or not), never shared, so a
    // cached answer would never be read again.
    this.#systemPropertiesByLowerName ??= byLowerName(this.message.systemProperties);
    return this.#systemPropertiesByLowerName.get(lowerName);
  }

  /** The parsed body when `$body` queries apply to it, else {@link NOT_QUERYABLE}. */
  queryableBody(): unknown {
    if (this.#queryableBody === UNREAD) {
      const { contentType, contentEncoding } = this.message.systemProperties;
      this.#queryableBody = isQueryableBody(contentType, contentEncoding)
        ? parseJsonBody(this.message.body, contentEncoding)
        : NOT_QUERYABLE;
    }
    return this.#queryableBody;
  }

  /**
   * The parsed body of a twin change notification. The hub writes these itself, so the body
   * is read as JSON even without a content type (UTF-8 unless `contentEncoding` says else).
   */
  twinBody(): unknown {
    if (this.#twinBody === UNREAD) {
      const { contentType, contentEncoding } = this.message.systemProperties;
      const declaredOther = contentType !== undefined &&
        !isQueryableBody(contentType, contentEncoding ?? "utf-8");
      this.#twinBody = declaredOther
        ? NOT_QUERYABLE
        : this.#queryableBody !== UNREAD && this.#queryableBody !== NOT_QUERYABLE
        ? this.#queryableBody
        : parseJsonBody(this.message.body, contentEncoding);
    }
    return this.#twinBody;
  }
}

const UNREAD: unique symbol = Symbol("unread");

/** The lower-case names of frozen property bags (shared by many messages: a sender's bag). */
const frozenLowerNames = new WeakMap<object, Map<string, string>>();

/**
 * `properties` by lower-case name; of a frozen bag, worked out once: `$connectionModuleId` in a
 * WHERE first looks for an application property of that name, and misses on every message.
 */
function lowerNamesOf(properties: Record<string, string | undefined>): Map<string, string> {
  if (!Object.isFrozen(properties)) return byLowerName(properties);
  let map = frozenLowerNames.get(properties);
  if (map === undefined) {
    map = byLowerName(properties);
    frozenLowerNames.set(properties, map);
  }
  return map;
}

function byLowerName(properties: Record<string, string | undefined>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(properties)) {
    const lowerName = name.toLowerCase();
    if (typeof value === "string" && !map.has(lowerName)) map.set(lowerName, value);
  }
  return map;
}

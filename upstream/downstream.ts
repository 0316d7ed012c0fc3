/**
 * What the parent sends down on an identity's connection: desired-property patches, direct method
 * requests (answered on `$iothub/methods/res/{status}/?$rid=...`) and cloud-to-device messages.
 * Each goes to a handler; the hub and the agent plug theirs in.
 */
import type { Logger } from "../core/log.ts";
import {
  identityLabel,
  type IdentityRef,
  methodPayload,
  parsePropertyBag,
  SYSTEM_KEYS,
  topicQuery,
} from "../iothub/mod.ts";
import type { TwinPatch } from "./reported_patch.ts";
import type { TwinDocument } from "./twin_requests.ts";

/** A direct method request from the parent. */
export interface UpstreamMethodRequest {
  methodName: string;
  /** The JSON payload, parsed; null when empty; the raw text when it is not JSON. */
  payload: unknown;
}

/** The answer to a direct method: an HTTP-like status and a JSON payload. */
export interface UpstreamMethodResult {
  status: number;
  payload: unknown;
}

/** A cloud-to-device message from the parent. */
export interface UpstreamC2DMessage {
  body: Uint8Array;
  appProperties: Record<string, string>;
  /** Named system properties (`messageId`, `correlationId`, `contentType`, ...). */
  systemProperties: Record<string, string>;
}

/** What ledge does with what comes down. Every handler is optional. */
export interface UpstreamHandlers {
  /** A desired-property patch of `identity`'s twin (it includes `$version`). */
  onDesired?(identity: IdentityRef, patch: TwinPatch): void | Promise<void>;
  /**
   * The full twin of a held identity (this device, `$edgeAgent`, `$edgeHub`, ...), fetched each
   * time its connection comes up: what changed while offline converges here.
   */
  onTwin?(identity: IdentityRef, twin: TwinDocument): void | Promise<void>;
  /** A direct method call on `identity`; without a handler the parent gets 501. */
  onMethod?(
    identity: IdentityRef,
    request: UpstreamMethodRequest,
  ): Promise<UpstreamMethodResult>;
  /**
   * A C2D message for `deviceId` (this device or a device below it). The parent's PUBACK waits for
   * the returned promise, so a message is acknowledged only once it is stored; a rejection makes
   * the parent send it again.
   */
  onC2D?(deviceId: string, message: UpstreamC2DMessage): Promise<void>;
}

/** Counters of what came down. */
export interface DownstreamCounters {
  desired: number;
  methods: number;
  c2d: number;
  /** C2D messages acknowledged without a handler to take them. */
  c2dUnhandled: number;
  malformed: number;
}

const METHOD = /^\$iothub\/methods\/POST\/([^/?]+)\/?(\?.*)?$/;
const C2D = /^devices\/([^/]+)\/messages\/devicebound\/?(.*)$/;
const DESIRED = "$iothub/twin/PATCH/properties/desired/";
const encoder = new TextEncoder();

/** Splits a C2D bag into application and named system properties. */
export function c2dMessage(body: Uint8Array, bag: string): UpstreamC2DMessage {
  const appProperties: Record<string, string> = {};
  const systemProperties: Record<string, string> = {};
  for (const [key, value] of parsePropertyBag(bag)) {
    const name = SYSTEM_KEYS[key];
    if (name !== undefined) systemProperties[name] = value;
    else if (!key.startsWith("$.")) appProperties[key] = value;
  }
  return { body, appProperties, systemProperties };
}

/** What the dispatcher needs: its handlers, a way to answer methods, a logger. */
export interface DownstreamOptions {
  /** Read per message, so handlers can be set after start. */
  handlers: () => UpstreamHandlers;
  /** Publishes a method answer on the identity's connection. */
  reply: (identity: IdentityRef, topic: string, payload: Uint8Array) => Promise<void>;
  logger: Logger;
}

/** The dispatcher of messages from the parent. */
export interface Downstream {
  dispatch(identity: IdentityRef, topic: string, payload: Uint8Array): void | Promise<void>;
  counters(): DownstreamCounters;
}

/** Creates the dispatcher of messages from the parent. */
export function createDownstream(options: DownstreamOptions): Downstream {
  return new DownstreamDispatcher(options);
}

/** Sends each message from the parent to its handler by topic, counting what came. */
class DownstreamDispatcher implements Downstream {
  readonly #options: DownstreamOptions;
  readonly #counters: DownstreamCounters = {
    desired: 0,
    methods: 0,
    c2d: 0,
    c2dUnhandled: 0,
    malformed: 0,
  };

  constructor(options: DownstreamOptions) {
    this.#options = options;
  }

  counters(): DownstreamCounters {
    return { ...this.#counters };
  }

  dispatch(identity: IdentityRef, topic: string, payload: Uint8Array): void | Promise<void> {
    if (topic.startsWith(DESIRED)) return this.#desired(identity, payload);
    const methodMatch = METHOD.exec(topic);
    if (methodMatch) return this.#methodRequest(identity, topic, methodMatch[1]!, payload);
    const c2dMatch = C2D.exec(topic);
    if (c2dMatch) return this.#c2d(identity, c2dMatch[1]!, c2dMatch[2]!, payload);
    this.#counters.malformed++;
    this.#options.logger.debug("unexpected message from the parent", {
      identity: identityLabel(identity),
      topic,
    });
  }

  #desired(identity: IdentityRef, payload: Uint8Array): void {
    const { logger } = this.#options;
    const label = identityLabel(identity);
    const patch = methodPayload(payload);
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
      this.#counters.malformed++;
      logger.warn("desired patch from the parent is not a JSON object", { identity: label });
      return;
    }
    this.#counters.desired++;
    const handler = this.#options.handlers().onDesired;
    if (!handler) return;
    Promise.resolve().then(() => handler(identity, patch as TwinPatch)).catch((error) => {
      logger.error("desired patch handler failed", { identity: label, error });
    });
  }

  #methodRequest(identity: IdentityRef, topic: string, encodedName: string, payload: Uint8Array) {
    const rid = topicQuery(topic).get("$rid");
    if (!rid) {
      this.#counters.malformed++;
      this.#options.logger.warn("method request from the parent without $rid", {
        identity: identityLabel(identity),
        topic,
      });
      return;
    }
    this.#counters.methods++;
    let name = encodedName;
    try {
      name = decodeURIComponent(name);
    } catch { /* keep it as sent */ }
    void this.#answerMethod(identity, name, rid, methodPayload(payload));
  }

  async #answerMethod(identity: IdentityRef, name: string, rid: string, payload: unknown) {
    const result = await this.#callMethod(identity, name, payload);
    const topic = `$iothub/methods/res/${result.status}/?$rid=${encodeURIComponent(rid)}`;
    const body = encoder.encode(JSON.stringify(result.payload ?? null));
    await this.#options.reply(identity, topic, body).catch((error) => {
      this.#options.logger.warn("cannot answer a method call from the parent", {
        method: name,
        error,
      });
    });
  }

  async #callMethod(
    identity: IdentityRef,
    name: string,
    payload: unknown,
  ): Promise<UpstreamMethodResult> {
    const handler = this.#options.handlers().onMethod;
    if (!handler) {
      return {
        status: 501,
        payload: { message: `No handler for method ${name} on ${identityLabel(identity)}` },
      };
    }
    try {
      return await handler(identity, { methodName: name, payload });
    } catch (error) {
      this.#options.logger.error("method handler failed", {
        identity: identityLabel(identity),
        method: name,
        error,
      });
      return { status: 500, payload: { message: (error as Error).message } };
    }
  }

  #c2d(identity: IdentityRef, deviceId: string, bag: string, payload: Uint8Array) {
    const { logger } = this.#options;
    let message: UpstreamC2DMessage;
    try {
      message = c2dMessage(payload, bag);
    } catch (error) {
      this.#counters.malformed++;
      logger.warn("C2D message from the parent has a bad property bag; dropped", {
        identity: identityLabel(identity),
        error,
      });
      return;
    }
    const handler = this.#options.handlers().onC2D;
    if (!handler) {
      this.#counters.c2dUnhandled++;
      logger.warn("C2D message from the parent with no handler; dropped", { device: deviceId });
      return;
    }
    this.#counters.c2d++;
    return handler(deviceId, message);
  }
}

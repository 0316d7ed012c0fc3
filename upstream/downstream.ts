/**
 * What the parent sends down on an identity's connection: desired-property patches, direct method
 * requests (answered on `$iothub/methods/res/{status}/?$rid=…`) and cloud-to-device messages.
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
  /** Named system properties (`messageId`, `correlationId`, `contentType`, …). */
  systemProperties: Record<string, string>;
}

/** What ledge does with what comes down. Every handler is optional. */
export interface UpstreamHandlers {
  /** A desired-property patch of `identity`'s twin (it includes `$version`). */
  onDesired?(identity: IdentityRef, patch: TwinPatch): void | Promise<void>;
  /**
   * The full twin of a held identity (this device, `$edgeAgent`, `$edgeHub`, …), fetched each
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

/**
 * Creates the dispatcher of messages from the parent. `reply` publishes a method answer on the
 * identity's connection; `handlers()` is read per message, so handlers can be set after start.
 */
export function createDownstream(options: {
  handlers: () => UpstreamHandlers;
  reply: (identity: IdentityRef, topic: string, payload: Uint8Array) => Promise<void>;
  logger: Logger;
}): {
  dispatch(identity: IdentityRef, topic: string, payload: Uint8Array): void | Promise<void>;
  counters(): DownstreamCounters;
} {
  const { logger } = options;
  const counters: DownstreamCounters = {
    desired: 0,
    methods: 0,
    c2d: 0,
    c2dUnhandled: 0,
    malformed: 0,
  };

  async function method(identity: IdentityRef, name: string, rid: string, payload: unknown) {
    const handler = options.handlers().onMethod;
    let result: UpstreamMethodResult;
    if (!handler) {
      result = {
        status: 501,
        payload: { message: `No handler for method ${name} on ${identityLabel(identity)}` },
      };
    } else {
      try {
        result = await handler(identity, { methodName: name, payload });
      } catch (error) {
        logger.error("method handler failed", {
          identity: identityLabel(identity),
          method: name,
          error,
        });
        result = { status: 500, payload: { message: (error as Error).message } };
      }
    }
    const topic = `$iothub/methods/res/${result.status}/?$rid=${encodeURIComponent(rid)}`;
    const body = encoder.encode(JSON.stringify(result.payload ?? null));
    await options.reply(identity, topic, body).catch((error) => {
      logger.warn("cannot answer a method call from the parent", { method: name, error });
    });
  }

  return {
    dispatch(identity, topic, payload) {
      const label = identityLabel(identity);
      if (topic.startsWith(DESIRED)) {
        const patch = methodPayload(payload);
        if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
          counters.malformed++;
          logger.warn("desired patch from the parent is not a JSON object", { identity: label });
          return;
        }
        counters.desired++;
        const handler = options.handlers().onDesired;
        if (!handler) return;
        Promise.resolve().then(() => handler(identity, patch as TwinPatch)).catch((error) => {
          logger.error("desired patch handler failed", { identity: label, error });
        });
        return;
      }
      const methodMatch = METHOD.exec(topic);
      if (methodMatch) {
        const rid = topicQuery(topic).get("$rid");
        if (!rid) {
          counters.malformed++;
          logger.warn("method request from the parent without $rid", { identity: label, topic });
          return;
        }
        counters.methods++;
        let name = methodMatch[1]!;
        try {
          name = decodeURIComponent(name);
        } catch { /* keep it as sent */ }
        void method(identity, name, rid, methodPayload(payload));
        return;
      }
      const c2dMatch = C2D.exec(topic);
      if (c2dMatch) {
        let message: UpstreamC2DMessage;
        try {
          message = c2dMessage(payload, c2dMatch[2]!);
        } catch (error) {
          counters.malformed++;
          logger.warn("C2D message from the parent has a bad property bag; dropped", {
            identity: label,
            error,
          });
          return;
        }
        const handler = options.handlers().onC2D;
        if (!handler) {
          counters.c2dUnhandled++;
          logger.warn("C2D message from the parent with no handler; dropped", {
            device: c2dMatch[1],
          });
          return;
        }
        counters.c2d++;
        return handler(c2dMatch[1]!, message);
      }
      counters.malformed++;
      logger.debug("unexpected message from the parent", { identity: label, topic });
    },
    counters: () => ({ ...counters }),
  };
}

/**
 * A direct method call to a module or device: over its MQTT session when it subscribed to
 * method requests, else through the head it is connected on (AMQP), else refused as not
 * connected. The reply comes back through {@linkcode MethodCalls.settle}.
 */
import { identityKey, identityLabel, type IdentityRef, methodRequestTopic } from "../iothub/mod.ts";
import type { ClientSession } from "./client_session.ts";
import { hubFailure, type MethodCalls, type MethodResult } from "./method_calls.ts";
import type { MethodCall } from "./head_port.ts";

/** A direct method request. */
export interface MethodRequest {
  methodName: string;
  payload: unknown;
  responseTimeoutInSeconds?: number;
}

/** Where a call can go. */
export interface MethodRoutes {
  methods: MethodCalls;
  /** The MQTT session of an identity key, if connected. */
  session(key: string): ClientSession | undefined;
  heads: {
    takesMethods(key: string): boolean;
    callMethod(key: string, call: MethodCall): boolean;
  };
}

const encoder = new TextEncoder();

/** Calls `request.methodName` on `target`; resolves with its reply or the failure. */
export async function invokeMethod(
  routes: MethodRoutes,
  target: IdentityRef,
  request: MethodRequest,
): Promise<MethodResult> {
  const key = identityKey(target);
  const session = routes.session(key);
  const overMqtt = session?.subscriptions.has("$iothub/methods/POST/#") ?? false;
  if (!overMqtt && !routes.heads.takesMethods(key)) {
    const label = identityLabel(target);
    return hubFailure("not-connected", 404, `${label} is not connected for methods`);
  }
  const timeoutMs = Math.max(1, request.responseTimeoutInSeconds ?? 30) * 1000;
  const { rid, result } = routes.methods.begin(key, timeoutMs);
  if (overMqtt) {
    session!.send(
      methodRequestTopic(request.methodName, rid),
      encoder.encode(JSON.stringify(request.payload ?? null)),
    );
  } else {
    routes.heads.callMethod(key, { methodName: request.methodName, payload: request.payload, rid });
  }
  return await result;
}

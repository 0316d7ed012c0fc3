/**
 * The method link pair's messages: a direct method call goes to the client with the method name
 * in the `IoThub-methodname` application property and the request id as correlation-id; the
 * client's reply echoes the correlation-id with an `IoThub-status` application property and a
 * JSON body.
 */
import { methodPayload } from "../../iothub/mod.ts";
import {
  type AmqpOutgoingMessage,
  type AmqpWireMessage,
  bodyBytes,
  dataSection,
  idText,
} from "./amqp_message.ts";

/** A method reply, read. */
export interface MethodReply {
  rid: string;
  status: number;
  payload: unknown;
}

/** A method reply that cannot be matched or read. */
export class MethodReplyError extends Error {
  override name = "MethodReplyError";
}

const encoder = new TextEncoder();

/** The message that calls `methodName` with `payload` (JSON) on the client. */
export function methodRequestMessage(
  methodName: string,
  payload: unknown,
  rid: string,
): AmqpOutgoingMessage {
  return {
    correlation_id: rid,
    application_properties: { "IoThub-methodname": methodName },
    body: dataSection(encoder.encode(JSON.stringify(payload ?? null))),
  };
}

/**
 * Reads a method reply.
 *
 * @throws {MethodReplyError} when the correlation-id or `IoThub-status` is missing or wrong.
 */
export function parseMethodReply(wire: AmqpWireMessage): MethodReply {
  const rid = idText(wire.correlation_id);
  if (rid === undefined || rid === "") {
    throw new MethodReplyError("Cannot read method reply: it has no correlation-id");
  }
  const properties = typeof wire.application_properties === "object" &&
      wire.application_properties !== null
    ? wire.application_properties as Record<string, unknown>
    : {};
  const raw = properties["IoThub-status"];
  const status = typeof raw === "string" ? Number(raw) : raw;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 0 || status > 999) {
    throw new MethodReplyError(
      `Cannot read method reply: IoThub-status must be an integer status, got ${
        JSON.stringify(raw)
      }`,
    );
  }
  return { rid, status, payload: methodPayload(bodyBytes(wire.body)) };
}

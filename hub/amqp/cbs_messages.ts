/**
 * The `$cbs` node's messages (claims-based security, as IoT Hub and edgeHub answer it): a
 * put-token request carries a SAS token for an audience; the reply's `status-code` says whether
 * the connection may now act as that identity.
 */
import rhea from "rhea";
import {
  type AmqpOutgoingMessage,
  type AmqpWireMessage,
  bodyBytes,
  idText,
} from "./amqp_message.ts";

/** Token types IoT Hub's CBS node takes (case-insensitive). */
const SAS_TOKEN_TYPES = ["servicebus.windows.net:sastoken", "azure-devices.net:sastoken"];

/** A put-token request, checked. */
export interface PutTokenRequest {
  /** `name`: the resource the token is for, `host/devices/d[/modules/m]` (maybe URL-encoded). */
  audience: string;
  token: string;
  /** The request's message-id, echoed as the reply's correlation-id. */
  messageId: string | undefined;
  /** Where the reply goes (`reply_to`, "cbs" from the Node SDK). */
  replyTo: string | undefined;
}

/** A malformed CBS request (answered with status 400). */
export class CbsRequestError extends Error {
  override name = "CbsRequestError";
}

const decoder = new TextDecoder();

/**
 * Reads a put-token request.
 *
 * @throws {CbsRequestError} naming the missing or wrong property.
 */
export function parsePutToken(wire: AmqpWireMessage): PutTokenRequest {
  const properties = typeof wire.application_properties === "object" &&
      wire.application_properties !== null
    ? wire.application_properties as Record<string, unknown>
    : {};
  const operation = properties.operation;
  if (typeof operation !== "string" || operation.toLowerCase() !== "put-token") {
    throw new CbsRequestError(
      `Cannot handle CBS request: operation must be "put-token", got ${JSON.stringify(operation)}`,
    );
  }
  const type = properties.type;
  if (typeof type !== "string" || !SAS_TOKEN_TYPES.includes(type.toLowerCase())) {
    throw new CbsRequestError(
      `Cannot handle CBS request: type must be one of ${SAS_TOKEN_TYPES.join(", ")}, got ${
        JSON.stringify(type)
      }`,
    );
  }
  const audience = properties.name;
  if (typeof audience !== "string" || audience === "") {
    throw new CbsRequestError("Cannot handle CBS request: name (the audience) is missing");
  }
  const token = typeof wire.body === "string" ? wire.body : decoder.decode(bodyBytes(wire.body));
  if (token === "") throw new CbsRequestError("Cannot handle CBS request: the body has no token");
  return {
    audience,
    token,
    messageId: idText(wire.message_id),
    replyTo: typeof wire.reply_to === "string" ? wire.reply_to : undefined,
  };
}

/**
 * The reply to a CBS request: correlation-id = the request's message-id, `status-code` as an
 * AMQP int (the C# SDK reads it as one) and `status-description`.
 */
export function cbsReply(
  request: { messageId: string | undefined; replyTo: string | undefined },
  status: number,
  description: string,
): AmqpOutgoingMessage {
  const reply: AmqpOutgoingMessage = {
    body: null,
    application_properties: {
      "status-code": rhea.types.wrap_int(status),
      "status-description": description,
    },
  };
  if (request.messageId !== undefined) reply.correlation_id = request.messageId;
  if (request.replyTo !== undefined) reply.to = request.replyTo;
  return reply;
}

/** The identity an audience names: `[amqps://]host/devices/d[/modules/m]`, ids URL-decoded. */
export function audienceIdentity(
  audience: string,
): { host: string; deviceId: string; moduleId?: string } {
  let text = audience;
  if (!text.includes("/")) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw new CbsRequestError(`Cannot read audience "${audience}": invalid URL encoding`);
    }
  }
  text = text.replace(/^amqps?:\/\//i, "");
  const parts = text.split("/");
  const valid = parts.length >= 3 && parts[1]?.toLowerCase() === "devices" && parts[2] !== "" &&
    (parts.length === 3 || (parts.length === 5 && parts[3]?.toLowerCase() === "modules" &&
      parts[4] !== ""));
  if (!valid) {
    throw new CbsRequestError(
      `Cannot read audience "${audience}": expected host/devices/{deviceId}[/modules/{moduleId}]`,
    );
  }
  try {
    const deviceId = decodeURIComponent(parts[2]!);
    const host = parts[0]!;
    return parts.length === 5
      ? { host, deviceId, moduleId: decodeURIComponent(parts[4]!) }
      : { host, deviceId };
  } catch {
    throw new CbsRequestError(`Cannot read audience "${audience}": invalid URL encoding`);
  }
}

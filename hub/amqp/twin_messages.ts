/**
 * The twin link pair's messages (IoT Hub's AMQP twin protocol as the Azure IoT SDKs speak it):
 * requests carry an `operation` annotation (GET, PATCH of `/properties/reported`, PUT / DELETE of
 * `/notifications/twin/properties/desired`) and a correlation-id; replies echo the correlation-id
 * with a `status` annotation; desired-property patches are pushed with no correlation-id.
 */
import rhea from "rhea";
import {
  type AmqpOutgoingMessage,
  type AmqpWireMessage,
  bodyBytes,
  dataSection,
  idText,
} from "./amqp_message.ts";

/** A twin request, read. */
export type TwinRequest =
  | { operation: "GET"; correlationId: string }
  | { operation: "PATCH"; correlationId: string; body: Uint8Array }
  | { operation: "PUT" | "DELETE"; correlationId: string }
  | { operation: "invalid"; correlationId: string | undefined; reason: string };

const DESIRED_NOTIFICATIONS = "/notifications/twin/properties/desired";
const REPORTED = "/properties/reported";
const encoder = new TextEncoder();

function annotation(wire: AmqpWireMessage, key: string): unknown {
  const annotations = wire.message_annotations;
  return typeof annotations === "object" && annotations !== null
    ? (annotations as Record<string, unknown>)[key]
    : undefined;
}

/** Reads a request sent on the twin link; anything unusable is `invalid` with the reason. */
export function parseTwinRequest(wire: AmqpWireMessage): TwinRequest {
  const correlationId = idText(wire.correlation_id);
  const operation = annotation(wire, "operation");
  const resource = annotation(wire, "resource");
  const invalid = (reason: string): TwinRequest => ({
    operation: "invalid",
    correlationId,
    reason,
  });
  if (correlationId === undefined || correlationId === "") {
    return invalid("a twin request needs a correlation-id");
  }
  switch (operation) {
    case "GET":
      return { operation, correlationId };
    case "PATCH":
      if (resource !== undefined && resource !== REPORTED) {
        return invalid(`PATCH of ${String(resource)} is not supported (only ${REPORTED})`);
      }
      return { operation, correlationId, body: bodyBytes(wire.body) };
    case "PUT":
    case "DELETE":
      if (resource !== DESIRED_NOTIFICATIONS) {
        return invalid(`${operation} of ${String(resource)} is not supported`);
      }
      return { operation, correlationId };
    default:
      return invalid(`unknown twin operation ${JSON.stringify(operation)}`);
  }
}

/**
 * The reply to a twin request: `status` (an AMQP int) and, for a PATCH, the new reported
 * `version`; `body` is sent as JSON when given.
 */
export function twinReply(
  correlationId: string,
  status: number,
  options: { body?: unknown; version?: number } = {},
): AmqpOutgoingMessage {
  const annotations: Record<string, unknown> = { status: rhea.types.wrap_int(status) };
  if (options.version !== undefined) annotations.version = rhea.types.wrap_long(options.version);
  const body = options.body === undefined
    ? new Uint8Array()
    : encoder.encode(JSON.stringify(options.body));
  return {
    correlation_id: correlationId,
    message_annotations: annotations,
    body: dataSection(body),
  };
}

/** A desired-properties patch pushed to the client (the patch includes `$version`). */
export function desiredPatchMessage(patch: unknown, version: number): AmqpOutgoingMessage {
  return {
    message_annotations: { version: rhea.types.wrap_long(version) },
    body: dataSection(encoder.encode(JSON.stringify(patch))),
  };
}

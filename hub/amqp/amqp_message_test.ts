import { messageFromTelemetry, MessageTooLargeError } from "../../iothub/mod.ts";
import assert from "node:assert/strict";
import rhea from "rhea";
import { Buffer } from "node:buffer";
import {
  amqpFromMessage,
  type AmqpWireMessage,
  bodyBytes,
  idText,
  messageFromAmqp,
} from "./amqp_message.ts";

const fixed = { now: () => new Date("2030-01-02T03:04:05Z"), newId: () => "id-1" };
const sender = { deviceId: "edge", moduleId: "a", generationId: "g1" };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** What rhea hands the hub after the bytes crossed the wire. */
function overTheWire(message: Record<string, unknown>): AmqpWireMessage {
  return rhea.message.decode(rhea.message.encode(message)) as AmqpWireMessage;
}

Deno.test("messageFromAmqp() reads what the SDK's AmqpMessage.fromMessage sends", () => {
  const uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
  const wire = overTheWire({
    message_id: rhea.string_to_uuid(uuid),
    correlation_id: "cid-1",
    content_type: "application/json",
    content_encoding: "utf-8",
    to: "/devices/edge/modules/a/messages/events",
    application_properties: {
      "iothub-outputname": "out1",
      "iothub-creation-time-utc": "2030-01-01T00:00:00Z",
      temp: "21.5",
      count: 3,
      flag: true,
      nothing: null,
    },
    message_annotations: { "dt-subject": "thermostat1", "iothub-interface-id": "dtmi:x;1" },
    body: rhea.message.data_section(Buffer.from('{"t":1}')),
  });
  const message = messageFromAmqp(wire, { sender, maxMessageBytes: 4096, ...fixed });
  assert.equal(text(message.body), '{"t":1}');
  assert.deepEqual(message.appProperties, { temp: "21.5", count: "3", flag: "true" });
  assert.deepEqual(message.systemProperties, {
    messageId: uuid,
    correlationId: "cid-1",
    contentType: "application/json",
    contentEncoding: "utf-8",
    to: "/devices/edge/modules/a/messages/events",
    outputName: "out1",
    creationTime: "2030-01-01T00:00:00Z",
    componentName: "thermostat1",
    interfaceId: "dtmi:x;1",
    connectionDeviceId: "edge",
    connectionModuleId: "a",
    connectionDeviceGenerationId: "g1",
    enqueuedTime: "2030-01-02T03:04:05.000Z",
  });
});

Deno.test("messageFromAmqp() makes the same Message as the MQTT head for the same send", () => {
  const viaMqtt = messageFromTelemetry(new TextEncoder().encode("x"), {
    bag: "%24.on=out1&%24.mid=m1&%24.cid=c1&%24.ct=text%2Fplain&%24.ce=utf-8&temp=20",
    sender,
    maxMessageBytes: 4096,
    ...fixed,
  });
  const viaAmqp = messageFromAmqp(
    overTheWire({
      message_id: "m1",
      correlation_id: "c1",
      content_type: "text/plain",
      content_encoding: "utf-8",
      application_properties: { "iothub-outputname": "out1", temp: "20" },
      body: rhea.message.data_section(Buffer.from("x")),
    }),
    { sender, maxMessageBytes: 4096, ...fixed },
  );
  assert.deepEqual(viaAmqp, { ...viaMqtt, body: viaAmqp.body });
  assert.deepEqual(viaAmqp.body, viaMqtt.body);
});

Deno.test("messageFromAmqp() stamps the sender over a forged connection id and fills a messageId", () => {
  const message = messageFromAmqp(
    overTheWire({
      application_properties: { "iothub-connection-device-id": "x" },
      message_annotations: { "iothub-connection-device-id": "other" },
      body: "hi",
    }),
    { sender: { deviceId: "leaf" }, maxMessageBytes: 4096, ...fixed },
  );
  assert.equal(message.systemProperties.connectionDeviceId, "leaf");
  assert.equal(message.systemProperties.connectionModuleId, undefined);
  assert.equal(message.systemProperties.messageId, "id-1");
  assert.equal(text(message.body), "hi");
});

Deno.test("messageFromAmqp() keeps application properties named like Object members", () => {
  const wire = overTheWire({
    application_properties: { constructor: "c", toString: "t", hasOwnProperty: "h" },
    body: "x",
  });
  const message = messageFromAmqp(wire, { sender, maxMessageBytes: 1024, ...fixed });
  assert.deepEqual(message.appProperties, { constructor: "c", toString: "t", hasOwnProperty: "h" });
  assert.deepEqual(Object.keys(message.systemProperties).sort(), [
    "connectionDeviceGenerationId",
    "connectionDeviceId",
    "connectionModuleId",
    "enqueuedTime",
    "messageId",
  ]);
});

Deno.test("messageFromAmqp() refuses a message above max_message_bytes, counting properties", () => {
  const wire = overTheWire({
    application_properties: { big: "p".repeat(600) },
    body: rhea.message.data_section(Buffer.alloc(500)),
  });
  assert.throws(
    () => messageFromAmqp(wire, { sender, maxMessageBytes: 1024, ...fixed }),
    MessageTooLargeError,
  );
  assert.doesNotThrow(() => messageFromAmqp(wire, { sender, maxMessageBytes: 2048, ...fixed }));
});

Deno.test("bodyBytes() reads every AMQP body kind", () => {
  assert.equal(text(bodyBytes(undefined)), "");
  assert.equal(text(bodyBytes(overTheWire({ body: "value" }).body)), "value");
  assert.equal(
    text(
      bodyBytes(
        overTheWire({ body: rhea.message.data_sections([Buffer.from("a"), Buffer.from("b")]) })
          .body,
      ),
    ),
    "ab",
  );
  assert.equal(text(bodyBytes(overTheWire({ body: { k: 1 } }).body)), '{"k":1}');
  assert.equal(
    text(bodyBytes(overTheWire({ body: rhea.message.sequence_section([1, 2]) }).body)),
    "[1,2]",
  );
  assert.equal(text(bodyBytes(overTheWire({ body: Buffer.from("bin") }).body)), "bin");
});

Deno.test("idText() spells uuids, numbers and binary ids as text", () => {
  assert.equal(idText("x"), "x");
  assert.equal(idText(7), "7");
  assert.equal(
    idText(rhea.string_to_uuid("0f8fad5b-d9cb-469f-a165-70867728950e")),
    "0f8fad5b-d9cb-469f-a165-70867728950e",
  );
  assert.equal(idText(new Uint8Array([1, 255])), "01ff");
  assert.equal(idText({}), undefined);
});

Deno.test("amqpFromMessage() delivers what the SDK's AmqpMessage.toMessage reads", () => {
  const wire = overTheWire(amqpFromMessage({
    body: new TextEncoder().encode('{"v":20}'),
    appProperties: { temp: "20" },
    systemProperties: {
      messageId: "mid-20",
      correlationId: "cid-20",
      contentType: "application/json",
      contentEncoding: "utf-8",
      connectionDeviceId: "edge",
      connectionModuleId: "a",
      outputName: "out1",
      enqueuedTime: "2030-01-02T03:04:05.000Z",
      creationTime: "2030-01-01T00:00:00Z",
      messageSchema: "s1",
    },
  }, { inputName: "in1" }) as unknown as Record<string, unknown>);
  assert.equal(wire.message_id, "mid-20");
  assert.equal(wire.correlation_id, "cid-20");
  assert.equal(wire.content_type, "application/json");
  assert.equal(wire.content_encoding, "utf-8");
  assert.equal(text(bodyBytes(wire.body)), '{"v":20}');
  assert.deepEqual(wire.application_properties, {
    temp: "20",
    "iothub-message-schema": "s1",
    "iothub-creation-time-utc": "2030-01-01T00:00:00Z",
  });
  const annotations = wire.message_annotations as Record<string, unknown>;
  assert.equal(annotations["x-opt-input-name"], "in1");
  assert.equal(annotations["iothub-connection-device-id"], "edge");
  assert.equal(annotations["iothub-connection-module-id"], "a");
  assert.deepEqual(annotations["iothub-enqueuedtime"], new Date("2030-01-02T03:04:05Z"));
});

import assert from "node:assert/strict";
import { bagForDelivery, messageFromTelemetry, MessageTooLargeError } from "./message_codec.ts";
import { parsePropertyBag } from "./property_bag.ts";

const body = new TextEncoder().encode('{"t":1}');
const sender = { deviceId: "edge", moduleId: "a", generationId: "g1" };
const fixed = { now: () => new Date("2030-01-02T03:04:05Z"), newId: () => "id-1" };

Deno.test("messageFromTelemetry() splits the bag into system and application properties", () => {
  const message = messageFromTelemetry(body, {
    bag:
      "%24.on=out1&%24.ct=application%2Fjson&%24.ce=utf-8&%24.mid=m7&%24.cid=c&temp=21.5&a%20b=x%26y",
    sender,
    maxMessageBytes: 1024,
    ...fixed,
  });
  assert.deepEqual(message.appProperties, { temp: "21.5", "a b": "x&y" });
  assert.deepEqual(message.systemProperties, {
    outputName: "out1",
    contentType: "application/json",
    contentEncoding: "utf-8",
    messageId: "m7",
    correlationId: "c",
    connectionDeviceId: "edge",
    connectionModuleId: "a",
    connectionDeviceGenerationId: "g1",
    enqueuedTime: "2030-01-02T03:04:05.000Z",
  });
  assert.equal(message.body, body);
});

Deno.test("messageFromTelemetry() stamps the sender and ignores a forged connection id", () => {
  const message = messageFromTelemetry(body, {
    bag: "%24.cdid=other&%24.cmid=b",
    sender: { deviceId: "leaf" },
    maxMessageBytes: 1024,
    ...fixed,
  });
  assert.equal(message.systemProperties.connectionDeviceId, "leaf");
  assert.equal(message.systemProperties.connectionModuleId, undefined);
  assert.equal(message.systemProperties.messageId, "id-1");
});

Deno.test("messageFromTelemetry() refuses a message over the size limit", () => {
  assert.throws(
    () => messageFromTelemetry(new Uint8Array(2000), { bag: "", sender, maxMessageBytes: 1024 }),
    MessageTooLargeError,
  );
});

Deno.test("bagForDelivery() round-trips properties through the bag a receiver parses", () => {
  const message = messageFromTelemetry(body, {
    bag: "%24.ct=application%2Fjson&k=v%3D1&%24.on=o",
    sender,
    maxMessageBytes: 1024,
    ...fixed,
  });
  const bag = parsePropertyBag(bagForDelivery(message));
  assert.equal(bag.get("k"), "v=1");
  assert.equal(bag.get("$.ct"), "application/json");
  assert.equal(bag.get("$.cdid"), "edge");
  assert.equal(bag.get("$.cmid"), "a");
  assert.equal(bag.get("$.mid"), "id-1");
  assert.equal(bag.get("$.on"), "o");
});

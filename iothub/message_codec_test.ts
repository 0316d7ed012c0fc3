import assert from "node:assert/strict";
import {
  bagForDelivery,
  deliveryBagLength,
  isoText,
  messageFromTelemetry,
  MessageTooLargeError,
  writeDeliveryBag,
} from "./message_codec.ts";
import { parsePropertyBag } from "./property_bag.ts";
import type { Message } from "./message.ts";

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

Deno.test("writeDeliveryBag() writes the bytes of bagForDelivery(), deliveryBagLength() of them", () => {
  const texts = [
    "",
    "v",
    "a b",
    "x&y=z",
    "50%",
    "\u00e9t\u00e9",
    "\ud83c\udf21",
    "/path?q",
    "A-Z_a.z!~*'()",
  ];
  const inherited = Object.assign(Object.create({ fromProto: "p" }), { own: "o" });
  const messages: Omit<Message, "body">[] = [
    { appProperties: {}, systemProperties: {} },
    { appProperties: { "": "" }, systemProperties: {} },
    { appProperties: {}, systemProperties: { messageId: "", contentType: undefined } },
    {
      appProperties: inherited,
      systemProperties: { constructor: "c", toString: "t", custom: "x" },
    },
    ...texts.map((text, i) => ({
      appProperties: { [text]: texts[(i + 1) % texts.length]!, k: text },
      systemProperties: {
        messageId: text,
        outputName: texts[(i + 2) % texts.length],
        enqueuedTime: "2026-12-03T00:00:00.000Z",
        connectionModuleId: i % 2 ? undefined : "m",
      },
    })),
  ];
  const encoder = new TextEncoder();
  for (const message of messages) {
    const fields = { body: new Uint8Array(), ...message };
    const want = encoder.encode(bagForDelivery(fields));
    assert.equal(deliveryBagLength(fields), want.length, JSON.stringify(message));
    const out = new Uint8Array(want.length + 4).fill(0xee);
    assert.equal(writeDeliveryBag(fields, out, 2), 2 + want.length);
    assert.deepEqual(out, new Uint8Array([0xee, 0xee, ...want, 0xee, 0xee]));
  }
  assert.equal(bagForDelivery({ body: new Uint8Array(), ...messages[3]! }), "own=o");
  const lone = { body: new Uint8Array(), appProperties: { k: "\ud800" }, systemProperties: {} };
  assert.throws(() => bagForDelivery(lone), URIError);
  assert.throws(() => deliveryBagLength(lone), URIError);
});

Deno.test("isoText() is toISOString(), across seconds, years and the epoch", () => {
  const starts = [
    0,
    -1,
    -86_400_000 * 400,
    Date.UTC(2026, 11, 31, 23, 59, 58, 990),
    Date.UTC(2024, 1, 29, 12, 0, 0, 0),
    Date.UTC(9999, 11, 31, 23, 59, 59, 0),
    Date.UTC(10000, 0, 1),
    Date.now(),
  ];
  for (const start of starts) {
    for (let ms = start - 1500; ms < start + 2500; ms += 7) {
      assert.equal(isoText(ms), new Date(ms).toISOString(), String(ms));
      assert.equal(isoText(ms), new Date(ms).toISOString(), `${ms} again`);
    }
  }
});

import assert from "node:assert/strict";
import { messageFromTelemetry, MessageTooLargeError } from "./message_codec.ts";
import { messageSource } from "./message.ts";
import { TelemetryStamper } from "./telemetry_stamper.ts";
import { InboundTopics, parseInboundTopic } from "./topic_codec.ts";

const sender = { deviceId: "d1", moduleId: "m1", generationId: "g1" };
const body = new TextEncoder().encode("{}");

Deno.test("TelemetryStamper builds what messageFromTelemetry builds, per bag, with its own id per message", () => {
  let n = 0;
  const stamper = new TelemetryStamper(sender, 1024, () => `id-${++n}`);
  for (
    const bag of [
      "%24.on=out&a=1&%24.cdid=forged",
      "%24.on=out&a=1&%24.cdid=forged",
      "%24.mid=mine&%24.ct=application%2Fjson&b=2",
      "",
    ]
  ) {
    const message = stamper.message(body, bag);
    const expected = messageFromTelemetry(body, {
      bag,
      sender,
      maxMessageBytes: 1024,
      newId: () => `id-${n}`,
    });
    expected.systemProperties.enqueuedTime = message.systemProperties.enqueuedTime!;
    assert.deepEqual(message, expected, bag);
    assert.deepEqual(Object.keys(message.systemProperties), Object.keys(expected.systemProperties));
    assert.equal(stamper.source, messageSource(message));
    // Frozen, so the store keeps them without a copy.
    assert.ok(Object.isFrozen(message.appProperties) && Object.isFrozen(message.systemProperties));
  }
  assert.equal(n, 3, "a message id is made only for bags without $.mid");
  assert.throws(() => stamper.message(new Uint8Array(1024), "a=1"), MessageTooLargeError);
});

Deno.test("InboundTopics answers as parseInboundTopic, the same object for a telemetry topic", () => {
  const topics = new InboundTopics(2);
  for (
    const topic of [
      "devices/d1/modules/m1/messages/events/%24.on=out",
      "devices/d1/modules/m1/messages/events/%24.on=out",
      "$iothub/twin/GET/?$rid=1",
      "devices/d1/messages/events/",
      "devices/d2/messages/events/",
      "nothing/here",
    ]
  ) assert.deepEqual(topics.parse(topic), parseInboundTopic(topic), topic);
  const telemetry = "devices/d1/messages/events/a=1";
  assert.equal(topics.parse(telemetry), topics.parse(telemetry));
});

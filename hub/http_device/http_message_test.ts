import assert from "node:assert/strict";
import { messageFromTelemetry, MessageTooLargeError } from "../../iothub/mod.ts";
import {
  c2dHeaders,
  HttpMessageError,
  messageFromRequest,
  messagesFromBatch,
} from "./http_message.ts";

const fixed = { now: () => new Date("2030-01-02T03:04:05Z"), newId: () => "id-1" };
const sender = { deviceId: "leaf" };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("messageFromRequest() reads the headers the SDK's Http transport sends", () => {
  const headers = new Headers({
    "iothub-to": "/devices/leaf/messages/events",
    "IoTHub-MessageId": "m1",
    "IoTHub-CorrelationId": "c1",
    "iothub-contenttype": "application/json",
    "iothub-contentencoding": "utf-8",
    "iothub-app-temp": "21",
    "dt-subject": "thermostat1",
    "user-agent": "azure-iot-device/1.18.4",
  });
  const message = messageFromRequest(new TextEncoder().encode('{"t":1}'), headers, {
    sender,
    maxMessageBytes: 4096,
    ...fixed,
  });
  assert.equal(text(message.body), '{"t":1}');
  assert.deepEqual(message.appProperties, { temp: "21" });
  assert.deepEqual(message.systemProperties, {
    messageId: "m1",
    correlationId: "c1",
    contentType: "application/json",
    contentEncoding: "utf-8",
    componentName: "thermostat1",
    connectionDeviceId: "leaf",
    enqueuedTime: "2030-01-02T03:04:05.000Z",
  });
  const viaMqtt = messageFromTelemetry(message.body, {
    bag: "%24.mid=m1&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&%24.sub=thermostat1&temp=21",
    sender,
    maxMessageBytes: 4096,
    ...fixed,
  });
  assert.deepEqual(message, viaMqtt, "the same Message as the MQTT head makes");
});

Deno.test("messagesFromBatch() reads the SDK's batch and IoT Hub's base64Encoded flag", () => {
  const batch = JSON.stringify([
    { body: btoa("one"), properties: { "iothub-app-n": "1" } },
    { body: "two", base64Encoded: false, properties: { n: "2", "iothub-messageid": "m2" } },
  ]);
  const [one, two] = messagesFromBatch(batch, { sender, maxMessageBytes: 4096, ...fixed });
  assert.equal(text(one!.body), "one");
  assert.deepEqual(one!.appProperties, { n: "1" });
  assert.equal(text(two!.body), "two");
  assert.deepEqual(two!.appProperties, { n: "2" });
  assert.equal(two!.systemProperties.messageId, "m2");
});

Deno.test("messagesFromBatch() names the entry that is wrong", () => {
  const options = { sender, maxMessageBytes: 64, ...fixed };
  const cases: [string, RegExp][] = [
    ["{", /not JSON/],
    ["{}", /expected an array/],
    ["[3]", /\[0\] is not an object/],
    ['[{"body":1}]', /\[0\]\.body must be a string/],
    ['[{"body":"YQ=="},{"body":"%%"}]', /\[1\]\.body is not base64/],
    ['[{"body":"YQ==","properties":{"k":1}}]', /\[0\]\.properties\.k must be a string/],
  ];
  for (const [body, error] of cases) {
    assert.throws(() => messagesFromBatch(body, options), HttpMessageError, body);
    assert.throws(() => messagesFromBatch(body, options), error, body);
  }
  assert.throws(
    () => messagesFromBatch(JSON.stringify([{ body: btoa("x".repeat(100)) }]), options),
    MessageTooLargeError,
  );
});

Deno.test("c2dHeaders() carries the lock token as ETag and properties as iothub-app-*", () => {
  const headers = c2dHeaders({
    body: new Uint8Array(),
    appProperties: { name: "v", "odd key": "naïve" },
    systemProperties: { messageId: "m", to: "/devices/leaf/messages/devicebound" },
  }, "lock-1");
  assert.equal(headers.get("etag"), '"lock-1"');
  assert.equal(headers.get("iothub-messageid"), "m");
  assert.equal(headers.get("iothub-to"), "/devices/leaf/messages/devicebound");
  assert.equal(headers.get("iothub-app-name"), "v");
  assert.equal(headers.get("iothub-app-odd%20key"), "na%C3%AFve");
});

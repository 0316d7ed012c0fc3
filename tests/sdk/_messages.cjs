// Message helpers the SDK scripts share: properties of a received message as a plain object, and
// an SDK Message from a test's `send` command.
"use strict";
const { Message } = require("azure-iot-device");

function propertiesOf(msg) {
  const properties = {};
  for (let i = 0; i < msg.properties.count(); i++) {
    const p = msg.properties.getItem(i);
    properties[p.key] = p.value;
  }
  return properties;
}

function messageOf(command) {
  const msg = new Message(command.body);
  if (command.messageId) msg.messageId = command.messageId;
  if (command.correlationId) msg.correlationId = command.correlationId;
  if (command.contentType) msg.contentType = command.contentType;
  if (command.contentEncoding) msg.contentEncoding = command.contentEncoding;
  for (const [k, v] of Object.entries(command.properties || {})) {
    msg.properties.add(k, v);
  }
  return msg;
}

module.exports = { messageOf, propertiesOf };

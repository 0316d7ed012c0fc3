import assert from "node:assert/strict";
import rhea from "rhea";
import { Buffer } from "node:buffer";
import type { AmqpWireMessage } from "./amqp_message.ts";
import { audienceIdentity, cbsReply, CbsRequestError, parsePutToken } from "./cbs_messages.ts";
import { MethodReplyError, methodRequestMessage, parseMethodReply } from "./method_messages.ts";
import { hubNameMatches, parseSaslUsername, SaslUsernameError } from "./sasl_plain.ts";
import { desiredPatchMessage, parseTwinRequest, twinReply } from "./twin_messages.ts";

function overTheWire(message: object): AmqpWireMessage & Record<string, unknown> {
  return rhea.message.decode(rhea.message.encode(message)) as
    & AmqpWireMessage
    & Record<
      string,
      unknown
    >;
}
const text = (body: unknown) => new TextDecoder().decode((body as { content: Uint8Array }).content);

Deno.test("parsePutToken() reads the SDK's put-token and cbsReply() answers it", () => {
  const wire = overTheWire({
    to: "$cbs",
    reply_to: "cbs",
    message_id: "6c1d0f6e-1b8a-4b52-9c1e-1f7b3f0b8a11",
    application_properties: {
      operation: "put-token",
      type: "servicebus.windows.net:sastoken",
      name: "hub.example%2Fdevices%2Fedge%2Fmodules%2Fa",
    },
    body: "SharedAccessSignature sr=x&sig=y&se=1",
  });
  const request = parsePutToken(wire);
  assert.deepEqual(request, {
    audience: "hub.example%2Fdevices%2Fedge%2Fmodules%2Fa",
    token: "SharedAccessSignature sr=x&sig=y&se=1",
    messageId: "6c1d0f6e-1b8a-4b52-9c1e-1f7b3f0b8a11",
    replyTo: "cbs",
  });
  const reply = overTheWire(cbsReply(request, 200, "OK"));
  assert.equal(reply.correlation_id, request.messageId);
  assert.equal(reply.to, "cbs");
  assert.deepEqual(reply.application_properties, {
    "status-code": 200,
    "status-description": "OK",
  });
});

Deno.test("parsePutToken() refuses requests that are not a SAS put-token", () => {
  const base = {
    application_properties: {
      operation: "put-token",
      type: "servicebus.windows.net:sastoken",
      name: "h/devices/d",
    },
    body: "token",
  };
  assert.doesNotThrow(() => parsePutToken(overTheWire(base)));
  const broken: object[] = [
    { ...base, application_properties: { ...base.application_properties, operation: "delete" } },
    { ...base, application_properties: { ...base.application_properties, type: "jwt" } },
    { ...base, application_properties: { ...base.application_properties, name: "" } },
    { ...base, body: "" },
    { body: "token" },
  ];
  for (const message of broken) {
    assert.throws(() => parsePutToken(overTheWire(message)), CbsRequestError);
  }
});

Deno.test("audienceIdentity() reads encoded and plain audiences", () => {
  assert.deepEqual(audienceIdentity("hub.example%2Fdevices%2Fedge%2Fmodules%2F%24edgeAgent"), {
    host: "hub.example",
    deviceId: "edge",
    moduleId: "$edgeAgent",
  });
  assert.deepEqual(audienceIdentity("amqps://gw/devices/leaf%201"), {
    host: "gw",
    deviceId: "leaf 1",
  });
  for (const bad of ["hub", "hub/devices", "hub/devices/", "hub/modules/m", "h/devices/d/x/m"]) {
    assert.throws(() => audienceIdentity(bad), CbsRequestError, bad);
  }
});

Deno.test("parseTwinRequest() reads GET, PATCH, PUT and DELETE as the SDK sends them", () => {
  const request = (operation: string, resource?: string, body = " ") =>
    parseTwinRequest(overTheWire({
      correlation_id: "c1",
      message_annotations: resource === undefined ? { operation } : { operation, resource },
      body: rhea.message.data_section(Buffer.from(body)),
    }));
  assert.deepEqual(request("GET"), { operation: "GET", correlationId: "c1" });
  const patch = request("PATCH", "/properties/reported", '{"a":1}');
  assert.equal(patch.operation, "PATCH");
  assert.equal(
    new TextDecoder().decode((patch as { body: Uint8Array }).body),
    '{"a":1}',
  );
  assert.deepEqual(request("PUT", "/notifications/twin/properties/desired"), {
    operation: "PUT",
    correlationId: "c1",
  });
  assert.equal(request("DELETE", "/notifications/twin/properties/desired").operation, "DELETE");
  assert.equal(request("PATCH", "/properties/desired").operation, "invalid");
  assert.equal(request("PUT", "/elsewhere").operation, "invalid");
  assert.equal(request("POST").operation, "invalid");
  assert.equal(
    parseTwinRequest(overTheWire({ message_annotations: { operation: "GET" } })).operation,
    "invalid",
  );
});

Deno.test("twinReply() and desiredPatchMessage() are what the SDK's twin client reads", () => {
  const reply = overTheWire(twinReply("c1", 200, { body: { desired: { $version: 1 } } }));
  assert.equal(reply.correlation_id, "c1");
  assert.equal((reply.message_annotations as Record<string, unknown>).status, 200);
  assert.equal(text(reply.body), '{"desired":{"$version":1}}');
  const patched = overTheWire(twinReply("c2", 204, { version: 7 }));
  assert.deepEqual(patched.message_annotations, { status: 204, version: 7 });
  const desired = overTheWire(desiredPatchMessage({ a: 1, $version: 3 }, 3));
  assert.equal(desired.correlation_id, undefined);
  assert.equal(text(desired.body), '{"a":1,"$version":3}');
});

Deno.test("methodRequestMessage() and parseMethodReply() carry name, rid, status and payload", () => {
  const request = overTheWire(methodRequestMessage("echo", { n: 1 }, "rid-1"));
  assert.equal(request.correlation_id, "rid-1");
  assert.deepEqual(request.application_properties, { "IoThub-methodname": "echo" });
  assert.equal(text(request.body), '{"n":1}');
  const reply = overTheWire({
    correlation_id: "rid-1",
    application_properties: { "IoThub-status": rhea.types.wrap_int(200) },
    body: rhea.message.data_section(Buffer.from('{"ok":true}')),
  });
  assert.deepEqual(parseMethodReply(reply), { rid: "rid-1", status: 200, payload: { ok: true } });
  assert.throws(
    () => parseMethodReply(overTheWire({ correlation_id: "r", body: "x" })),
    MethodReplyError,
  );
  assert.throws(
    () => parseMethodReply(overTheWire({ application_properties: { "IoThub-status": 200 } })),
    MethodReplyError,
  );
});

Deno.test("parseSaslUsername() reads edgeHub's SASL PLAIN identities", () => {
  assert.deepEqual(parseSaslUsername("leaf1@sas.myhub"), { deviceId: "leaf1", hubName: "myhub" });
  assert.deepEqual(parseSaslUsername("edge/modules/%24edgeAgent@sas.myhub"), {
    deviceId: "edge",
    moduleId: "$edgeAgent",
    hubName: "myhub",
  });
  for (const bad of ["leaf1", "@sas.hub", "a/b@sas.hub", "a@sas.hub.example", "a/modules/@sas.h"]) {
    assert.throws(() => parseSaslUsername(bad), SaslUsernameError, bad);
  }
  assert.equal(hubNameMatches("MyHub", ["myhub.azure-devices.net"]), true);
  assert.equal(hubNameMatches("other", ["myhub.azure-devices.net", "gateway"]), false);
});

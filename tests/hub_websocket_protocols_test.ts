/**
 * The WebSocket endpoint of a real `ledge run` agrees only to the subprotocols it serves: `mqtt`
 * and `AMQPWSB10` are echoed back (101), anything else gets a 400 that names what is served,
 * never an echo of what the client offered.
 */
import assert from "node:assert/strict";
import { startLedge } from "./_ledge.ts";

/** Sends a WebSocket upgrade offering `protocols`; resolves with the response head and body. */
async function upgrade(
  port: number,
  ca: string,
  protocols: string | undefined,
): Promise<{ status: number; protocol: string | undefined; text: string }> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
  try {
    const lines = [
      "GET /$iothub/websocket HTTP/1.1",
      `Host: localhost:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Key: ${btoa("ledge-test-key16")}`,
      ...(protocols === undefined ? [] : [`Sec-WebSocket-Protocol: ${protocols}`]),
    ];
    await conn.write(new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`));
    let text = "";
    const buffer = new Uint8Array(4096);
    // The head (and for a refusal its body) arrives in the first reads; a 101 stays open.
    while (!/\r\n\r\n/.test(text) || (/^HTTP\/1.1 4/.test(text) && !/served/.test(text))) {
      const read = await conn.read(buffer);
      if (read === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, read));
    }
    const status = Number(text.slice(9, 12));
    const protocol = /^sec-websocket-protocol:\s*(.+?)\r$/im.exec(text)?.[1];
    return { status, protocol, text };
  } finally {
    conn.close();
  }
}

Deno.test("the WebSocket endpoint agrees only to mqtt and AMQPWSB10, refusing others with a 400", async () => {
  const ledge = await startLedge();
  try {
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    const port = ledge.ports.https;
    const mqtt = await upgrade(port, ca, "mqtt");
    assert.equal(mqtt.status, 101, mqtt.text);
    assert.equal(mqtt.protocol, "mqtt");
    const amqp = await upgrade(port, ca, "AMQPWSB10");
    assert.equal(amqp.status, 101, amqp.text);
    assert.equal(amqp.protocol, "AMQPWSB10");
    const both = await upgrade(port, ca, "foo, mqtt");
    assert.equal(both.protocol, "mqtt", "of several offered, a served one");
    for (const offered of ["foo", "stomp, wamp", "MQTT"]) {
      const refused = await upgrade(port, ca, offered);
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.protocol, undefined, "nothing agreed to");
      assert.match(refused.text, /not served here; offer "mqtt" or "AMQPWSB10"/);
    }
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

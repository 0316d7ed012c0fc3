/**
 * ledge's own upstream MQTT client against a scripted parent on `Deno.listenTls` (a test PKI made
 * by openssl): keep-alive, a refused CONNACK, PUBACKs in any order and a dropped link.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import mqttPacket from "npm:mqtt-packet@9.0.2";
import { NativeLinkClient } from "./native_link_client.ts";
import type { LinkHandlers } from "./link_client.ts";
import { makeParentPki } from "../tests/_upstream_parent.ts";
import { commandAvailable, serviceTest } from "../tests/_services.ts";
import { waitFor } from "../tests/_wait.ts";

const needs = [await commandAvailable("openssl")];

type Packet = mqttPacket.Packet;

/** A parent that hands each packet from the client to `script` and writes what it returns. */
async function scriptedParent(
  script: (packet: Packet) => (Packet | "close")[],
): Promise<
  { port: number; caPem: string; seen: Packet[]; [Symbol.asyncDispose](): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-link-client-" });
  const pki = await makeParentPki(dir);
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(pki.serverCert),
    key: await Deno.readTextFile(pki.serverKey),
  });
  const seen: Packet[] = [];
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      let writes = Promise.resolve();
      parser.on("packet", (packet) => {
        seen.push(packet);
        for (const out of script(packet)) {
          writes = writes.then(() =>
            out === "close" ? conn.close() : void conn.write(mqttPacket.generate(out))
          ).catch(() => {});
        }
      });
      (async () => {
        const buffer = new Uint8Array(4096);
        for (;;) {
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) return;
          parser.parse(Buffer.from(buffer.subarray(0, n)));
        }
      })();
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    caPem: await Deno.readTextFile(pki.caFile),
    seen,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by the script */ }
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function recording(): { handlers: LinkHandlers; events: string[]; errors: unknown[] } {
  const events: string[] = [];
  const errors: unknown[] = [];
  return {
    events,
    errors,
    handlers: {
      connected: () => events.push("connected"),
      error: (error) => errors.push(error),
      closed: () => events.push("closed"),
      message: () => {},
    },
  };
}

function client(port: number, caPem: string, handlers: LinkHandlers, keepaliveSeconds = 180) {
  return new NativeLinkClient(
    {
      url: `mqtts://localhost:${port}`,
      clientId: "child",
      username: "u",
      password: "p",
      ca: caPem,
    },
    { connectTimeoutMs: 10_000, keepaliveSeconds },
    handlers,
  );
}

const CONNACK_OK: Packet = { cmd: "connack", returnCode: 0, sessionPresent: false };

serviceTest(
  "the client pings when idle and closes when a ping goes unanswered",
  needs,
  async () => {
    let pings = 0;
    await using parent = await scriptedParent((packet) => {
      if (packet.cmd === "connect") return [CONNACK_OK];
      // The first ping is answered, the second is not.
      if (packet.cmd === "pingreq" && ++pings === 1) return [{ cmd: "pingresp" }];
      return [];
    });
    const { handlers, events, errors } = recording();
    const link = client(parent.port, parent.caPem, handlers, 1);
    await waitFor("the close", () => events.includes("closed"), 15_000);
    assert.deepEqual(events, ["connected", "closed"]);
    assert.equal(pings, 2);
    assert.match(String(errors[0]), /keepalive timeout/);
    await link.endAsync();
  },
);

serviceTest("a refused CONNACK is an error carrying its return code", needs, async () => {
  await using parent = await scriptedParent(
    () => [{ cmd: "connack", returnCode: 5, sessionPresent: false }],
  );
  const { handlers, events, errors } = recording();
  client(parent.port, parent.caPem, handlers);
  await waitFor("the close", () => events.includes("closed"));
  assert.deepEqual(events, ["closed"]);
  assert.equal((errors[0] as { code: number }).code, 5);
  const connect = parent.seen[0] as mqttPacket.IConnectPacket;
  assert.equal(connect.clientId, "child");
  assert.equal(connect.clean, false);
  assert.equal(connect.keepalive, 180);
});

serviceTest(
  "PUBACKs settle their own publishes in any order; the parent dropping the link fails the rest",
  needs,
  async () => {
    const publishes: number[] = [];
    await using parent = await scriptedParent((packet) => {
      if (packet.cmd === "connect") return [CONNACK_OK];
      if (packet.cmd === "subscribe") {
        return [{ cmd: "suback", messageId: packet.messageId!, granted: [1, 128] }];
      }
      if (packet.cmd !== "publish") return [];
      publishes.push(packet.messageId!);
      if (publishes.length < 3) return [];
      // The third is acknowledged first, then the first; the link drops with the second open.
      const [first, , third] = publishes;
      return [{ cmd: "puback", messageId: third! }, { cmd: "puback", messageId: first! }, "close"];
    });
    const { handlers, events } = recording();
    const link = client(parent.port, parent.caPem, handlers);
    await waitFor("the CONNACK", () => events.includes("connected"));
    assert.deepEqual(await link.subscribe(["a/#", "b/#"]), [1, 128]);
    const outcomes = ["open", "open", "open"];
    const done = (index: number) => (error?: Error) => outcomes[index] = error ? "failed" : "acked";
    for (let i = 0; i < 3; i++) link.publish(`t/${i}`, new Uint8Array([i]), 1, done(i));
    await waitFor("the close", () => events.includes("closed"));
    assert.deepEqual(outcomes, ["acked", "failed", "acked"]);
    let late: Error | undefined;
    link.publish("t/late", new Uint8Array(), 1, (error) => late = error);
    await waitFor("the late publish to fail", () => late);
  },
);

/**
 * The broker's edges, tried from another process against a real `ledge run` with crafted bytes
 * over raw TCP and TLS (issue 19 item 5): sockets that never send CONNECT hold a slot under
 * hub.max_connections and are closed at the CONNECT deadline; packet id 0, an UNSUBSCRIBE
 * without topics and a topic that is not UTF-8 close the connection; the username's host must be
 * the hub's; a SAS token that lives longer than security.max_sas_token_lifetime_seconds is
 * refused.
 */
import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { WebSocket } from "ws";
import { startLedge } from "./_ledge.ts";
import { sasToken } from "./_hub_sas.ts";
import {
  closedByPeer,
  connectPacket,
  mqttString,
  PacketReader,
  publishPacket,
  rawPacket,
} from "./_mqtt_raw.ts";

const DEVICE = "sensor-1";
const CONNACK = 2;
const PUBACK = 4;
const SUBACK = 9;
const UNSUBACK = 11;

async function addDevice(ledge: Awaited<ReturnType<typeof startLedge>>): Promise<string> {
  const added = await ledge.cli(["identity", "add-device", DEVICE]);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.match(/SharedAccessKey=([^;\s]+)/)?.[1];
  assert.ok(key, added.stdout);
  return key;
}

async function openTls(port: number, ca: string): Promise<PacketReader> {
  return new PacketReader(await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] }));
}

/** Sends CONNECT and resolves with the CONNACK return code (or "closed"). */
async function connect(
  reader: PacketReader,
  options: { key: string; usernameHost?: string; expirySeconds?: number },
): Promise<number | "closed"> {
  const password = sasToken({
    host: "localhost",
    deviceId: DEVICE,
    key: options.key,
    ...(options.expirySeconds === undefined ? {} : { expirySeconds: options.expirySeconds }),
  });
  await reader.conn.write(connectPacket({
    clientId: DEVICE,
    username: `${options.usernameHost ?? "localhost"}/${DEVICE}/?api-version=2021-04-12`,
    password,
  }));
  const reply = await reader.next();
  if (reply === null) return "closed";
  assert.equal(reply.type, CONNACK);
  return reply.body[1]!;
}

Deno.test("hub: connections that have not sent CONNECT count toward max_connections", async () => {
  const ledge = await startLedge({
    extraConfig: `[hub]\nmax_connections = 20\nconnect_timeout_seconds = 600\n`,
    logLevel: "info",
  });
  const held: PacketReader[] = [];
  try {
    const key = await addDevice(ledge);
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    // 30 idle TCP sockets on the MQTT/TLS port, no TLS handshake, no CONNECT.
    for (let i = 0; i < 30; i++) {
      held.push(
        new PacketReader(await Deno.connect({ hostname: "127.0.0.1", port: ledge.ports.mqtt })),
      );
    }
    // The 10 beyond the bound are closed at once (a bounded wait, so a broken gate fails).
    let closed = 0;
    let tenClosed: () => void = () => {};
    const waitTen = new Promise<void>((resolve) => tenClosed = resolve);
    for (const reader of held) {
      reader.next().then(() => {
        if (++closed === 10) tenClosed();
      });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      waitTen,
      new Promise((_, reject) =>
        timer = setTimeout(() => reject(new Error(`only ${closed} of 30 closed`)), 20_000)
      ),
    ]);
    clearTimeout(timer);

    // The other 20 still hold their slots (were one more closed, this client would get in).
    const refused = await openTls(ledge.ports.mqtt, ca).catch(() => undefined);
    if (refused) {
      assert.equal(await connect(refused, { key }).catch(() => "closed"), "closed");
      refused.conn.close();
    }

    // Once they go, it gets in.
    for (const reader of held) reader.conn.close();
    held.length = 0;
    let code: number | "closed" = "closed";
    for (let attempt = 0; attempt < 50 && code !== 0; attempt++) {
      const reader = await openTls(ledge.ports.mqtt, ca).catch(() => undefined);
      if (!reader) continue;
      code = await connect(reader, { key }).catch(() => "closed" as const);
      reader.conn.close();
    }
    assert.equal(code, 0);
  } finally {
    for (const reader of held) reader.conn.close();
    await ledge.stop();
  }
});

Deno.test("hub: a connection that sends no CONNECT is closed at connect_timeout_seconds, AMQP over WebSocket is not", async () => {
  const ledge = await startLedge({
    extraConfig: `[hub]\nconnect_timeout_seconds = 1\n`,
    logLevel: "info",
  });
  try {
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    // Opened first, so its slot's deadline passes before the MQTT sockets' do.
    const amqp = new WebSocket(`wss://localhost:${ledge.ports.https}/$iothub/websocket`, [
      "AMQPWSB10",
    ], { ca });
    await new Promise((resolve, reject) => {
      amqp.once("open", resolve);
      amqp.once("error", reject);
    });
    const tcp = new PacketReader(
      await Deno.connect({ hostname: "127.0.0.1", port: ledge.ports.mqtt }),
    );
    const tlsConn = await Deno.connectTls({
      hostname: "localhost",
      port: ledge.ports.mqtt,
      caCerts: [ca],
    });
    await tlsConn.handshake();
    const tlsOnly = new PacketReader(tlsConn);
    const partial = await openTls(ledge.ports.mqtt, ca);
    await partial.conn.write(new Uint8Array([0x10, 40, 0, 4])); // a CONNECT that never ends
    await Promise.all([tcp, tlsOnly, partial].map((reader) => closedByPeer(reader)));
    for (const reader of [tcp, tlsOnly, partial]) reader.conn.close();
    // The AMQP head still answers: its SASL header comes back.
    assert.equal(amqp.readyState, WebSocket.OPEN, "AMQP over WebSocket was closed");
    const reply = new Promise<Buffer>((resolve, reject) => {
      amqp.once("message", (data: Buffer) => resolve(data));
      amqp.once("close", () => reject(new Error("AMQP over WebSocket was closed")));
    });
    amqp.send(new Uint8Array([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]));
    assert.equal(new TextDecoder().decode((await reply).subarray(0, 4)), "AMQP");
    amqp.terminate();
  } finally {
    await ledge.stop();
  }
});

Deno.test("hub: bad packets close the connection, the username host and SAS lifetime are checked", async (t) => {
  const ledge = await startLedge({
    extraConfig: `[security]\nmax_sas_token_lifetime_seconds = 7200\n`,
    logLevel: "info",
  });
  try {
    const key = await addDevice(ledge);
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    const events = `devices/${DEVICE}/messages/events/`;
    const c2d = `devices/${DEVICE}/messages/devicebound/#`;

    const connected = async () => {
      const reader = await openTls(ledge.ports.mqtt, ca);
      assert.equal(await connect(reader, { key }), 0);
      return reader;
    };

    await t.step("well-formed packets are answered (the control)", async () => {
      const reader = await connected();
      await reader.conn.write(publishPacket(events, { qos: 1, packetId: 7 }));
      assert.deepEqual(await reader.next(), {
        type: PUBACK,
        flags: 0,
        body: new Uint8Array([0, 7]),
      });
      await reader.conn.write(rawPacket(0x82, [0, 8, ...mqttString(c2d), 1]));
      assert.equal((await reader.next())?.type, SUBACK);
      await reader.conn.write(rawPacket(0xa2, [0, 9, ...mqttString(c2d)]));
      assert.equal((await reader.next())?.type, UNSUBACK);
      reader.conn.close();
    });

    const bad: [string, Uint8Array][] = [
      ["PUBLISH QoS 1 with packet id 0", publishPacket(events, { qos: 1, packetId: 0 })],
      ["SUBSCRIBE with packet id 0", rawPacket(0x82, [0, 0, ...mqttString(c2d), 1])],
      ["UNSUBSCRIBE with packet id 0", rawPacket(0xa2, [0, 0, ...mqttString(c2d)])],
      ["UNSUBSCRIBE without topics", rawPacket(0xa2, [0, 5])],
      [
        "PUBLISH to a topic that is not UTF-8",
        publishPacket(new Uint8Array([...new TextEncoder().encode(events), 0xc3, 0x28]), {
          qos: 1,
          packetId: 3,
        }),
      ],
      [
        "SUBSCRIBE to a filter that is not UTF-8",
        rawPacket(0x82, [0, 4, ...mqttString(new Uint8Array([0xff, 0x23])), 1]),
      ],
      [
        "UNSUBSCRIBE of a filter that is not UTF-8",
        rawPacket(0xa2, [0, 4, ...mqttString(new Uint8Array([0xed, 0xa0, 0x80]))]),
      ],
    ];
    for (const [name, packet] of bad) {
      await t.step(`${name}: closed, nothing acknowledged`, async () => {
        const reader = await connected();
        await reader.conn.write(packet);
        assert.equal(await reader.next(), null);
        reader.conn.close();
      });
    }

    await t.step("a username whose host is not the hub's is refused", async () => {
      const reader = await openTls(ledge.ports.mqtt, ca);
      assert.equal(await connect(reader, { key, usernameHost: "other-hub.example" }), 5);
      reader.conn.close();
    });

    await t.step("a SAS token living longer than the configured maximum is refused", async () => {
      const now = Math.floor(Date.now() / 1000);
      const long = await openTls(ledge.ports.mqtt, ca);
      assert.equal(await connect(long, { key, expirySeconds: now + 30 * 86400 }), 5);
      long.conn.close();
      const within = await openTls(ledge.ports.mqtt, ca);
      assert.equal(await connect(within, { key, expirySeconds: now + 7000 }), 0);
      within.conn.close();
    });
  } finally {
    await ledge.stop();
  }
});

/** Connects as `deviceId` with a SAS token signed by `deviceKey`; the CONNACK code (or "closed"). */
async function connectAs(
  port: number,
  ca: string,
  deviceId: string,
  deviceKey: string,
): Promise<number | "closed"> {
  const reader = await openTls(port, ca);
  try {
    await reader.conn.write(connectPacket({
      clientId: deviceId,
      username: `localhost/${deviceId}/?api-version=2021-04-12`,
      password: sasToken({ host: "localhost", deviceId, key: deviceKey }),
    }));
    const reply = await reader.next();
    if (reply === null) return "closed";
    assert.equal(reply.type, CONNACK);
    return reply.body[1]!;
  } finally {
    reader.conn.close();
  }
}

Deno.test("hub: a device that keeps failing is refused alone; another identity at the same address connects", async () => {
  const ledge = await startLedge({
    extraConfig: `[hub]\nauth_failures_per_minute = 3\n`,
    logLevel: "info",
  });
  try {
    const key = await addDevice(ledge);
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    const ghostKey = btoa("a key of a device that was removed");
    for (let i = 0; i < 10; i++) {
      assert.equal(await connectAs(ledge.ports.mqtt, ca, "ghost", ghostKey), 5);
    }
    const limited = ledge.logs.filter((line) => line.includes("too many failures"));
    assert.equal(limited.length, 7, "after 3 failures the ghost is refused before any check");
    assert.equal(
      await connectAs(ledge.ports.mqtt, ca, DEVICE, key),
      0,
      "another identity at the same address",
    );
  } finally {
    await ledge.stop();
  }
});

Deno.test("hub: idle sockets on the AMQP/TLS port count toward max_connections and meet the CONNECT deadline", async () => {
  const ledge = await startLedge({
    extraConfig: `[hub]\nmax_connections = 4\nconnect_timeout_seconds = 2\n`,
    logLevel: "info",
  });
  const held: PacketReader[] = [];
  try {
    const key = await addDevice(ledge);
    const ca = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
    // Four idle TCP sockets on the AMQP port take every slot: an MQTT client is turned away.
    for (let i = 0; i < 4; i++) {
      held.push(
        new PacketReader(await Deno.connect({ hostname: "127.0.0.1", port: ledge.ports.amqp })),
      );
    }
    const fifth = new PacketReader(
      await Deno.connect({ hostname: "127.0.0.1", port: ledge.ports.amqp }),
    );
    await closedByPeer(fifth, 10_000);
    const refused = await openTls(ledge.ports.mqtt, ca).catch(() => undefined);
    if (refused) {
      assert.equal(await connect(refused, { key }).catch(() => "closed"), "closed");
      refused.conn.close();
    }
    // They never authenticate: closed at the deadline, and the slots are free again.
    for (const reader of held) await closedByPeer(reader, 10_000);
    const reader = await openTls(ledge.ports.mqtt, ca);
    assert.equal(await connect(reader, { key }), 0);
    reader.conn.close();
  } finally {
    for (const reader of held) reader.conn.close();
    await ledge.stop();
  }
});

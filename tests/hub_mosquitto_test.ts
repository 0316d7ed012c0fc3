/**
 * mosquitto_pub / mosquitto_sub as independent clients of the hub over MQTT/TLS: SAS tokens
 * computed here (not by ledge) are accepted or refused, and the ACL refuses publishing as
 * another module, subscribing to another module's inputs and `#`. Malformed and oversize input
 * closes only the offending connection.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { startHubFixture } from "./_hub_fixture.ts";
import { sasToken } from "./_hub_sas.ts";
import { commandAvailable, serviceTest } from "./_services.ts";

async function run(command: string, args: string[]) {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

serviceTest(
  "mosquitto clients: SAS accepted and refused, ACL denials, bad packets close one connection",
  [await commandAvailable("mosquitto_pub"), await commandAvailable("mosquitto_sub")],
  async (t) => {
    const fixture = await startHubFixture();
    try {
      fixture.applyRoutes(
        { toB: 'FROM /messages/modules/a/* INTO BrokeredEndpoint("/modules/b/inputs/in")' },
        "1.0",
      );
      await fixture.moduleEnv("a");
      await fixture.moduleEnv("b");
      const keyOf = (moduleId: string) => {
        const identity = fixture.security.manager.registry.get("edge1", moduleId);
        assert.ok(identity && identity.auth.type === "sas");
        return identity.auth.primaryKey;
      };
      const tls = [
        "-h",
        "localhost",
        "-p",
        String(fixture.ports.mqtts),
        "--cafile",
        fixture.caFile,
      ];
      const as = (moduleId: string, key = keyOf(moduleId), host = "hub.example") => [
        "-i",
        `edge1/${moduleId}`,
        "-u",
        `hub.example/edge1/${moduleId}/?api-version=2021-04-12`,
        "-P",
        sasToken({ host, deviceId: "edge1", moduleId, key }),
      ];
      const events = (moduleId: string) => `devices/edge1/modules/${moduleId}/messages/events/`;

      await t.step("a valid SAS token is accepted and the message is routed", async () => {
        const pub = await run("mosquitto_pub", [
          ...tls,
          ...as("a"),
          "-q",
          "1",
          "-t",
          events("a"),
          "-m",
          "hi",
        ]);
        assert.equal(pub.code, 0, pub.stderr);
        const sub = await run("mosquitto_sub", [
          ...tls,
          ...as("b"),
          "-q",
          "1",
          "-t",
          "devices/edge1/modules/b/inputs/#",
          "-C",
          "1",
          "-W",
          "10",
        ]);
        assert.equal(sub.code, 0, sub.stderr);
        assert.equal(sub.stdout.trim(), "hi");
        const stats = fixture.hub.hub.stats();
        assert.equal(stats.routedByRoute.toB, 1, "counted for the route that took it");
        assert.equal(stats.routed["/modules/b/inputs/in"], 1);
        const { commits, syncs } = stats.store;
        assert.ok(commits >= 1, "the routed message was committed");
        assert.ok(syncs.onLoop + syncs.onPool >= commits, "each commit with its sync");
        assert.equal(syncs.seconds.count, syncs.onLoop + syncs.onPool, "each sync timed");
        assert.ok(syncs.seconds.sum > 0, "a sync takes some time");
      });

      await t.step("a wrong key, an expired token and a wrong audience are refused", async () => {
        const wrongKey = await run("mosquitto_pub", [
          ...tls,
          ...as("a", keyOf("b")),
          "-t",
          events("a"),
          "-m",
          "x",
        ]);
        assert.notEqual(wrongKey.code, 0);
        assert.match(wrongKey.stderr, /not authori[sz]ed/i);
        const expired = await run("mosquitto_pub", [
          ...tls,
          "-i",
          "edge1/a",
          "-u",
          "hub.example/edge1/a/?api-version=2021-04-12",
          "-P",
          sasToken({
            host: "hub.example",
            deviceId: "edge1",
            moduleId: "a",
            key: keyOf("a"),
            expirySeconds: 1000,
          }),
          "-t",
          events("a"),
          "-m",
          "x",
        ]);
        assert.notEqual(expired.code, 0);
        const otherHost = await run("mosquitto_pub", [
          ...tls,
          ...as("a", keyOf("a"), "evil.example"),
          "-t",
          events("a"),
          "-m",
          "x",
        ]);
        assert.notEqual(otherHost.code, 0);
        const mismatched = await run("mosquitto_pub", [
          ...tls,
          "-i",
          "edge1/b",
          "-u",
          "hub.example/edge1/b/?api-version=2021-04-12",
          "-P",
          sasToken({ host: "hub.example", deviceId: "edge1", moduleId: "a", key: keyOf("a") }),
          "-t",
          events("b"),
          "-m",
          "x",
        ]);
        assert.notEqual(mismatched.code, 0);
        assert.ok(fixture.hub.hub.stats().authFailures >= 4);
      });

      await t.step(
        "publishing as another module closes the connection without PUBACK",
        async () => {
          const before = fixture.hub.hub.stats().aclDenials;
          const pub = await run("mosquitto_pub", [
            ...tls,
            ...as("a"),
            "-q",
            "1",
            "-t",
            events("b"),
            "-m",
            "forged",
            "-d",
          ]);
          assert.doesNotMatch(pub.stdout + pub.stderr, /PUBACK/);
          assert.equal(fixture.hub.hub.stats().aclDenials, before + 1);
        },
      );

      await t.step(
        "subscribing to another module's inputs or to # is refused with SUBACK 0x80",
        async () => {
          for (
            const filter of [
              "devices/edge1/modules/b/inputs/#",
              "#",
              "devices/+/modules/+/inputs/#",
            ]
          ) {
            const sub = await run("mosquitto_sub", [
              ...tls,
              ...as("a"),
              "-t",
              filter,
              "-C",
              "1",
              "-W",
              "3",
              "-d",
            ]);
            // mosquitto_sub -d prints the SUBACK's return code for its one filter (mid 1):
            // 128 (0x80) is a refusal; it then gives up and delivers nothing.
            assert.ok(
              sub.stdout.includes(`sending SUBSCRIBE (Mid: 1, Topic: ${filter}, QoS: 0`),
              sub.stdout,
            );
            assert.match(sub.stdout, /^Subscribed \(mid: 1\): 128$/m, filter);
            assert.match(sub.stderr, /^All subscription requests were denied\.$/m, filter);
            assert.doesNotMatch(sub.stdout, /received PUBLISH/, filter);
          }
          // The same check tells a granted filter apart: a's own inputs get return code 0.
          const own = await run("mosquitto_sub", [
            ...tls,
            ...as("a"),
            "-t",
            "devices/edge1/modules/a/inputs/#",
            "-C",
            "1",
            "-W",
            "1",
            "-d",
          ]);
          assert.match(own.stdout, /^Subscribed \(mid: 1\): 0$/m);
          assert.doesNotMatch(own.stderr, /denied/);
        },
      );

      await t.step(
        "malformed and oversize packets close that connection; the hub carries on",
        async () => {
          for (
            const bytes of [
              [0x30, 0x05, 0, 1, 0x61, 0x62, 0x63], // PUBLISH before CONNECT
              [0x20, 0x02, 0, 0], // a CONNACK from a client
              [0x10, 0xff, 0xff, 0xff, 0x7f], // CONNECT claiming 256 MiB
            ]
          ) {
            const closed = await new Promise<boolean>((resolve) => {
              const socket = net.connect(
                fixture.ports.plain,
                "127.0.0.1",
                () => socket.write(new Uint8Array(bytes)),
              );
              socket.on("close", () => resolve(true));
              socket.on("error", () => {});
              setTimeout(() => {
                socket.destroy();
                resolve(false);
              }, 5000);
            });
            assert.ok(closed, `connection sending ${bytes} must be closed`);
          }
          const pub = await run("mosquitto_pub", [
            ...tls,
            ...as("a"),
            "-q",
            "1",
            "-t",
            events("a"),
            "-m",
            "still up",
          ]);
          assert.equal(pub.code, 0, pub.stderr);
        },
      );
    } finally {
      await fixture.stop();
    }
  },
);

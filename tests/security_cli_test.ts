/**
 * `ledge identity …` and `ledge cert …` as a user runs them: real `deno run main.ts` processes
 * against a real `ledge run` daemon.
 */
import assert from "node:assert/strict";
import { serviceTest } from "./_services.ts";
import { startLedge } from "./_ledge.ts";
import { OPENSSL, opensslVerify } from "./_security.ts";

serviceTest("the identity and cert verbs work against a running daemon", [OPENSSL], async (t) => {
  const ledge = await startLedge();
  try {
    let key = "";
    await t.step("identity list shows the edge device", async () => {
      const result = await ledge.cli(["identity", "list", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const identities = JSON.parse(result.stdout);
      assert.ok(
        identities.some((i: { deviceId: string; kind: string }) =>
          i.deviceId === "test-device" && i.kind === "edge-device"
        ),
      );
      assert.ok(!result.stdout.includes("Key"), "no keys in the listing");
    });

    await t.step(
      "identity add-device prints a connection string through this gateway",
      async () => {
        const result = await ledge.cli(["identity", "add-device", "leaf1"]);
        assert.equal(result.code, 0, result.stderr);
        const match = result.stdout.trim().match(
          /^HostName=localhost;DeviceId=leaf1;SharedAccessKey=([A-Za-z0-9+/=]{44});GatewayHostName=localhost$/,
        );
        assert.ok(match, result.stdout);
        key = match[1]!;
        const again = await ledge.cli(["identity", "add-device", "LEAF1"]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /leaf1 exists/);
        const bad = await ledge.cli(["identity", "add-device", "bad/id"]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /deviceId/);
      },
    );

    await t.step("identity show and list never print the key", async () => {
      const shown = await ledge.cli(["identity", "show", "leaf1"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).authType, "sas");
      const listed = await ledge.cli(["identity", "list"]);
      assert.match(listed.stdout, /^ID\s+KIND\s+AUTH\s+GENERATION/);
      for (const text of [shown.stdout, listed.stdout, ledge.logs.join("\n")]) {
        assert.ok(!text.includes(key), "the SAS key leaked");
      }
      const missing = await ledge.cli(["identity", "show", "nobody"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Cannot find identity nobody/);
      const usage = await ledge.cli(["identity", "show", "a/b/c"]);
      assert.equal(usage.code, 2);
    });

    await t.step(
      "identity add-device --auth x509 writes a client certificate that verifies",
      async () => {
        const result = await ledge.cli(["identity", "add-device", "leaf2", "--auth", "x509"]);
        assert.equal(result.code, 0, result.stderr);
        const certFile = result.stdout.match(/certificate: (\S+)/)![1]!;
        const keyFile = result.stdout.match(/key:\s+(\S+)/)![1]!;
        assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
        const bundle = await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`);
        const verified = await opensslVerify(ledge.stateDir, {
          bundlePem: bundle,
          chainPem: await Deno.readTextFile(certFile),
          purpose: "sslclient",
        });
        assert.equal(verified.code, 0, verified.output);
      },
    );

    await t.step("identity rm removes a leaf device and refuses the edge device", async () => {
      assert.equal((await ledge.cli(["identity", "rm", "leaf1"])).code, 0);
      const listed = JSON.parse((await ledge.cli(["identity", "list", "--json"])).stdout);
      assert.ok(!listed.some((i: { deviceId: string }) => i.deviceId === "leaf1"));
      const refused = await ledge.cli(["identity", "rm", "test-device"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /only leaf devices/);
    });

    await t.step("cert list, cert renew and cert renew --ca", async () => {
      type Cert = { kind: string; serial: string; daysLeft: number; sans: string[] };
      const list = async () =>
        JSON.parse((await ledge.cli(["cert", "list", "--json"])).stdout).certificates as Cert[];
      const before = await list();
      for (const kind of ["root-ca", "edge-ca", "server"]) {
        assert.ok(before.some((c) => c.kind === kind), kind);
      }
      const server = (certs: Cert[]) => certs.find((c) => c.kind === "server")!;
      assert.ok(server(before).sans.includes("dns:localhost"));
      assert.ok(server(before).daysLeft >= 0.9, "about one day (the default leaf lifetime)");
      const table = await ledge.cli(["cert", "list"]);
      assert.match(table.stdout, /NAME\s+KIND\s+SUBJECT\s+SANS\s+NOT AFTER\s+DAYS LEFT/);
      assert.equal((await ledge.cli(["cert", "renew"])).code, 0);
      const renewed = await list();
      assert.notEqual(server(renewed).serial, server(before).serial);
      assert.equal(
        renewed.find((c) => c.kind === "edge-ca")!.serial,
        before.find((c) => c.kind === "edge-ca")!.serial,
      );
      const ca = await ledge.cli(["cert", "renew", "--ca"]);
      assert.equal(ca.code, 0, ca.stderr);
      const afterCa = await list();
      assert.notEqual(
        afterCa.find((c) => c.kind === "edge-ca")!.serial,
        before.find((c) => c.kind === "edge-ca")!.serial,
      );
      assert.equal(
        afterCa.find((c) => c.kind === "previous-edge-ca")!.serial,
        before.find((c) => c.kind === "edge-ca")!.serial,
      );
    });
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true }).catch(() => {});
    await Deno.remove(ledge.configPath).catch(() => {});
  }
});

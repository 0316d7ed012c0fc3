/**
 * The device CA and the certificates it issues, judged by openssl: chains verify, templates hold
 * (single URI SAN, critical keyUsage, cA=false, pathLen 0, notAfter within the issuer's), the
 * name constraint rejects an out-of-domain leaf, and the PKI survives restarts and bad files.
 */
import assert from "node:assert/strict";
import { ConfigError, parseConfigText } from "../core/config_load.ts";
import { PkiFileError } from "../security/mod.ts";
import { serviceTest } from "./_services.ts";
import {
  certificateText,
  OPENSSL,
  openssl,
  opensslVerify,
  socketRequest,
  startSecurity,
} from "./_security.ts";

const API = "api-version=2019-01-30";

function sanLine(text: string): string {
  return text.match(/X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]*)/)?.[1] ?? "";
}

async function endDate(pem: string): Promise<number> {
  const result = await openssl(["x509", "-noout", "-enddate"], pem);
  return Date.parse(result.stdout.trim().replace("notAfter=", ""));
}

serviceTest(
  "every certificate kind verifies with openssl and follows its template",
  [OPENSSL],
  async (t) => {
    const fixture = await startSecurity();
    try {
      const { manager } = fixture.component;
      const { socketDir, generationId } = await manager.provisionModule("sensor");
      const bundle = manager.trustBundlePem();
      const pki = `${fixture.stateDir}/pki`;
      const root = await Deno.readTextFile(`${pki}/root_ca.pem`);
      const edge = await Deno.readTextFile(`${pki}/edge_ca.pem`);

      await t.step("root CA: self-signed CA with critical keyCertSign", async () => {
        const text = await certificateText(root);
        assert.match(text, /Basic Constraints: critical\s+CA:TRUE\n/);
        assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
        assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
        assert.match(text, /NIST CURVE: P-256/);
      });

      await t.step(
        "edge CA: pathLen 0, name-constrained to the trust domain, under the root",
        async () => {
          const text = await certificateText(edge);
          assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
          assert.match(text, /Name Constraints: critical\s+Permitted:\s+URI:dev1\.test\n/);
          const verified = await opensslVerify(fixture.stateDir, {
            bundlePem: root,
            chainPem: edge,
          });
          assert.equal(verified.code, 0, verified.output);
          assert.ok(await endDate(edge) <= await endDate(root));
        },
      );

      await t.step(
        "hub server certificate: serverAuth, the hub's names, chain verifies",
        async () => {
          const tls = manager.serverTls();
          const verified = await opensslVerify(fixture.stateDir, {
            bundlePem: bundle,
            chainPem: tls.chainPem,
            purpose: "sslserver",
          });
          assert.equal(verified.code, 0, verified.output);
          const text = await certificateText(tls.certPem);
          assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
          assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
          assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication\n/);
          const sans = sanLine(text);
          for (
            const name of [
              "DNS:edge.local",
              "DNS:hub.example",
              "DNS:localhost",
              "IP Address:127.0.0.1",
              "IP Address:0:0:0:0:0:0:0:1",
            ]
          ) {
            assert.ok(sans.includes(name), `${name} missing from ${sans}`);
          }
          // No URI SAN: rustls refuses one under the edge CA's URI name constraint.
          assert.equal(sans.match(/URI:/g), null, sans);
          assert.ok(await endDate(tls.certPem) <= await endDate(edge));
          const key = await openssl(["pkey", "-noout", "-text"], tls.keyPem);
          assert.equal(key.code, 0, key.stderr);
        },
      );

      const socket = `${socketDir}/workload.sock`;
      await t.step(
        "module identity certificate: clientAuth, one URI SAN with its SPIFFE ID",
        async () => {
          const answer = await socketRequest(
            socket,
            "POST",
            `/modules/sensor/certificate/identity?${API}`,
            "{}",
          );
          assert.equal(answer.status, 201, JSON.stringify(answer.body));
          const chain = answer.body.certificate as string;
          const verified = await opensslVerify(fixture.stateDir, {
            bundlePem: bundle,
            chainPem: chain,
            purpose: "sslclient",
          });
          assert.equal(verified.code, 0, verified.output);
          const text = await certificateText(chain);
          assert.equal(sanLine(text), "URI:spiffe://dev1.test/ledge/dev1/sensor");
          assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
          assert.match(text, /Extended Key Usage:\s+TLS Web Client Authentication\n/);
          const key = (answer.body.privateKey as { bytes: string }).bytes;
          const modulus = await openssl(["pkey", "-pubout"], key);
          const certKey = await openssl(["x509", "-noout", "-pubkey"], chain);
          assert.equal(
            modulus.stdout,
            certKey.stdout,
            "the private key belongs to the certificate",
          );
          assert.equal(Date.parse(answer.body.expiration as string), await endDate(chain));
        },
      );

      await t.step(
        "module server certificate: serverAuth, SANs = common name + module id",
        async () => {
          const answer = await socketRequest(
            socket,
            "POST",
            `/modules/sensor/genid/${generationId}/certificate/server?${API}`,
            JSON.stringify({ commonName: "sensor.local" }),
          );
          assert.equal(answer.status, 201, JSON.stringify(answer.body));
          const chain = answer.body.certificate as string;
          const verified = await opensslVerify(fixture.stateDir, {
            bundlePem: bundle,
            chainPem: chain,
            purpose: "sslserver",
          });
          assert.equal(verified.code, 0, verified.output);
          const sans = sanLine(await certificateText(chain));
          assert.ok(sans.includes("DNS:sensor.local") && sans.includes("DNS:sensor"), sans);
          assert.equal(sans.match(/URI:/g)?.length, 1, sans);
        },
      );

      await t.step("PKI files: dir 0700, keys 0600", async () => {
        assert.equal((await Deno.stat(pki)).mode! & 0o777, 0o700);
        for (
          const name of [
            "root_ca.key.pem",
            "edge_ca.key.pem",
            "server.key.pem",
            "jwt_signer.key.pem",
          ]
        ) {
          assert.equal((await Deno.stat(`${pki}/${name}`)).mode! & 0o777, 0o600, name);
        }
        assert.equal((await Deno.stat(`${fixture.stateDir}/identities.json`)).mode! & 0o777, 0o600);
      });
    } finally {
      await fixture.dispose();
    }
  },
);

/** A leaf for `uri` that openssl itself signs with the edge CA key of `dir`'s PKI. */
async function opensslSignedLeaf(
  dir: string,
  options: { uri: string; name: string },
): Promise<string> {
  const { uri, name } = options;
  const pki = `${dir}/pki`;
  const key = `${dir}/${name}.key`;
  assert.equal(
    (await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])).code,
    0,
  );
  const csr = `${dir}/${name}.csr`;
  assert.equal(
    (await openssl(["req", "-new", "-key", key, "-subj", `/CN=${name}`, "-out", csr])).code,
    0,
  );
  const ext = `${dir}/${name}.ext`;
  await Deno.writeTextFile(
    ext,
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=URI:${uri}\n`,
  );
  const cert = `${dir}/${name}.pem`;
  const signed = await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    `${pki}/edge_ca.pem`,
    "-CAkey",
    `${pki}/edge_ca.key.pem`,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  assert.equal(signed.code, 0, signed.stderr);
  return await Deno.readTextFile(cert) + await Deno.readTextFile(`${pki}/edge_ca.pem`);
}

// openssl signs both leaves itself with the edge CA key: the check is openssl's, not ours.
serviceTest("the edge CA's name constraint makes openssl reject a leaf outside the trust domain", [
  OPENSSL,
], async () => {
  const fixture = await startSecurity();
  try {
    const pki = `${fixture.stateDir}/pki`;
    const dir = fixture.stateDir;
    const bundlePem = await Deno.readTextFile(`${pki}/root_ca.pem`);
    const inside = await opensslVerify(dir, {
      bundlePem,
      chainPem: await opensslSignedLeaf(dir, { uri: "spiffe://dev1.test/ledge/x", name: "inside" }),
    });
    assert.equal(inside.code, 0, inside.output);
    const outside = await opensslVerify(dir, {
      bundlePem,
      chainPem: await opensslSignedLeaf(dir, {
        uri: "spiffe://evil.test/ledge/x",
        name: "outside",
      }),
    });
    assert.notEqual(outside.code, 0);
    assert.match(outside.output, /permitted subtree violation/);
  } finally {
    await fixture.dispose();
  }
});

serviceTest("a leaf's notAfter is capped at its issuer's", [OPENSSL], async () => {
  const fixture = await startSecurity({
    security: "leaf_lifetime_seconds = 2592000\nedge_ca_lifetime_days = 2\n",
  });
  try {
    const edge = await Deno.readTextFile(`${fixture.stateDir}/pki/edge_ca.pem`);
    const server = fixture.component.manager.serverTls().certPem;
    assert.ok(await endDate(server) <= await endDate(edge));
    assert.ok(await endDate(server) < Date.now() + 3 * 86400_000, "not the configured 30 days");
  } finally {
    await fixture.dispose();
  }
});

Deno.test("a restart with the same state dir keeps the CA, the identities and their keys", async () => {
  const first = await startSecurity();
  try {
    const provision = await first.component.manager.provisionModule("sensor");
    const identity = first.component.manager.registry.get("dev1", "sensor")!;
    const device = first.component.manager.registry.get("DEV1")!;
    const rootPem = await Deno.readTextFile(`${first.stateDir}/pki/root_ca.pem`);
    const edgeKey = await Deno.stat(`${first.stateDir}/pki/edge_ca.key.pem`);
    const serverPem = first.component.manager.serverTls().certPem;
    await first.stop();

    const second = await startSecurity({ stateDir: first.stateDir });
    try {
      const manager = second.component.manager;
      assert.equal(await Deno.readTextFile(`${first.stateDir}/pki/root_ca.pem`), rootPem);
      assert.equal(
        (await Deno.stat(`${first.stateDir}/pki/edge_ca.key.pem`)).mtime?.getTime(),
        edgeKey.mtime?.getTime(),
      );
      assert.deepEqual(manager.registry.get("dev1", "SENSOR"), identity);
      assert.deepEqual(manager.registry.get("dev1"), device);
      assert.equal(manager.serverTls().certPem, serverPem, "the valid server certificate is kept");
      const again = await manager.provisionModule("sensor");
      assert.equal(again.generationId, provision.generationId);
      // The module's sockets are served again after the restart, without a provisionModule call.
      const answer = await socketRequest(
        `${provision.socketDir}/workload.sock`,
        "GET",
        `/trust-bundle?${API}`,
      );
      assert.equal(answer.status, 200);
    } finally {
      await second.dispose();
    }
  } finally {
    await first.dispose();
  }
});

serviceTest("certificates found expired at start-up are renewed at once", [OPENSSL], async () => {
  const threeDaysAgo = () => new Date(Date.now() - 3 * 86400_000);
  const first = await startSecurity({
    now: threeDaysAgo,
    security: "edge_ca_lifetime_days = 1\nleaf_lifetime_seconds = 3600\n",
  });
  const oldEdge = await Deno.readTextFile(`${first.stateDir}/pki/edge_ca.pem`);
  const oldServer = first.component.manager.serverTls().chainPem;
  await first.stop();
  assert.ok(
    await endDate(oldServer) < Date.now(),
    "the server certificate expired while ledge was off",
  );
  const second = await startSecurity({
    stateDir: first.stateDir,
    security: "edge_ca_lifetime_days = 1\nleaf_lifetime_seconds = 3600\n",
  });
  try {
    const manager = second.component.manager;
    const newEdge = await Deno.readTextFile(`${second.stateDir}/pki/edge_ca.pem`);
    assert.notEqual(newEdge, oldEdge, "the expired edge CA was renewed");
    const tls = manager.serverTls();
    assert.ok(await endDate(tls.certPem) > Date.now());
    const verified = await opensslVerify(second.stateDir, {
      bundlePem: manager.trustBundlePem(),
      chainPem: tls.chainPem,
      purpose: "sslserver",
    });
    assert.equal(verified.code, 0, verified.output);
    assert.ok(second.logs.some((line) => line.includes("renewed the edge CA")));
  } finally {
    await second.dispose();
  }
});

Deno.test("a corrupt CA key is an error naming the file, and nothing is replaced", async () => {
  const first = await startSecurity();
  await first.stop();
  const pki = `${first.stateDir}/pki`;
  const root = await Deno.readTextFile(`${pki}/root_ca.pem`);
  await Deno.writeTextFile(
    `${pki}/edge_ca.key.pem`,
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
  );
  const second = await startSecurity({ stateDir: first.stateDir, noStart: true });
  try {
    await assert.rejects(
      second.component.start(new AbortController().signal),
      (error: Error) =>
        error instanceof PkiFileError && error.message.includes(`${pki}/edge_ca.key.pem`),
    );
    assert.equal(await Deno.readTextFile(`${pki}/root_ca.pem`), root);
    assert.match(await Deno.readTextFile(`${pki}/edge_ca.key.pem`), /AAAA/);
  } finally {
    await second.dispose();
  }
});

Deno.test("a missing CA certificate next to its key is refused, not re-created", async () => {
  const first = await startSecurity();
  await first.stop();
  await Deno.remove(`${first.stateDir}/pki/root_ca.pem`);
  const second = await startSecurity({ stateDir: first.stateDir, noStart: true });
  try {
    await assert.rejects(
      second.component.start(new AbortController().signal),
      /root_ca\.pem: missing/,
    );
    assert.equal(await Deno.stat(`${first.stateDir}/pki/root_ca.pem`).catch(() => null), null);
  } finally {
    await second.dispose();
  }
});

Deno.test("a clock before the CA's notBefore is reported loudly", async () => {
  const first = await startSecurity();
  await first.stop();
  const second = await startSecurity({
    stateDir: first.stateDir,
    now: () => new Date(Date.now() - 30 * 86400_000),
  });
  try {
    assert.match(second.component.manager.clockWarning ?? "", /before the CA's notBefore/);
    assert.ok(
      second.logs.some((line) =>
        line.includes('"level":"error"') && line.includes("CLOCK LOOKS WRONG")
      ),
    );
  } finally {
    await second.dispose();
  }
});

Deno.test("an unusable state dir is an error naming the directory", async () => {
  const file = await Deno.makeTempFile();
  try {
    const fixture = await startSecurity({ stateDir: `${file}/state`, noStart: true });
    await assert.rejects(
      fixture.component.start(new AbortController().signal),
      new RegExp(`${file}/state`),
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("absurd lifetimes in the config are refused, naming the key", () => {
  assert.throws(
    () =>
      parseConfigText("[security]\nleaf_lifetime_seconds = 5\n", {
        uid: 1000,
        hostname: "t",
        env: {},
      }),
    (error: Error) =>
      error instanceof ConfigError && /security\.leaf_lifetime_seconds/.test(error.message),
  );
  assert.throws(
    () =>
      parseConfigText("[security]\nedge_ca_lifetime_days = 100000\n", {
        uid: 1000,
        hostname: "t",
        env: {},
      }),
    /security\.edge_ca_lifetime_days/,
  );
});

serviceTest(
  "an operator's own CA (openssl-made, SEC1 key) issues the leaves and cannot be renewed",
  [OPENSSL],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-byo-" });
    try {
      const run = async (args: string[]) => {
        const result = await openssl(args);
        assert.equal(result.code, 0, result.stderr);
      };
      await Deno.writeTextFile(
        `${dir}/ca.ext`,
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
      );
      await run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${dir}/root.key`]);
      await run([
        "req",
        "-x509",
        "-new",
        "-key",
        `${dir}/root.key`,
        "-subj",
        "/CN=Operator Root",
        "-days",
        "30",
        "-out",
        `${dir}/root.pem`,
      ]);
      await run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${dir}/edge.key`]);
      await run([
        "req",
        "-new",
        "-key",
        `${dir}/edge.key`,
        "-subj",
        "/CN=Operator Edge CA",
        "-out",
        `${dir}/edge.csr`,
      ]);
      await run([
        "x509",
        "-req",
        "-in",
        `${dir}/edge.csr`,
        "-CA",
        `${dir}/root.pem`,
        "-CAkey",
        `${dir}/root.key`,
        "-CAcreateserial",
        "-days",
        "20",
        "-extfile",
        `${dir}/ca.ext`,
        "-out",
        `${dir}/edge.pem`,
      ]);
      const fixture = await startSecurity({
        security:
          `edge_ca_cert = "${dir}/edge.pem"\nedge_ca_key = "${dir}/edge.key"\ntrust_bundle = "${dir}/root.pem"\n`,
      });
      try {
        const { manager } = fixture.component;
        const root = await Deno.readTextFile(`${dir}/root.pem`);
        const verified = await opensslVerify(dir, {
          bundlePem: root,
          chainPem: manager.serverTls().chainPem,
          purpose: "sslserver",
        });
        assert.equal(verified.code, 0, verified.output);
        assert.ok(manager.trustBundlePem().startsWith(root.trim().split("\n")[0]!));
        await assert.rejects(manager.renew({ ca: true }), /operator's/);
        assert.equal(
          await Deno.stat(`${fixture.stateDir}/pki/root_ca.pem`).catch(() => null),
          null,
        );
      } finally {
        await fixture.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

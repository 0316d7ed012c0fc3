import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { Certificate, EKU_OID, KEY_USAGE } from "./certificate.ts";
import { createIssuingCa, createRootCa, issueLeaf } from "./certificate_builder.ts";
import { DerError } from "./der.ts";
import { generateKeyPair } from "./keys.ts";

const NOW = new Date("2030-06-01T00:00:00Z");

async function chain() {
  const rootKeys = await generateKeyPair();
  const root = await createRootCa({
    commonName: "root",
    lifetimeDays: 10,
    now: NOW,
    keys: rootKeys,
  });
  const edgeKeys = await generateKeyPair();
  const edge = await createIssuingCa({
    cert: root,
    privateKey: rootKeys.privateKey,
    intermediates: [],
  }, {
    commonName: "edge",
    lifetimeDays: 5,
    now: NOW,
    publicKey: edgeKeys.publicKey,
    trustDomain: "td.example",
  });
  const leafKeys = await generateKeyPair();
  const leaf = await issueLeaf({ cert: edge, privateKey: edgeKeys.privateKey, intermediates: [] }, {
    profile: "svid",
    commonName: "sensor",
    publicKey: leafKeys.publicKey,
    lifetimeSeconds: 3600,
    now: NOW,
    spiffeId: "spiffe://td.example/ledge/dev/sensor",
    dnsNames: ["sensor.local"],
    ipAddresses: ["127.0.0.1", "::1", "fe80::1:2"],
  });
  return { root, edge, leaf };
}

Deno.test("certificates built here read back with every field and extension", async () => {
  const { root, edge, leaf } = await chain();
  assert.equal(root.subject, "CN=root, O=ledge");
  assert.equal(root.issuer, root.subject);
  assert.deepEqual(root.basicConstraints, { ca: true, pathLength: undefined });
  assert.deepEqual(edge.basicConstraints, { ca: true, pathLength: 0 });
  assert.deepEqual(edge.keyUsage, [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]);
  assert.ok(edge.extension("2.5.29.30")?.critical, "name constraints, critical");
  assert.equal(leaf.commonName, "sensor");
  assert.equal(leaf.issuer, "CN=edge, O=ledge");
  assert.deepEqual(leaf.basicConstraints, { ca: false, pathLength: undefined });
  assert.deepEqual(leaf.keyUsage, [KEY_USAGE.digitalSignature]);
  assert.deepEqual(leaf.extendedKeyUsage, [EKU_OID.serverAuth, EKU_OID.clientAuth]);
  assert.deepEqual(leaf.subjectAltNames, [
    { type: "uri", value: "spiffe://td.example/ledge/dev/sensor" },
    { type: "dns", value: "sensor.local" },
    { type: "ip", value: "127.0.0.1" },
    { type: "ip", value: "0:0:0:0:0:0:0:1" },
    { type: "ip", value: "fe80:0:0:0:0:0:1:2" },
  ]);
  assert.equal(leaf.notAfter.getTime() - NOW.getTime(), 3600_000);
  assert.match(leaf.serialNumber, /^[0-9a-f]{32}$/);
});

Deno.test("isIssuedBy() checks the name and the signature", async () => {
  const { root, edge, leaf } = await chain();
  const other = await chain();
  assert.ok(root.isSelfSigned());
  assert.ok(edge.isIssuedBy(root));
  assert.ok(leaf.isIssuedBy(edge));
  assert.ok(!leaf.isIssuedBy(root), "wrong issuer name");
  assert.ok(!leaf.isIssuedBy(other.edge), "same name, another key");
  assert.ok(!edge.isSelfSigned());
});

Deno.test("a damaged certificate is refused with a DerError, never a crash (bounded, seeded)", async () => {
  const { leaf } = await chain();
  const random = seededRandom(42);
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const damaged = leaf.der.slice(0, 1 + Math.floor(random() * leaf.der.length));
    for (let flips = 0; flips < 3; flips++) {
      damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
    }
    try {
      const parsed = new Certificate(damaged);
      void parsed.subjectAltNames,
        parsed.basicConstraints,
        parsed.keyUsage,
        parsed.extendedKeyUsage;
    } catch (error) {
      assert.ok(error instanceof TypeError, `${error}`);
      refused++;
    }
  }
  assert.ok(refused > 1000, `most damaged inputs are refused (${refused})`);
  assert.throws(() => new Certificate(new Uint8Array([0x30, 0])), DerError);
});

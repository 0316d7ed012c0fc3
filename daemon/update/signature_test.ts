import assert from "node:assert/strict";
import {
  type ArtifactFacts,
  generateSigningKey,
  importPublicKey,
  signArtifact,
  signatureProblem,
} from "./signature.ts";

const FACTS: ArtifactFacts = {
  version: "1.2.3",
  target: "aarch64-unknown-linux-gnu",
  sha256: "ab".repeat(32),
  size: 42_000_000,
};

for (const algorithm of ["ECDSA-P256-SHA256", "Ed25519"] as const) {
  Deno.test(`signArtifact() with ${algorithm}: verified by its public key, by no other, and not once changed`, async () => {
    const pair = await generateSigningKey(algorithm);
    const other = await generateSigningKey(algorithm);
    const trusted = await importPublicKey(pair.publicKeyPem);
    assert.equal(trusted.keyId, pair.keyId);
    const descriptor = await signArtifact(FACTS, pair.privateKeyPem);
    assert.equal(descriptor.algorithm, algorithm);
    assert.equal(descriptor.keyId, pair.keyId);
    assert.equal(await signatureProblem(descriptor, [trusted]), undefined);

    assert.match(
      (await signatureProblem(descriptor, [await importPublicKey(other.publicKeyPem)]))!,
      /signed by key [0-9a-f]{16}, which is not one of \[update\] trusted_keys/,
    );
    assert.match((await signatureProblem(descriptor, []))!, /no trusted keys are configured/);
    for (const changed of [{ version: "1.2.4" }, { sha256: "cd".repeat(32) }, { size: 1 }]) {
      assert.match(
        (await signatureProblem({ ...descriptor, ...changed }, [trusted]))!,
        /does not verify/,
        JSON.stringify(changed),
      );
    }
  });
}

Deno.test("importPublicKey() refuses what is not an ECDSA P-256 or Ed25519 public key", async () => {
  await assert.rejects(importPublicKey("hello"), /no "PUBLIC KEY" PEM block/);
  const rsa = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", rsa.publicKey));
  const pem = `-----BEGIN PUBLIC KEY-----\n${
    btoa(String.fromCharCode(...spki))
  }\n-----END PUBLIC KEY-----\n`;
  await assert.rejects(importPublicKey(pem), /not an ECDSA P-256 or Ed25519 public key/);
});

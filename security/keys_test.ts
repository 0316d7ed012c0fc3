import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { exportPkcs8, exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem } from "./keys.ts";

Deno.test("importPrivateKeyPem() reads back a generated key as PKCS#8 and as SEC1", () => {
  const keys = generateKeyPair();
  const pkcs8 = importPrivateKeyPem(exportPrivateKeyPem(keys.privateKey));
  assert.deepEqual(exportPkcs8(pkcs8.privateKey), exportPkcs8(keys.privateKey));
  const spki = { type: "spki", format: "der" } as const;
  assert.deepEqual(pkcs8.publicKey.export(spki), keys.publicKey.export(spki));
  const sec1 = keys.privateKey.export({ type: "sec1", format: "pem" }) as string;
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  assert.deepEqual(importPrivateKeyPem(sec1).publicKey.export(spki), keys.publicKey.export(spki));
});

Deno.test("importPrivateKeyPem() refuses keys other than P-256", () => {
  const pkcs8 = { type: "pkcs8", format: "pem" } as const;
  const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey.export(pkcs8);
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export(pkcs8);
  for (const pem of [p384, rsa] as string[]) {
    assert.throws(() => importPrivateKeyPem(pem), {
      name: "TypeError",
      message: /not an ECDSA P-256 private key/,
    });
  }
  assert.throws(() => importPrivateKeyPem("no key here"), TypeError);
});

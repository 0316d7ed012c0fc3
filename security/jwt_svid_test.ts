import assert from "node:assert/strict";
import { calculateJwkThumbprint } from "jose";
import { ecJwkThumbprint } from "./jwt_svid.ts";

Deno.test("ecJwkThumbprint() is RFC 7638's, as jose computes it", async () => {
  for (let i = 0; i < 5; i++) {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", keys.publicKey);
    const jwk = { kty: kty!, crv: crv!, x: x!, y: y! };
    assert.equal(ecJwkThumbprint(jwk), await calculateJwkThumbprint(jwk, "sha256"));
  }
});

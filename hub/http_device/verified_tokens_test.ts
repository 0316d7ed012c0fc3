import assert from "node:assert/strict";
import { VerifiedTokens } from "./verified_tokens.ts";

const token = (se: number, sig = "s") =>
  `SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${sig}&se=${se}`;

Deno.test("VerifiedTokens: a token counts for its identity until it expires", () => {
  let now = 1_000_000;
  const tokens = new VerifiedTokens({ maxEntries: 10, isCurrent: () => true, now: () => now });
  tokens.add(token(1_001), { deviceId: "d" });
  assert.deepEqual(tokens.get(token(1_001), { deviceId: "D" }), { deviceId: "d" });
  assert.equal(tokens.get(token(1_001), { deviceId: "other" }), undefined);
  assert.equal(tokens.get(token(1_001), { deviceId: "d" }), undefined, "a mismatch forgets it");
  tokens.add(token(1_001), { deviceId: "d" });
  now = 1_001_000;
  assert.equal(tokens.get(token(1_001), { deviceId: "d" }), undefined, "expired");
});

Deno.test("VerifiedTokens: a removed identity's token is verified again; the cache is bounded", () => {
  let current = true;
  const tokens = new VerifiedTokens({ maxEntries: 2, isCurrent: () => current });
  const se = Math.floor(Date.now() / 1000) + 60;
  tokens.add(token(se, "a"), { deviceId: "d" });
  current = false;
  assert.equal(tokens.get(token(se, "a"), { deviceId: "d" }), undefined);
  current = true;
  for (const sig of ["a", "b", "c"]) tokens.add(token(se, sig), { deviceId: "d" });
  assert.equal(tokens.size, 2);
  assert.equal(tokens.get(token(se, "a"), { deviceId: "d" }), undefined, "the oldest went");
  tokens.add("not a token", { deviceId: "d" });
  assert.equal(tokens.size, 2);
});

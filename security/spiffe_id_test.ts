import assert from "node:assert/strict";
import { parseSpiffeId, workloadSpiffeId } from "./spiffe_id.ts";

Deno.test("workloadSpiffeId() names a module under its device in the trust domain", () => {
  assert.equal(
    workloadSpiffeId("td.ledge", "dev1", "sensor"),
    "spiffe://td.ledge/ledge/dev1/sensor",
  );
  assert.equal(workloadSpiffeId("td.ledge", "dev1"), "spiffe://td.ledge/ledge/dev1");
});

Deno.test("workloadSpiffeId() refuses ids a SPIFFE path cannot hold, naming the field", () => {
  assert.throws(() => workloadSpiffeId("td", "dev1", "a:b"), /module id "a:b"/);
  assert.throws(() => workloadSpiffeId("td", "..", "x"), /device id ".."/);
  assert.throws(() => workloadSpiffeId("td", "dev", "$edgeHub"), /module id/);
});

Deno.test("parseSpiffeId() applies the standard's rules", async (t) => {
  await t.step("accepts a valid id", () => {
    assert.deepEqual(parseSpiffeId("spiffe://example.org/a/b"), {
      trustDomain: "example.org",
      path: "/a/b",
    });
  });
  for (
    const [bad, rule] of [
      ["http://example.org/a", /scheme/],
      ["spiffe://Example.org/a", /lowercase/],
      ["spiffe://example.org/a//b", /segment ""/],
      ["spiffe://example.org/a/", /segment ""/],
      ["spiffe://example.org/./a", /segment "\."/],
      ["spiffe://example.org/a%20b", /segment "a%20b"/],
      [`spiffe://example.org/${"a".repeat(2100)}`, /2048 bytes/],
    ] as const
  ) {
    await t.step(
      `rejects ${bad.slice(0, 40)}`,
      () => assert.throws(() => parseSpiffeId(bad), rule),
    );
  }
});

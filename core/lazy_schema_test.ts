import assert from "node:assert/strict";
import { z } from "zod";
import { lazySchema } from "./lazy_schema.ts";

function rollout() {
  return z.strictObject({
    percent: z.number().int({ error: "expected an integer" }).min(1).max(100),
    label: z.string().optional(),
  });
}

Deno.test("lazySchema() builds the schema on first use, once", () => {
  let builds = 0;
  const schema = lazySchema(() => {
    builds++;
    return rollout();
  });
  assert.equal(builds, 0);
  assert.deepEqual(schema.parse({ percent: 5 }), { percent: 5 });
  schema.safeParse({ percent: 7 });
  assert.equal(builds, 1);
});

Deno.test("lazySchema() parses, fails and converts as the schema it builds", () => {
  const eager = rollout();
  const lazy = lazySchema(rollout);
  for (const input of [{ percent: 50 }, { percent: 0.5 }, { percent: 5, extra: 1 }, "x"]) {
    assert.deepEqual(lazy.safeParse(input), eager.safeParse(input));
  }
  assert.deepEqual(
    z.toJSONSchema(lazy, { io: "input" }),
    z.toJSONSchema(eager, { io: "input" }),
  );
  assert.ok(lazy instanceof z.ZodObject);
  assert.deepEqual(Object.keys(lazy.shape), ["percent", "label"]);
});

Deno.test("lazySchema() composes: inside other schemas and through its methods", () => {
  const Rollout = lazySchema(rollout);
  const Plan = lazySchema(() => z.object({ waves: z.array(Rollout), first: Rollout.optional() }));
  assert.deepEqual(Plan.parse({ waves: [{ percent: 10 }] }), { waves: [{ percent: 10 }] });
  const failed = Plan.safeParse({ waves: [{ percent: 10 }, { percent: 200 }] });
  assert.deepEqual(failed.error?.issues.map((issue) => issue.path), [["waves", 1, "percent"]]);
  assert.deepEqual(Rollout.extend({ done: z.boolean() }).parse({ percent: 1, done: true }), {
    percent: 1,
    done: true,
  });
});

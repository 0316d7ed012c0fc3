import assert from "node:assert/strict";
import { createMethodCalls } from "./method_calls.ts";

Deno.test("createMethodCalls() settles a call only from its target and by its rid", async () => {
  const calls = createMethodCalls();
  const { rid, result } = calls.begin("edge/b", 10_000);
  assert.equal(calls.settle("edge/c", rid, { status: 200, payload: 1 }), false);
  assert.equal(calls.settle("edge/b", "nope", { status: 200, payload: 1 }), false);
  assert.equal(calls.settle("edge/b", rid, { status: 201, payload: { ok: true } }), true);
  assert.deepEqual(await result, { status: 201, payload: { ok: true } }, "the target's answer");
  assert.equal(calls.pending(), 0);
});

Deno.test("createMethodCalls() answers 504 when the target does not reply in time", async () => {
  const calls = createMethodCalls();
  const { result } = calls.begin("edge/b", 5);
  const answer = await result;
  assert.equal(answer.status, 504);
  assert.equal(answer.hubFailure, "timeout");
});

Deno.test("createMethodCalls() answers 404 for calls to a target that disconnected", async () => {
  const calls = createMethodCalls();
  const { result } = calls.begin("edge/b", 10_000);
  calls.abandon("edge/b");
  assert.deepEqual(await result, {
    status: 404,
    payload: { message: "edge/b disconnected" },
    hubFailure: "disconnected",
  });
});

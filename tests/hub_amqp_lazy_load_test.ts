/**
 * Issue 13 (idle RSS): the daemon loads rhea only when the first AMQP connection arrives. Shown on
 * Deno's module graph of main.ts: from what `ledge run` loads at start (cli/run_daemon.ts), rhea
 * is reachable through a dynamic import only.
 */
import assert from "node:assert/strict";
import { moduleGraph, staticClosure } from "./_module_graph.ts";

Deno.test("the daemon imports rhea only dynamically, on the first AMQP connection", async () => {
  const modules = await moduleGraph("main.ts");
  const root = new URL("../cli/run_daemon.ts", import.meta.url).href;
  const isRhea = (specifier: string) => /^npm:\/?rhea@/.test(specifier);
  assert.deepEqual([...staticClosure(modules, root, false)].filter(isRhea), []);
  // The check can fail: with dynamic imports followed, rhea is there.
  assert.ok([...staticClosure(modules, root, true)].some(isRhea));
});

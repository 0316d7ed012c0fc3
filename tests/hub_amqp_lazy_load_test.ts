/**
 * Issue 13 (idle RSS): the daemon loads rhea only when the first AMQP connection arrives. Shown on
 * Deno's module graph of main.ts: from what `ledge run` loads at start (cli/run_daemon.ts), rhea
 * is reachable through a dynamic import only.
 */
import assert from "node:assert/strict";

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

async function moduleGraph(entry: string): Promise<GraphModule[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return (JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: GraphModule[] })
    .modules;
}

/** Modules reachable from `root`, through dynamic imports too or not. */
function staticClosure(modules: GraphModule[], root: string, dynamic: boolean): Set<string> {
  const bySpecifier = new Map(modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>([root]);
  const next = [root];
  while (next.length > 0) {
    for (const dependency of bySpecifier.get(next.pop()!)?.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (!target || seen.has(target) || (dependency.isDynamic && !dynamic)) continue;
      seen.add(target);
      next.push(target);
    }
  }
  return seen;
}

Deno.test("the daemon imports rhea only dynamically, on the first AMQP connection", async () => {
  const modules = await moduleGraph("main.ts");
  const root = new URL("../cli/run_daemon.ts", import.meta.url).href;
  const isRhea = (specifier: string) => /^npm:\/?rhea@/.test(specifier);
  assert.deepEqual([...staticClosure(modules, root, false)].filter(isRhea), []);
  // The check can fail: with dynamic imports followed, rhea is there.
  assert.ok([...staticClosure(modules, root, true)].some(isRhea));
});

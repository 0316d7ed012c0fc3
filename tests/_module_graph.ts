/**
 * Deno's module graph of an entry point (`deno info --json`), and what is reachable in it from a
 * module: for tests that pin which packages `ledge run` loads at start (issue 13, idle RSS).
 */
import assert from "node:assert/strict";

/** One module of `deno info --json`'s graph. */
export interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/** The modules of `entry`'s graph (a path relative to the repository's root). */
export async function moduleGraph(entry: string): Promise<GraphModule[]> {
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
export function staticClosure(
  modules: GraphModule[],
  root: string,
  dynamic: boolean,
): Set<string> {
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

/** The npm package names among `specifiers` (`npm:/ws@8.23.0/x` → `ws`, scoped ones whole). */
export function npmPackages(specifiers: Iterable<string>): string[] {
  const names = new Set<string>();
  for (const specifier of specifiers) {
    const name = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@/.exec(specifier)?.[1];
    if (name) names.add(name);
  }
  return [...names].sort();
}

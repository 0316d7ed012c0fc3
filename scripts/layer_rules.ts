/**
 * The layer rules of ledge's source tree, as a pure function over an import graph: folders are
 * layers, imports point down only, another folder is entered through its `mod.ts`, a `_file.ts`
 * stays private to its folder, and no two files import each other in a circle. The graph comes
 * from Deno's own module graph (`deno info --json`, see check_layers.ts).
 */

/** The product's layers, lowest first: a file may import its own layer and those below. */
export const LAYERS: readonly string[] = [
  "core",
  "iothub",
  "routing",
  "store",
  "security",
  "hub",
  "agent",
  "upstream",
  "fleet",
  "daemon",
  "ops",
  "cli",
  "main.ts",
];

/** Folders of test and tooling code: they may import any layer, and past `mod.ts`. */
export const TOOLING: readonly string[] = ["tests", "bench", "examples", "scripts"];

/** One import: `from` imports `to`; paths relative to the repository root, `/`-separated. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** A broken rule, with the import that breaks it. */
export interface LayerViolation {
  rule: "upward" | "past-mod" | "private" | "cycle" | "unknown-layer";
  message: string;
}

/** The layer of a path: its first segment (or the file itself at the root). */
export function layerOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? path : path.slice(0, slash);
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function isTest(path: string): boolean {
  return /_test\.ts$/.test(path) || layerOf(path) === "tests";
}

/** Folders (ancestors of `path`'s directory, nearest last) that have a `mod.ts`. */
function packagesOf(path: string, modFiles: ReadonlySet<string>): string[] {
  const parts = directoryOf(path).split("/").filter((part) => part !== "");
  const packages: string[] = [];
  for (let depth = 1; depth <= parts.length; depth++) {
    const folder = parts.slice(0, depth).join("/");
    if (modFiles.has(`${folder}/mod.ts`)) packages.push(folder);
  }
  return packages;
}

function inside(path: string, folder: string): boolean {
  return path.startsWith(folder + "/");
}

function edgeViolation(edge: ImportEdge, modFiles: ReadonlySet<string>): LayerViolation[] {
  const { from, to } = edge;
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  if (TOOLING.includes(fromLayer)) return [];
  if (isTest(from) && TOOLING.includes(toLayer)) return [];
  const violations: LayerViolation[] = [];
  const fromRank = LAYERS.indexOf(fromLayer);
  const toRank = LAYERS.indexOf(toLayer);
  if (fromRank < 0 || toRank < 0) {
    const unknown = fromRank < 0 ? fromLayer : toLayer;
    return [{
      rule: "unknown-layer",
      message: `${from} imports ${to}: "${unknown}" is not a layer (scripts/layer_rules.ts)`,
    }];
  }
  if (toRank > fromRank) {
    violations.push({
      rule: "upward",
      message: `${from} imports ${to}: ${fromLayer}/ may not import ${toLayer}/, a higher layer`,
    });
  }
  for (const folder of packagesOf(to, modFiles)) {
    if (!inside(from, folder) && to !== `${folder}/mod.ts` && !isTest(from)) {
      violations.push({
        rule: "past-mod",
        message: `${from} imports ${to}: enter ${folder}/ through ${folder}/mod.ts`,
      });
      break;
    }
  }
  const base = to.slice(to.lastIndexOf("/") + 1);
  if (base.startsWith("_") && !inside(from, directoryOf(to))) {
    violations.push({
      rule: "private",
      message: `${from} imports ${to}: ${base} is private to ${directoryOf(to)}/`,
    });
  }
  return violations;
}

/** Every cycle of the graph, each once, as the list of files around it. */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, []);
    next.get(from)!.push(to);
  }
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  function visit(node: string): void {
    state.set(node, "open");
    stack.push(node);
    for (const target of next.get(node) ?? []) {
      const seen = state.get(target);
      if (seen === "open") cycles.push(stack.slice(stack.indexOf(target)));
      else if (seen === undefined) visit(target);
    }
    stack.pop();
    state.set(node, "done");
  }
  for (const node of [...next.keys()].sort()) {
    if (!state.has(node)) visit(node);
  }
  return cycles;
}

/**
 * Checks an import graph against the layer rules.
 *
 * @param edges every import between two of the repository's own files.
 * @returns the violations, empty when the tree obeys the rules.
 * @example
 * ```ts
 * checkLayers([{ from: "core/log.ts", to: "hub/hub.ts" }]); // one "upward" violation
 * ```
 */
export function checkLayers(edges: readonly ImportEdge[]): LayerViolation[] {
  const files = new Set(edges.flatMap((edge) => [edge.from, edge.to]));
  const modFiles = new Set([...files].filter((file) => file.endsWith("/mod.ts")));
  const violations = edges.flatMap((edge) => edgeViolation(edge, modFiles));
  for (const cycle of findCycles(edges)) {
    violations.push({
      rule: "cycle",
      message: `import cycle: ${[...cycle, cycle[0]].join(" → ")}`,
    });
  }
  return violations;
}

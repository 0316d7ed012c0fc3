/**
 * `deno task check:layers`: builds Deno's module graph of every TypeScript file in the repository
 * (`deno info --json` over one generated root that imports them all) and fails, listing each
 * import, when a rule of scripts/layer_rules.ts is broken.
 */
import { checkLayers, type ImportEdge } from "./layer_rules.ts";

const ROOT = new URL("../", import.meta.url);
const SKIPPED = /^(node_modules|dist|\.git|\.cache)(\/|$)|\/node_modules\//;

async function sourceFiles(dir: URL, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = prefix + entry.name;
    if (SKIPPED.test(path)) continue;
    if (entry.isDirectory) {
      files.push(...await sourceFiles(new URL(`${entry.name}/`, dir), `${path}/`));
    } else if (entry.isFile && path.endsWith(".ts")) files.push(path);
  }
  return files;
}

interface DenoInfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

async function importGraph(files: readonly string[]): Promise<ImportEdge[]> {
  const rootFile = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const lines = files.map((file) => `import type {} from "${new URL(file, ROOT).href}";`);
    await Deno.writeTextFile(rootFile, lines.join("\n") + "\n");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, rootFile],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`Cannot build the module graph: ${new TextDecoder().decode(output.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: DenoInfoModule[];
    };
    return edgesOf(info.modules);
  } finally {
    await Deno.remove(rootFile);
  }
}

function edgesOf(modules: readonly DenoInfoModule[]): ImportEdge[] {
  const rootHref = ROOT.href;
  const local = (specifier: string | undefined) =>
    specifier?.startsWith(rootHref) ? specifier.slice(rootHref.length) : undefined;
  const edges: ImportEdge[] = [];
  for (const module of modules) {
    const from = local(module.specifier);
    if (from === undefined) continue;
    const targets = new Set<string>();
    for (const dependency of module.dependencies ?? []) {
      for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
        const to = local(target);
        if (to !== undefined && to !== from) targets.add(to);
      }
    }
    for (const to of targets) edges.push({ from, to });
  }
  return edges;
}

if (import.meta.main) {
  const files = await sourceFiles(ROOT);
  const edges = await importGraph(files);
  const violations = checkLayers(edges);
  for (const violation of violations) console.error(`✘ ${violation.rule}: ${violation.message}`);
  if (violations.length > 0) {
    console.error(`${violations.length} layer rule violations (see scripts/layer_rules.ts)`);
    Deno.exit(1);
  }
  console.log(`layers ok: ${files.length} files, ${edges.length} imports`);
}

/**
 * Builds the bundle the release executable runs: `deno bundle` of main.ts, split and minified
 * into a directory (entry ledge.js, its chunks beside it), every file made ASCII.
 *
 * Split and minified because V8 keeps a script's whole source and pre-parses all of it: as one
 * 3.8 MB script, the code of packages the idle daemon never runs (rhea, ws, grpc-js, mqtt.js,
 * commander, the console app) cost RSS at idle. Measured idle when the split came in (21d3446,
 * before the idle collection; `ledge run`, engine none, the daemon's V8 flags, 3 s after ready):
 * one file 76.6-77.1 MB, one minified file 69.6-70.3, split 69.9-70.0, split and minified
 * 67.0-67.1, and with --keep-names 67.4-67.9; the bench's footprint rows give today's. Names are
 * kept: commander's and jose's errors take their name from `this.constructor.name`, which a
 * minifier would make `A` in logs and messages.
 *
 * ASCII because a script's source stays in memory for the life of the process, and an ASCII
 * source costs less: V8 can take it as it is, while one non-ASCII character makes the whole
 * source a copy in V8's heap, two bytes per character if the character is above U+00FF
 * (measured on the single file: 81 MB with Latin-1 left, 78.4 MB all ASCII). esbuild writes
 * strings as escapes when it minifies; in a comment it keeps (a legal comment) each other
 * character is written as its `\u` escape, which in a comment changes nothing. One outside a
 * comment stops the build: there an escape could change what the code means (a raw template).
 *
 * `deno run --allow-read --allow-write --allow-run --allow-env scripts/bundle.ts [DIR]`
 * (default dist/ledge); `deno task bundle` runs it.
 */
const ROOT = new URL("../", import.meta.url).pathname;
const WIDE = /[\u0080-\u{10ffff}]/u;
const WIDE_ALL = /[\u0080-\u{10ffff}]/gu;
// Lines esbuild writes inside a comment: a `//` line, a block comment's start or its ` * ` lines.
const COMMENT_LINE = /^\s*(\/\/|\/\*|\*)/;

function escaped(character: string): string {
  const code = character.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Up to 60 characters either side of `line[at]` (a minified line is long). */
function around(line: string, at: number): string {
  return line.slice(Math.max(0, at - 60), at + 60).trim();
}

/**
 * `text` (a bundle) with each non-ASCII character of a comment line written as its escape.
 *
 * @throws {RangeError} when such a character is outside a comment line, naming the lines.
 */
export function asciiBundle(text: string): string {
  const lines = text.split("\n");
  const refused: string[] = [];
  lines.forEach((line, index) => {
    if (!WIDE.test(line)) return;
    if (COMMENT_LINE.test(line)) lines[index] = line.replace(WIDE_ALL, escaped);
    else refused.push(`  line ${index + 1}: ${around(line, line.search(WIDE))}`);
  });
  if (refused.length > 0) {
    throw new RangeError(
      "Cannot keep the bundle ASCII: a non-ASCII character outside a comment (write it " +
        `as a \\u escape in its source):\n${refused.join("\n")}`,
    );
  }
  return lines.join("\n");
}

/** The bundle directory's entry: the file to run. */
export const BUNDLE_ENTRY = "ledge.js";
/**
 * `deno run` flags of the bundle, as scripts/launcher.sh and scripts/install.sh's wrapper have
 * them: no deno.json, and no V8 code cache (the launcher says why).
 */
export const BUNDLE_RUN_FLAGS: readonly string[] = ["--no-config", "--no-code-cache"];
/** esbuild's name for the entry of main.ts. */
const ESBUILD_ENTRY = "main.js";

async function runBundler(outdir: string): Promise<void> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--code-splitting",
      "--minify",
      "--keep-names",
      "--outdir",
      outdir,
      "main.ts",
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`Cannot bundle ledge: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
}

/**
 * esbuild's `__require` for the `require("node:util")` calls left in CommonJS packages (rhea,
 * ws, mqtt.js, grpc-js): it calls a `require` in scope, else throws `Dynamic require of ... is not
 * supported`. `deno bundle` swaps it for Node's createRequire, but not when the bundle is split and
 * minified with --keep-names (Deno 2.9.6: the AMQP head then refused every connection, "cannot
 * load the AMQP head"). {@linkcode withRequire} gives its file a `require` of its own instead.
 *
 * That `require` makes Node's on its first call, through `process.getBuiltinModule` (node:process
 * is loaded at start anyway), and not with a static import of node:module: the shim is in the
 * chunk of esbuild's helpers, which every chunk imports, and node:module loaded with it at start
 * cost the idle daemon ~1 MB of RSS for a `require` only the lazily loaded CommonJS packages call
 * (an empty script with ledge's start-up Node modules, 3 alternated runs: 45.2-45.9 MB without
 * node:module and createRequire, 46.7-46.9 with).
 */
const REQUIRE_SHIM = `Dynamic require of "`;
const REQUIRE_IN_SCOPE = 'import __ledgeProcess from"node:process";var __ledgeRequire;' +
  "function require(id){return(__ledgeRequire??=__ledgeProcess.getBuiltinModule" +
  '("node:module").createRequire(import.meta.url))(id)}\n';

/** `text` (a bundle file) with a module-scope `require` if it holds esbuild's require shim. */
export function withRequire(text: string): string {
  return text.includes(REQUIRE_SHIM) ? REQUIRE_IN_SCOPE + text : text;
}

/**
 * Makes each .js file of `dir` ASCII and able to `require` Node's modules, and renames esbuild's
 * entry to {@linkcode BUNDLE_ENTRY}.
 */
async function finish(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".js")) continue;
    const path = `${dir}/${entry.name}`;
    const text = await Deno.readTextFile(path);
    if (text.includes(`"./${ESBUILD_ENTRY}"`)) {
      throw new Error(`Cannot rename the entry: ${entry.name} imports ./${ESBUILD_ENTRY}`);
    }
    await Deno.writeTextFile(path, withRequire(asciiBundle(text)));
  }
  await Deno.rename(`${dir}/${ESBUILD_ENTRY}`, `${dir}/${BUNDLE_ENTRY}`);
}

/** Whether `dir` may be replaced by a new bundle: it does not exist, is empty or is a bundle. */
async function replaceable(dir: string): Promise<boolean> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    return names.length === 0 || names.includes(BUNDLE_ENTRY);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return true;
    throw error;
  }
}

/**
 * Bundles main.ts into the directory `out` (a path, relative to the working directory or
 * absolute), replacing a bundle there whole, so no chunk of an earlier build is left; resolves
 * with the path of the entry.
 */
export async function bundleLedge(out: string): Promise<string> {
  const target = (out.startsWith("/") ? out : `${Deno.cwd()}/${out}`).replace(/\/+$/, "");
  if (!await replaceable(target)) {
    throw new Error(`Cannot bundle into ${target}: it holds files and no ${BUNDLE_ENTRY}`);
  }
  const parent = target.slice(0, target.lastIndexOf("/")) || "/";
  await Deno.mkdir(parent, { recursive: true });
  const name = target.slice(parent.length + 1);
  const fresh = await Deno.makeTempDir({ dir: parent, prefix: `.${name}.new-` });
  const stale = `${fresh}.old`;
  try {
    await runBundler(fresh);
    await finish(fresh);
    const replacing = await Deno.rename(target, stale).then(() => true, (error) => {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    });
    await Deno.rename(fresh, target).catch(async (error) => {
      if (replacing) await Deno.rename(stale, target);
      throw error;
    });
  } finally {
    await Deno.remove(fresh, { recursive: true }).catch(() => {});
    await Deno.remove(stale, { recursive: true }).catch(() => {});
  }
  return `${target}/${BUNDLE_ENTRY}`;
}

/**
 * Has Deno analyse every module of the bundle at `entry` into the Deno dir (`denoDir`, default
 * Deno's own), as scripts/launcher.sh does once it has unpacked: a `ledge run` that has to make
 * this analysis itself holds ~50 MB more RSS for as long as it runs.
 */
export async function analyseBundle(entry: string, denoDir?: string): Promise<void> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--quiet", "--no-config", entry],
    env: denoDir ? { DENO_DIR: denoDir } : {},
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`Cannot analyse the bundle: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
}

if (import.meta.main) await bundleLedge(Deno.args[0] ?? `${ROOT}dist/ledge`);

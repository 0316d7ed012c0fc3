/**
 * Builds the single-file bundle: `deno bundle` of main.ts, then made ASCII. A script's source
 * stays in memory for the life of the process, and an ASCII source costs less: V8 can take it as
 * it is, while one non-ASCII character makes the whole source a copy in V8's heap, two bytes per
 * character if the character is above U+00FF. The bundle is one script of 4.4 MB: measured idle,
 * 83.1 MB with an em dash in an inlined package's comment (ip-address, under mqtt's socks), 81 MB
 * with Latin-1 left, 78.4 MB all ASCII. ledge's own sources are ASCII
 * (tests/idle_imports_test.ts); in the packages' comments each other character is written as its
 * `\u` escape, which in a comment changes nothing. One outside a comment stops the build: there
 * an escape could change what the code means (a raw template).
 *
 * `deno run --allow-read --allow-write --allow-run --allow-env scripts/bundle.ts [OUT]`
 * (default dist/ledge.js); `deno task bundle` runs it.
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
    else refused.push(`  line ${index + 1}: ${line.trim().slice(0, 120)}`);
  });
  if (refused.length > 0) {
    throw new RangeError(
      "Cannot keep the bundle ASCII: a non-ASCII character outside a comment (write it " +
        `as a \\u escape in its source):\n${refused.join("\n")}`,
    );
  }
  return lines.join("\n");
}

/** Bundles main.ts into `out` (a path, relative to the working directory or absolute). */
export async function bundleLedge(out: string): Promise<void> {
  const target = out.startsWith("/") ? out : `${Deno.cwd()}/${out}`;
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", target, "main.ts"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`Cannot bundle ledge: ${new TextDecoder().decode(stderr).slice(-2000)}`);
  }
  await Deno.writeTextFile(target, asciiBundle(await Deno.readTextFile(target)));
}

if (import.meta.main) await bundleLedge(Deno.args[0] ?? `${ROOT}dist/ledge.js`);

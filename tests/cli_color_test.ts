/**
 * Colour on a real terminal, and none under NO_COLOR: `ledge check` run inside a pseudo-terminal
 * made by util-linux's `script`, as a person at a shell would see it.
 */
import assert from "node:assert/strict";
import { commandAvailable, serviceTest } from "./_services.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ESC = "\x1b[";

async function checkOnTerminal(env: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const command = `${Deno.execPath()} run -A ${MAIN} check`;
    const output = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: { LEDGE_HOME: dir, HOME: dir, PATH: Deno.env.get("PATH") ?? "", TERM: "xterm", ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(output.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

serviceTest("ledge check colours its marks on a terminal and not under NO_COLOR", [
  await commandAvailable("script"),
], async () => {
  const coloured = await checkOnTerminal({});
  assert.match(coloured, /✘|✔/, coloured);
  assert.ok(coloured.includes(ESC), `a terminal gets colour: ${JSON.stringify(coloured)}`);
  const plain = await checkOnTerminal({ NO_COLOR: "1" });
  assert.match(plain, /✘|✔/, plain);
  assert.ok(!plain.includes(ESC), `NO_COLOR gets none: ${JSON.stringify(plain)}`);
});

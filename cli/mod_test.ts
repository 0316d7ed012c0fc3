import assert from "node:assert/strict";
import { main } from "./mod.ts";
import { buildProgram, VERBS } from "./program.ts";

function capture(): {
  io: { writeOut(t: string): void; writeErr(t: string): void };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { writeOut: (t) => void out.push(t), writeErr: (t) => void err.push(t) }, out, err };
}

Deno.test("main() exits 2 with one line naming an unknown verb", async () => {
  const { io, err } = capture();
  assert.equal(await main(["deplyo"], io), 2);
  assert.match(err.join(""), /unknown command 'deplyo'/);
});

Deno.test("main() suggests the verb a typo was close to", async () => {
  const { io, err } = capture();
  assert.equal(await main(["verison"], io), 2);
  assert.match(err.join(""), /Did you mean version\?/);
});

Deno.test("main() exits 2 naming an unknown flag", async () => {
  const { io, err } = capture();
  assert.equal(await main(["version", "--jsno"], io), 2);
  assert.match(err.join(""), /unknown option '--jsno'/);
});

Deno.test("main() exits 2 naming a bad choice", async () => {
  const { io, err } = capture();
  assert.equal(await main(["run", "--log-format", "xml"], io), 2);
  assert.match(err.join(""), /'xml' is invalid/);
});

Deno.test("main() exits 2 on excess arguments", async () => {
  const { io, err } = capture();
  assert.equal(await main(["version", "extra"], io), 2);
  assert.match(err.join(""), /too many arguments/);
});

Deno.test("main() with no arguments prints help and exits 2", async () => {
  const { io, err } = capture();
  assert.equal(await main([], io), 2);
  assert.match(err.join(""), /Usage: ledge/);
});

Deno.test("every verb answers --help with exit 0", async (t) => {
  const names = buildProgram().commands.map((command) => command.name());
  assert.equal(names.length, VERBS.length);
  for (const name of names) {
    await t.step(name, async () => {
      const { io, out } = capture();
      assert.equal(await main([name, "--help"], io), 0);
      assert.match(out.join(""), new RegExp(`Usage: ledge ${name}`));
    });
  }
});

Deno.test("main() exits 1 with every key path when the config is invalid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.toml`, '[hub.mqtt]\nport = "88x3"\nprot = 2\n');
    const { io, err } = capture();
    assert.equal(await main(["--config", `${dir}/bad.toml`, "run"], io), 1);
    const text = err.join("");
    assert.match(
      text,
      /hub\.mqtt\.port: expected an integer 0–65535 \(0: any free port\), got "88x3"/,
    );
    assert.match(text, /hub\.mqtt\.prot: unknown key \(did you mean "port"\?\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

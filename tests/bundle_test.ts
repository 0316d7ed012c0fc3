/**
 * The bundle (scripts/bundle.ts): `deno bundle` inlines every npm package into a directory of
 * minified, split files, entry ledge.js, that runs from an empty directory; every file is ASCII,
 * which keeps its source out of V8's heap; a rebuild leaves no chunk of the earlier build; the
 * daemon run from it loads a lazy chunk whose CommonJS package requires a Node module (the AMQP
 * head: rhea).
 */
import assert from "node:assert/strict";
import rhea from "rhea";
import { VERSION } from "../core/version.ts";
import { BUNDLE_ENTRY, bundleLedge } from "../scripts/bundle.ts";
import { startLedge } from "./_ledge.ts";

async function readBundle(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    files.set(entry.name, await Deno.readTextFile(`${dir}/${entry.name}`));
  }
  return files;
}

async function runVersion(dir: string, cwd: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-config", `ledge/${BUNDLE_ENTRY}`, "version", "--json"],
    cwd,
    env: { HOME: cwd, DENO_DIR: `${dir}/deno-dir` },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("the bundle runs `version` from an empty directory, and a rebuild replaces it whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
  try {
    const build = `${dir}/build/ledge`;
    await Deno.mkdir(build, { recursive: true });
    await Deno.writeTextFile(`${build}/${BUNDLE_ENTRY}`, "// an earlier build\n");
    await Deno.writeTextFile(`${build}/chunk-STALE.js`, "// an earlier build's chunk\n");
    assert.equal(await bundleLedge(build), `${build}/${BUNDLE_ENTRY}`);
    const files = await readBundle(build);
    assert.ok(!files.has("chunk-STALE.js"), "the earlier build's chunk is gone");
    assert.ok(files.size > 1, "split into chunks");
    assert.ok([...files.keys()].every((name) => name.endsWith(".js")), [...files.keys()].join());
    const all = [...files.values()].join("\n");
    // The console's files are text imports: inlined too (htmx from its npm package, our CSS).
    assert.match(all, /var htmx=function\(\)/);
    assert.match(all, /ledge console: one stylesheet/);
    assert.doesNotMatch(all, /[\u0080-\u{10ffff}]/u);
    assert.equal(all.match(/ledge-version:/g)?.length, 1, "one version stamp (release.sh)");
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(`${dir}/build`))).map((entry) => entry.name),
      ["ledge"],
      "no temp dir left beside it",
    );

    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    await new Deno.Command("cp", { args: ["-R", build, `${empty}/ledge`] }).output();
    const run = await runVersion(dir, empty);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const info = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.equal(info.ledge, VERSION);
    assert.equal(info.target, Deno.build.target);
    const leftovers = [...Deno.readDirSync(empty)].map((entry) => entry.name).sort();
    assert.deepEqual(leftovers, ["ledge"], "nothing was fetched next to the bundle");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundleLedge refuses to replace a directory that is not a bundle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "mine\n");
    await assert.rejects(bundleLedge(dir), /holds files and no ledge\.js/);
    assert.equal(await Deno.readTextFile(`${dir}/notes.txt`), "mine\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Opens an AMQP connection with a made-up identity; resolves once ledge has closed it. */
function amqpAttempt(port: number): Promise<void> {
  return new Promise((resolve) => {
    const connection = rhea.create_container({ id: "bundle-test" }).connect({
      transport: "tls",
      host: "localhost",
      port,
      rejectUnauthorized: false,
      reconnect: false,
      username: "nobody/modules/x@sas.hub",
      password: "SharedAccessSignature sr=x&sig=y&se=1",
    } as never);
    connection.on("connection_open", () => connection.close());
    // The refusal expected: SASL authentication failed.
    connection.on("connection_error", () => {});
    connection.on("error", () => {});
    connection.on("disconnected", () => resolve());
  });
}

Deno.test("the daemon run from the bundle loads the AMQP head, whose rhea requires node:util", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
  try {
    const entry = await bundleLedge(`${dir}/ledge`);
    const ledge = await startLedge({
      command: [Deno.execPath(), "run", "--allow-all", "--no-config", entry],
      env: { DENO_DIR: `${dir}/deno-dir` },
      extraConfig: '[agent]\nengine = "none"\n',
    });
    try {
      await amqpAttempt(ledge.ports.amqp);
      // The head ran: it judged the credentials (before, it could not be loaded at all).
      await ledge.waitForLog(/amqp authentication refused/);
      assert.ok(!ledge.logs.some((line) => /cannot load the AMQP head/.test(line)));
    } finally {
      await ledge.stop();
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

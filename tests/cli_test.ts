/**
 * The `ledge` command as a user runs it: a real subprocess.
 */
import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import { VERSION } from "../core/version.ts";
import { runLedge } from "./_ledge.ts";

Deno.test("ledge version prints the version of ledge, of Deno, and the target", async () => {
  const { code, stdout } = await runLedge(["version"]);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), `ledge ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`);
  const json = await runLedge(["version", "--json"]);
  assert.deepEqual(JSON.parse(json.stdout), {
    ledge: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    target: Deno.build.target,
  });
});

Deno.test("deno.json and the code agree on the version", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(manifest.version, VERSION);
});

Deno.test("ledge init writes a commented config that ledge reads back, and never overwrites silently", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/etc/config.toml`;
    const first = await runLedge(
      ["init", "--config", path, "--hostname", "gw.plant.example", "--device-id", "line-7"],
    );
    assert.equal(first.code, 0, first.stderr);
    const text = await Deno.readTextFile(path);
    assert.match(text, /^# /m);
    const config = parseConfigText(text, { uid: 1000, hostname: "x", env: {} });
    assert.equal(config.device.id, "line-7");
    assert.equal(config.device.hostname, "gw.plant.example");

    const again = await runLedge(["init", "--config", path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists \(use --force to overwrite\)/);
    assert.equal(await Deno.readTextFile(path), text, "the file is unchanged");

    const bad = await runLedge(["init", "--config", `${dir}/b.toml`, "--device-id", "a/b"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /device\.id: expected 1–128 characters/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledge run refuses an invalid config before anything starts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      `[state]\ndir = "${dir}/state"\n[hub.mqtt]\nport = "88x3"\n`,
    );
    const { code, stderr } = await runLedge(["run"], {
      env: { LEDGE_CONFIG: `${dir}/config.toml` },
    });
    assert.equal(code, 1);
    assert.match(
      stderr,
      /hub\.mqtt\.port: expected an integer 0–65535 \(0: any free port\), got "88x3"/,
    );
    await assert.rejects(Deno.stat(`${dir}/state`), Deno.errors.NotFound, "no state dir was made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

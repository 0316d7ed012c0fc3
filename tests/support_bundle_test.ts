/**
 * `ledge support-bundle` as an operator runs it, against a running daemon and without one; the
 * archive is opened with the system `tar`.
 */
import assert from "node:assert/strict";
import { VERSION } from "../core/version.ts";
import { runLedge, startLedge } from "./_ledge.ts";
import { commandAvailable, serviceTest } from "./_services.ts";
import { deploymentManifest, shellModule } from "./_manifests.ts";
import { waitFor } from "./_wait.ts";

const UPSTREAM_KEY = "dXBzdHJlYW0tc2VjcmV0LWtleS1mb3ItdGVzdHM=";

function manifest(marker: string) {
  return deploymentManifest({ chatty: shellModule(`echo "${marker}"; while :; do sleep 1; done`) });
}

async function readTree(path: string, relative: string, files: Map<string, string>) {
  for await (const entry of Deno.readDir(path)) {
    const child = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory) await readTree(`${path}/${entry.name}`, child, files);
    else files.set(child, await Deno.readTextFile(`${path}/${entry.name}`));
  }
}

/** Extracts `archive` with the system tar; resolves with every file's path and text. */
async function extract(archive: string): Promise<Map<string, string>> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-bundle-x-" });
  try {
    const { success, stderr } = await new Deno.Command("tar", {
      args: ["-xzf", archive, "-C", dir],
      stderr: "piped",
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    const files = new Map<string, string>();
    await readTree(dir, "", files);
    return files;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function file(files: Map<string, string>, folder: string, path: string): string {
  const text = files.get(`${folder}/${path}`);
  assert.ok(text !== undefined, `${path} is in the bundle: ${[...files.keys()].join(", ")}`);
  return text;
}

serviceTest(
  "ledge support-bundle archives logs, status, redacted config, identities without keys, metrics and check",
  [await commandAvailable("tar")],
  async () => {
    const ledge = await startLedge({
      extraConfig: `[agent]\nengine = "none"\n[upstream]\nshared_access_key = "${UPSTREAM_KEY}"`,
    });
    const work = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
    try {
      const marker = `bundle-marker-${crypto.randomUUID()}`;
      await Deno.writeTextFile(`${work}/deployment.json`, JSON.stringify(manifest(marker)));
      const deployed = await ledge.cli(["deploy", `${work}/deployment.json`, "--wait"]);
      assert.equal(deployed.code, 0, deployed.stderr);
      const added = await ledge.cli(["identity", "add-device", "leaf-1"]);
      assert.equal(added.code, 0, added.stderr);
      const leafKey = added.stdout.match(/SharedAccessKey=([^;\s]+)/)?.[1];
      assert.ok(leafKey, added.stdout);
      // The module's line reaches its log before the bundle reads it.
      await waitFor(
        "the module's line in its log",
        async () => (await ledge.cli(["logs", "chatty"])).stdout.includes(marker),
      );

      const archive = `${work}/support.tar.gz`;
      const run = await ledge.cli(["support-bundle", "--since", "10m", "-o", archive, "--json"]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout) as { folder: string; files: string[] };
      assert.equal(summary.folder, "support");
      const info = await Deno.stat(archive);
      assert.equal(info.mode! & 0o777, 0o600, "the bundle is readable by its owner only");

      const files = await extract(archive);
      const folder = "support";
      assert.deepEqual(
        [...files.keys()].map((path) => path.slice(folder.length + 1)).sort(),
        [...summary.files].sort(),
        "the archive holds exactly the files the summary lists",
      );
      assert.equal(JSON.parse(file(files, folder, "version.json")).ledge, VERSION);

      const config = JSON.parse(file(files, folder, "config.json"));
      assert.equal(config.path, ledge.configPath);
      assert.equal(config.config.upstream.shared_access_key, "<redacted>");
      assert.equal(config.config.state.dir, ledge.stateDir);

      const modules = JSON.parse(file(files, folder, "status/modules.json")).modules as {
        name: string;
        status: string;
      }[];
      assert.equal(modules.find((m) => m.name === "chatty")?.status, "running");
      assert.match(file(files, folder, "logs/modules/chatty.log"), new RegExp(marker));
      const identities = JSON.parse(file(files, folder, "status/identities.json")).identities as {
        deviceId: string;
      }[];
      assert.ok(identities.some((identity) => identity.deviceId === "leaf-1"));
      assert.ok(
        JSON.parse(file(files, folder, "status/certificates.json")).certificates.length > 0,
      );
      assert.ok(JSON.parse(file(files, folder, "status/health.json")).status === "ok");
      assert.match(file(files, folder, "metrics.txt"), /^# TYPE \S+ (counter|gauge)/m);
      const checks = JSON.parse(file(files, folder, "check.json")) as { id: string }[];
      assert.ok(checks.some((check) => check.id === "config"));
      // ledge's own log records come from the daemon's ring, its ready line among them.
      assert.match(file(files, folder, "logs/ledge.log"), /"message":"ledge is ready"/);

      // No key of the identity registry, nor the upstream key, appears anywhere in the archive.
      const registry = await Deno.readTextFile(`${ledge.stateDir}/identities.json`);
      const keys = [...registry.matchAll(/"(?:primaryKey|secondaryKey)"\s*:\s*"([^"]+)"/g)].map((
        match,
      ) => match[1]!);
      assert.ok(keys.includes(leafKey), "the registry holds the leaf's key");
      assert.ok(keys.length >= 4, `the registry's keys: ${keys.length}`);
      for (const [path, text] of files) {
        for (const key of [...keys, UPSTREAM_KEY]) {
          assert.ok(!text.includes(key), `${path} must not contain a SAS key`);
        }
      }
      const raw = await Deno.readFile(archive);
      for (const key of [...keys, UPSTREAM_KEY]) {
        assert.ok(!new TextDecoder("latin1").decode(raw).includes(key));
      }
    } finally {
      await ledge.stop();
      await Deno.remove(work, { recursive: true });
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  },
);

serviceTest(
  "ledge support-bundle without a daemon writes what it can and names what is missing",
  [await commandAvailable("tar")],
  async () => {
    const work = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
    try {
      const configPath = `${work}/config.toml`;
      await Deno.writeTextFile(
        configPath,
        `[state]\ndir = "${work}/state"\n[metrics]\nlisten = "127.0.0.1:0"\n` +
          `[upstream]\nshared_access_key = "${UPSTREAM_KEY}"\n`,
      );
      const env = { LEDGE_CONFIG: configPath };
      const run = await runLedge(["support-bundle", "-o", `${work}/down.tgz`], { env, cwd: work });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^wrote .*down\.tgz \(\d+ files, /);
      assert.match(
        run.stdout,
        /missing status.*Cannot reach ledge at .*mgmt\.sock: is `ledge run` running\?/,
      );
      const files = await extract(`${work}/down.tgz`);
      const missing = file(files, "down", "MISSING.txt");
      assert.match(missing, /Cannot reach ledge at/);
      assert.match(missing, /metrics .*nothing answers there/);
      assert.equal(
        JSON.parse(file(files, "down", "config.json")).config.upstream.shared_access_key,
        "<redacted>",
      );
      assert.ok(JSON.parse(file(files, "down", "check.json")).length > 0);
      assert.ok(!files.has("down/status/modules.json"));
      for (const text of files.values()) assert.ok(!text.includes(UPSTREAM_KEY));
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
);

Deno.test("ledge support-bundle refuses a bad --since or an existing file with one line, writing nothing", async () => {
  const work = await Deno.makeTempDir({ prefix: "ledge-bundle-" });
  try {
    const env = { LEDGE_CONFIG: `${work}/config.toml` };
    await Deno.writeTextFile(
      env.LEDGE_CONFIG,
      `[state]\ndir = "${work}/state"\n[metrics]\nenabled = false\n`,
    );
    const bad = await runLedge(["support-bundle", "--since", "yesterday", "-o", `${work}/a.tgz`], {
      env,
    });
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'error: --since: Cannot read since "yesterday": expected Unix seconds, an RFC 3339 time or a duration like 10m\n',
    );
    await assert.rejects(Deno.stat(`${work}/a.tgz`), Deno.errors.NotFound);

    await Deno.writeTextFile(`${work}/b.tgz`, "keep me");
    const exists = await runLedge(["support-bundle", "-o", `${work}/b.tgz`], { env });
    assert.equal(exists.code, 1);
    assert.equal(
      exists.stderr,
      `error: Cannot write ${work}/b.tgz: the file exists (use --force to replace it)\n`,
    );
    assert.equal(await Deno.readTextFile(`${work}/b.tgz`), "keep me");
    const entries = [];
    for await (const entry of Deno.readDir(work)) entries.push(entry.name);
    assert.deepEqual(entries.sort(), ["b.tgz", "config.toml"], "no partial file is left");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

/**
 * Self-update of a real child (a release executable, run by its launcher) below a real parent:
 * the parent publishes signed executables, a deployment's `runtime.settings.ledgeVersion` moves
 * the child to a new version (reported at the parent); a version that exits at once is rolled
 * back by the launcher and the child reports why; an executable signed by a key the child does
 * not trust is refused, from the parent or as a local file, and nothing is swapped; a version
 * that cannot reach the parent within [update] confirm_seconds gives itself up and the previous
 * one comes back.
 */
import assert from "node:assert/strict";
import { digestFile } from "../daemon/mod.ts";
import { deployWith, registerEdgeChild, startFleetLedge } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";
import { type LedgeProcess, runLedge, startLedge } from "./_ledge.ts";
import { deploymentManifest } from "./_manifests.ts";
import { buildRelease } from "./_release.ts";
import { BUNDLE_ENTRY, bundleLedge } from "../scripts/bundle.ts";

interface LedgeReport {
  version: string;
  lastUpdate?: { version: string; result: string; reason?: string };
}

/** A copy of the bundle `from` as `to`, its entry preceded by `prelude`; returns `to`. */
async function withPrelude(from: string, to: string, prelude: string): Promise<string> {
  const copied = await new Deno.Command("cp", { args: ["-R", from, to] }).output();
  assert.ok(copied.success, new TextDecoder().decode(copied.stderr));
  const entry = `${to}/${BUNDLE_ENTRY}`;
  await Deno.writeTextFile(entry, prelude + await Deno.readTextFile(entry));
  return to;
}

async function cli(args: string[]): Promise<string> {
  const run = await runLedge(args);
  assert.equal(run.code, 0, `ledge ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

async function reportedAtParent(parent: LedgeProcess): Promise<LedgeReport | undefined> {
  const twin = await parent.cli(["twin", "--device", "child", "$edgeAgent"]);
  if (twin.code !== 0) return undefined;
  return JSON.parse(twin.stdout).reported?.ledge;
}

function wantVersion(version: string) {
  const manifest = deploymentManifest({});
  const agent = manifest.modulesContent.$edgeAgent as Record<string, Record<string, unknown>>;
  agent["properties.desired"]!.runtime = { type: "docker", settings: { ledgeVersion: version } };
  return manifest;
}

Deno.test("a child moves to a new version from its parent, rolls back a broken or disconnected one by itself, refuses a bad signature", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-self-update-" });
  const running: LedgeProcess[] = [];
  try {
    const good = `${dir}/good`;
    await bundleLedge(good);
    const broken = await withPrelude(
      good,
      `${dir}/broken`,
      'if (Deno.args.includes("run")) { console.error("broken on purpose"); Deno.exit(3); }\n',
    );
    const [v1, v2, v3] = await Promise.all([
      buildRelease({ version: "9.0.1", bundle: good }),
      buildRelease({ version: "9.0.2", bundle: good }),
      buildRelease({ version: "9.0.3", bundle: broken }),
    ]).then((builds) => builds.map((b) => b.x86_64!));
    await cli(["update", "keygen", "--out", `${dir}/trusted`]);
    await cli(["update", "keygen", "--out", `${dir}/stranger`, "--algorithm", "ed25519"]);
    for (const file of [v2!, v3!]) {
      await cli(["update", "sign", file, "--key", `${dir}/trusted.key`]);
    }

    const parent = await startFleetLedge({ deviceId: "parent" });
    running.push(parent);
    for (const file of [v2!, v3!]) {
      const published = await parent.cli(["update", "publish", file]);
      assert.equal(published.code, 0, published.stderr);
    }
    const link = await registerEdgeChild(parent, "child", dir);
    await Deno.mkdir(`${dir}/child`);
    const exe = `${dir}/child/ledge`;
    await Deno.copyFile(v1!, exe);
    await Deno.chmod(exe, 0o755);
    const child = await startLedge({
      deviceId: "child",
      command: [exe],
      env: { LEDGE_RUNTIME_DIR: `${dir}/runtime` },
      extraConfig: [
        `[agent]\nengine = "none"`,
        `[update]\ntrusted_keys = ["${dir}/trusted.pub"]\nconfirm_seconds = 40`,
        link.snippet,
        "reconnect_max_seconds = 2",
      ].join("\n"),
    });
    running.push(child);
    await waitFor(
      "the child's first report",
      async () => (await reportedAtParent(parent))?.version === "9.0.1" || undefined,
    );

    await t.step("a deployment moves it to 9.0.2, and the parent sees it running", async () => {
      assert.equal(
        (await deployWith(parent, wantVersion("9.0.2"), { dir, device: "child" })).code,
        0,
      );
      const report = await waitFor("9.0.2 reported", async () => {
        const seen = await reportedAtParent(parent);
        return seen?.version === "9.0.2" && seen.lastUpdate?.result === "succeeded"
          ? seen
          : undefined;
      }, 120_000);
      assert.equal(report.lastUpdate?.version, "9.0.2");
      assert.equal((await digestFile(exe)).sha256, (await digestFile(v2!)).sha256);
      assert.equal((await digestFile(`${exe}.previous`)).sha256, (await digestFile(v1!)).sha256);
      await assert.rejects(Deno.stat(`${exe}.update`), Deno.errors.NotFound, "confirmed");
      const runtimes = [...Deno.readDirSync(`${dir}/runtime`)].map((e) => e.name).sort();
      assert.deepEqual(runtimes.map((name) => name.split("-")[0]), ["9.0.1", "9.0.2"]);
    });

    await t.step(
      "9.0.3 exits at once: the launcher puts 9.0.2 back, which reports why",
      async () => {
        assert.equal(
          (await deployWith(parent, wantVersion("9.0.3"), { dir, device: "child" })).code,
          0,
        );
        const report = await waitFor("the rollback reported", async () => {
          const seen = await reportedAtParent(parent);
          return seen?.lastUpdate?.version === "9.0.3" && seen.lastUpdate.result === "rolled-back"
            ? seen
            : undefined;
        }, 120_000);
        assert.equal(report.version, "9.0.2");
        assert.match(report.lastUpdate?.reason ?? "", /exited with code 3 before it was ready/);
        assert.equal((await digestFile(exe)).sha256, (await digestFile(v2!)).sha256);
        assert.equal((await digestFile(`${exe}.failed`)).sha256, (await digestFile(v3!)).sha256);
      },
    );

    await t.step("a signature by an untrusted key is refused, nothing swapped", async () => {
      await cli(["update", "sign", v1!, "--key", `${dir}/stranger.key`]);
      const before = await digestFile(exe);
      const local = await child.cli(["update", v1!]);
      assert.equal(local.code, 1);
      assert.match(
        local.stderr,
        /Cannot update to 9\.0\.1: it is signed by key [0-9a-f]{16}, which is not one of \[update\] trusted_keys/,
      );
      assert.equal((await parent.cli(["update", "publish", v1!])).code, 0);
      assert.equal(
        (await deployWith(parent, wantVersion("9.0.1"), { dir, device: "child" })).code,
        0,
      );
      const report = await waitFor("the refusal reported", async () => {
        const seen = await reportedAtParent(parent);
        return seen?.lastUpdate?.version === "9.0.1" && seen.lastUpdate.result === "failed"
          ? seen
          : undefined;
      });
      assert.equal(report.version, "9.0.2");
      assert.match(report.lastUpdate?.reason ?? "", /not one of \[update\] trusted_keys/);
      assert.deepEqual(await digestFile(exe), before);
      await assert.rejects(Deno.stat(`${exe}.download`), Deno.errors.NotFound);
    });

    await t.step(
      "a version that cannot reach the parent in time is given up and rolled back",
      async () => {
        await cli(["update", "sign", v1!, "--key", `${dir}/trusted.key`, "--out", `${dir}/v1.sig`]);
        await parent.stop();
        running.splice(running.indexOf(parent), 1);
        const local = await child.cli(["update", v1!, "--signature", `${dir}/v1.sig`]);
        assert.equal(local.code, 0, local.stderr);
        assert.match(local.stdout, /installed 9\.0\.1; ledge is restarting into it/);
        const status = await waitFor("the rollback", async () => {
          const run = await child.cli(["update", "status", "--json"]);
          const seen = run.code === 0 ? JSON.parse(run.stdout) : undefined;
          return seen?.lastUpdate?.version === "9.0.1" && seen.lastUpdate.result === "rolled-back"
            ? seen
            : undefined;
        }, 120_000);
        assert.equal(status.version, "9.0.2");
        // The launcher's watchdog or the new version itself, whichever sees the time run out first.
        assert.match(
          status.lastUpdate.reason,
          /not (ready and )?connected (to the parent )?within 40s/,
        );
        assert.equal((await digestFile(exe)).sha256, (await digestFile(v2!)).sha256);
      },
    );

    const status = await child.stop();
    running.pop();
    assert.equal(status.code, 0, child.logs.slice(-20).join("\n"));
  } finally {
    for (const ledge of running.reverse()) await ledge.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

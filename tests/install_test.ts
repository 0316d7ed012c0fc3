/**
 * scripts/install.sh into a throwaway root file system: files, modes, a config `ledge` accepts,
 * and a systemd unit that `systemd-analyze verify` accepts without a warning; then uninstall.
 */
import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import { commandAvailable, type Requirement, serviceTest } from "./_services.ts";
import { bundleLedge } from "../scripts/bundle.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const isRoot: Requirement = {
  what: "root",
  missing: Deno.uid() === 0 ? undefined : "install.sh must run as root",
};

async function run(command: string, args: string[]) {
  const output = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

serviceTest(
  "install.sh installs into a root file system a unit that systemd-analyze verify accepts",
  [isRoot, await commandAvailable("systemd-analyze"), await commandAvailable("groupadd")],
  async () => {
    const root = await Deno.makeTempDir({ prefix: "ledge-rootfs-" });
    try {
      await Deno.mkdir(`${root}/etc`);
      for (const file of ["passwd", "group", "shadow", "gshadow", "login.defs"]) {
        await Deno.copyFile(`/etc/${file}`, `${root}/etc/${file}`).catch(() => {});
      }
      // systemd-analyze resolves the unit's dependencies (multi-user.target, …) inside --root.
      assert.equal(
        (await run("cp", ["-a", "/usr/lib/systemd", `${root}/usr-lib-systemd`])).code,
        0,
      );
      await Deno.mkdir(`${root}/usr/lib`, { recursive: true });
      await Deno.rename(`${root}/usr-lib-systemd`, `${root}/usr/lib/systemd`);

      const bundle = `${root}/ledge-bundle`;
      await bundleLedge(bundle);

      const installed = await run("bash", [
        "scripts/install.sh",
        "--root",
        root,
        "--binary",
        bundle,
      ]);
      assert.equal(installed.code, 0, installed.text);

      const unit = "/etc/systemd/system/ledge.service";
      const verify = await run("systemd-analyze", ["verify", `--root=${root}`, unit]);
      assert.equal(verify.code, 0, verify.text);
      assert.equal(verify.text.trim(), "", `systemd-analyze warned:\n${verify.text}`);

      const unitText = await Deno.readTextFile(`${root}${unit}`);
      assert.match(unitText, /^Restart=on-failure$/m);
      assert.match(unitText, /^ProtectSystem=strict$/m);
      assert.match(unitText, /^NoNewPrivileges=yes$/m);
      // The bundle's Deno dir, where the service may write it.
      assert.match(unitText, /^Environment=DENO_DIR=\/var\/cache\/ledge\/deno$/m);
      assert.match(unitText, /^CacheDirectory=ledge$/m);

      const mode = async (path: string) => (await Deno.stat(`${root}${path}`)).mode! & 0o777;
      assert.equal(await mode("/var/lib/ledge"), 0o700);
      assert.equal(await mode("/etc/ledge"), 0o750);
      assert.equal(await mode("/etc/ledge/config.toml"), 0o640);
      assert.equal(await mode("/usr/local/bin/ledge"), 0o755);
      assert.equal(await mode("/usr/local/lib/ledge/bundle/ledge.js"), 0o644);
      assert.match(
        await Deno.readTextFile(`${root}/usr/local/bin/ledge`),
        /^exec deno run .*--no-code-cache .* \/usr\/local\/lib\/ledge\/bundle\/ledge\.js "\$@"$/m,
      );
      assert.match(await Deno.readTextFile(`${root}/etc/group`), /^ledge:x:\d+:/m);

      const config = parseConfigText(await Deno.readTextFile(`${root}/etc/ledge/config.toml`), {
        uid: 0,
        hostname: "device",
        env: {},
      });
      assert.equal(config.state.dir, "/var/lib/ledge");

      // A reinstall keeps the operator's config.
      await Deno.writeTextFile(`${root}/etc/ledge/config.toml`, "# edited\n", { append: true });
      assert.equal(
        (await run("bash", ["scripts/install.sh", "--root", root, "--binary", bundle])).code,
        0,
      );
      assert.match(await Deno.readTextFile(`${root}/etc/ledge/config.toml`), /# edited\n$/);

      const removed = await run("bash", ["scripts/install.sh", "--uninstall", "--root", root]);
      assert.equal(removed.code, 0, removed.text);
      await assert.rejects(Deno.stat(`${root}${unit}`), Deno.errors.NotFound);
      await assert.rejects(Deno.stat(`${root}/usr/local/bin/ledge`), Deno.errors.NotFound);
      await Deno.stat(`${root}/etc/ledge/config.toml`); // kept without --purge
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

Deno.test("install.sh refuses an unknown argument with exit 2", async () => {
  const result = await run("bash", ["scripts/install.sh", "--frobnicate"]);
  assert.equal(result.code, 2);
  assert.match(result.text, /unknown argument '--frobnicate'/);
});

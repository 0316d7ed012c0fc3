/**
 * The release executables (scripts/release.sh, scripts/launcher.sh): the x64 file runs `version`
 * and `run` in a clean environment with no deno on the PATH (only BusyBox's tools), unpacks once
 * (a second start runs no gzip, tar or sha256sum), refuses a damaged file with one line, says so
 * when the disk is full, survives concurrent first starts; install.sh installs the arm64 file into a root file system, its `init`
 * run under qemu-user through LEDGE_EXEC_PREFIX.
 */
import assert from "node:assert/strict";
import { VERSION } from "../core/version.ts";
import { startLedge } from "./_ledge.ts";
import { buildRelease, busyboxPath, runExecutable } from "./_release.ts";
import { commandAvailable, type Requirement, serviceTest } from "./_services.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const QEMU = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];
const isRoot: Requirement = {
  what: "root",
  missing: Deno.uid() === 0 ? undefined : "install.sh must run as root",
};

let built: Promise<Record<string, string>> | undefined;
/** Both targets, built once for this file. */
function executables(): Promise<Record<string, string>> {
  built ??= buildRelease({ targets: ["x86_64", "aarch64"] });
  return built;
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

serviceTest(
  "the x64 executable runs version and run (ready, SIGTERM, exit 0) with no deno on the PATH",
  [await commandAvailable("busybox")],
  async () => {
    const { x86_64 } = await executables();
    const dir = await Deno.makeTempDir({ prefix: "ledge-clean-" });
    try {
      const bin = await busyboxPath();
      await Deno.mkdir(`${dir}/home`);
      const stateDir = `${dir}/state`;
      const env = { HOME: `${dir}/home`, PATH: bin, LEDGE_HOME: stateDir };
      const which = await runExecutable("/bin/sh", ["-c", "command -v deno"], env);
      assert.notEqual(which.code, 0, `deno is on the PATH: ${which.stdout}`);

      const version = await runExecutable(x86_64!, ["version", "--json"], env);
      assert.equal(version.code, 0, version.stderr);
      const info = JSON.parse(version.stdout);
      assert.equal(info.ledge, VERSION);
      assert.equal(info.target, "x86_64-unknown-linux-gnu");
      // As root the runtime goes under the state dir.
      const [unpacked, ...others] = await entries(`${stateDir}/runtime`);
      assert.match(unpacked!, new RegExp(`^${VERSION.replaceAll(".", "\\.")}-[0-9a-f]{16}$`));
      assert.deepEqual(others, []);

      const ledge = await startLedge({
        command: [x86_64!],
        clearEnv: true,
        env,
        stateDir,
        extraConfig: '[agent]\nengine = "none"\n',
      });
      const status = await ledge.stop("SIGTERM");
      assert.equal(status.code, 0, ledge.logs.join("\n"));
      assert.ok(ledge.logs.some((line) => /"stopped"/.test(line)), ledge.logs.join("\n"));
      await Deno.remove(ledge.configPath);
      await Deno.remove(bin, { recursive: true });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serviceTest(
  "a second start does not unpack again: no gzip, tar or sha256sum runs",
  [await commandAvailable("strace")],
  async () => {
    const { x86_64 } = await executables();
    const dir = await Deno.makeTempDir({ prefix: "ledge-second-" });
    try {
      const env = { HOME: dir, PATH: "/usr/bin:/bin", LEDGE_RUNTIME_DIR: `${dir}/rt` };
      const traced = async (name: string) => {
        const trace = `${dir}/${name}.trace`;
        const run = await runExecutable(x86_64!, ["version"], env, [
          "strace",
          "-f",
          "-qq",
          "-e",
          "trace=execve",
          "-o",
          trace,
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^ledge /);
        const programs = [...(await Deno.readTextFile(trace)).matchAll(/execve\("([^"]+)"/g)]
          .map((match) => match[1]!.split("/").pop()!);
        return { programs, mtime: (await Deno.stat(`${dir}/rt`)).mtime!.getTime() };
      };
      const first = await traced("first");
      for (const tool of ["gzip", "tar", "sha256sum"]) {
        assert.ok(first.programs.includes(tool), `the first start ran ${first.programs}`);
      }
      const second = await traced("second");
      for (const tool of ["gzip", "tar", "sha256sum", "mktemp", "mkfifo"]) {
        assert.ok(!second.programs.includes(tool), `the second start ran ${tool}`);
      }
      assert.ok(second.programs.includes("deno"));
      assert.equal(second.mtime, first.mtime, "the runtime dir was not written to");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("a damaged or truncated executable is refused with one line, nothing unpacked", async () => {
  const { x86_64 } = await executables();
  const dir = await Deno.makeTempDir({ prefix: "ledge-damaged-" });
  try {
    const bytes = await Deno.readFile(x86_64!);
    const damaged = bytes.slice();
    damaged[Math.floor(bytes.length / 2)]! ^= 0xff;
    const cases = { damaged, truncated: bytes.subarray(0, bytes.length - 4096) };
    for (const [name, content] of Object.entries(cases)) {
      const file = `${dir}/${name}`;
      await Deno.writeFile(file, content, { mode: 0o755 });
      const rt = `${dir}/rt-${name}`;
      const run = await runExecutable(file, ["version"], {
        HOME: dir,
        PATH: "/usr/bin:/bin",
        LEDGE_RUNTIME_DIR: rt,
      });
      assert.equal(run.code, 1, `${name}: ${run.stdout}`);
      assert.equal(run.stdout, "");
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, new RegExp(`^ledge: ${file} is damaged \\(checksum mismatch`));
      assert.deepEqual(await entries(rt), [], `${name}: nothing left in the runtime dir`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serviceTest(
  "a runtime dir on a full disk is refused with one line saying so, not as a damaged file",
  [isRoot, await commandAvailable("mount")],
  async () => {
    const { x86_64 } = await executables();
    const dir = await Deno.makeTempDir({ prefix: "ledge-full-" });
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dir],
    }).output();
    assert.ok(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      const run = await runExecutable(x86_64!, ["version"], {
        HOME: dir,
        PATH: "/usr/bin:/bin",
        LEDGE_RUNTIME_DIR: `${dir}/rt`,
      });
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `ledge: cannot unpack ${x86_64} into ${dir}/rt (disk full?)\n`);
      assert.deepEqual(await entries(`${dir}/rt`), [], "nothing left behind");
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("concurrent first starts unpack into one runtime dir and all run", async () => {
  const { x86_64 } = await executables();
  const dir = await Deno.makeTempDir({ prefix: "ledge-concurrent-" });
  try {
    const env = { HOME: dir, PATH: "/usr/bin:/bin", LEDGE_RUNTIME_DIR: `${dir}/rt` };
    const runs = await Promise.all(
      [1, 2, 3].map(() => runExecutable(x86_64!, ["version", "--json"], env)),
    );
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).ledge, VERSION);
    }
    const [unpacked, ...others] = await entries(`${dir}/rt`);
    assert.deepEqual(others, [], "one runtime dir, no temp dirs left");
    assert.deepEqual(await entries(`${dir}/rt/${unpacked}`), ["cache", "deno", "ledge"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

serviceTest(
  "install.sh --binary installs the arm64 executable with its unit, init run under qemu-user",
  [
    isRoot,
    await commandAvailable("qemu-aarch64-static"),
    await commandAvailable("systemd-analyze"),
    await commandAvailable("groupadd"),
  ],
  async () => {
    const { aarch64 } = await executables();
    const root = await Deno.makeTempDir({ prefix: "ledge-rootfs-arm64-" });
    try {
      await Deno.mkdir(`${root}/etc`);
      for (const file of ["passwd", "group", "shadow", "gshadow", "login.defs"]) {
        await Deno.copyFile(`/etc/${file}`, `${root}/etc/${file}`).catch(() => {});
      }
      const installed = await new Deno.Command("bash", {
        args: ["scripts/install.sh", "--root", root, "--binary", aarch64!],
        cwd: ROOT,
        env: { LEDGE_EXEC_PREFIX: QEMU.join(" ") },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(installed.stdout) +
        new TextDecoder().decode(installed.stderr);
      assert.equal(installed.code, 0, text);

      // The file itself (no wrapper), where the daemon may replace it; the PATH has a link to it.
      const lib = `${root}/usr/local/lib/ledge/ledge`;
      assert.deepEqual(await Deno.readFile(lib), await Deno.readFile(aarch64!));
      assert.equal((await Deno.stat(lib)).mode! & 0o777, 0o755);
      assert.equal(await Deno.readLink(`${root}/usr/local/bin/ledge`), "../lib/ledge/ledge");
      const unit = await Deno.readTextFile(`${root}/etc/systemd/system/ledge.service`);
      assert.match(unit, /^ExecStart=\/usr\/local\/lib\/ledge\/ledge run --log-format json$/m);
      assert.match(unit, /^ReadWritePaths=\/var\/lib\/ledge \/usr\/local\/lib\/ledge$/m);
      assert.match(unit, /^KillMode=mixed$/m);
      // The launcher's Deno dir is in its runtime dir, under the state dir: none in the unit.
      assert.doesNotMatch(unit, /DENO_DIR|CacheDirectory/);
      // `ledge init` ran: the arm64 executable wrote the config under qemu-user.
      assert.match(await Deno.readTextFile(`${root}/etc/ledge/config.toml`), /\[state\]/);
      // Nothing of the build machine's state dir was used.
      await assert.rejects(Deno.stat(`${root}/var/lib/ledge/runtime`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

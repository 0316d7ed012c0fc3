/**
 * Host paths judged on a real file system: symlinks to / and to the state dir, relative and ".."
 * paths, parents of the state dir and of an engine socket (even where a parent is allowed),
 * missing sources under an allowed path, dangling symlinks, devices.
 */
import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import type { AllowConfig } from "../agent/container_policy.ts";
import { judgeHostPaths, resolveHostPath } from "../agent/host_paths.ts";

const defaults = parseConfigText('[state]\ndir = "/var/lib/ledge"', {
  uid: 1000,
  hostname: "test",
  env: {},
}).agent.allow;

Deno.test("host paths are judged where they lead, against an allow-list", async (t) => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "ledge-host-paths-" }));
  const stateDir = `${root}/state`;
  const allowed = `${root}/allowed`;
  await Deno.mkdir(`${stateDir}/pki`, { recursive: true });
  await Deno.mkdir(`${allowed}/data`, { recursive: true });
  await Deno.mkdir(`${root}/engine`);
  await Deno.writeTextFile(`${root}/engine/engine.sock`, "");
  await Deno.symlink("/", `${allowed}/to-root`);
  await Deno.symlink(stateDir, `${allowed}/to-state`);
  await Deno.symlink(`${allowed}/data`, `${root}/outside-link`);
  await Deno.symlink(`${root}/nowhere/x`, `${allowed}/dangling`);
  const policy = (allow: Partial<AllowConfig> = {}) => ({
    allow: { ...defaults, host_paths: [allowed], ...allow },
    stateDir,
    engineSockets: [`${root}/engine/engine.sock`],
  });
  async function problemsOf(binds: string[], allow: Partial<AllowConfig> = {}) {
    const result = await judgeHostPaths({ HostConfig: { Binds: binds } }, policy(allow));
    return result.problems;
  }
  try {
    await t.step("a path under an allowed one passes, resolved", async () => {
      const result = await judgeHostPaths(
        {
          HostConfig: { Binds: [`${root}/outside-link:/d:ro`, `${allowed}/new/dir:/n`, "vol:/v"] },
        },
        policy(),
      );
      assert.deepEqual(result.problems, []);
      assert.deepEqual(result.spec.HostConfig?.Binds, [
        `${allowed}/data:/d:ro`,
        `${allowed}/new/dir:/n`,
        "vol:/v",
      ]);
    });
    const refused: [string, string[], Partial<AllowConfig>, RegExp][] = [
      ["nothing allowed by default", [`${allowed}/data:/d`], { host_paths: [] }, /not allowed.*/],
      ["/etc", ["/etc:/x"], {}, /"\/etc" is not allowed/],
      ["a symlink to /", [`${allowed}/to-root:/h`], {}, /resolves to \/\).*(state dir|socket)/],
      ["a symlink to the state dir", [`${allowed}/to-state/pki:/k`], {}, /state dir/],
      [
        "the state dir although allowed",
        [`${stateDir}:/s`],
        { host_paths: [stateDir] },
        /never mounted/,
      ],
      [
        "a parent of the state dir although allowed",
        [`${root}:/r`],
        { host_paths: [root] },
        /never/,
      ],
      [
        "the engine socket's dir although allowed",
        [`${root}/engine:/e`],
        { host_paths: [root] },
        /socket/,
      ],
      ["a relative path", ["./data:/d"], {}, /not an absolute path/],
      ["a parent-relative path", ["../etc:/d"], {}, /not an absolute path/],
      ["a .. path", [`${allowed}/../state:/d`], {}, /"\.\." are refused/],
      ["a dangling symlink", [`${allowed}/dangling:/d`], {}, /symlink to nothing/],
      ["a shared propagation", [`${allowed}/data:/d:rshared`], {}, /bind option "rshared"/],
      ["a malformed bind", ["/a:b:c:d"], {}, /expected "source:\/target/],
    ];
    for (const [name, binds, allow, expected] of refused) {
      await t.step(name, async () => {
        const problems = await problemsOf(binds, allow);
        assert.equal(problems.length, 1, JSON.stringify(problems));
        assert.match(problems[0]!.message, expected);
        assert.equal(problems[0]!.path, "HostConfig.Binds[0]");
      });
    }
    await t.step("Mounts of type bind, volume drivers' tricks and Devices", async () => {
      const result = await judgeHostPaths({
        HostConfig: {
          Mounts: [
            { Type: "bind", Source: "/", Target: "/h" },
            { Type: "volume", Source: "../x", Target: "/v" },
            { Type: "BIND", Source: "/", Target: "/h" },
            {
              Type: "bind",
              Source: `${allowed}/data`,
              Target: "/d",
              BindOptions: { Propagation: "rshared" },
            },
            { Type: "volume", Source: "named", Target: "/n" },
          ],
          Devices: [{ PathOnHost: "/dev/null", PathInContainer: "/dev/x" }],
        },
      }, policy());
      assert.deepEqual(result.problems.map((p) => `${p.path} ${p.allow ?? ""}`), [
        "HostConfig.Mounts[0].Source ",
        "HostConfig.Mounts[1].Source ",
        "HostConfig.Mounts[2].Type ",
        "HostConfig.Mounts[3].BindOptions.Propagation ",
        "HostConfig.Devices[0].PathOnHost devices",
      ]);
      const allowedDevice = await judgeHostPaths({
        HostConfig: { Devices: [{ PathOnHost: "/dev/null", PathInContainer: "/dev/x" }] },
      }, policy({ devices: ["/dev/null"] }));
      assert.deepEqual(allowedDevice.problems, []);
    });
    await t.step("resolveHostPath() follows symlinks of missing paths' parents", async () => {
      assert.deepEqual(await resolveHostPath(`${root}/outside-link/a/b`), {
        path: `${allowed}/data/a/b`,
      });
      assert.deepEqual(await resolveHostPath("//etc//"), { path: "/etc" });
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

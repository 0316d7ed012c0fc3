import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import {
  checkCreateOptions,
  normalizeHostPath,
  type PolicyContext,
} from "./create_options_policy.ts";

const defaults = parseConfigText('[state]\ndir = "/var/lib/ledge"', {
  uid: 1000,
  hostname: "test",
  env: {},
});

function context(allow: Partial<PolicyContext["allow"]> = {}): PolicyContext {
  return {
    allow: { ...defaults.agent.allow, ...allow },
    stateDir: "/var/lib/ledge",
    engineSockets: ["/srv/engine/custom.sock"],
  };
}

const host = (hostConfig: Record<string, unknown>) => ({ HostConfig: hostConfig });

Deno.test("checkCreateOptions() allows ordinary options", () => {
  const options = {
    Cmd: ["run"],
    Env: ["A=1"],
    HostConfig: {
      Binds: ["data:/data", "/srv/app:/app:ro"],
      PortBindings: { "80/tcp": [{ HostPort: "8080" }] },
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      NetworkMode: "azure-iot-edge",
    },
  };
  assert.deepEqual(checkCreateOptions(options, context()), []);
});

Deno.test("checkCreateOptions() denies each escape hatch by default and names its allow key", async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["Privileged", host({ Privileged: true }), /HostConfig\.Privileged.*agent\.allow\.privileged/],
    ["CapAdd", host({ CapAdd: ["SYS_ADMIN"] }), /CapAdd "SYS_ADMIN".*agent\.allow\.cap_add/],
    ["a bind of /", host({ Binds: ["/:/host"] }), /Binds\[0\] "\/".*root file system.*host_paths/],
    ["a bind of /proc", host({ Binds: ["/proc/1:/p"] }), /Binds\[0\].*\/proc/],
    ["a bind of /sys", host({ Binds: ["/sys:/sys:ro"] }), /\/sys/],
    ["a bind of /dev", host({ Binds: ["/dev:/dev"] }), /\/dev/],
    [
      "a bind of the docker socket",
      host({ Binds: ["/var/run/docker.sock:/var/run/docker.sock"] }),
      /engine socket/,
    ],
    [
      "a bind of the dir holding the podman socket",
      host({ Binds: ["/run:/run"] }),
      /engine socket \/run\/podman\/podman\.sock|engine socket \/run\/docker\.sock/,
    ],
    [
      "a bind of the configured engine socket",
      host({ Binds: ["/srv/engine:/e"] }),
      /engine socket \/srv\/engine\/custom\.sock/,
    ],
    ["a bind into the state dir", host({ Binds: ["/var/lib/ledge/mnt/other:/x"] }), /state dir/],
    ["a bind with .. tricks", host({ Binds: ["/srv/../proc:/p"] }), /\/proc/],
    [
      "a bind Mount of /",
      host({ Mounts: [{ Type: "bind", Source: "/", Target: "/h" }] }),
      /Mounts\[0\]\.Source/,
    ],
    [
      "Devices",
      host({ Devices: [{ PathOnHost: "/dev/ttyUSB0", PathInContainer: "/dev/ttyUSB0" }] }),
      /HostConfig\.Devices.*agent\.allow\.devices/,
    ],
    ["DeviceCgroupRules", host({ DeviceCgroupRules: ["c 188:* rmw"] }), /DeviceCgroupRules/],
    ["host network", host({ NetworkMode: "host" }), /NetworkMode "host".*host_network/],
    ["host pid", host({ PidMode: "host" }), /PidMode.*host_pid/],
    ["host ipc", host({ IpcMode: "host" }), /IpcMode.*host_ipc/],
    ["host userns", host({ UsernsMode: "host" }), /UsernsMode.*host_userns/],
    [
      "unconfined seccomp",
      host({ SecurityOpt: ["seccomp=unconfined"] }),
      /SecurityOpt "seccomp=unconfined".*unconfined_security/,
    ],
    ["unconfined apparmor", host({ SecurityOpt: ["apparmor:unconfined"] }), /unconfined_security/],
    [
      "Sysctls",
      host({ Sysctls: { "net.ipv4.ip_forward": "1" } }),
      /HostConfig\.Sysctls.*agent\.allow\.sysctls/,
    ],
  ];
  for (const [name, options, expected] of cases) {
    await t.step(name, () => {
      const denied = checkCreateOptions(options, context());
      assert.equal(denied.length, 1, denied.join("\n"));
      assert.match(denied[0]!, expected);
    });
  }
});

Deno.test("checkCreateOptions() allows what the device config allows, and only that", () => {
  const allow = {
    privileged: true,
    cap_add: ["NET_ADMIN"],
    host_paths: ["/dev/ttyUSB0"],
    devices: true,
    host_network: true,
    sysctls: true,
  };
  const options = host({
    Privileged: true,
    CapAdd: ["CAP_NET_ADMIN", "SYS_TIME"],
    Binds: ["/dev/ttyUSB0:/dev/ttyUSB0", "/dev/mem:/dev/mem"],
    Devices: [{ PathOnHost: "/dev/ttyUSB0" }],
    NetworkMode: "host",
    PidMode: "host",
    Sysctls: { "net.core.somaxconn": "1024" },
  });
  const denied = checkCreateOptions(options, context(allow));
  assert.deepEqual(denied.map((line) => line.split(":")[0]), [
    'HostConfig.CapAdd "SYS_TIME"',
    'HostConfig.Binds[1] "/dev/mem"',
    'HostConfig.PidMode "host"',
  ]);
});

Deno.test("normalizeHostPath() resolves dots and slashes", () => {
  assert.equal(normalizeHostPath("/srv//a/./b/../c/"), "/srv/a/c");
  assert.equal(normalizeHostPath("/../.."), "/");
});

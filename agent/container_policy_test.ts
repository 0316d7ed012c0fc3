import assert from "node:assert/strict";
import { parseConfigText } from "../core/config_load.ts";
import { decodeContainerCreate } from "./container_decode.ts";
import { type AllowConfig, HOST_CONFIG_RULES, judgeContainer } from "./container_policy.ts";
import { ContainerCreate } from "./container_schema.ts";
import { fromParsed } from "./json_scan.ts";

const defaults = parseConfigText('[state]\ndir = "/var/lib/ledge"', {
  uid: 1000,
  hostname: "test",
  env: {},
}).agent.allow;

function judge(options: Record<string, unknown>, allow: Partial<AllowConfig> = {}) {
  const { spec, problems } = decodeContainerCreate(fromParsed(options));
  assert.deepEqual(problems, []);
  return judgeContainer(spec, { allow: { ...defaults, ...allow }, network: "azure-iot-edge" });
}

const host = (hostConfig: Record<string, unknown>) => ({ HostConfig: hostConfig });

Deno.test("HOST_CONFIG_RULES has a rule for every HostConfig field ledge passes on", () => {
  assert.deepEqual(
    Object.keys(HOST_CONFIG_RULES).sort(),
    Object.keys(ContainerCreate.struct.HostConfig.struct).sort(),
  );
});

Deno.test("judgeContainer() accepts what IoT Edge manifests ask for", () => {
  const problems = judge({
    Hostname: "sensor",
    User: "1000:1000",
    WorkingDir: "/app",
    Env: ["A=1"],
    Cmd: ["run"],
    Entrypoint: "/bin/sh",
    Labels: { a: "b" },
    ExposedPorts: { "8080/tcp": {} },
    StopSignal: "SIGTERM",
    StopTimeout: 30,
    Healthcheck: { Test: ["CMD", "true"], Interval: 30e9, Retries: 3 },
    NetworkingConfig: { EndpointsConfig: { "azure-iot-edge": { Aliases: ["sensor"] } } },
    HostConfig: {
      PortBindings: { "8883/tcp": [{ HostPort: "8883" }] },
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      Memory: 268435456,
      NanoCpus: 500000000,
      CpuShares: 512,
      ExtraHosts: ["opc:10.0.0.5"],
      RestartPolicy: { Name: "always" },
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      ReadonlyRootfs: true,
      Tmpfs: { "/run": "rw,size=64m" },
      NetworkMode: "azure-iot-edge",
      IpcMode: "private",
      PidsLimit: 100,
      Init: true,
    },
  });
  assert.deepEqual(problems, []);
});

Deno.test("judgeContainer() denies each widening field and names its allow key", async (t) => {
  const cases: [Record<string, unknown>, string, string | undefined][] = [
    [host({ Privileged: true }), "HostConfig.Privileged", "privileged"],
    [host({ CapAdd: "SYS_ADMIN" }), "HostConfig.CapAdd[0]", "cap_add"],
    [host({ CapAdd: ["cap_sys_admin"] }), "HostConfig.CapAdd[0]", "cap_add"],
    [host({ CapAdd: ["SYS ADMIN"] }), "HostConfig.CapAdd[0]", undefined],
    [host({ NetworkMode: "host" }), "HostConfig.NetworkMode", "host_network"],
    [host({ NetworkMode: "HOST" }), "HostConfig.NetworkMode", undefined],
    [host({ NetworkMode: "container:hub" }), "HostConfig.NetworkMode", "join_containers"],
    [host({ NetworkMode: "ns:/proc/1/ns/net" }), "HostConfig.NetworkMode", undefined],
    [
      host({ NetworkMode: "slirp4netns:allow_host_loopback=true" }),
      "HostConfig.NetworkMode",
      undefined,
    ],
    [host({ PidMode: "host" }), "HostConfig.PidMode", "host_pid"],
    [host({ PidMode: "container:hub" }), "HostConfig.PidMode", "join_containers"],
    [host({ IpcMode: "host" }), "HostConfig.IpcMode", "host_ipc"],
    [host({ UTSMode: "host" }), "HostConfig.UTSMode", "host_uts"],
    [host({ UsernsMode: "host" }), "HostConfig.UsernsMode", "host_userns"],
    [host({ CgroupnsMode: "host" }), "HostConfig.CgroupnsMode", "host_cgroupns"],
    [host({ Cgroup: "container:hub" }), "HostConfig.Cgroup", "join_containers"],
    [host({ VolumesFrom: ["hub"] }), "HostConfig.VolumesFrom", "join_containers"],
    [host({ Links: ["hub:hub"] }), "HostConfig.Links", "join_containers"],
    [
      host({ SecurityOpt: ["seccomp=unconfined"] }),
      "HostConfig.SecurityOpt[0]",
      "unconfined_security",
    ],
    [
      host({ SecurityOpt: ["seccomp=/etc/p.json"] }),
      "HostConfig.SecurityOpt[0]",
      "unconfined_security",
    ],
    [
      host({ SecurityOpt: ["label=type:spc_t"] }),
      "HostConfig.SecurityOpt[0]",
      "unconfined_security",
    ],
    [host({ MaskedPaths: [] }), "HostConfig.MaskedPaths", "unconfined_security"],
    [host({ ReadonlyPaths: [] }), "HostConfig.ReadonlyPaths", "unconfined_security"],
    [host({ Sysctls: { "net.ipv4.ip_forward": "1" } }), "HostConfig.Sysctls", "sysctls"],
    [host({ CgroupParent: "/" }), "HostConfig.CgroupParent", "cgroup_parent"],
    [host({ OomKillDisable: true }), "HostConfig.OomKillDisable", "oom_kill_disable"],
    [host({ OomScoreAdj: -1000 }), "HostConfig.OomScoreAdj", "oom_kill_disable"],
    [host({ Ulimits: [{ Name: "memlock", Soft: -1, Hard: -1 }] }), "HostConfig.Ulimits", "ulimits"],
    [host({ Runtime: "runc-custom" }), "HostConfig.Runtime", "runtimes"],
    [
      host({ DeviceRequests: [{ Count: -1, Capabilities: [["gpu"]] }] }),
      "HostConfig.DeviceRequests",
      "gpus",
    ],
    [
      host({ DeviceCgroupRules: ["a *:* rwm"] }),
      "HostConfig.DeviceCgroupRules[0]",
      "device_cgroup_rules",
    ],
    [
      host({ LogConfig: { Type: "k8s-file", Config: { path: "/etc/cron.d/x" } } }),
      'HostConfig.LogConfig.Config["path"]',
      undefined,
    ],
    [host({ LogConfig: { Type: "syslog" } }), "HostConfig.LogConfig.Type", undefined],
    [
      { NetworkingConfig: { EndpointsConfig: { host: {} } } },
      'NetworkingConfig.EndpointsConfig["host"]',
      undefined,
    ],
  ];
  for (const [options, path, key] of cases) {
    await t.step(`${path} ${JSON.stringify(options)}`, () => {
      const problems = judge(options);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.path, path);
      assert.equal(problems[0]!.allow, key);
      if (key) assert.deepEqual(judge(options, { [key]: allowValue(key, options) }), []);
    });
  }
});

function allowValue(key: string, options: Record<string, unknown>): unknown {
  const hostConfig = options.HostConfig as Record<string, unknown>;
  if (key === "cap_add") return ["SYS_ADMIN"];
  if (key === "runtimes") return [hostConfig.Runtime];
  if (key === "device_cgroup_rules") return hostConfig.DeviceCgroupRules;
  return true;
}

Deno.test("judgeContainer() allows what the device config allows, and only that", () => {
  const problems = judge(
    host({
      Privileged: true,
      CapAdd: ["CAP_NET_ADMIN", "SYS_TIME"],
      NetworkMode: "host",
      PidMode: "host",
    }),
    { privileged: true, cap_add: ["NET_ADMIN"], host_network: true },
  );
  assert.deepEqual(problems.map((p) => p.path), ["HostConfig.CapAdd[1]", "HostConfig.PidMode"]);
  assert.deepEqual(
    judge({
      HostConfig: { NetworkMode: "host" },
      NetworkingConfig: { EndpointsConfig: { host: {} } },
    }, {
      host_network: true,
    }),
    [],
  );
});

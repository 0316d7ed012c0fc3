import assert from "node:assert/strict";
import { decodeContainerCreate, foldKey } from "./container_decode.ts";
import { fromParsed, scanJson } from "./json_scan.ts";

function decode(text: string) {
  return decodeContainerCreate(scanJson(text));
}

Deno.test("decodeContainerCreate() matches names as Go does, case-insensitively, to canonical names", () => {
  const { spec, problems } = decode(
    '{"hostconfig":{"PRIVILEGED":true,"capadd":"SYS_ADMIN","pidmode":"host"},"CMD":"run"}',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(spec, {
    HostConfig: { Privileged: true, CapAdd: ["SYS_ADMIN"], PidMode: "host" },
    Cmd: ["run"],
  });
});

Deno.test("decodeContainerCreate() folds the long s and the Kelvin sign as Go's encoding/json does", () => {
  assert.equal(foldKey("Bind\u017F"), foldKey("Binds"));
  assert.equal(foldKey("\u212Aernel"), foldKey("kernel"));
  const { spec, problems } = decode('{"Ho\u017FtConfig":{"Bind\u017F":["/:/host"]}}');
  assert.deepEqual(problems, []);
  assert.deepEqual(spec.HostConfig?.Binds, ["/:/host"]);
});

Deno.test("decodeContainerCreate() refuses a field given twice, naming both spellings, at any depth", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["top level", '{"HostConfig":{},"hostconfig":{"Privileged":true}}', /^HostConfig$/],
    [
      "in HostConfig",
      '{"HostConfig":{"Privileged":false,"privileged":true}}',
      /^HostConfig\.Privileged$/,
    ],
    [
      "the same spelling twice (JSON.parse would keep the last)",
      '{"HostConfig":{"Privileged":false,"Privileged":true}}',
      /^HostConfig\.Privileged$/,
    ],
    [
      "in a list item",
      '{"HostConfig":{"Mounts":[{"Type":"volume","type":"bind","Source":"/"}]}}',
      /^HostConfig\.Mounts\[0\]\.Type$/,
    ],
    ["a map key", '{"Labels":{"a":"1","a":"2"}}', /^Labels\["a"\]$/],
  ];
  for (const [name, text, path] of cases) {
    await t.step(name, () => {
      const { problems } = decode(text);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!.path, path);
    });
  }
  const { problems } = decode('{"HostConfig":{"Privileged":false,"privileged":true}}');
  assert.match(problems[0]!.message, /"Privileged" and "privileged"/);
});

Deno.test("decodeContainerCreate() refuses unknown fields with their path, including Docker's top-level HostConfig fields", () => {
  const { problems } = decode(
    '{"Privileged":true,"Binds":["/:/h"],"HostConfig":{"Frobnicate":1},"UnsetEnvAll":true}',
  );
  assert.deepEqual(problems.map((p) => p.path), [
    "Privileged",
    "Binds",
    "HostConfig.Frobnicate",
    "UnsetEnvAll",
  ]);
  assert.ok(problems.every((p) => /not a field ledge passes/.test(p.message)));
});

Deno.test("decodeContainerCreate() takes fields it never passes on only at their defaults, as docker inspect writes them", () => {
  const inspected = decode(
    '{"ArgsEscaped":false,"OnBuild":null,"HostConfig":{"ContainerIDFile":"","AutoRemove":false,' +
      '"VolumeDriver":"","ConsoleSize":[0,0],"Isolation":"","BlkioWeightDevice":[],' +
      '"CpuRealtimeRuntime":0,"Annotations":{}},"NetworkingConfig":{"EndpointsConfig":' +
      '{"azure-iot-edge":{"IPAddress":"","NetworkID":"","DriverOpts":null}}}}',
  );
  assert.deepEqual(inspected.problems, []);
  assert.deepEqual(inspected.spec, {
    HostConfig: {},
    NetworkingConfig: { EndpointsConfig: { "azure-iot-edge": {} } },
  });
  const { problems } = decode(
    '{"HostConfig":{"ContainerIDFile":"/etc/cron.d/x","VolumeDriver":"local","Annotations":{"a":"b"},' +
      '"Mounts":[{"Type":"volume","Target":"/v","VolumeOptions":{"DriverConfig":{"Options":{"device":"/etc"}}}}]}}',
  );
  assert.deepEqual(problems.map((p) => p.path), [
    "HostConfig.ContainerIDFile",
    "HostConfig.VolumeDriver",
    "HostConfig.Annotations",
    "HostConfig.Mounts[0].VolumeOptions.DriverConfig",
  ]);
  assert.ok(problems.every((p) => /only at its default/.test(p.message)));
});

Deno.test("decodeContainerCreate() refuses values of the wrong JSON type", () => {
  const { problems } = decode(
    '{"HostConfig":{"Privileged":"true","Memory":1.5,"Binds":"/:/h","CapAdd":[1]},"Env":[null]}',
  );
  assert.deepEqual(problems.map((p) => p.path), [
    "HostConfig.Privileged",
    "HostConfig.Memory",
    "HostConfig.Binds",
    "HostConfig.CapAdd[0]",
    "Env[0]",
  ]);
});

Deno.test("decodeContainerCreate() drops null fields and keeps map keys as written", () => {
  const { spec, problems } = decode(
    '{"HostConfig":null,"Labels":{"a":"1","A":"2","__proto__":"3"},"ExposedPorts":{"80/tcp":{}}}',
  );
  assert.deepEqual(problems, []);
  assert.equal(spec.HostConfig, undefined);
  assert.deepEqual(Object.keys(spec.Labels!), ["a", "A", "__proto__"]);
  assert.equal(Object.getPrototypeOf(spec.Labels), Object.prototype);
  assert.deepEqual(spec.ExposedPorts, { "80/tcp": {} });
});

Deno.test("decodeContainerCreate() reads the object form the same way", () => {
  const { spec, problems } = decodeContainerCreate(
    fromParsed({ hostconfig: { Privileged: false, privileged: true } }),
  );
  assert.equal(problems.length, 1);
  assert.equal(spec.HostConfig?.Privileged, false);
});

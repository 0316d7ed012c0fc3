import assert from "node:assert/strict";
import { ManifestError, normalizeImage, parseDeployment } from "./deployment.ts";

const EXAMPLES = new URL("../examples/manifests/", import.meta.url);

async function example(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(name, EXAMPLES)));
}

function rejection(raw: unknown): ManifestError {
  try {
    parseDeployment(raw);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error("expected the manifest to be rejected");
}

/** A minimal valid manifest whose `modules` can be replaced. */
function manifest(modules: unknown, agent: Record<string, unknown> = {}): unknown {
  return {
    modulesContent: {
      $edgeAgent: {
        "properties.desired": {
          schemaVersion: "1.1",
          runtime: { type: "docker" },
          modules,
          ...agent,
        },
      },
    },
  };
}

const sensor = {
  version: "1.0",
  type: "docker",
  status: "running",
  restartPolicy: "always",
  settings: { image: "example/sensor:1", createOptions: "{}" },
};

Deno.test("parseDeployment() reads the simulated sensor + filter manifest of the IoT Edge docs", async () => {
  const deployment = parseDeployment(await example("simulated_sensor.json"));
  assert.equal(deployment.schemaVersion, "1.1");
  assert.deepEqual(deployment.modules.map((m) => m.name), [
    "filtermodule",
    "SimulatedTemperatureSensor",
  ]);
  const filter = deployment.modules[0]!;
  assert.equal(filter.startupOrder, 2);
  assert.deepEqual(filter.env, { TemperatureThreshold: "25" });
  assert.equal(filter.image, "myacr.azurecr.io/filtermodule:0.0.1-amd64");
  const sensorModule = deployment.modules[1]!;
  assert.equal(sensorModule.startupOrder, 4294967295);
  assert.equal(sensorModule.imagePullPolicy, "on-create");
  assert.deepEqual(sensorModule.createOptions, {});
  assert.deepEqual(Object.keys(deployment.systemModules).sort(), ["edgeAgent", "edgeHub"]);
  assert.equal(Object.keys(deployment.edgeHub?.routes ?? {}).length, 2);
  assert.equal(deployment.edgeHub?.storeAndForwardConfiguration?.timeToLiveSecs, 7200);
  assert.deepEqual(deployment.moduleTwins.SimulatedTemperatureSensor, {
    SendData: true,
    SendInterval: 5,
  });
});

Deno.test("parseDeployment() joins chunked createOptions in key order", async () => {
  const raw = await example("chunked_create_options.json");
  const deployment = parseDeployment(raw);
  const publisher = deployment.modules[0]!;
  // deno-lint-ignore no-explicit-any
  const settings = (raw as any).modulesContent.$edgeAgent["properties.desired"].modules.publisher
    .settings;
  assert.ok(Object.keys(settings).filter((k) => k.startsWith("createOptions")).length >= 2);
  assert.deepEqual(publisher.createOptions.Cmd, [
    "--pf=/appdata/publishednodes.json",
    "--aa",
    "--di=60",
    "--to",
  ]);
  assert.deepEqual((publisher.createOptions.HostConfig as Record<string, unknown>).Binds, [
    "/srv/opcpublisher:/appdata",
  ]);
  assert.equal(deployment.schemaVersion, "1.0");
});

Deno.test("parseDeployment() keeps registry credentials, pull policy and desired status", async () => {
  const deployment = parseDeployment(await example("registry_credentials.json"));
  assert.deepEqual(Object.keys(deployment.runtime.settings.registryCredentials).sort(), [
    "local",
    "myacr",
  ]);
  const [telemetry, cache] = deployment.modules;
  assert.equal(telemetry?.image, "myacr.azurecr.io/telemetry:latest");
  assert.equal(telemetry?.restartPolicy, "on-failure");
  assert.equal(cache?.status, "stopped");
  assert.equal(cache?.imagePullPolicy, "never");
  assert.equal(cache?.image, "localhost:5000/edge/cache:3.1");
});

Deno.test("parseDeployment() accepts createOptions as a plain object (ledge extension)", () => {
  const deployment = parseDeployment(manifest({
    a: { ...sensor, settings: { image: "x/a", createOptions: { Cmd: ["run"] } } },
  }));
  assert.deepEqual(deployment.modules[0]!.createOptions, { Cmd: ["run"] });
});

Deno.test("parseDeployment() accepts the az CLI and bare modulesContent wrappers", () => {
  const bare = (manifest({ a: sensor }) as { modulesContent: unknown }).modulesContent;
  assert.equal(parseDeployment(bare).modules[0]!.name, "a");
  assert.equal(parseDeployment({ content: { modulesContent: bare } }).modules[0]!.name, "a");
});

Deno.test("parseDeployment() reads process modules", () => {
  const deployment = parseDeployment(manifest({
    p: {
      type: "process",
      settings: { command: "/bin/sh", args: ["-c", "sleep 1"], workdir: "/tmp" },
    },
  }));
  assert.deepEqual(deployment.modules[0]!.process, {
    command: "/bin/sh",
    args: ["-c", "sleep 1"],
    workdir: "/tmp",
  });
  assert.equal(deployment.modules[0]!.restartPolicy, "always");
});

Deno.test("parseDeployment() gives the same config hash to the same config, and a new one on change", () => {
  const hash = (module: unknown) => parseDeployment(manifest({ a: module })).modules[0]!.configHash;
  const base = hash(sensor);
  assert.equal(
    hash({ ...sensor, status: "stopped", restartPolicy: "never", startupOrder: 3 }),
    base,
  );
  assert.equal(
    hash({ ...sensor, settings: { image: "example/sensor:1", createOptions: {} } }),
    base,
  );
  assert.notEqual(hash({ ...sensor, version: "1.1" }), base);
  assert.notEqual(hash({ ...sensor, env: { A: { value: "1" } } }), base);
  assert.notEqual(hash({ ...sensor, settings: { image: "example/sensor:2" } }), base);
  assert.notEqual(
    hash({ ...sensor, settings: { image: "example/sensor:1", createOptions: '{"Cmd":["x"]}' } }),
    base,
  );
});

Deno.test("parseDeployment() rejects each kind of invalid manifest with its code and JSON path", async (t) => {
  const at = 'modulesContent.$edgeAgent["properties.desired"]';
  const cases: [string, unknown, number, string, RegExp][] = [
    ["an empty file", "", 417, "modulesContent", /empty/],
    ["an empty object", {}, 417, "modulesContent", /empty/],
    ["no $edgeAgent", { modulesContent: { $edgeHub: {} } }, 417, at, /empty/],
    [
      "schemaVersion 2.0",
      manifest({}, { schemaVersion: "2.0" }),
      412,
      `${at}.schemaVersion`,
      /unsupported schema version "2.0"/,
    ],
    [
      "a wrong type",
      manifest({ a: { ...sensor, startupOrder: "first" } }),
      400,
      `${at}.modules.a.startupOrder`,
      /expected an integer.*got "first"/,
    ],
    [
      "an unknown restartPolicy",
      manifest({ a: { ...sensor, restartPolicy: "sometimes" } }),
      400,
      `${at}.modules.a.restartPolicy`,
      /expected one of "never", "on-failure", "on-unhealthy", "always", got "sometimes"/,
    ],
    [
      "bad createOptions JSON",
      manifest({ a: { ...sensor, settings: { image: "x", createOptions: '{"HostConfig":' } } }),
      400,
      `${at}.modules.a.settings.createOptions`,
      /expected JSON/,
    ],
    [
      "a createOptions chunk that is not a string",
      manifest({
        a: { ...sensor, settings: { image: "x", createOptions: "{", createOptions01: 5 } },
      }),
      400,
      `${at}.modules.a.settings.createOptions01`,
      /expected a string chunk/,
    ],
    [
      "a missing image",
      manifest({ a: { ...sensor, settings: { createOptions: "{}" } } }),
      400,
      `${at}.modules.a.settings.image`,
      /expected an image name/,
    ],
    [
      "an unknown module type",
      manifest({ a: { ...sensor, type: "vm" } }),
      400,
      `${at}.modules.a.type`,
      /expected one of "docker", "process"/,
    ],
    [
      "env that is not {value}",
      manifest({ a: { ...sensor, env: { A: "1" } } }),
      400,
      `${at}.modules.a.env.A`,
      /value/,
    ],
    [
      "a module name no engine accepts",
      manifest({ "bad name": sensor }),
      400,
      `${at}.modules["bad name"]`,
      /expected 1–128 characters/,
    ],
    [
      "a registry credential without address",
      manifest({}, {
        runtime: {
          type: "docker",
          settings: { registryCredentials: { r: { username: "u", password: "p" } } },
        },
      }),
      400,
      `${at}.runtime.settings.registryCredentials.r.address`,
      /expected a string/,
    ],
    [
      "a process module without command",
      manifest({ p: { type: "process", settings: {} } }),
      400,
      `${at}.modules.p.settings.command`,
      /expected a command/,
    ],
    [
      "an $edgeHub schemaVersion 2.0",
      {
        modulesContent: {
          ...(manifest({}) as { modulesContent: object }).modulesContent,
          $edgeHub: { "properties.desired": { schemaVersion: "2.0", routes: {} } },
        },
      },
      412,
      'modulesContent.$edgeHub["properties.desired"].schemaVersion',
      /unsupported/,
    ],
    [
      "modulesContent that is an array",
      { modulesContent: [] },
      400,
      "modulesContent",
      /expected an object/,
    ],
  ];
  for (const [name, raw, code, path, message] of cases) {
    await t.step(name, () => {
      const error = rejection(raw);
      assert.equal(error.code, code);
      assert.equal(error.issues[0]?.path, path);
      assert.match(error.issues[0]!.message, message);
      assert.match(error.message, /^Cannot accept the deployment: /);
    });
  }
});

Deno.test("normalizeImage() adds :latest only when there is no tag or digest", () => {
  assert.equal(normalizeImage("busybox"), "busybox:latest");
  assert.equal(normalizeImage("localhost:5000/edge/cache"), "localhost:5000/edge/cache:latest");
  assert.equal(normalizeImage("localhost:5000/edge/cache:3"), "localhost:5000/edge/cache:3");
  assert.equal(normalizeImage("x/y@sha256:abcd"), "x/y@sha256:abcd");
});

Deno.test("parseDeployment() rejects a route that does not compile, naming the route and the column", () => {
  const manifest = structuredClone(
    JSON.parse(
      Deno.readTextFileSync(
        new URL("../examples/manifests/simulated_sensor.json", import.meta.url),
      ),
    ),
  );
  manifest.modulesContent.$edgeHub["properties.desired"].routes = {
    good: "FROM /messages/* INTO $upstream",
    typo: "FROM /messages/* WHERE temperature >> 3 INTO $upstream",
  };
  assert.throws(
    () => parseDeployment(manifest),
    (error: unknown) => {
      assert.ok(error instanceof ManifestError);
      assert.equal(error.code, 400);
      assert.equal(error.issues.length, 1);
      assert.equal(
        error.issues[0]!.path,
        'modulesContent.$edgeHub["properties.desired"].routes.typo',
      );
      assert.match(error.issues[0]!.message, /Cannot parse route: .*column \d+/);
      return true;
    },
  );
});

Deno.test("parseDeployment() puts the parent's host for $upstream in images and registry addresses", () => {
  const raw = manifest(
    { cached: { type: "docker", settings: { image: "$upstream:5000/ledge/sensor:1" } } },
    {
      runtime: {
        type: "docker",
        settings: {
          registryCredentials: {
            parent: { username: "u", password: "p", address: "$upstream:5000" },
          },
        },
      },
    },
  );
  const deployment = parseDeployment(raw, { upstreamHost: "gw.local" });
  assert.equal(deployment.modules[0]?.image, "gw.local:5000/ledge/sensor:1");
  assert.equal(deployment.runtime.settings.registryCredentials.parent?.address, "gw.local:5000");
  const elsewhere = parseDeployment(raw, { upstreamHost: "10.1.2.3" });
  assert.notEqual(elsewhere.modules[0]?.configHash, deployment.modules[0]?.configHash);

  const error = rejection(raw);
  assert.equal(error.code, 400);
  assert.match(
    error.message,
    /modules\.cached\.settings\.image.*names the parent's registry \(\$upstream\), but this device has no parent/,
  );
});

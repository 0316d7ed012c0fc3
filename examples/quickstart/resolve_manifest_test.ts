import assert from "node:assert/strict";
import { parseDeployment } from "../../agent/mod.ts";
import { parseConfigText } from "../../core/config_load.ts";
import { hubAddress, resolveManifest } from "./resolve_manifest.ts";

const context = { uid: 1000, hostname: "test", env: {} };
const hub = { mqttPort: 18883, httpsPort: 18443, address: "127.0.0.1" };

function processModule(
  workdir: string,
  env: Record<string, { value: string }> = {},
) {
  return {
    type: "process",
    env,
    settings: { command: "node", args: ["./a.cjs"], workdir },
  };
}

function manifestOf(modules: Record<string, unknown>) {
  return {
    modulesContent: {
      $edgeAgent: { "properties.desired": { schemaVersion: "1.1", modules } },
    },
  };
}

function modulesOf(manifest: unknown): Record<string, Record<string, unknown>> {
  // deno-lint-ignore no-explicit-any
  return (manifest as any).modulesContent.$edgeAgent["properties.desired"]
    .modules;
}

Deno.test("resolveManifest() makes a relative workdir absolute against the manifest's folder", () => {
  const resolved = modulesOf(resolveManifest(
    manifestOf({
      a: processModule("."),
      b: processModule("sub/../lib"),
      c: processModule("/srv/abs"),
    }),
    { dir: "/opt/ledge/examples/quickstart/", hub },
  ));
  const workdir = (name: string) => (resolved[name]!.settings as { workdir: string }).workdir;
  assert.equal(workdir("a"), "/opt/ledge/examples/quickstart");
  assert.equal(workdir("b"), "/opt/ledge/examples/quickstart/lib");
  assert.equal(workdir("c"), "/srv/abs");
});

Deno.test("resolveManifest() sets only the hub variables a module declares", () => {
  const original = manifestOf({
    a: processModule(".", {
      LEDGE_HUB_MQTT_PORT: { value: "8883" },
      LEDGE_HUB_ADDRESS: { value: "x" },
      OTHER: { value: "kept" },
    }),
    b: {
      type: "docker",
      env: { LEDGE_HUB_HTTPS_PORT: { value: "443" } },
      settings: {},
    },
  });
  const resolved = modulesOf(resolveManifest(original, { dir: "/q", hub }));
  assert.deepEqual(resolved.a!.env, {
    LEDGE_HUB_MQTT_PORT: { value: "18883" },
    LEDGE_HUB_ADDRESS: { value: "127.0.0.1" },
    OTHER: { value: "kept" },
  });
  assert.deepEqual(resolved.b!.env, {
    LEDGE_HUB_HTTPS_PORT: { value: "18443" },
  });
  assert.deepEqual(
    modulesOf(original).a!.env,
    {
      LEDGE_HUB_MQTT_PORT: { value: "8883" },
      LEDGE_HUB_ADDRESS: { value: "x" },
      OTHER: { value: "kept" },
    },
    "the input is not changed",
  );
});

Deno.test("resolveManifest() leaves what it does not understand to the daemon's validation", () => {
  assert.equal(resolveManifest("nonsense", { dir: "/q", hub }), "nonsense");
  assert.deepEqual(
    resolveManifest({ modulesContent: {} }, { dir: "/q", hub }),
    {
      modulesContent: {},
    },
  );
});

Deno.test("hubAddress() dials loopback when the hub binds every address, else the bound one", () => {
  const any = parseConfigText(
    `[hub.mqtt]\nport = 20001\n[hub.https]\nport = 20002`,
    context,
  );
  assert.deepEqual(hubAddress(any), {
    mqttPort: 20001,
    httpsPort: 20002,
    address: "127.0.0.1",
  });
  const one = parseConfigText(`[hub.mqtt]\nbind = "192.0.2.7"`, context);
  assert.equal(hubAddress(one).address, "192.0.2.7");
});

Deno.test("the quickstart manifests are valid deployments once resolved", async (t) => {
  for (const file of ["deployment.json", "deployment.containers.json"]) {
    await t.step(file, async () => {
      const text = await Deno.readTextFile(new URL(file, import.meta.url));
      const resolved = resolveManifest(JSON.parse(text), { dir: "/q", hub });
      const deployment = parseDeployment(resolved);
      assert.deepEqual(deployment.modules.map((m) => m.name).sort(), [
        "filter",
        "sensor",
      ]);
      const routes = Object.values(deployment.edgeHub?.routes ?? {}).map((r) =>
        typeof r === "string" ? r : r.route
      );
      assert.ok(
        routes.some((r) => r.includes("WHERE $body.machine.temperature > 25")),
      );
      assert.ok(routes.some((r) => r.includes("INTO $upstream")));
    });
  }
});

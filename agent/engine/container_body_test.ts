import assert from "node:assert/strict";
import { parseConfigText } from "../../core/config_load.ts";
import { admitContainer, policyContext } from "../admission.ts";
import { decodeContainerCreate } from "../container_decode.ts";
import type { DesiredModule } from "../deployment.ts";
import { fromParsed } from "../json_scan.ts";
import { buildContainerBody } from "./container_body.ts";
import type { CreateRequest } from "./driver.ts";

const config = parseConfigText(
  '[state]\ndir = "/var/lib/ledge"\n[agent.allow]\nhost_network = true',
  {
    uid: 1000,
    hostname: "test",
    env: {},
  },
);

async function request(
  options: Record<string, unknown>,
  network = "azure-iot-edge",
): Promise<CreateRequest> {
  const createOptions = decodeContainerCreate(fromParsed(options)).spec;
  const module: DesiredModule = {
    name: "sensor",
    type: "docker",
    version: "1",
    status: "running",
    restartPolicy: "always",
    imagePullPolicy: "never",
    startupOrder: 0,
    env: {},
    image: "example/sensor:1",
    createOptions,
    configHash: "h",
  };
  const policy = { ...policyContext(config, "/var/lib/ledge", undefined), network };
  return {
    module,
    container: await admitContainer(module, policy),
    env: { A: "from-deployment", IOTEDGE_MODULEID: "sensor" },
    socketDir: "/var/lib/ledge/mnt/sensor",
    network,
    hubHostname: "gw.local",
  };
}

const labels = { "dev.ledge.instance": "i1" };

Deno.test("buildContainerBody() adds image, env, labels, the socket dir, network and hub host", async () => {
  const body = buildContainerBody(
    await request({
      Env: ["A=from-options", "B=kept"],
      Labels: { mine: "1" },
      HostConfig: { Binds: ["d:/d"] },
    }),
    { labels, gateway: "10.89.0.1" },
  );
  assert.equal(body.Image, "example/sensor:1");
  assert.deepEqual(body.Env, ["A=from-deployment", "B=kept", "IOTEDGE_MODULEID=sensor"]);
  assert.deepEqual(body.Labels, { mine: "1", "dev.ledge.instance": "i1" });
  assert.deepEqual(body.HostConfig, {
    Binds: ["d:/d", "/var/lib/ledge/mnt/sensor:/var/run/iotedge"],
    RestartPolicy: { Name: "no" },
    NetworkMode: "azure-iot-edge",
    ExtraHosts: ["gw.local:10.89.0.1"],
  });
});

Deno.test("buildContainerBody() keeps an explicit NetworkMode and maps the hub for host networking", async () => {
  const body = buildContainerBody(await request({ HostConfig: { NetworkMode: "host" } }), {
    labels,
  });
  const host = body.HostConfig as Record<string, unknown>;
  assert.equal(host.NetworkMode, "host");
  assert.deepEqual(host.ExtraHosts, ["gw.local:127.0.0.1"]);
});

Deno.test("buildContainerBody() overrides the engine restart policy and leaves the manifest's object alone", async () => {
  const options = {
    HostConfig: { RestartPolicy: { Name: "always" }, ExtraHosts: ["gw.local:1.2.3.4"] },
  };
  const body = buildContainerBody(await request(options, "none"), { labels, gateway: "10.0.0.1" });
  const host = body.HostConfig as Record<string, unknown>;
  assert.deepEqual(host.RestartPolicy, { Name: "no" });
  assert.deepEqual(host.ExtraHosts, ["gw.local:1.2.3.4"]);
  assert.deepEqual(options.HostConfig.RestartPolicy, { Name: "always" });
});

Deno.test("buildContainerBody() writes the admitted canonical body, not the manifest's spellings", async () => {
  const body = buildContainerBody(
    await request({ hostconfig: { capdrop: "ALL", readonlyrootfs: true }, cmd: "run" }),
    { labels },
  );
  assert.deepEqual(body.Cmd, ["run"]);
  assert.deepEqual(body.HostConfig?.CapDrop, ["ALL"]);
  assert.equal(body.HostConfig?.ReadonlyRootfs, true);
  assert.ok(!JSON.stringify(body).includes("hostconfig"));
});

Deno.test("buildContainerBody() refuses a request the policy did not admit", async () => {
  const { container: _, ...bare } = await request({});
  assert.throws(() => buildContainerBody(bare, { labels }), /not admitted by the policy/);
});

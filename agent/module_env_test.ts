import assert from "node:assert/strict";
import type { DesiredModule } from "./deployment.ts";
import { buildModuleEnv } from "./module_env.ts";

const device = { deviceId: "dev1", iothubHostname: "hub.example", gatewayHostname: "gw.local" };
const provision = { generationId: "gen-7", socketDir: "/var/lib/ledge/mnt/sensor/" };

function module(overrides: Partial<DesiredModule>): DesiredModule {
  return {
    name: "sensor",
    type: "docker",
    version: "1",
    status: "running",
    restartPolicy: "always",
    imagePullPolicy: "on-create",
    startupOrder: 0,
    env: { LEVEL: "debug", IOTEDGE_MODULEID: "someone-else" },
    image: "x:1",
    createOptions: {},
    configHash: "h",
    ...overrides,
  };
}

Deno.test("buildModuleEnv() injects IoT Edge's variables over the deployment's env", () => {
  assert.deepEqual(buildModuleEnv(module({}), { provision, device }), {
    LEVEL: "debug",
    IOTEDGE_WORKLOADURI: "unix:///var/run/iotedge/workload.sock",
    IOTEDGE_AUTHSCHEME: "sasToken",
    IOTEDGE_MODULEGENERATIONID: "gen-7",
    IOTEDGE_IOTHUBHOSTNAME: "hub.example",
    IOTEDGE_DEVICEID: "dev1",
    IOTEDGE_MODULEID: "sensor",
    IOTEDGE_GATEWAYHOSTNAME: "gw.local",
    IOTEDGE_APIVERSION: "2019-01-30",
    SPIFFE_ENDPOINT_SOCKET: "unix:///var/run/iotedge/spiffe.sock",
  });
});

Deno.test("buildModuleEnv() gives process modules the host socket paths", () => {
  const env = buildModuleEnv(module({ type: "process" }), { provision, device });
  assert.equal(env.IOTEDGE_WORKLOADURI, "unix:///var/lib/ledge/mnt/sensor/workload.sock");
  assert.equal(env.SPIFFE_ENDPOINT_SOCKET, "unix:///var/lib/ledge/mnt/sensor/spiffe.sock");
});

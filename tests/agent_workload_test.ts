/**
 * A module container started by the agent can read its IOTEDGE_* environment and reach its own
 * workload socket from inside (`GET /trust-bundle`), served by the real security component.
 * The probe runs the host's Node inside a busybox image.
 */
import assert from "node:assert/strict";
import { ENGINES, testImage } from "./_engines.ts";
import { startAgentHarness } from "./_agent_harness.ts";
import { waitFor } from "./_wait.ts";
import { serviceTest } from "./_services.ts";

const PROBE_JS = `
const http = require("node:http");
const env = Object.fromEntries(Object.entries(process.env)
  .filter(([k]) => k.startsWith("IOTEDGE_") || k === "SPIFFE_ENDPOINT_SOCKET"));
const socketPath = new URL(process.env.IOTEDGE_WORKLOADURI).pathname;
const path = "/trust-bundle?api-version=" + process.env.IOTEDGE_APIVERSION;
http.get({ socketPath, path }, (res) => {
  let body = "";
  res.on("data", (chunk) => (body += chunk));
  res.on("end", () => console.log("PROBE " + JSON.stringify({ env, status: res.statusCode, body })));
}).on("error", (error) => console.log("PROBE " + JSON.stringify({ env, error: error.message })));
`;

async function hostTrustBundle(socketPath: string): Promise<string> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  try {
    const response = await fetch("http://workload/trust-bundle?api-version=2019-01-30", { client });
    return ((await response.json()) as { certificate: string }).certificate;
  } finally {
    client.close();
  }
}

for (const engine of ENGINES) {
  serviceTest(
    `a module container on ${engine.name} reads its IOTEDGE_* env and GETs /trust-bundle on its workload socket`,
    [engine.requirement],
    async () => {
      const image = await testImage(engine, {
        name: "workload-probe",
        node: true,
        files: { "/app/probe.js": PROBE_JS },
      });
      const h = await startAgentHarness({ engine });
      try {
        // Unique: the engine is shared with other tests and worktrees.
        const module = `wlprobe-${engine.name}-${crypto.randomUUID().slice(0, 8)}`;
        const manifest = {
          modulesContent: {
            $edgeAgent: {
              "properties.desired": {
                schemaVersion: "1.1",
                runtime: { type: "docker", settings: {} },
                systemModules: {},
                modules: {
                  [module]: {
                    version: "1.0",
                    type: "docker",
                    status: "running",
                    restartPolicy: "never",
                    imagePullPolicy: "never",
                    settings: {
                      image,
                      createOptions: JSON.stringify({ Cmd: ["/usr/bin/node", "/app/probe.js"] }),
                    },
                  },
                },
              },
            },
          },
        };
        assert.equal((await h.api("PUT", "/v1/deployment", manifest)).status, 200);
        let logs = "";
        await waitFor("the probe's output", async () => {
          const answer = await h.api<string>("GET", `/v1/modules/${module}/logs`);
          logs = answer.status === 200 ? answer.body : JSON.stringify(answer.body);
          return answer.status === 200 && logs.includes("PROBE ");
        }, { timeoutMs: 30_000, describe: () => logs });
        const probe = JSON.parse(logs.slice(logs.indexOf("PROBE ") + 6).split("\n")[0]!);
        assert.equal(probe.error, undefined, probe.error);
        assert.equal(probe.status, 200);
        const generationId = (await h.security().manager.provisionModule(module)).generationId;
        assert.deepEqual(probe.env, {
          IOTEDGE_WORKLOADURI: "unix:///var/run/iotedge/workload.sock",
          IOTEDGE_AUTHSCHEME: "sasToken",
          IOTEDGE_MODULEGENERATIONID: generationId,
          IOTEDGE_IOTHUBHOSTNAME: "ledge-hub.example",
          IOTEDGE_DEVICEID: "edge-test",
          IOTEDGE_MODULEID: module,
          IOTEDGE_GATEWAYHOSTNAME: "ledge-gateway",
          IOTEDGE_APIVERSION: "2019-01-30",
          SPIFFE_ENDPOINT_SOCKET: "unix:///var/run/iotedge/spiffe.sock",
        });
        const certificate = JSON.parse(probe.body).certificate as string;
        assert.match(certificate, /^-----BEGIN CERTIFICATE-----/);
        assert.equal(
          certificate,
          await hostTrustBundle(`${h.stateDir}/mnt/${module}/workload.sock`),
        );
        const rows = await h.settle((r) => r.get(module)?.status === "stopped", "the probe exited");
        assert.equal(rows.get(module)?.exitCode, 0);
      } finally {
        await h.dispose();
      }
    },
  );
}

/**
 * Modules of a real `ledge run` as tests use them from outside: a process module that lives as
 * long as the ledge that started it, and a module's SAS token and trust bundle read from its
 * workload socket once the agent has provisioned it.
 */
import assert from "node:assert/strict";
import { workloadSasToken } from "./_hub_mqtt.ts";

/** Runs `ledge <args>` against a daemon (LedgeProcess.cli). */
export type CliRunner = (
  args: readonly string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** A process module that lives as long as the ledge that started it (and no longer after kill -9). */
export function waitingModule() {
  return {
    version: "1.0",
    type: "process",
    status: "running",
    restartPolicy: "always",
    settings: {
      command: "/bin/sh",
      args: ["-c", "while kill -0 $PPID 2>/dev/null; do sleep 1; done"],
    },
  };
}

/** Waits until `moduleId` is provisioned; returns its SAS token (signed by its workload socket) and CA. */
export async function moduleCredentials(
  options: { stateDir: string; deviceId: string; iothubHostname: string; moduleId: string },
  cli: CliRunner,
): Promise<{ token: string; caPem: string }> {
  const { stateDir, deviceId, moduleId } = options;
  const socketPath = `${stateDir}/mnt/${moduleId}/workload.sock`;
  let generationId = "";
  for (let attempt = 0; attempt < 150 && generationId === ""; attempt++) {
    const shown = await cli(["identity", "show", `${deviceId}/${moduleId}`]);
    const exists = await Deno.stat(socketPath).then(() => true, () => false);
    if (shown.code === 0 && exists) generationId = JSON.parse(shown.stdout).generationId;
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.notEqual(generationId, "", `module ${moduleId} was never provisioned`);
  const token = await workloadSasToken({
    socketPath,
    iothubHostname: options.iothubHostname,
    deviceId,
    moduleId,
    generationId,
  });
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  try {
    const response = await fetch("http://workload/trust-bundle?api-version=2019-01-30", {
      client,
    });
    const { certificate } = await response.json() as { certificate: string };
    return { token, caPem: certificate };
  } finally {
    client.close();
  }
}

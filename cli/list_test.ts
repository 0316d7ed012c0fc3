import assert from "node:assert/strict";
import { rowsFromReported } from "./list.ts";

Deno.test("rowsFromReported() makes ledge list rows from $edgeAgent reported properties", () => {
  const listed = rowsFromReported({
    lastDesiredVersion: 3,
    lastDesiredStatus: { code: 400, description: "Cannot accept the deployment: x" },
    systemModules: {
      edgeAgent: { runtimeStatus: "running", statusDescription: "", settings: { image: "ledge" } },
    },
    modules: {
      sensor: {
        runtimeStatus: "backoff",
        statusDescription: "exited with 1",
        settings: { command: "node", args: ["sensor.js"] },
      },
    },
  });
  assert.deepEqual(listed.rows, [
    { name: "edgeAgent", status: "running", description: "", config: "ledge" },
    { name: "sensor", status: "backoff", description: "exited with 1", config: "node sensor.js" },
  ]);
  assert.deepEqual(listed.lastDesiredStatus, {
    code: 400,
    description: "Cannot accept the deployment: x",
  });
  assert.equal(listed.lastDesiredVersion, 3);
  assert.equal(rowsFromReported({}).lastDesiredStatus, undefined);
});

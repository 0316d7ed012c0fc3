import assert from "node:assert/strict";
import { deploymentFromTwins } from "./upstream_link.ts";

Deno.test("deploymentFromTwins() is undefined while the parent holds no $edgeAgent desired properties", () => {
  assert.equal(
    deploymentFromTwins({
      agent: {},
      agentVersion: 3,
      hub: { routes: { r: "FROM /messages/* INTO $upstream" } },
      hubVersion: 2,
      modules: new Map(),
    }),
    undefined,
  );
  assert.equal(
    deploymentFromTwins({
      agent: undefined,
      agentVersion: undefined,
      hub: undefined,
      hubVersion: undefined,
      modules: new Map(),
    }),
    undefined,
  );
});

Deno.test("deploymentFromTwins() combines $edgeAgent, $edgeHub and module twins into one modulesContent", () => {
  const content = deploymentFromTwins({
    agent: { schemaVersion: "1.1", modules: { a: { type: "docker" } } },
    agentVersion: 7,
    hub: { schemaVersion: "1.1", routes: { r: "FROM /messages/* INTO $upstream" } },
    hubVersion: 4,
    modules: new Map([
      ["a", { interval: 5, $version: 2 }],
      ["b", {}],
      ["$edgeAgent", { ignored: true }],
    ]),
  });
  assert.deepEqual(content, {
    $edgeAgent: {
      "properties.desired": {
        schemaVersion: "1.1",
        modules: { a: { type: "docker" } },
        $version: 7,
      },
    },
    $edgeHub: {
      "properties.desired": {
        schemaVersion: "1.1",
        routes: { r: "FROM /messages/* INTO $upstream" },
      },
    },
    a: { "properties.desired": { interval: 5 } },
  });
});

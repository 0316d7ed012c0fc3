import assert from "node:assert/strict";
import { twinContentPatches } from "./twin_content.ts";

Deno.test("twinContentPatches() turns the current twins into the deployment's, $edgeAgent last", () => {
  const content = {
    $edgeAgent: { "properties.desired": { schemaVersion: "1.1", modules: { a: { v: 2 } } } },
    $edgeHub: { "properties.desired": { routes: { r: "FROM /messages/* INTO $upstream" } } },
    a: { "properties.desired": { interval: 5 } },
    b: { "properties.desired": { same: true } },
  };
  const current: Record<string, Record<string, unknown>> = {
    $edgeAgent: { schemaVersion: "1.1", modules: { a: { v: 1 }, gone: { v: 1 } }, $version: 4 },
    $edgeHub: { routes: { old: "FROM /messages/* INTO $upstream" }, $version: 2 },
    b: { same: true, $version: 3 },
  };
  assert.deepEqual(twinContentPatches(content, (id) => current[id] ?? {}), [
    { moduleId: "a", patch: { interval: 5 } },
    {
      moduleId: "$edgeHub",
      patch: { routes: { old: null, r: "FROM /messages/* INTO $upstream" } },
    },
    { moduleId: "$edgeAgent", patch: { modules: { a: { v: 2 }, gone: null } } },
  ]);
});

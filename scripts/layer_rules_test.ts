import assert from "node:assert/strict";
import { checkLayers, findCycles } from "./layer_rules.ts";

function rules(edges: [string, string][]) {
  return checkLayers(edges.map(([from, to]) => ({ from, to }))).map((v) => v.rule);
}

Deno.test("checkLayers() accepts imports that point down and enter folders through mod.ts", () => {
  assert.deepEqual(
    rules([
      ["hub/hub.ts", "core/log.ts"],
      ["hub/hub.ts", "iothub/mod.ts"],
      ["iothub/mod.ts", "iothub/message.ts"],
      ["cli/run.ts", "daemon/mod.ts"],
      ["main.ts", "cli/mod.ts"],
    ]),
    [],
  );
});

Deno.test("checkLayers() refuses an import from a lower layer to a higher one", () => {
  assert.deepEqual(rules([["core/log.ts", "hub/hub.ts"]]), ["upward"]);
  assert.deepEqual(rules([["agent/api.ts", "daemon/mgmt_server.ts"]]), ["upward"]);
});

Deno.test("checkLayers() refuses reaching past another folder's mod.ts, nested folders too", () => {
  assert.deepEqual(
    rules([["cli/logs.ts", "agent/since.ts"], ["agent/mod.ts", "agent/since.ts"]]),
    ["past-mod"],
  );
  assert.deepEqual(
    rules([
      ["ops/mod.ts", "ops/checks/host_checks.ts"],
      ["ops/checks/mod.ts", "ops/checks/host_checks.ts"],
    ]),
    ["past-mod"],
  );
});

Deno.test("checkLayers() keeps _files private to their folder", () => {
  assert.deepEqual(rules([["routing/route_table.ts", "routing/_closures.ts"]]), []);
  assert.deepEqual(rules([["hub/hub.ts", "store/_database.ts"]]), ["private"]);
});

Deno.test("checkLayers() lets tests and tooling reach anywhere, but not a test beside code upward", () => {
  assert.deepEqual(rules([["tests/x_test.ts", "store/_database.ts"]]), []);
  assert.deepEqual(rules([["store/x_test.ts", "tests/_services.ts"]]), []);
  assert.deepEqual(rules([["iothub/x_test.ts", "routing/mod.ts"]]), ["upward"]);
});

Deno.test("checkLayers() names an unknown top-level folder", () => {
  assert.deepEqual(rules([["widgets/a.ts", "core/log.ts"]]), ["unknown-layer"]);
});

Deno.test("findCycles() reports each cycle once, type-only imports included", () => {
  const edges = [
    { from: "routing/a.ts", to: "routing/b.ts" },
    { from: "routing/b.ts", to: "routing/a.ts" },
    { from: "routing/b.ts", to: "routing/c.ts" },
  ];
  assert.deepEqual(findCycles(edges), [["routing/a.ts", "routing/b.ts"]]);
  assert.deepEqual(rules(edges.map((e) => [e.from, e.to] as [string, string])), ["cycle"]);
});

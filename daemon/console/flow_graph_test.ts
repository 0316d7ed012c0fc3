import assert from "node:assert/strict";
import { endpointLabel, flowGraph, layoutFlow, sourceLabel } from "./flow_graph.ts";

Deno.test("sourceLabel() and endpointLabel() say where messages come from and go", () => {
  assert.equal(sourceLabel("/messages/modules/sensor/outputs/temp"), "sensor › temp");
  assert.equal(sourceLabel("/messages/modules/filter/outputs/*"), "filter › any output");
  assert.equal(sourceLabel("/messages/modules/filter/*"), "filter › any output");
  assert.equal(sourceLabel("/messages/*"), "all messages");
  assert.equal(sourceLabel("/messages/events"), "leaf devices");
  assert.equal(sourceLabel("/*"), "everything");
  assert.equal(sourceLabel("/twinChangeNotifications"), "twin changes");
  assert.equal(endpointLabel("/modules/filter/inputs/input1"), "filter › input1");
  assert.equal(endpointLabel("$upstream"), "$upstream");
});

Deno.test("layoutFlow() puts each source and endpoint once, and joins them through the routes", () => {
  const layout = layoutFlow([
    { name: "a", source: "/messages/*", endpoint: "$upstream", rate: 2 },
    { name: "b", source: "/messages/modules/s/*", endpoint: "/modules/f/inputs/in", rate: 0 },
    { name: "c", source: "/messages/*", endpoint: "/modules/f/inputs/in", rate: 0 },
  ], [{ key: "$upstream", depth: 7 }]);
  assert.deepEqual(layout.sources.map((s) => s.label), ["all messages", "s › any output"]);
  assert.deepEqual(layout.routes.map((r) => r.route.name), ["a", "c", "b"], "grouped by source");
  assert.deepEqual(layout.endpoints.map((e) => [e.label, e.depth]), [["$upstream", 7], [
    "f › in",
    0,
  ]]);
  assert.equal(layout.edges.length, 6);
  assert.deepEqual(layout.edges.map((e) => e.active), [true, true, false, false, false, false]);
  for (const edge of layout.edges) assert.ok(edge.from.x < edge.to.x, "edges run left to right");
  const ys = layout.routes.map((r) => r.y);
  assert.deepEqual([...ys].sort((a, b) => a - b), ys, "routes top to bottom");
  assert.ok(Math.max(...ys) < layout.height);
});

Deno.test("flowGraph() escapes names and says when there are no routes", () => {
  const svg = flowGraph(
    layoutFlow([{ name: "<x>", source: "/messages/*", endpoint: "$upstream", rate: 1.5 }], []),
  )
    .toString();
  assert.ok(svg.includes("&lt;x&gt;"));
  assert.ok(!svg.includes("<x>"));
  assert.ok(svg.includes("1.5/s"));
  assert.match(flowGraph(layoutFlow([], [])).toString(), /No routes/);
});

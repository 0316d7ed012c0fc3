import assert from "node:assert/strict";
import { Hono } from "hono";
import { answerErrorsAsJson } from "../core/api.ts";
import { createLogger } from "../core/log.ts";
import type { FleetComponent } from "./fleet_component.ts";
import { edgeDevice, startTestFleet } from "./_fleet_fixture.ts";
import { fleetManifest, imageModule } from "../tests/_fleet.ts";
import { waitFor } from "../tests/_wait.ts";

const module = (image = "busybox") => imageModule(image);
const baseContent = (modules: Record<string, Record<string, unknown>>) =>
  fleetManifest(modules, {}) as { modulesContent: Record<string, unknown> };

/** The fleet's routes as the management server mounts them (errors answered as JSON). */
function apiOf(fleet: FleetComponent): Hono {
  return answerErrorsAsJson(new Hono().route("/", fleet.api!), createLogger({ level: "error" }));
}

async function status(response: Response): Promise<[number, Record<string, unknown>]> {
  return [response.status, await response.json()];
}

function request(method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

Deno.test("tags, target conditions, layers and a tag change decide what each device runs", async () => {
  const { fleet, hub, stop } = await startTestFleet(["a", "b", "c"]);
  try {
    const api = apiOf(fleet);
    for (const [id, env] of [["a", "prod"], ["b", "prod"], ["c", "test"]]) {
      const [code, twin] = await status(
        await api.request(
          `/v1/fleet/devices/${id}/tags`,
          request("PATCH", { env, site: { plant: "A" } }),
        ),
      );
      assert.equal(code, 200);
      assert.deepEqual(twin.tags, { env, site: { plant: "A" } });
    }
    const [code, created] = await status(
      await api.request(
        "/v1/fleet/deployments",
        request("POST", {
          id: "base",
          content: baseContent({ sensor: module() }),
          targetCondition: "tags.env = 'prod'",
          priority: 10,
        }),
      ),
    );
    assert.equal(code, 201, JSON.stringify(created));
    assert.deepEqual((created.systemMetrics as { deviceIds: unknown }).deviceIds, {
      targetedCount: ["a", "b"],
      appliedCount: ["a", "b"],
      reportedSuccessfulCount: [],
      reportedFailedCount: [],
    });
    assert.deepEqual(hub.modulesOf("a"), ["sensor"]);
    assert.deepEqual(hub.modulesOf("c"), []);

    // A layer adds a module to one device; the later layer wins a path both set.
    await api.request(
      "/v1/fleet/deployments",
      request("POST", {
        id: "extra",
        layered: true,
        content: {
          modulesContent: { $edgeAgent: { "properties.desired.modules.camera": module("cam") } },
        },
        targetCondition: "deviceId = 'b'",
        priority: 1,
      }),
    );
    assert.deepEqual(hub.modulesOf("b"), ["camera", "sensor"]);
    assert.deepEqual(hub.modulesOf("a"), ["sensor"]);

    // The devices report success.
    hub.report("a");
    hub.report("b", { code: 500, description: "camera: exited" });
    const shown = fleet.service.showDeployment("base");
    assert.deepEqual(shown.systemMetrics.results, {
      targetedCount: 2,
      appliedCount: 2,
      reportedSuccessfulCount: 1,
      reportedFailedCount: 1,
    });
    assert.deepEqual(shown.devices.map((d) => [d.deviceId, d.outcome, d.description ?? ""]), [
      ["a", "success", ""],
      ["b", "failed", "camera: exited"],
    ]);

    // A tag change moves the third device in.
    await api.request("/v1/fleet/devices/c/tags", request("PATCH", { env: "prod" }));
    await fleet.controller.settle();
    assert.deepEqual(hub.modulesOf("c"), ["sensor"]);
    assert.equal(fleet.service.showDeployment("base").systemMetrics.results.targetedCount, 3);

    // Queries see tags and the configurations field.
    const [, page] = await status(
      await api.request(
        "/v1/fleet/query",
        request("POST", {
          query: "SELECT deviceId FROM devices WHERE configurations.[[extra]].status = 'Applied'",
        }),
      ),
    );
    assert.deepEqual(page, { items: [{ deviceId: "b" }], continuationToken: null });
  } finally {
    await stop();
  }
});

Deno.test("tags merge as a JSON merge patch (null deletes) and never reach the device's twins", async () => {
  const { fleet, hub, stop } = await startTestFleet(["a"]);
  try {
    const api = apiOf(fleet);
    const patch = async (body: unknown) =>
      await status(await api.request("/v1/fleet/devices/a/tags", request("PATCH", body)));
    await patch({ env: "prod", site: { plant: "A", line: 7 }, serial: "s1" });
    const [code, twin] = await patch({ site: { line: null }, serial: null, make: "acme" });
    assert.equal(code, 200);
    assert.deepEqual(twin.tags, { env: "prod", site: { plant: "A" }, make: "acme" });
    const [, page] = await status(
      await api.request(
        "/v1/fleet/query",
        request("POST", { query: "SELECT deviceId FROM devices WHERE IS_DEFINED(tags.serial)" }),
      ),
    );
    assert.deepEqual(page.items, []);
    // What the device (or the ledges down to it) can read is its twins at this hub: no tags.
    for (const ref of [{ deviceId: "a" }, { deviceId: "a", moduleId: "$edgeAgent" }]) {
      const held = JSON.stringify(hub.getTwin(ref));
      assert.doesNotMatch(held, /acme|plant|tags/, held);
    }
  } finally {
    await stop();
  }
});

Deno.test("custom metrics count and name the devices their queries select", async () => {
  const { fleet, hub, stop } = await startTestFleet(["a", "b", "c"]);
  try {
    const api = apiOf(fleet);
    const [code, created] = await status(
      await api.request(
        "/v1/fleet/deployments",
        request("POST", {
          id: "base",
          content: baseContent({ sensor: module() }),
          targetCondition: "*",
          priority: 1,
          metrics: {
            queries: {
              healthy: "SELECT deviceId FROM devices.modules WHERE moduleId = '$edgeAgent' " +
                "AND properties.reported.lastDesiredStatus.code = 200",
              failing: "SELECT deviceId FROM devices.modules WHERE moduleId = '$edgeAgent' " +
                "AND properties.reported.lastDesiredStatus.code = 500",
              prod: "SELECT deviceId FROM devices WHERE tags.env = 'prod'",
            },
          },
        }),
      ),
    );
    assert.equal(code, 201, JSON.stringify(created));
    hub.report("a");
    hub.report("b");
    hub.report("c", { code: 500, description: "sensor: exited" });
    await api.request("/v1/fleet/devices/c/tags", request("PATCH", { env: "prod" }));
    const shown = fleet.service.showDeployment("base");
    assert.deepEqual(shown.metrics.results, { healthy: 2, failing: 1, prod: 1 });
    assert.deepEqual(shown.metrics.deviceIds, { healthy: ["a", "b"], failing: ["c"], prod: ["c"] });
    const [, viaApi] = await status(await api.request("/v1/fleet/deployments/base"));
    assert.deepEqual((viaApi.metrics as { results: unknown }).results, shown.metrics.results);
  } finally {
    await stop();
  }
});

Deno.test("two base deployments of equal priority: the later-created wins and show says so", async () => {
  const { fleet, hub, stop } = await startTestFleet(["a"]);
  try {
    await fleet.service.createDeployment({
      id: "first",
      content: baseContent({ one: module() }),
      priority: 5,
    });
    await fleet.service.createDeployment({
      id: "second",
      content: baseContent({ two: module() }),
      priority: 5,
    });
    assert.deepEqual(hub.modulesOf("a"), ["two"]);
    const first = fleet.service.showDeployment("first");
    assert.deepEqual(first.devices, [{
      deviceId: "a",
      status: "overridden",
      overriddenBy: "second",
      tie: { winner: "second", others: ["first"] },
    }]);
    assert.equal(first.systemMetrics.results.appliedCount, 0);
    // A higher priority beats the later one; deleting it brings the next one back.
    await fleet.service.createDeployment({
      id: "top",
      content: baseContent({ three: module() }),
      priority: 9,
    });
    assert.deepEqual(hub.modulesOf("a"), ["three"]);
    await fleet.service.deleteDeployment("top");
    assert.deepEqual(hub.modulesOf("a"), ["two"]);
  } finally {
    await stop();
  }
});

Deno.test("bad input is refused before anything changes, naming where", async (t) => {
  const { fleet, hub, stop } = await startTestFleet(["a"]);
  const api = apiOf(fleet);
  try {
    await t.step("a target condition that does not parse: 400 with line and column", async () => {
      const [code, body] = await status(
        await api.request(
          "/v1/fleet/deployments",
          request("POST", {
            id: "x",
            content: baseContent({}),
            targetCondition: "tags.env = 'prod' AND\n  tag.site = 'A'",
          }),
        ),
      );
      assert.equal(code, 400);
      assert.match(String(body.error), /^Cannot parse target condition: unknown twin field "tag"/);
      assert.deepEqual([
        (body.detail as { line: number }).line,
        (body.detail as { column: number }).column,
      ], [2, 3]);
    });
    await t.step("a metric that does not parse: 400 naming the metric", async () => {
      const [code, body] = await status(
        await api.request(
          "/v1/fleet/deployments",
          request("POST", {
            id: "x",
            content: baseContent({}),
            metrics: { queries: { ok: "SELECT deviceId FROM devices WHERE" } },
          }),
        ),
      );
      assert.equal(code, 400);
      assert.match(
        String(body.error),
        /^Cannot parse metric ok: expected an expression at line 1, column 35/,
      );
    });
    await t.step("invalid content: 400 with the JSON path, nothing written", async () => {
      const content = baseContent({ sensor: { ...module(), status: "sleeping" } });
      const [code, body] = await status(
        await api.request(
          "/v1/fleet/deployments",
          request("POST", {
            id: "x",
            content,
          }),
        ),
      );
      assert.equal(code, 400);
      assert.match(
        String(body.error),
        /content\.modulesContent\.\$edgeAgent\["properties\.desired"\]\.modules\.sensor\.status/,
      );
      assert.deepEqual(hub.modulesOf("a"), []);
    });
    await t.step("a layer that sets a system path is refused", async () => {
      const [code, body] = await status(
        await api.request(
          "/v1/fleet/deployments",
          request("POST", {
            id: "x",
            layered: true,
            content: { modulesContent: { $edgeAgent: { "properties.desired.runtime": {} } } },
          }),
        ),
      );
      assert.equal(code, 400);
      assert.match(
        String(body.error),
        /a layer sets paths such as "properties\.desired\.modules\.<name>"/,
      );
    });
    await t.step("a query that does not parse, and a bad continuation token", async () => {
      const [code, body] = await status(
        await api.request(
          "/v1/fleet/query",
          request("POST", { query: "SELECT * FROM devices WHERE" }),
        ),
      );
      assert.equal(code, 400);
      assert.equal((body.detail as { column: number }).column, 28);
      const [tokenCode] = await status(
        await api.request(
          "/v1/fleet/query",
          request("POST", { query: "SELECT * FROM devices", continuationToken: "nope" }),
        ),
      );
      assert.equal(tokenCode, 400);
    });
    await t.step("tags with a dot in a name, or not an object", async () => {
      const [code, body] = await status(
        await api.request("/v1/fleet/devices/a/tags", request("PATCH", { "a.b": 1 })),
      );
      assert.equal(code, 400);
      assert.match(String(body.error), /tags\.a\.b: a tag name/);
      const [arrayCode] = await status(
        await api.request("/v1/fleet/devices/a/tags", request("PATCH", [1])),
      );
      assert.equal(arrayCode, 400);
      const [unknownCode] = await status(
        await api.request("/v1/fleet/devices/nobody/tags", request("PATCH", {})),
      );
      assert.equal(unknownCode, 404);
    });
    await t.step("a deployment that targets no device is shown as such", async () => {
      const created = await fleet.service.createDeployment({
        id: "nobody",
        content: baseContent({}),
        targetCondition: "tags.env = 'none'",
      });
      assert.equal(created.targetsNoDevice, true);
      assert.equal(created.systemMetrics.results.targetedCount, 0);
    });
    await t.step("an existing id is a 409", async () => {
      const [code] = await status(
        await api.request(
          "/v1/fleet/deployments",
          request("POST", { id: "nobody", content: baseContent({}) }),
        ),
      );
      assert.equal(code, 409);
    });
  } finally {
    await stop();
  }
});

Deno.test("an enrollment group registers devices with its tags and deployment; deleted, it registers none", async () => {
  const { fleet, hub, identities, enrollments, stop } = await startTestFleet([]);
  try {
    await fleet.service.createDeployment({
      id: "cells",
      content: baseContent({ cell: module() }),
      targetCondition: "tags.never = true",
    });
    const group = await fleet.service.createEnrollment({
      id: "line-7",
      edge: true,
      tags: { env: "prod" },
      deployment: "cells",
    });
    const source = enrollments()!;
    const [candidate] = source.candidates("cell-1");
    assert.equal(candidate?.group, "line-7");
    assert.equal(candidate?.edge, true);
    // The security manager registered cell-1 with that key (as it does on its first connect).
    const identity = { ...edgeDevice("cell-1") };
    identities.push(identity);
    hub.connect({ deviceId: "cell-1" });
    source.registered(identity, "line-7");
    await waitFor(
      "cell-1 to get the group's deployment",
      () => hub.modulesOf("cell-1").includes("cell") ? true : undefined,
    );
    const twin = fleet.service.device("cell-1");
    assert.deepEqual(twin.tags, { env: "prod" });
    assert.equal(twin.enrollmentGroupId, "line-7");
    assert.equal(fleet.service.showEnrollment("line-7").registrations, 1);
    assert.equal(group.primaryKey.length, 44);
    await fleet.service.deleteEnrollment("line-7");
    assert.deepEqual(source.candidates("cell-2"), []);
    assert.equal(fleet.service.device("cell-1").enrollmentGroupId, "line-7", "registered stay");
  } finally {
    await stop();
  }
});

Deno.test("updating a deployment's target condition and content moves devices and rewrites content", async () => {
  const { fleet, hub, stop } = await startTestFleet(["a", "b"]);
  try {
    await fleet.service.createDeployment({
      id: "base",
      content: baseContent({ one: module() }),
      targetCondition: "deviceId = 'a'",
    });
    assert.deepEqual([hub.modulesOf("a"), hub.modulesOf("b")], [["one"], []]);
    const updated = await fleet.service.updateDeployment("base", {
      targetCondition: "deviceId IN ['a', 'b']",
      content: baseContent({ two: module() }),
    });
    assert.deepEqual([hub.modulesOf("a"), hub.modulesOf("b")], [["two"], ["two"]]);
    assert.equal(updated.etag, 2);
    await assert.rejects(
      () => fleet.service.updateDeployment("base", { targetCondition: "deviceId =" }),
      /Cannot parse target condition/,
    );
  } finally {
    await stop();
  }
});

import assert from "node:assert/strict";
import { z } from "zod";
import { AddDeviceRequest } from "../security/mgmt_api.ts";
import { createUpstreamComponent } from "../upstream/mod.ts";
import type { RuntimeContext } from "../core/component.ts";
import { buildComponents } from "./components.ts";
import { parseConfigText } from "../core/config_load.ts";
import { silentLogger } from "../core/log.ts";
import { createMgmtApp, mgmtApiDocs } from "./mgmt_server.ts";
import { apiRoutes, openApiDocument, openApiPath, operationKey } from "./openapi.ts";

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}
interface Operation {
  summary: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: { "application/json": { schema: Record<string, unknown> } } };
  responses: Record<string, unknown>;
}

/** The daemon's components, plus the upstream connector's (its routes are documented too). */
function fullComponents() {
  const config = parseConfigText(`[state]\ndir = "/nonexistent/ledge-openapi-test"`, {
    uid: 1000,
    hostname: "test",
    env: {},
  });
  const context: RuntimeContext = { config, stateDir: config.state.dir, logger: silentLogger };
  const components = buildComponents(context);
  // The upstream connector is not in the daemon's component list yet; its route is documented.
  const names = components.map((component) => component.name);
  if (!names.includes("upstream")) {
    components.push(createUpstreamComponent(context, {
      store: () => {
        throw new Error("not started");
      },
    }));
  }
  return components;
}

/** The whole management app, as the daemon builds it. */
function fullApp() {
  return createMgmtApp(fullComponents(), silentLogger);
}

/** Every operation the components and the server document. */
const OPERATIONS = mgmtApiDocs(fullComponents());

async function servedDocument(): Promise<Document> {
  const response = await fullApp().request("/v1/openapi.json");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return await response.json() as Document;
}

Deno.test("openApiPath() turns :params into {params}", () => {
  assert.equal(openApiPath("/v1/modules/:name/logs"), "/v1/modules/{name}/logs");
  assert.equal(
    openApiPath("/v1/identities/:deviceId/modules/:moduleId"),
    "/v1/identities/{deviceId}/modules/{moduleId}",
  );
  assert.equal(
    operationKey({ method: "get", path: "/v1/twins/:deviceId" }),
    "GET /v1/twins/{deviceId}",
  );
});

Deno.test("every route the management app answers is documented, and every documented operation is a route", () => {
  const served = apiRoutes(fullApp()).map(operationKey).sort();
  const documented = Object.keys(OPERATIONS).sort();
  assert.deepEqual(
    served.filter((key) => !documented.includes(key)),
    [],
    "routes missing from the components' docs",
  );
  assert.deepEqual(
    documented.filter((key) => !served.includes(key)),
    [],
    "documented operations the app does not serve",
  );
  assert.ok(served.length >= 25, `the app has its routes (${served.length})`);
});

Deno.test("GET /v1/openapi.json lists exactly the routes of the app, each with its operation", async () => {
  const document = await servedDocument();
  assert.equal(document.openapi, "3.1.0");
  const inDocument = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)
  ).sort();
  const served = apiRoutes(fullApp()).map(operationKey).sort();
  assert.deepEqual(inDocument, served);
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      assert.notEqual(operation.summary, "Undocumented route", `${method} ${path}`);
      assert.ok(operation.responses.default, `${method} ${path} documents its error answer`);
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) =>
        p.name
      ).sort();
      assert.deepEqual(declared, pathParams, `${method} ${path} declares its path parameters`);
    }
  }
});

Deno.test("request bodies in the document are the handlers' own zod schemas", async () => {
  const document = await servedDocument();
  const addDevice = document.paths["/v1/identities"]?.post?.requestBody?.content["application/json"]
    .schema;
  const { $schema: _, ...expected } = z.toJSONSchema(AddDeviceRequest, {
    io: "input",
    unrepresentable: "any",
  });
  assert.deepEqual(addDevice, expected);
  assert.deepEqual((addDevice as { required?: string[] }).required, ["deviceId"]);
  for (const key of Object.keys(OPERATIONS).filter((k) => OPERATIONS[k]!.body)) {
    const [method, path] = key.split(" ") as [string, string];
    assert.ok(
      document.paths[path]?.[method.toLowerCase()]?.requestBody,
      `${key} documents its request body`,
    );
  }
  const logs = document.paths["/v1/modules/{name}/logs"]?.get?.parameters ?? [];
  assert.deepEqual(
    logs.filter((p) => p.in === "query").map((p) => p.name).sort(),
    ["follow", "since", "tail", "timestamps"],
  );
});

Deno.test("openApiDocument() marks a route with no entry as undocumented", () => {
  const document = openApiDocument([{
    method: "GET",
    path: "/v1/nothing/:id",
  }], {}) as unknown as Document;
  assert.equal(document.paths["/v1/nothing/{id}"]?.get?.summary, "Undocumented route");
});

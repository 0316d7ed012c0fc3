/**
 * The management API end to end: a real `ledge run`, requests through its real unix socket
 * (Deno's HTTP client, and curl as an independent one), one route of each area, errors as JSON
 * `{error, detail}`, and the socket's mode.
 */
import assert from "node:assert/strict";
import { mgmtSocketPath } from "../core/state_dir.ts";
import { VERSION } from "../core/version.ts";
import { startLedge } from "./_ledge.ts";
import { commandAvailable, serviceTest } from "./_services.ts";
import { deploymentManifest, shellModule } from "./_manifests.ts";
import { waitFor } from "./_wait.ts";

interface Answer {
  status: number;
  type: string;
  // deno-lint-ignore no-explicit-any
  body: any;
}

function socketClient(socketPath: string) {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  return {
    async request(method: string, path: string, body?: unknown): Promise<Answer> {
      const response = await fetch(`http://ledge${path}`, {
        method,
        client,
        ...(body === undefined ? {} : {
          body: typeof body === "string" ? body : JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
      });
      const text = await response.text();
      const type = response.headers.get("content-type") ?? "";
      return {
        status: response.status,
        type,
        body: type.includes("json") && text !== "" ? JSON.parse(text) : text,
      };
    },
    close: () => client.close(),
  };
}

function manifest() {
  return deploymentManifest(
    { ticker: shellModule('echo "ticker up"; while :; do sleep 1; done') },
    { routes: { up: "FROM /messages/* INTO $upstream" } },
  );
}

function assertError(answer: Answer, status: number, error: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.type, /application\/json/);
  assert.deepEqual(Object.keys(answer.body).sort(), ["detail", "error"]);
  assert.match(answer.body.error, error);
}

serviceTest(
  "the management API answers every area through the real unix socket, errors as JSON {error, detail}",
  [await commandAvailable("curl")],
  async (t) => {
    const ledge = await startLedge({ extraConfig: `[agent]\nengine = "none"` });
    const socketPath = mgmtSocketPath(ledge.stateDir);
    const api = socketClient(socketPath);
    try {
      await t.step("the socket is 0660", async () => {
        const info = await Deno.stat(socketPath);
        assert.ok(info.isSocket);
        assert.equal(info.mode! & 0o777, 0o660);
      });

      await t.step("health and the OpenAPI document", async () => {
        const health = await api.request("GET", "/v1/health");
        assert.equal(health.status, 200);
        assert.equal(health.body.status, "ok");
        assert.equal(health.body.version, VERSION);
        assert.deepEqual(health.body.components.slice(0, 3), ["security", "hub", "agent"]);
        const openapi = await api.request("GET", "/v1/openapi.json");
        assert.equal(openapi.status, 200);
        assert.equal(openapi.body.openapi, "3.1.0");
        for (const path of ["/v1/modules/{name}/stop", "/v1/identities", "/v1/twins/{deviceId}"]) {
          assert.ok(openapi.body.paths[path], `${path} is documented`);
        }
      });

      await t.step("deployment and modules", async () => {
        const applied = await api.request("PUT", "/v1/deployment", manifest());
        assert.equal(applied.status, 200, JSON.stringify(applied.body));
        assert.deepEqual(applied.body.modules, ["ticker"]);
        const current = await api.request("GET", "/v1/deployment");
        assert.equal(current.body.version, applied.body.version);
        const running = async () =>
          (await api.request("GET", "/v1/modules/ticker")).body.runtimeStatus === "running";
        await waitFor("ticker running", running);
        const list = await api.request("GET", "/v1/modules");
        assert.ok(list.body.modules.some((m: { name: string }) => m.name === "ticker"));
        await waitFor(
          "ticker's log line",
          async () =>
            (await api.request("GET", "/v1/modules/ticker/logs?tail=10")).body.includes(
              "ticker up",
            ),
        );
        assert.equal((await api.request("POST", "/v1/modules/ticker/stop")).status, 200);
        await waitFor(
          "ticker stopped",
          async () =>
            (await api.request("GET", "/v1/modules/ticker")).body.runtimeStatus === "stopped",
        );
        assert.deepEqual((await api.request("POST", "/v1/modules/ticker/start")).body, {
          name: "ticker",
          action: "start",
          ok: true,
        });
        await waitFor("ticker running again", running);
        assertError(
          await api.request("PUT", "/v1/deployment", "{not json"),
          400,
          /^Cannot read the deployment: invalid JSON/,
        );
      });

      await t.step("identities and certificates", async () => {
        const identities = await api.request("GET", "/v1/identities");
        assert.ok(
          identities.body.identities.some((i: { deviceId: string; moduleId?: string }) =>
            i.deviceId === "test-device" && i.moduleId === "ticker"
          ),
        );
        assert.ok(!JSON.stringify(identities.body).includes("primaryKey"));
        const bad = await api.request("POST", "/v1/identities", { deviceId: "a/b" });
        assertError(bad, 400, /^Invalid request body$/);
        assert.equal(bad.body.detail[0].path, "deviceId");
        const added = await api.request("POST", "/v1/identities", { deviceId: "leaf-7" });
        assert.equal(added.status, 201);
        const certificates = await api.request("GET", "/v1/certificates");
        assert.ok(certificates.body.certificates.length > 0);
      });

      await t.step("twins, C2D, methods, queues and hub stats", async () => {
        const patched = await api.request("PATCH", "/v1/twins/test-device/modules/ticker", {
          threshold: 30,
        });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        const twin = await api.request("GET", "/v1/twins/test-device/modules/ticker");
        assert.equal(twin.body.desired.threshold, 30);
        assertError(
          await api.request("PATCH", "/v1/twins/test-device", "[1,2]"),
          400,
          /^Invalid request body$/,
        );
        const c2d = await api.request("POST", "/v1/c2d/leaf-7", { body: "hello leaf" });
        assert.equal(c2d.status, 202, JSON.stringify(c2d.body));
        assertError(await api.request("POST", "/v1/methods", "nope"), 400, /not valid JSON/);
        const queues = await api.request("GET", "/v1/queues");
        assert.equal(queues.status, 200);
        const stats = await api.request("GET", "/v1/hub/stats");
        assert.equal(stats.status, 200);
        assert.ok("queues" in stats.body);
      });

      await t.step("unknown modules and routes are 404 JSON", async () => {
        assertError(
          await api.request("GET", "/v1/modules/nope"),
          404,
          /^Cannot find module "nope"/,
        );
        assertError(
          await api.request("POST", "/v1/modules/nope/restart"),
          404,
          /^Cannot find module "nope"/,
        );
        assertError(
          await api.request("GET", "/v1/nothing-here"),
          404,
          /^Cannot GET \/v1\/nothing-here: no such route$/,
        );
      });

      await t.step("curl, an independent client, reads the same socket", async () => {
        const { success, stdout } = await new Deno.Command("curl", {
          args: [
            "-sS",
            "--unix-socket",
            socketPath,
            "http://ledge/v1/modules/nope",
            "-w",
            "\n%{http_code}",
          ],
          stdout: "piped",
        }).output();
        assert.ok(success);
        const [body, code] = new TextDecoder().decode(stdout).split("\n");
        assert.equal(code, "404");
        assert.match(JSON.parse(body!).error, /^Cannot find module "nope"/);
      });
    } finally {
      api.close();
      await ledge.stop();
      await Deno.remove(ledge.stateDir, { recursive: true });
      await Deno.remove(ledge.configPath);
    }
  },
);

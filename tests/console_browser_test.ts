/**
 * The web console in a real browser (Debian's Chromium, headless) against a real daemon running
 * two real modules (the Azure IoT SDK under Node, as process modules): every page renders with
 * no console errors, shows the management API's numbers, restarts a module, edits a desired
 * twin that reaches the module, and refuses a request without a session or with a forged CSRF
 * token. Screenshots of each page go to dist/console-screenshots/ (or LEDGE_SCREENSHOTS_DIR).
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { chromiumAvailable, launchChromium, SCREENSHOT_DIR, watchProblems } from "./_browser.ts";
import { fleetManifest, fleetModule } from "./_fleet.ts";
import { waitFor } from "./_wait.ts";
import { type LedgeProcess, startLedge } from "./_ledge.ts";
import { sdkAvailable } from "./_sdk_process.ts";
import { commandAvailable, serviceTest } from "./_services.ts";

const DEVICE = "console-device";
const SENT = 25;

/** GETs a JSON route of the management API over the daemon's socket. */
async function mgmt<T>(ledge: LedgeProcess, path: string): Promise<T> {
  const client = Deno.createHttpClient({
    proxy: { transport: "unix", path: `${ledge.stateDir}/mgmt.sock` },
  });
  try {
    const response = await fetch(`http://ledge${path}`, { client });
    const text = await response.text();
    assert.ok(response.ok, `${path}: ${response.status} ${text}`);
    return (response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text) as T;
  } finally {
    client.close();
  }
}

/** POSTs JSON to the management API. */
async function mgmtPost<T>(ledge: LedgeProcess, path: string, body: unknown): Promise<T> {
  const client = Deno.createHttpClient({
    proxy: { transport: "unix", path: `${ledge.stateDir}/mgmt.sock` },
  });
  try {
    const response = await fetch(`http://ledge${path}`, {
      client,
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    const text = await response.text();
    assert.ok(response.ok, `${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  } finally {
    client.close();
  }
}

/** Makes this device a parent: two child edge devices (one tagged) and a staged deployment. */
async function fleetAtThisParent(ledge: LedgeProcess, dir: string): Promise<void> {
  for (const child of ["line-7", "line-8"]) {
    const added = await ledge.cli(["identity", "add-device", child, "--edge"]);
    assert.equal(added.code, 0, added.stderr);
  }
  const tagged = await ledge.cli(["twin", "--device", "line-7", "--tags", '{"site":"plant-1"}']);
  assert.equal(tagged.code, 0, tagged.stderr);
  const content = `${dir}/site-1.json`;
  await Deno.writeTextFile(content, JSON.stringify(fleetManifest({}, {})));
  const created = await ledge.cli([
    "deployment",
    "create",
    "site-1",
    "--content",
    content,
    "--target-condition",
    "tags.site='plant-1'",
    "--rollout",
    "50%,100%",
    "--metrics",
    "edges=SELECT deviceId FROM devices WHERE capabilities.iotEdge = true",
  ]);
  assert.equal(created.code, 0, created.stderr);
}

interface QueueRow {
  endpoint: string;
  count: number;
  bytes: number;
}
interface ModuleRow {
  name: string;
  status: string;
  restartCount: number;
}
interface ReportedModule {
  runtimeStatus: string;
  lastStartTimeUtc: string;
}

async function startDevice(dir: string): Promise<LedgeProcess> {
  const ledge = await startLedge({
    deviceId: DEVICE,
    extraConfig: `[agent]\nengine = "none"\nbackoff_base_seconds = 1`,
  });
  const manifest = fleetManifest(
    {
      sender: fleetModule({ mqttPort: ledge.ports.mqtt, send: SENT }),
      receiver: fleetModule({ mqttPort: ledge.ports.mqtt, out: `${dir}/received.jsonl` }),
    },
    {
      toReceiver:
        'FROM /messages/modules/sender/outputs/out INTO BrokeredEndpoint("/modules/receiver/inputs/in")',
      toParent: { route: "FROM /messages/modules/sender/* INTO $upstream", priority: 1 },
    },
    { receiver: { interval: 1 } },
  );
  const file = `${dir}/manifest.json`;
  await Deno.writeTextFile(file, JSON.stringify(manifest));
  const deployed = await ledge.cli(["deploy", file, "--wait"]);
  assert.equal(deployed.code, 0, deployed.stderr);
  // Steady state: everything sent, routed, and delivered to the receiver; $upstream holds it all.
  await waitFor("the messages routed and delivered", async () => {
    const queues = await mgmt<QueueRow[]>(ledge, "/v1/queues");
    const upstream = queues.find((q) => q.endpoint === "$upstream")?.count;
    const input = queues.find((q) => q.endpoint === "/modules/receiver/inputs/in")?.count;
    return upstream === SENT && input === 0 ? true : undefined;
  });
  return ledge;
}

/** Opens the login link `ledge console` prints; the page lands on the overview. */
async function signIn(ledge: LedgeProcess, page: Page): Promise<string> {
  const printed = await ledge.cli(["console"]);
  assert.equal(printed.code, 0, printed.stderr);
  const link = printed.stdout.trim();
  assert.match(
    link,
    new RegExp(`^http://127\\.0\\.0\\.1:${ledge.ports.console}/login\\?token=[\\w-]{43}$`),
  );
  await page.goto(link);
  assert.equal(new URL(page.url()).pathname, "/", "the token left the address bar");
  assert.doesNotMatch(page.url(), /token/);
  return new URL(link).origin;
}

async function visit(page: Page, origin: string, path: string, shot: string): Promise<void> {
  const response = await page.goto(`${origin}${path}`);
  assert.equal(response?.status(), 200, path);
  await page.waitForFunction(() => "htmx" in globalThis);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${shot}.png`, fullPage: true });
}

async function cellNumber(page: Page, selector: string): Promise<number> {
  const text = await page.locator(selector).first().textContent();
  return Number((text ?? "").replaceAll(",", "").trim());
}

/** The store's fdatasyncs so far, as the management API counts them. */
async function storeSyncs(ledge: LedgeProcess): Promise<number> {
  type Stats = { store: { syncs: { seconds: { count: number } } } };
  return (await mgmt<Stats>(ledge, "/v1/hub/stats")).store.syncs.seconds.count;
}

serviceTest(
  "the console in Chromium: every page renders cleanly, shows the API's numbers, restarts a module, edits a twin, and refuses what has no session or a forged token",
  [await chromiumAvailable(), await commandAvailable("node"), await sdkAvailable()],
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ledge-console-" });
    await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
    const ledge = await startDevice(dir);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems = watchProblems(page);
      const origin = await signIn(ledge, page);

      await t.step("every page renders with no console errors (screenshots saved)", async () => {
        await page.locator('#checks [data-check="config"]').waitFor();
        await page.screenshot({ path: `${SCREENSHOT_DIR}/overview.png`, fullPage: true });
        const pages: [string, string][] = [
          ["/modules", "modules"],
          ["/modules/receiver", "module"],
          ["/flow", "flow"],
          ["/queues", "queues"],
          ["/twins", "twins"],
          [`/twins/${DEVICE}/modules/receiver`, "twin"],
          ["/identities", "identities"],
          ["/fleet", "fleet"],
        ];
        for (const [path, shot] of pages) await visit(page, origin, path, shot);
        assert.deepEqual(problems.list, []);
      });

      await t.step("the numbers shown equal the management API's", async () => {
        const queues = await mgmt<QueueRow[]>(ledge, "/v1/queues");
        const syncsBefore = await storeSyncs(ledge);
        await page.goto(`${origin}/queues`);
        const syncsAfter = await storeSyncs(ledge);
        const shownSyncs = Number(await page.locator("[data-k=syncs]").getAttribute("data-v"));
        assert.ok(syncsBefore > 0, "the routed messages were made durable");
        assert.ok(shownSyncs >= syncsBefore && shownSyncs <= syncsAfter, `${shownSyncs} syncs`);
        const p99 = Number(await page.locator("[data-k=sync-p99]").getAttribute("data-v"));
        assert.ok(p99 > 0 && p99 < 5000, `a p99 within the histogram's buckets: ${p99} ms`);
        assert.equal(await page.locator("[data-k=sync-recent]").count(), 1, "the last seconds'");
        for (const queue of queues) {
          const row = `tr[data-endpoint="${queue.endpoint}"]`;
          assert.equal(
            await cellNumber(page, `${row} [data-k=count]`),
            queue.count,
            queue.endpoint,
          );
          assert.equal(
            Number(await page.locator(`${row} [data-k=bytes]`).getAttribute("data-v")),
            queue.bytes,
          );
        }
        const modules = (await mgmt<{ modules: ModuleRow[] }>(ledge, "/v1/modules")).modules;
        await page.goto(`${origin}/modules`);
        for (const module of modules) {
          const row = `tr[data-module="${module.name}"]`;
          assert.equal(
            (await page.locator(`${row} [data-k=status]`).textContent())?.trim(),
            module.status,
          );
          assert.equal(await cellNumber(page, `${row} [data-k=restarts]`), module.restartCount);
        }
        const stats = await mgmt<{ routedByRoute: Record<string, number> }>(ledge, "/v1/hub/stats");
        assert.equal(stats.routedByRoute.toReceiver, SENT);
        await page.goto(`${origin}/flow`);
        for (const [route, routed] of Object.entries(stats.routedByRoute)) {
          assert.equal(
            await cellNumber(page, `tr[data-route="${route}"] [data-k=routed]`),
            routed,
            route,
          );
        }
        await page.goto(`${origin}/`);
        const queued = queues.reduce((sum, q) => sum + q.count, 0);
        assert.equal(await cellNumber(page, "[data-k=queued]"), queued);
        assert.equal(await page.locator("[data-k=device-id]").textContent(), DEVICE);
        const identities = (await mgmt<{ identities: { deviceId: string; moduleId?: string }[] }>(
          ledge,
          "/v1/identities",
        )).identities.filter((identity) => identity.moduleId === undefined);
        await page.goto(`${origin}/identities`);
        assert.deepEqual(
          (await page.locator("tr[data-identity]").evaluateAll((rows) =>
            rows.map((row) => row.getAttribute("data-identity"))
          )).sort(),
          identities.map((identity) => identity.deviceId).sort(),
        );
      });

      await t.step("the module's log streams into its page, and search filters it", async () => {
        await page.goto(`${origin}/modules/receiver`);
        await page.locator("pre.log", { hasText: "fleet module ready" }).waitFor();
        await page.fill(".logtail input[type=search]", "no line says this");
        assert.equal((await page.locator("pre.log").textContent())?.trim(), "");
        assert.match(
          (await page.locator(".logtail .count").textContent()) ?? "",
          /^0 of \d+ lines$/,
        );
        await page.fill(".logtail input[type=search]", "ready");
        assert.match((await page.locator("pre.log mark").first().textContent()) ?? "", /ready/);
      });

      await t.step("a forged CSRF token is refused and changes nothing", async () => {
        const before = await mgmt<ReportedModule>(ledge, "/v1/modules/receiver");
        await page.goto(`${origin}/modules/receiver`);
        await page.locator('form[action$="/restart"] input[name=_csrf]').evaluate(
          (input: { setAttribute(name: string, value: string): void }) =>
            input.setAttribute("value", "forged"),
        );
        const [response] = await Promise.all([
          page.waitForNavigation(),
          page.locator('form[action$="/restart"] button').click(),
        ]);
        assert.equal(response?.status(), 403);
        assert.match(
          await page.locator("body").textContent() ?? "",
          /security token is missing or wrong/,
        );
        const after = await mgmt<ReportedModule>(ledge, "/v1/modules/receiver");
        assert.equal(after.lastStartTimeUtc, before.lastStartTimeUtc, "not restarted");
      });

      await t.step("a request without a session is refused", async () => {
        const stranger = await browser!.newContext();
        const strangerPage = await stranger.newPage();
        const response = await strangerPage.goto(`${origin}/modules`);
        assert.equal(response?.status(), 401);
        assert.match(await strangerPage.locator("body").textContent() ?? "", /not signed in/);
        await stranger.close();
        const post = await fetch(`${origin}/modules/receiver/restart`, { method: "POST" });
        assert.equal(post.status, 401);
        await post.body?.cancel();
      });

      await t.step("restart from the page restarts the module", async () => {
        const before = await mgmt<ReportedModule>(ledge, "/v1/modules/receiver");
        await page.goto(`${origin}/modules/receiver`);
        await Promise.all([
          page.waitForNavigation(),
          page.locator('form[action$="/restart"] button').click(),
        ]);
        assert.match(page.url(), /\/modules\/receiver\?done=restart$/);
        await page.locator(".notice.ok").waitFor();
        await waitFor("the receiver started again", async () => {
          const now = await mgmt<ReportedModule>(ledge, "/v1/modules/receiver");
          return now.runtimeStatus === "running" && now.lastStartTimeUtc !== before.lastStartTimeUtc
            ? true
            : undefined;
        }, 30_000);
      });

      await t.step(
        "a desired-twin edit reaches the module; a bad one shows where it is wrong",
        async () => {
          const path = `${origin}/twins/${DEVICE}/modules/receiver`;
          await page.goto(path);
          const editor = page.locator("textarea.json");
          await editor.fill('{"interval": 7,');
          assert.equal(await page.locator(".twin-editor button[type=submit]").isDisabled(), true);
          assert.match((await page.locator(".field-error").textContent()) ?? "", /not valid JSON/);
          await editor.fill('{"interval": 7, "bad key": true}');
          await Promise.all([
            page.waitForNavigation(),
            page.locator(".twin-editor button[type=submit]").click(),
          ]);
          assert.equal(await page.locator("[data-k=issue-path]").textContent(), '$["bad key"]');
          const twin = await mgmt<{ desired: Record<string, unknown> }>(
            ledge,
            `/v1/twins/${DEVICE}/modules/receiver`,
          );
          assert.equal(twin.desired.interval, 1, "a refused edit changes nothing");
          await page.locator("textarea.json").fill('{"interval": 7, "mode": "fast"}');
          await Promise.all([
            page.waitForNavigation(),
            page.locator(".twin-editor button[type=submit]").click(),
          ]);
          await page.locator(".notice.ok").waitFor();
          await waitFor("the module got the patch", async () => {
            const logs = await mgmt<string>(ledge, "/v1/modules/receiver/logs");
            return /desired \{"interval":7,"mode":"fast"/.test(logs) ? true : undefined;
          }, 30_000);
          await page.screenshot({ path: `${SCREENSHOT_DIR}/twin-saved.png`, fullPage: true });
        },
      );

      await t.step(
        "at a parent, the fleet page shows the fleet API's devices, query and deployments",
        async () => {
          await fleetAtThisParent(ledge, dir);
          await page.goto(`${origin}/fleet`);
          const devices = await mgmtPost<
            { items: { deviceId: string; connectionState: string }[] }
          >(
            ledge,
            "/v1/fleet/query",
            { query: "SELECT * FROM devices" },
          );
          assert.deepEqual(
            (await page.locator("tr[data-device]").evaluateAll((rows) =>
              rows.map((row) => row.getAttribute("data-device"))
            )).sort(),
            devices.items.map((device) => device.deviceId).sort(),
          );
          assert.match(
            (await page.locator('tr[data-device="line-7"]').textContent()) ?? "",
            /site=plant-1/,
          );
          const listed = await mgmt<
            { id: string; systemMetrics: { results: Record<string, number> } }[]
          >(
            ledge,
            "/v1/fleet/deployments",
          );
          for (const deployment of listed) {
            const row = `tr[data-deployment="${deployment.id}"]`;
            assert.equal(
              await cellNumber(page, `${row} [data-k=targeted]`),
              deployment.systemMetrics.results.targetedCount,
            );
            assert.equal(
              await cellNumber(page, `${row} [data-k=applied]`),
              deployment.systemMetrics.results.appliedCount,
            );
          }
          await page.screenshot({ path: `${SCREENSHOT_DIR}/fleet.png`, fullPage: true });

          await page.fill(
            "#query input[name=q]",
            "SELECT deviceId FROM devices WHERE tags.site = 'plant-1'",
          );
          await Promise.all([page.waitForNavigation(), page.locator("#query button").click()]);
          assert.equal(await page.locator("[data-k=query-rows]").textContent(), "1 rows");
          await page.fill("#query input[name=q]", "SELECT FROM devices");
          await Promise.all([page.waitForNavigation(), page.locator("#query button").click()]);
          assert.match(
            (await page.locator("[data-k=query-error]").textContent()) ?? "",
            /line 1, column 8/,
          );

          await page.goto(`${origin}/fleet/deployments/site-1`);
          assert.equal(await page.locator("svg.waves [data-wave]").count(), 2);
          const shown = await mgmt<{ rollout: { wave: number } }>(
            ledge,
            "/v1/fleet/deployments/site-1",
          );
          assert.equal(await cellNumber(page, "[data-k=wave]"), shown.rollout.wave);
          assert.equal(
            await page.locator("svg.waves .current").getAttribute("data-wave"),
            String(shown.rollout.wave),
          );
          await page.screenshot({ path: `${SCREENSHOT_DIR}/fleet-deployment.png`, fullPage: true });
        },
      );

      // The refused token (403) and the refused edit (400) are errors the browser logs, as it should.
      const refusals = [
        /403 \(Forbidden\).*\/modules\/receiver\/restart/,
        /400 \(Bad Request\).*\/twins\//,
      ];
      assert.deepEqual(problems.list.filter((line) => !refusals.some((r) => r.test(line))), []);
    } finally {
      await browser?.close();
      await ledge.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
  { sanitizeOps: false, sanitizeResources: false },
);

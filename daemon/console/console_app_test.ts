import assert from "node:assert/strict";
import { Histogram } from "../../core/histogram.ts";
import { parseConfigText } from "../../core/config_load.ts";
import { silentLogger } from "../../core/log.ts";
import { createConsoleApp } from "./console_app.ts";
import type { ConsoleContext, ConsoleSources } from "./context.ts";
import { MetricHistory } from "./history.ts";
import { ConsoleSessions } from "./sessions.ts";

const PORT = 9601;
const ORIGIN = `http://127.0.0.1:${PORT}`;

/** A console over plain objects standing in for the daemon's parts; it records what it is asked. */
function fixture(options: { tls?: boolean } = {}) {
  const calls: string[] = [];
  let desired: Record<string, unknown> = { $version: 3, interval: 1 };
  const sources = {
    agent: {
      modules: () => [{
        name: "sensor",
        type: "process",
        status: "running",
        description: "Up 5 seconds",
        config: "node sensor.js",
        desiredStatus: "running",
        restartCount: 2,
        exitCode: 0,
        system: false,
      }],
      module: (name: string) =>
        name === "sensor"
          ? {
            type: "process",
            settings: {},
            runtimeStatus: "running",
            statusDescription: "",
            exitCode: 0,
            lastStartTimeUtc: "",
            lastExitTimeUtc: "",
            restartCount: 2,
            lastRestartTimeUtc: "",
          }
          : undefined,
      status: () => ({
        version: 1,
        lastDesiredStatus: { code: 200 },
        converging: false,
        engine: "none",
      }),
      engineInfo: () => undefined,
      current: () => ({ modules: [{ name: "sensor" }] }),
      restart: (name: string) => Promise.resolve(void calls.push(`restart ${name}`)),
      startModule: (name: string) => Promise.resolve(void calls.push(`start ${name}`)),
      stopModule: (name: string) => Promise.resolve(void calls.push(`stop ${name}`)),
      logs: () => Promise.resolve(ReadableStream.from([new TextEncoder().encode("one\ntwo\n")])),
    },
    hub: () => ({
      stats: () => ({
        received: { "dev/sensor": 10 },
        routed: { $upstream: 10 },
        routedByRoute: { up: 10 },
        delivered: {},
        unrouted: 0,
        refusedFull: 0,
        refusedDiskFull: 0,
        tooLarge: 0,
        tooLargeDeadLettered: 0,
        clients: [],
        queues: [{
          endpoint: "$upstream",
          count: 10,
          bytes: 2048,
          oldestAgeSeconds: 4,
          dropped: { expired: 1, full: 0, lost: 3 },
        }],
        store: {
          commits: 4,
          messages: 10,
          failed: 0,
          refusedDiskFull: 0,
          syncs: { onLoop: 2, onPool: 1, toPool: 1, seconds: syncSeconds([0.0003, 0.0004, 0.15]) },
        },
      }),
      routeTable: () => ({
        routes: [{
          name: "up",
          text: "FROM /messages/* INTO $upstream",
          source: { text: "/messages/*", prefix: "/messages/" },
          endpointKey: "$upstream",
          priority: 2_000_000_000,
          timeToLiveSecs: 0,
        }],
      }),
      getTwin: () => ({ desired, reported: { $version: 1 } }),
      patchDesired: (target: { moduleId?: string }, patch: Record<string, unknown>) => {
        calls.push(`patch ${target.moduleId} ${JSON.stringify(patch)}`);
        desired = { ...desired, ...patch, $version: Number(desired.$version) + 1 };
        return desired.$version;
      },
      twinsDurable: () => Promise.resolve(),
    }),
    security: {
      registry: { list: () => [], modulesOf: () => [], get: () => undefined },
      certificates: () => [],
      trustDomain: "test.ledge",
      clockWarning: undefined,
    },
    upstream: {
      state: () => ({
        enabled: false,
        connected: false,
        forwarding: { forwarded: 0 },
        connections: [],
      }),
    },
    checks: () =>
      Promise.resolve([{
        id: "clock",
        title: "system clock",
        status: "warning",
        message: "off",
        fix: "run ntp",
      }]),
  } as unknown as ConsoleSources;
  const config = parseConfigText(
    `[device]\nid = "edge-1"\n[console]\nlisten = "127.0.0.1:${PORT}"\ntls = ${
      options.tls ?? false
    }`,
    { uid: 1000, hostname: "test", env: {} },
  );
  const sessions = new ConsoleSessions();
  const context: ConsoleContext = {
    config,
    logger: silentLogger,
    sources,
    sessions,
    history: new MetricHistory({ read: () => undefined }),
    tls: options.tls ?? false,
    port: () => PORT,
    closing: new AbortController().signal,
  };
  const fetch = createConsoleApp(context);
  const base = options.tls ? `https://localhost:${PORT}` : ORIGIN;
  function request(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(new Request(`${base}${path}`, init));
  }
  /** Signs in; returns the cookie header and the session's CSRF token. */
  async function signIn(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const response = await request(`/login?token=${sessions.issueLogin().token}`);
    assert.equal(response.status, 303);
    const setCookie = response.headers.get("set-cookie") ?? "";
    const cookie = setCookie.split(";")[0]!;
    const page = await (await request("/", { headers: { cookie } })).text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1];
    assert.ok(csrf);
    return { cookie, csrf, setCookie };
  }
  function post(path: string, fields: Record<string, string>, headers: Record<string, string>) {
    return request(path, {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    });
  }
  return { calls, request, signIn, post, sessions };
}

Deno.test("console: the login link sets a strict session cookie once, and only it opens the pages", async () => {
  const console = fixture();
  const denied = await console.request("/", { headers: { accept: "text/html" } });
  assert.equal(denied.status, 401);
  assert.match(await denied.text(), /ledge console/);
  assert.equal((await console.request("/modules")).status, 401);
  const { setCookie, cookie } = await console.signIn();
  assert.match(setCookie, /^ledge_console=[A-Za-z0-9_-]{43};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.doesNotMatch(setCookie, /Secure/);
  assert.equal((await console.request("/modules", { headers: { cookie } })).status, 200);
  assert.equal((await console.request("/login?token=forged")).status, 401);
});

Deno.test("console: under TLS the cookie is Secure and bound to the host (__Host-)", async () => {
  const { setCookie } = await fixture({ tls: true }).signIn();
  assert.match(setCookie, /^__Host-ledge_console=/);
  assert.match(setCookie, /Secure/);
  assert.match(setCookie, /Path=\//);
});

Deno.test("console: every page answers 200 with the confining headers", async () => {
  const console = fixture();
  const { cookie } = await console.signIn();
  for (
    const path of [
      "/",
      "/modules",
      "/modules/sensor",
      "/flow",
      "/queues",
      "/twins",
      "/twins/edge-1/modules/sensor",
      "/identities",
      "/fleet",
    ]
  ) {
    const response = await console.request(path, { headers: { cookie } });
    assert.equal(response.status, 200, path);
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.equal(response.headers.get("cache-control"), "no-store", path);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
  }
  assert.equal((await console.request("/modules/nope", { headers: { cookie } })).status, 404);
});

Deno.test("console: actions need the session's CSRF token and a same-origin request", async () => {
  const console = fixture();
  const { cookie, csrf } = await console.signIn();
  const forged = await console.post("/modules/sensor/restart", { _csrf: "forged" }, { cookie });
  assert.equal(forged.status, 403);
  const missing = await console.post("/modules/sensor/restart", {}, { cookie });
  assert.equal(missing.status, 403);
  const crossSite = await console.post("/modules/sensor/restart", { _csrf: csrf }, {
    cookie,
    origin: "http://127.0.0.1:8080",
  });
  assert.equal(crossSite.status, 403);
  const noSession = await console.post("/modules/sensor/restart", { _csrf: csrf }, {});
  assert.equal(noSession.status, 401);
  assert.deepEqual(console.calls, [], "nothing was done");
  const done = await console.post("/modules/sensor/restart", { _csrf: csrf }, {
    cookie,
    origin: ORIGIN,
  });
  assert.equal(done.status, 303);
  assert.equal(done.headers.get("location"), "/modules/sensor?done=restart");
  const byHeader = await console.request("/modules/sensor/stop", {
    method: "POST",
    headers: { cookie, "x-csrf-token": csrf },
  });
  assert.equal(byHeader.status, 303);
  assert.deepEqual(console.calls, ["restart sensor", "stop sensor"]);
});

Deno.test("console: a Host that is not loopback is refused (no DNS rebinding)", async () => {
  const console = fixture();
  const { cookie } = await console.signIn();
  for (const host of ["evil.example:9601", "127.0.0.1:80", "localhost"]) {
    const response = await console.request("/", { headers: { cookie, host } });
    assert.equal(response.status, 421, host);
  }
  assert.equal(
    (await console.request("/", { headers: { cookie, host: "localhost:9601" } })).status,
    200,
  );
});

Deno.test("console: a desired edit is sent as the merge patch; a bad one is refused with its path", async () => {
  const console = fixture();
  const { cookie, csrf } = await console.signIn();
  const path = "/twins/edge-1/modules/sensor";
  const bad = await console.post(path, { _csrf: csrf, version: "3", desired: '{"a b": 1}' }, {
    cookie,
  });
  assert.equal(bad.status, 400);
  const page = await bad.text();
  assert.match(page, /\$\[&quot;a b&quot;\]/);
  assert.match(page, /&quot;a b&quot;: 1/, "the text typed stays in the editor");
  const broken = await console.post(path, { _csrf: csrf, version: "3", desired: '{"a": }' }, {
    cookie,
  });
  assert.match(await broken.text(), /line 1, column 7/);
  const stale = await console.post(
    path,
    { _csrf: csrf, version: "2", desired: '{"interval": 5}' },
    { cookie },
  );
  assert.match(await stale.text(), /changed meanwhile/);
  assert.deepEqual(console.calls, []);
  const saved = await console.post(
    path,
    { _csrf: csrf, version: "3", desired: '{"interval": 5}' },
    { cookie },
  );
  assert.equal(saved.status, 303);
  assert.deepEqual(console.calls, ['patch sensor {"interval":5}']);
  const system = await console.post("/twins/edge-1/modules/$edgeAgent", {
    _csrf: csrf,
    version: "4",
    desired: "{}",
  }, { cookie });
  assert.equal(system.status, 400, "the agent's twin is the deployment's");
});

/** A histogram of sync durations (s) as the store reports it. */
function syncSeconds(observed: number[]) {
  const histogram = new Histogram([0.0001, 0.001, 0.01, 0.1, 1]);
  for (const seconds of observed) histogram.observe(seconds);
  return histogram.snapshot();
}

Deno.test("console: the pages show the daemon's numbers", async () => {
  const console = fixture();
  const { cookie } = await console.signIn();
  const queues = await (await console.request("/queues", { headers: { cookie } })).text();
  assert.match(queues, /data-k="count" data-v="10">10</);
  assert.match(queues, /data-k="bytes" data-v="2048">2.0 KiB</);
  assert.match(queues, /Lost \(body missing\)/);
  assert.match(queues, /data-k="lost">3</);
  // The store's disk: 3 syncs, 2 within 1 ms (p50 interpolated within 0.1-1 ms), one of 150 ms.
  assert.match(queues, /data-k="syncs" data-v="3">3</);
  assert.match(queues, /2 on the event loop &middot; 1 on a thread/);
  assert.match(queues, /data-k="sync-p50">0.78 ms</);
  assert.match(queues, /data-k="sync-p99" data-v="[0-9.]+">973 ms</);
  assert.match(queues, /data-k="slow-disk">1</);
  assert.match(queues, /data-k="sync-recent">\u2014</, "no sample yet to measure lately from");
  const flow = await (await console.request("/flow", { headers: { cookie } })).text();
  assert.match(flow, /data-k="routed">10</);
  assert.match(flow, /data-k="ttl-drops">1</);
  const checks = await (await console.request("/checks", { headers: { cookie } })).text();
  assert.match(checks, /⚠/);
  assert.match(checks, /run ntp/);
});

Deno.test("console: the log streams as server-sent events, one line each, then an end", async () => {
  const console = fixture();
  const { cookie } = await console.signIn();
  const response = await console.request("/modules/sensor/logs?tail=10", { headers: { cookie } });
  assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
  assert.equal(
    await response.text(),
    "retry: 3000\n\ndata: one\n\ndata: two\n\nevent: end\ndata: \n\n",
  );
});

Deno.test("console: static files are served from the program, htmx from its npm package", async () => {
  const console = fixture();
  const htmx = await console.request("/assets/htmx.min.js");
  assert.equal(htmx.status, 200);
  assert.match(htmx.headers.get("content-type") ?? "", /javascript/);
  assert.match(await htmx.text(), /htmx/);
  assert.equal((await console.request("/assets/console.css")).status, 200);
  assert.equal((await console.request("/assets/..%2Fmod.ts")).status, 404);
  assert.equal((await console.request("/assets/nope.js")).status, 404);
});

Deno.test("console: signing out ends the session", async () => {
  const console = fixture();
  const { cookie, csrf } = await console.signIn();
  const out = await console.post("/logout", { _csrf: csrf }, { cookie });
  assert.equal(out.status, 200);
  assert.match(out.headers.get("set-cookie") ?? "", /ledge_console=;/);
  assert.equal((await console.request("/", { headers: { cookie } })).status, 401);
});

Deno.test("wavesBar() marks the waves done, current (1-based) and to come", async () => {
  const { wavesBar } = await import("./pages/fleet_deployment.ts");
  const rollout = {
    waves: [10, 50, 100],
    waitSeconds: 0,
    abortIfFailedPercent: 0,
    status: "rolling" as const,
    wave: 2,
    releasedDeviceIds: [],
  };
  const states = (svg: string) => [...svg.matchAll(/class="wave (\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(states(wavesBar(rollout).toString()), ["done", "current", "next"]);
  assert.deepEqual(states(wavesBar({ ...rollout, status: "aborted" }).toString()), [
    "done",
    "aborted",
    "next",
  ]);
  assert.deepEqual(states(wavesBar({ ...rollout, status: "completed", wave: 3 }).toString()), [
    "done",
    "done",
    "done",
  ]);
});

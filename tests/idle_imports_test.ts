/**
 * Issue 13 (idle RSS): what `ledge run` loads at start (cli/run_daemon.ts and its static imports)
 * holds only the npm packages an idle daemon uses: hono (its HTTP APIs) and smol-toml (the config
 * file), both ES modules. zod (the config, state and API schemas) is core/zod.js, one ASCII file
 * built from npm's zod without its 64 locales (scripts/vendor_zod.ts). Everything else — each CommonJS
 * package, the first of which also brings Deno's CommonJS loader — is imported on first use:
 * ws at the first WebSocket upgrade, rhea at the first AMQP connection, grpc-js and protobufjs
 * at the first SPIFFE call, mqtt.js when a parent is dialled, jose at the first JWT-SVID, and
 * commander only for the verbs other than `run`. Of ledge's own modules, the Docker client
 * loads only once an engine socket is found, the upstream connector only when upstream is enabled.
 *
 * And ledge's own modules are ASCII: a module's source stays in memory for the life of the
 * process, as it is if ASCII, else copied into V8's heap, two bytes per character if one is above
 * U+00FF (75 start-up modules had one, even if only in a comment). In comments write ASCII
 * ("...", "->", "-", "sec."); in strings an escape ("\u2026"); in html`` text an entity
 * ("&hellip;": deno fmt doubles the backslash of an escape in an html`` template's text).
 */
import assert from "node:assert/strict";
import { moduleGraph, npmPackages, staticClosure } from "./_module_graph.ts";

const AT_START = ["hono", "smol-toml"];
const ON_FIRST_USE = ["@grpc/grpc-js", "jose", "mqtt", "protobufjs", "rhea", "ws"];

Deno.test("ledge run loads at start only hono and smol-toml of its npm packages", async () => {
  const modules = await moduleGraph("main.ts");
  const root = new URL("../cli/run_daemon.ts", import.meta.url).href;
  assert.deepEqual(npmPackages(staticClosure(modules, root, false)), AT_START);
  // The check can fail: with dynamic imports followed, the lazily loaded packages are there.
  const withDynamic = npmPackages(staticClosure(modules, root, true));
  for (const name of ON_FIRST_USE) assert.ok(withDynamic.includes(name), name);
  const main = new URL("../main.ts", import.meta.url).href;
  assert.ok(!npmPackages(staticClosure(modules, main, false)).includes("commander"));
});

/**
 * The Node built-ins ledge's own modules import at start. Each new one costs idle RSS, which has
 * little room (node:zlib alone: +1.0-1.7 MB, measured in an empty script with node:sqlite and
 * node:net): import it where first needed, or add it here with what it costs.
 */
const NODE_AT_START = [
  "node:buffer",
  "node:crypto",
  "node:fs",
  "node:https",
  "node:net",
  "node:path",
  "node:process",
  "node:sqlite",
  "node:stream",
  "node:timers",
  "node:tls",
  "node:util",
];

Deno.test("ledge run imports at start only the Node built-ins listed", async () => {
  const modules = await moduleGraph("main.ts");
  const root = new URL("../cli/run_daemon.ts", import.meta.url).href;
  const builtins = (dynamic: boolean) =>
    [...staticClosure(modules, root, dynamic)].filter((s) => s.startsWith("node:")).sort();
  assert.deepEqual(builtins(false), NODE_AT_START);
  // The check can fail: with dynamic imports followed, there are more (node:events, ...).
  assert.ok(builtins(true).length > NODE_AT_START.length);
});

/** ledge's own modules an idle daemon does not run: imported where first needed. */
const OWN_ON_FIRST_USE = [
  "agent/engine/docker_driver.ts", // when an engine socket is found
  "agent/engine/image_load.ts", // by `ledge image load`
  "upstream/upstream_connector.ts", // when the upstream component starts enabled
];

Deno.test("ledge run reaches the Docker client and the upstream connector only dynamically", async () => {
  const modules = await moduleGraph("main.ts");
  const root = new URL("../cli/run_daemon.ts", import.meta.url).href;
  const atStart = staticClosure(modules, root, false);
  const withDynamic = staticClosure(modules, root, true);
  for (const path of OWN_ON_FIRST_USE) {
    const specifier = new URL(`../${path}`, import.meta.url).href;
    assert.ok(!atStart.has(specifier), `${path} is loaded at start`);
    assert.ok(withDynamic.has(specifier), `${path} is not reachable at all`);
  }
});

Deno.test("ledge's own modules are ASCII", async () => {
  const wide: string[] = [];
  for (const { specifier } of await moduleGraph("main.ts")) {
    if (!specifier.startsWith("file:")) continue;
    const lines = (await Deno.readTextFile(new URL(specifier))).split("\n");
    lines.forEach((line, index) => {
      const found = /[\u0080-\u{10ffff}]/u.exec(line);
      if (found) wide.push(`${specifier}:${index + 1}: ${JSON.stringify(found[0])}`);
    });
  }
  assert.deepEqual(wide, []);
});

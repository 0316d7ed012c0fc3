import assert from "node:assert/strict";
import { defaultConfig, type DefaultsContext, defaultStateDir } from "./config.ts";
import { ConfigError, defaultConfigPath, loadConfig, parseConfigText } from "./config_load.ts";
import { CONFIG_COMMENTS, renderConfigTemplate } from "./config_template.ts";

const user: DefaultsContext = { uid: 1000, hostname: "Pi-4.lan", env: { HOME: "/home/pi" } };
const root: DefaultsContext = { uid: 0, hostname: "gw", env: { HOME: "/root" } };

function issuesOf(text: string, context = user): string[] {
  try {
    parseConfigText(text, context);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.issues;
  }
  assert.fail(`config was accepted:\n${text}`);
}

function flatKeys(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) =>
    flatKeys(inner, prefix ? `${prefix}.${key}` : key)
  );
}

Deno.test("parseConfigText() loads a valid file over the defaults", () => {
  const config = parseConfigText(
    `[device]\nid = "line-7"\n[hub.mqtt]\nport = 9883\n[agent.allow]\ncap_add = ["NET_ADMIN"]\n`,
    user,
  );
  assert.equal(config.device.id, "line-7");
  assert.equal(config.hub.mqtt.port, 9883);
  assert.deepEqual(config.agent.allow.cap_add, ["NET_ADMIN"]);
  assert.equal(config.hub.https.port, 18443, "untouched keys keep their defaults");
});

Deno.test("parseConfigText() names the key, the expectation and the value of each bad value", async (t) => {
  const cases: [string, string][] = [
    [
      '[hub.mqtt]\nport = "88x3"',
      'hub.mqtt.port: expected an integer 0–65535 (0: any free port), got "88x3"',
    ],
    [
      "[hub.mqtt]\nport = 70000",
      "hub.mqtt.port: expected an integer 0–65535 (0: any free port), got 70000",
    ],
    [
      "[hub.mqtt]\nport = 1.5",
      "hub.mqtt.port: expected an integer 0–65535 (0: any free port), got 1.5",
    ],
    [
      '[log]\nlevel = "loud"',
      'log.level: expected one of "debug", "info", "warn", "error", got "loud"',
    ],
    ["[hub]\nmqtt = 3", "hub.mqtt: expected a table, got 3"],
    ['[hub.mqtt]\nenabled = "yes"', 'hub.mqtt.enabled: expected true or false, got "yes"'],
    [
      '[agent.allow]\ncap_add = "ALL"',
      'agent.allow.cap_add: expected an array of strings, got "ALL"',
    ],
    ['[device]\nid = "a/b"', "device.id: expected 1–128 characters"],
    [
      '[security]\ntrust_domain = "Edge.Example"',
      "security.trust_domain: expected a SPIFFE trust domain",
    ],
    [
      "[security]\nleaf_lifetime_seconds = 5",
      "security.leaf_lifetime_seconds: expected an integer 60–2592000, got 5",
    ],
    [
      '[metrics]\nlisten = "9600"',
      'metrics.listen: expected host:port, e.g. 127.0.0.1:9600, got "9600"',
    ],
    [
      '[console]\nlisten = "0.0.0.0:9601"',
      'console.listen: listening beyond loopback needs console.tls = true (HTTPS with ledge\'s server certificate), got "0.0.0.0:9601"',
    ],
    [
      '[console]\nlisten = "[::]:9601"',
      "console.listen: listening beyond loopback needs console.tls = true",
    ],
    ['[console]\ntls = "yes"', 'console.tls: expected true or false, got "yes"'],
    ['[state]\ndir = ""', 'state.dir: expected a non-empty string, got ""'],
    [
      "[agent]\nbackoff_max_seconds = 5",
      "agent.backoff_max_seconds: expected at least agent.backoff_base_seconds (10), got 5",
    ],
    [
      '[security]\nedge_ca_cert = "/ca.pem"',
      "security.edge_ca_key: expected a path when security.edge_ca_cert is set",
    ],
    [
      `[upstream]\nenabled = true\nshared_access_key = "${btoa("k".repeat(32))}"`,
      "upstream.hostname: expected a host name when upstream.enabled is true",
    ],
    [
      '[upstream]\nenabled = true\nhostname = "parent"',
      "upstream.shared_access_key: expected a base64 key (or upstream.cert_file and upstream.key_file, or upstream.enrollment_key)",
    ],
    [
      '[upstream]\nshared_access_key = "not base64!"',
      "upstream.shared_access_key: expected a base64 key, got 11 characters",
    ],
    [
      '[upstream]\ncert_file = "/c.pem"',
      "upstream.key_file: expected a path when upstream.cert_file",
    ],
  ];
  for (const [text, expected] of cases) {
    await t.step(expected.split(":")[0]!, () => {
      const issues = issuesOf(text);
      assert.equal(issues.length, 1, issues.join("\n"));
      assert.ok(issues[0]!.startsWith(expected), `${issues[0]} does not start with ${expected}`);
    });
  }
});

Deno.test("parseConfigText() lets the console listen on loopback in plain HTTP, beyond it with TLS", () => {
  const listens = ["127.0.0.1:9601", "[::1]:9601", "localhost:9601", "127.0.0.2:1"];
  for (const listen of listens) {
    assert.equal(parseConfigText(`[console]\nlisten = "${listen}"`, user).console.listen, listen);
  }
  assert.equal(
    parseConfigText('[console]\nlisten = "0.0.0.0:9601"\ntls = true', user).console.tls,
    true,
  );
  assert.equal(
    parseConfigText('[console]\nlisten = "0.0.0.0:9601"\nenabled = false', user).console.enabled,
    false,
  );
});

Deno.test("parseConfigText() reports every problem of a file, not just the first", () => {
  const issues = issuesOf('[hub.mqtt]\nport = -1\n[log]\nformat = "xml"');
  assert.equal(issues.length, 2);
});

Deno.test("parseConfigText() rejects unknown keys and suggests a close one", async (t) => {
  await t.step("a typo in a nested key", () => {
    assert.deepEqual(issuesOf("[hub.mqtt]\nprot = 1"), [
      'hub.mqtt.prot: unknown key (did you mean "port"?)',
    ]);
  });
  await t.step("a typo in a section", () => {
    assert.deepEqual(issuesOf('[devise]\nid = "x"'), [
      'devise: unknown key (did you mean "device"?)',
    ]);
  });
  await t.step("nothing close", () => {
    assert.deepEqual(issuesOf("[hub]\nfrobnicate = 1"), ["hub.frobnicate: unknown key"]);
  });
});

Deno.test("parseConfigText() gives the line and column of a TOML syntax error", () => {
  const [issue] = issuesOf("[hub.mqtt]\nport = = 3");
  assert.match(issue!, /^line 2, column \d+: /);
});

Deno.test("defaultConfig() uses system paths and IoT Edge ports for root, user ones otherwise", () => {
  const forRoot = defaultConfig(root);
  assert.equal(forRoot.state.dir, "/var/lib/ledge");
  assert.equal(forRoot.hub.mqtt.port, 8883);
  assert.equal(forRoot.hub.https.port, 443);
  assert.equal(forRoot.hub.amqp.port, 5671);
  const forUser = defaultConfig(user);
  assert.equal(forUser.state.dir, "/home/pi/.local/share/ledge");
  const { mqtt, https, amqp, plain } = forUser.hub;
  for (const port of [mqtt.port, https.port, amqp.port, plain.port]) {
    assert.ok(port > 1024, `unprivileged default port ${port} must be above 1024`);
  }
  assert.equal(forUser.device.id, "pi-4.lan");
  assert.equal(forUser.security.trust_domain, "pi-4.lan.ledge");
});

Deno.test("defaultStateDir() honours LEDGE_HOME, then XDG_DATA_HOME", () => {
  assert.equal(defaultStateDir({ ...root, env: { LEDGE_HOME: "/srv/ledge" } }), "/srv/ledge");
  assert.equal(defaultStateDir({ ...user, env: { XDG_DATA_HOME: "/d" } }), "/d/ledge");
});

Deno.test("defaultConfigPath() is /etc for root and the user's config dir otherwise", () => {
  assert.equal(defaultConfigPath(root), "/etc/ledge/config.toml");
  assert.equal(defaultConfigPath(user), "/home/pi/.config/ledge/config.toml");
  assert.equal(
    defaultConfigPath({ ...user, env: { XDG_CONFIG_HOME: "/c" } }),
    "/c/ledge/config.toml",
  );
});

Deno.test("the config template holds every key with its default and a comment", () => {
  const config = defaultConfig(user);
  const text = renderConfigTemplate(config);
  assert.deepEqual(parseConfigText(text, user), config, "the template parses back to the defaults");
  for (const key of flatKeys(config)) {
    assert.ok(CONFIG_COMMENTS[key], `no comment for ${key}`);
    const section = key.split(".").slice(0, -1).join(".");
    if (section) assert.ok(CONFIG_COMMENTS[section], `no comment for [${section}]`);
  }
  const commented = Object.keys(CONFIG_COMMENTS).filter((key) =>
    !flatKeys(config).some((k) => k === key || k.startsWith(`${key}.`))
  );
  assert.deepEqual(commented, [], "comments for keys that do not exist");
});

Deno.test("loadConfig() uses the embedded defaults when no file exists, and fails on a named missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const context = { ...user, env: { HOME: dir } };
    const loaded = await loadConfig({ context });
    assert.equal(loaded.path, undefined);
    assert.equal(loaded.config.state.dir, `${dir}/.local/share/ledge`);
    await assert.rejects(
      loadConfig({ path: `${dir}/missing.toml`, context }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes(`${dir}/missing.toml`),
    );
    await Deno.writeTextFile(`${dir}/c.toml`, "[hub.mqtt]\nport = 1234\n");
    const viaEnv = await loadConfig({
      context: { ...context, env: { LEDGE_CONFIG: `${dir}/c.toml` } },
    });
    assert.equal(viaEnv.config.hub.mqtt.port, 1234);
    assert.equal(viaEnv.path, `${dir}/c.toml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `ledge check` as a subprocess against set-ups broken on purpose: each fault gives its ✘ line
 * and exit code 1; a sound set-up gives no ✘.
 */
import assert from "node:assert/strict";
import { createRootCa } from "../security/certificate_builder.ts";
import { certificatesPem } from "../security/certificate_authority.ts";
import { generateKeyPair } from "../security/keys.ts";
import { runLedge, startLedge } from "./_ledge.ts";
import { freePort } from "./_services.ts";

interface Result {
  id: string;
  status: string;
  message: string;
  fix?: string;
}

async function check(configText: string): Promise<{ code: number; results: Result[] }> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-check-" });
  try {
    const configPath = `${dir}/config.toml`;
    await Deno.writeTextFile(configPath, configText.replaceAll("$DIR", dir));
    const { code, stdout, stderr } = await runLedge(["check", "--json"], {
      env: { LEDGE_CONFIG: configPath },
    });
    assert.ok(stdout.trim().startsWith("["), `not JSON: ${stdout}\n${stderr}`);
    return { code, results: JSON.parse(stdout) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function portsConfig(): string {
  return `[hub.mqtt]\nport = 0\n[hub.https]\nport = 0\n[hub.amqp]\nport = 0\n` +
    `[metrics]\nlisten = "127.0.0.1:0"\n[console]\nlisten = "127.0.0.1:0"\n` +
    `[device]\nhostname = "localhost"\n`;
}

function byId(results: Result[], id: string): Result {
  const result = results.find((r) => r.id === id);
  assert.ok(result, `no ${id} check in ${JSON.stringify(results)}`);
  return result;
}

Deno.test("ledge check reports an invalid config with its key path and exits 1", async () => {
  const { code, results } = await check('[hub.mqtt]\nport = "88x3"\n');
  assert.equal(code, 1);
  const config = byId(results, "config");
  assert.equal(config.status, "error");
  assert.match(
    config.message,
    /hub\.mqtt\.port: expected an integer 0–65535 \(0: any free port\), got "88x3"/,
  );
});

Deno.test("ledge check flags a state dir others can read", async () => {
  const { code, results } = await check(
    `[state]\ndir = "$DIR/state"\n[agent]\nengine = "none"\n${portsConfig()}`,
  );
  // The dir does not exist: a warning, not an error.
  assert.equal(byId(results, "state-dir").status, "warning");
  assert.equal(code, 0, JSON.stringify(results.filter((r) => r.status === "error")));

  const dir = await Deno.makeTempDir({ prefix: "ledge-check-state-" });
  try {
    await Deno.chmod(dir, 0o755);
    const open = await check(`[state]\ndir = "${dir}"\n[agent]\nengine = "none"\n${portsConfig()}`);
    assert.equal(open.code, 1);
    const state = byId(open.results, "state-dir");
    assert.equal(state.status, "error");
    assert.match(state.message, /is 0755: others can read/);
    assert.equal(state.fix, `chmod 700 ${dir}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledge check flags an expired certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-check-pki-" });
  try {
    await Deno.chmod(dir, 0o700);
    await Deno.mkdir(`${dir}/pki`, { mode: 0o700 });
    const keys = generateKeyPair();
    const expired = createRootCa({
      commonName: "expired-server",
      now: new Date(Date.now() - 10 * 86_400_000),
      lifetimeDays: 9,
      keys,
    });
    await Deno.writeTextFile(`${dir}/pki/server.pem`, certificatesPem([expired]));
    const { code, results } = await check(
      `[state]\ndir = "${dir}"\n[agent]\nengine = "none"\n${portsConfig()}`,
    );
    assert.equal(code, 1);
    const certificates = byId(results, "certificates");
    assert.equal(certificates.status, "error");
    assert.match(certificates.message, /server\.pem \(CN=expired-server, O=ledge\) expired/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledge check flags an engine socket that does not answer", async () => {
  const { code, results } = await check(
    `[agent]\nengine = "docker"\nengine_socket = "$DIR/no-engine.sock"\n${portsConfig()}`,
  );
  assert.equal(code, 1);
  const engine = byId(results, "engine");
  assert.equal(engine.status, "error");
  assert.match(engine.message, /no-engine\.sock does not answer/);
});

Deno.test("ledge check flags a port another process holds", async () => {
  const holder = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  try {
    const port = (holder.addr as Deno.NetAddr).port;
    const { code, results } = await check(
      `[agent]\nengine = "none"\n[hub.mqtt]\nport = ${port}\n[hub.https]\nport = 0\n[hub.amqp]\nport = 0\n` +
        `[metrics]\nlisten = "127.0.0.1:0"\n`,
    );
    assert.equal(code, 1);
    const ports = byId(results, "ports");
    assert.equal(ports.status, "error");
    assert.match(ports.message, new RegExp(`MQTT/TLS ${port}`));
  } finally {
    holder.close();
  }
});

Deno.test("ledge check reports a running daemon's upstream link that is down, and why", async () => {
  const deadPort = freePort();
  const ledge = await startLedge({
    extraConfig: `[agent]\nengine = "none"\n[upstream]\nenabled = true\nhostname = "127.0.0.1"\n` +
      `port = ${deadPort}\nshared_access_key = "${btoa("k".repeat(32))}"\n`,
  });
  try {
    await ledge.waitForLog(/upstream/i);
    const { code, stdout } = await ledge.cli(["check", "--json"]);
    const results = JSON.parse(stdout) as Result[];
    assert.equal(code, 1);
    assert.equal(byId(results, "daemon").status, "ok");
    const upstream = byId(results, "upstream");
    assert.equal(upstream.status, "error");
    assert.match(upstream.message, new RegExp(`not connected to 127\\.0\\.0\\.1:${deadPort}`));
  } finally {
    await ledge.stop();
    await Deno.remove(ledge.stateDir, { recursive: true });
    await Deno.remove(ledge.configPath);
  }
});

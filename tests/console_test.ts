/**
 * The console's listener in a real daemon, without a browser: HTTPS with ledge's own server
 * certificate, a console that cannot listen leaves ledge running and says why, and a disabled
 * one says so to `ledge console`.
 */
import assert from "node:assert/strict";
import { connect } from "node:tls";
import { waitFor } from "./_wait.ts";
import { runLedge, startLedge } from "./_ledge.ts";
import { freePort } from "./_services.ts";

/** The serial number of the certificate the console serves (checked against `ca`). */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on("error", reject);
  });
}

Deno.test("the console over TLS: ledge's server certificate (re-served when renewed), a Secure __Host- cookie", async () => {
  const ledge = await startLedge({ consoleConfig: "tls = true" });
  try {
    const printed = await ledge.cli(["console", "--json"]);
    assert.equal(printed.code, 0, printed.stderr);
    const { url, expiresAt } = JSON.parse(printed.stdout) as { url: string; expiresAt: string };
    assert.match(url, new RegExp(`^https://127\\.0\\.0\\.1:${ledge.ports.console}/login\\?token=`));
    assert.ok(Date.parse(expiresAt) > Date.now());
    const caCerts = [await Deno.readTextFile(`${ledge.stateDir}/pki/root_ca.pem`)];
    const client = Deno.createHttpClient({ caCerts });
    try {
      const login = await fetch(url, { client, redirect: "manual" });
      await login.body?.cancel();
      assert.equal(login.status, 303);
      const cookie = login.headers.get("set-cookie") ?? "";
      assert.match(cookie, /^__Host-ledge_console=/);
      assert.match(cookie, /Secure/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      const page = await fetch(new URL("/modules", url), {
        client,
        headers: { cookie: cookie.split(";")[0]! },
      });
      assert.equal(page.status, 200);
      assert.match(page.headers.get("strict-transport-security") ?? "", /max-age/);
      assert.match(await page.text(), /Modules/);
      const again = await fetch(url, { client, redirect: "manual" });
      await again.body?.cancel();
      assert.equal(again.status, 401, "the link works once");
    } finally {
      client.close();
    }
    // A renewed server certificate is served from then on.
    const before = await servedSerial(ledge.ports.console, caCerts[0]!);
    const renewed = await ledge.cli(["cert", "renew"]);
    assert.equal(renewed.code, 0, renewed.stderr);
    await waitFor("the renewed certificate served", async () => {
      const serial = await servedSerial(ledge.ports.console, caCerts[0]!);
      return serial !== before ? serial : undefined;
    }, 30_000);
    // Plain HTTP on the TLS port gets nowhere.
    await assert.rejects(async () => {
      const response = await fetch(`http://127.0.0.1:${ledge.ports.console}/`);
      await response.body?.cancel();
      if (response.ok) throw new Error("answered in plain HTTP");
      throw new Error(`HTTP ${response.status}`);
    });
  } finally {
    await ledge.stop();
  }
});

Deno.test("a console that cannot listen leaves ledge running, and `ledge console` says why", async () => {
  const port = freePort();
  const squatter = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const base = await startLedge();
    await base.stop();
    const ledge = await startLedge({
      stateDir: base.stateDir,
      // Every other listener on port 0 again: base's ports may have been taken since it stopped.
      ports: { mqtt: 0, https: 0, amqp: 0, plain: 0, metrics: 0, console: port },
    });
    try {
      await ledge.waitForLog(/console not served/);
      const listed = await ledge.cli(["list"]);
      assert.equal(listed.code, 0, "the rest of ledge runs");
      const printed = await ledge.cli(["console"]);
      assert.equal(printed.code, 1);
      assert.match(
        printed.stderr,
        new RegExp(`Cannot open the console: Cannot listen on 127\\.0\\.0\\.1:${port}`),
      );
      const checked = await ledge.cli(["check", "--json"]);
      const ports =
        (JSON.parse(checked.stdout) as { id: string; status: string; message: string }[])
          .find((result) => result.id === "ports");
      assert.equal(ports?.status, "error");
      assert.match(ports?.message ?? "", new RegExp(`console ${port} is not served by ledge`));
    } finally {
      await ledge.stop();
    }
  } finally {
    squatter.close();
  }
});

Deno.test("`ledge console` on a device whose console is disabled says so", async () => {
  const ledge = await startLedge({ consoleConfig: "enabled = false" });
  try {
    const printed = await ledge.cli(["console"]);
    assert.equal(printed.code, 1);
    assert.match(printed.stderr, /Cannot open the console: \[console\] enabled is false/);
    await assert.rejects(fetch(`http://127.0.0.1:${ledge.ports.console}/`));
  } finally {
    await ledge.stop();
  }
});

Deno.test("ledge refuses a console beyond loopback without TLS, naming the key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-console-" });
  try {
    const configPath = `${dir}/config.toml`;
    await Deno.writeTextFile(
      configPath,
      `[state]\ndir = "${dir}/state"\n[console]\nlisten = "0.0.0.0:${freePort()}"\n`,
    );
    const run = await runLedge(["run"], { env: { LEDGE_CONFIG: configPath } });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /console\.listen: listening beyond loopback needs console\.tls = true .*got "0\.0\.0\.0:\d+"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

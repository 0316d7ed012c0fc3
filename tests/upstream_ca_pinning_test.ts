/**
 * `upstream.ca_file` is the only CA a child trusts for its parent: a parent certificate from any
 * other CA is refused, even one the process's root store holds (here the parent's real CA, added
 * to the child's store with DENO_CERT, as a publicly trusted CA would be). Deno's own TLS adds
 * `caCerts` to the root store instead of replacing it, which let such a certificate through.
 */
import assert from "node:assert/strict";
import { startLedge } from "./_ledge.ts";
import { commandAvailable, serviceTest } from "./_services.ts";
import { parentSite } from "./_upstream_parent.ts";

const needs = [await commandAvailable("mosquitto"), await commandAvailable("openssl")];
const KEY = btoa("pinned-child-key-0123456789abcdef");

for (const pinned of ["the parent's CA", "another CA"] as const) {
  serviceTest(
    `a child whose ca_file is ${pinned} ${
      pinned === "another CA" ? "refuses" : "accepts"
    } the parent, whatever its root store holds`,
    needs,
    async () => {
      await using site = await parentSite();
      await site.parent.start();
      const caFile = pinned === "another CA" ? site.pki.wrongCaFile : site.pki.caFile;
      const link = site.linkToml(KEY).replace(site.pki.caFile, caFile);
      const child = await startLedge({
        deviceId: "child",
        env: { DENO_CERT: site.pki.caFile },
        extraConfig: `[agent]\nengine = "none"\n[upstream]\nenabled = true\n${link}\n`,
      });
      try {
        if (pinned === "another CA") {
          const failed = await child.waitForLog(/upstream connection failed/, 30_000);
          assert.match(failed, /certificate|tls/i);
          assert.ok(!child.logs.some((line) => /connected to the parent/.test(line)));
        } else {
          await child.waitForLog(/connected to the parent/, 30_000);
        }
      } finally {
        await child.stop();
      }
    },
  );
}

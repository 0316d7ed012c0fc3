/** The security routes of the management API, in-process with `app.request()`. */
import assert from "node:assert/strict";
import { createMgmtApp } from "../daemon/mgmt_server.ts";
import { silentLogger } from "../core/log.ts";
import { startSecurity } from "./_security.ts";

Deno.test("the identity routes answer bad input with 4xx naming what is wrong", async () => {
  const fixture = await startSecurity();
  try {
    const app = createMgmtApp([fixture.component], silentLogger);
    const post = (body: string) =>
      app.request("/v1/identities", {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    const malformed = await post("{");
    assert.equal(malformed.status, 400);
    assert.match((await malformed.json()).error, /invalid JSON/);
    const badId = await post(JSON.stringify({ deviceId: "a b" }));
    assert.equal(badId.status, 400);
    assert.equal((await badId.json()).detail[0].path, "deviceId");
    const badAuth = await post(JSON.stringify({ deviceId: "leaf", auth: "password" }));
    assert.equal((await badAuth.json()).detail[0].path, "auth");
    assert.equal((await post(JSON.stringify({ deviceId: "leaf" }))).status, 201);
    assert.equal((await post(JSON.stringify({ deviceId: "Leaf" }))).status, 409);
    assert.equal((await app.request("/v1/identities/nobody")).status, 404);
    await fixture.component.manager.provisionModule("sensor");
    const module = await app.request("/v1/identities/dev1/modules/SENSOR");
    assert.equal(module.status, 200);
    const body = await module.json();
    assert.equal(body.spiffeId, "spiffe://dev1.test/ledge/dev1/sensor");
    assert.ok(!JSON.stringify(body).includes('Key"'));
    const device = await (await app.request("/v1/identities/dev1")).json();
    assert.deepEqual(device.modules.map((m: { moduleId: string }) => m.moduleId), ["sensor"]);
    const renew = await app.request("/v1/certificates/renew", {
      method: "POST",
      body: JSON.stringify({ ca: "yes" }),
    });
    assert.equal(renew.status, 400);
    assert.equal((await renew.json()).detail[0].path, "ca");
  } finally {
    await fixture.dispose();
  }
});

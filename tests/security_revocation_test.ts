/**
 * Removal means gone (issue 19 item 4, the security side): removing an identity tells the hub
 * which connections to close (`onIdentityRemoved`), and no token or derived key of it is accepted
 * afterwards, cached or not. The hub side (closing the connections) is tested with the hub.
 */
import assert from "node:assert/strict";
import { createSasToken, deriveKey } from "../iothub/mod.ts";
import type { IdentityRemoval, SecurityManagerControl } from "../security/mod.ts";
import { startSecurity } from "./_security.ts";

function token(identity: { deviceId: string; moduleId?: string }, key: string): string {
  return createSasToken({ host: "edge.local", ...identity }, {
    keyBase64: key,
    expiry: Math.floor(Date.now() / 1000) + 600,
  });
}

function sasKey(added: { identity: { auth: { type: string; primaryKey?: string } } }): string {
  assert.equal(added.identity.auth.type, "sas");
  return added.identity.auth.primaryKey!;
}

function removals(manager: SecurityManagerControl): IdentityRemoval[] {
  const seen: IdentityRemoval[] = [];
  manager.onIdentityRemoved((removal) => seen.push(removal));
  return seen;
}

Deno.test("removing a leaf device emits one removal covering it, and its token is refused at once", async () => {
  const fixture = await startSecurity();
  try {
    const { manager } = fixture.component;
    const key = sasKey(await manager.addDevice("leaf-1", "sas"));
    await manager.addDevice("leaf-2", "sas");
    const verdict = manager.verifySasToken(token({ deviceId: "leaf-1" }, key), {
      deviceId: "leaf-1",
    });
    assert.ok(verdict.ok, JSON.stringify(verdict));
    const seen = removals(manager);

    assert.equal(await manager.removeDevice("LEAF-1"), true);
    assert.equal(seen.length, 1);
    const [removal] = seen;
    assert.equal(removal!.deviceId, "leaf-1");
    assert.equal(removal!.moduleId, undefined);
    assert.equal(removal!.kind, "leaf-device");
    assert.ok(removal!.covers({ deviceId: "leaf-1" }));
    assert.ok(removal!.covers({ deviceId: "Leaf-1", moduleId: "anything" }), "its modules go too");
    assert.ok(!removal!.covers({ deviceId: "leaf-2" }));
    assert.ok(!removal!.covers({ deviceId: "dev1", moduleId: "leaf-1" }));

    assert.equal(manager.isIdentityCurrent(verdict.identity), false);
    const again = manager.verifySasToken(token({ deviceId: "leaf-1" }, key), {
      deviceId: "leaf-1",
    });
    assert.equal(again.ok, false);
  } finally {
    await fixture.dispose();
  }
});

Deno.test("removing a child edge device covers its subtree, and no derived key is accepted after, cached or not", async () => {
  const fixture = await startSecurity();
  try {
    const { manager } = fixture.component;
    const childKey = sasKey(await manager.addDevice("child", "sas", { edge: true }));
    const otherKey = sasKey(await manager.addDevice("other-child", "sas", { edge: true }));
    const below = [
      [{ deviceId: "child", moduleId: "sensor" }, deriveKey(childKey, "sensor")],
      [{ deviceId: "leaf" }, deriveKey(childKey, "devices/leaf")],
      [
        { deviceId: "grandchild", moduleId: "filter" },
        deriveKey(deriveKey(childKey, "devices/grandchild"), "filter"),
      ],
    ] as const;
    const otherLeaf = { deviceId: "other-leaf" };
    const otherLeafKey = deriveKey(otherKey, "devices/other-leaf");
    // Verified twice: the second time from the derivation cache.
    const accepted = below.map(([identity, key]) => {
      manager.verifySasToken(token(identity, key), identity);
      const verdict = manager.verifySasToken(token(identity, key), identity);
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.equal(verdict.identity.via, "child");
      assert.ok(manager.isIdentityCurrent(verdict.identity));
      return verdict.identity;
    });
    const otherVerdict = manager.verifySasToken(token(otherLeaf, otherLeafKey), otherLeaf);
    assert.ok(otherVerdict.ok);
    const childVerdict = manager.verifySasToken(token({ deviceId: "child" }, childKey), {
      deviceId: "child",
    });
    assert.ok(childVerdict.ok);
    const seen = removals(manager);

    await manager.removeDevice("child");
    assert.equal(seen.length, 1);
    const removal = seen[0]!;
    assert.equal(removal.kind, "child-edge-device");
    assert.ok(removal.covers(childVerdict.identity), "the child's own connection");
    for (const identity of accepted) {
      assert.ok(removal.covers(identity), JSON.stringify(identity));
      assert.equal(manager.isIdentityCurrent(identity), false);
    }
    assert.ok(!removal.covers(otherVerdict.identity), "another child's subtree stays");
    assert.ok(manager.isIdentityCurrent(otherVerdict.identity));
    for (const [identity, key] of below) {
      assert.equal(manager.verifySasToken(token(identity, key), identity).ok, false);
    }
    assert.ok(manager.verifySasToken(token(otherLeaf, otherLeafKey), otherLeaf).ok);

    // Re-registered under the same id, the child is another identity: old keys and verdicts stay dead.
    const newKey = sasKey(await manager.addDevice("child", "sas", { edge: true }));
    assert.notEqual(newKey, childKey);
    for (const identity of accepted) assert.equal(manager.isIdentityCurrent(identity), false);
    assert.equal(manager.verifySasToken(token(below[1][0], below[1][1]), below[1][0]).ok, false);
  } finally {
    await fixture.dispose();
  }
});

Deno.test("a module dropped from the deployment emits a removal covering that module only", async () => {
  const fixture = await startSecurity();
  try {
    const { manager } = fixture.component;
    await manager.provisionModule("sensor");
    await manager.provisionModule("filter");
    const sensor = manager.registry.get("dev1", "sensor")!;
    assert.equal(sensor.auth.type, "sas");
    const key = sensor.auth.type === "sas" ? sensor.auth.primaryKey : "";
    const claimed = { deviceId: "dev1", moduleId: "sensor" };
    const verdict = manager.verifySasToken(token(claimed, key), claimed);
    assert.ok(verdict.ok);
    const seen = removals(manager);

    await manager.removeModule("sensor");
    await manager.removeModule("never-provisioned");
    assert.equal(seen.length, 1, "nothing is emitted for an identity that did not exist");
    const removal = seen[0]!;
    assert.deepEqual([removal.deviceId, removal.moduleId, removal.kind], [
      "dev1",
      "sensor",
      "module",
    ]);
    assert.ok(removal.covers(claimed));
    assert.ok(!removal.covers({ deviceId: "dev1", moduleId: "filter" }));
    assert.ok(!removal.covers({ deviceId: "dev1" }));
    assert.equal(manager.isIdentityCurrent(verdict.identity), false);
    assert.equal(manager.verifySasToken(token(claimed, key), claimed).ok, false);
    assert.ok(manager.isIdentityCurrent({ deviceId: "dev1", moduleId: "filter" }));
  } finally {
    await fixture.dispose();
  }
});

Deno.test("a certificate issued to an earlier generation of a device id is refused once it is re-added", async () => {
  let clock = Date.now();
  const fixture = await startSecurity({ now: () => new Date(clock) });
  try {
    const { manager } = fixture.component;
    const pemDer = async (file: string) => {
      const pem = await Deno.readTextFile(file);
      const base64 = pem.split("-----")[2]!.replace(/\s+/g, "");
      return Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    };
    const first = await manager.addDevice("cam-1", "x509");
    const oldCert = await pemDer(first.certificateFile!);
    assert.ok(manager.verifyClientCertificate([oldCert], { deviceId: "cam-1" }).ok);
    await manager.removeDevice("cam-1");
    assert.equal(manager.verifyClientCertificate([oldCert], { deviceId: "cam-1" }).ok, false);

    clock += 2000;
    const second = await manager.addDevice("cam-1", "x509");
    const verdict = manager.verifyClientCertificate([oldCert], { deviceId: "cam-1" });
    assert.deepEqual(verdict, {
      ok: false,
      reason: "the certificate was issued before the identity was (re-)created",
    });
    const newCert = await pemDer(second.certificateFile!);
    assert.ok(manager.verifyClientCertificate([newCert], { deviceId: "cam-1" }).ok);
  } finally {
    await fixture.dispose();
  }
});

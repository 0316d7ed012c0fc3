import assert from "node:assert/strict";
import { derivedSasKey, deriveKey } from "../iothub/mod.ts";
import { createDerivedIdentities } from "./derived_identities.ts";
import { generateSasKey, type Identity } from "./identity.ts";
import type { IdentityRegistry } from "./identity_registry.ts";

function sasDevice(deviceId: string, kind: Identity["kind"]): Identity {
  return {
    deviceId,
    kind,
    generationId: `gen-${deviceId}`,
    auth: { type: "sas", primaryKey: generateSasKey(), secondaryKey: generateSasKey() },
    createdAt: "2024-01-01T00:00:00.000Z",
  };
}

function registryOf(identities: Identity[]): IdentityRegistry & { lists: number } {
  const registry = {
    lists: 0,
    get: (deviceId: string, moduleId?: string) =>
      identities.find((identity) =>
        identity.deviceId.toLowerCase() === deviceId.toLowerCase() &&
        identity.moduleId?.toLowerCase() === moduleId?.toLowerCase()
      ),
    list() {
      registry.lists++;
      return identities;
    },
    modulesOf: () => [],
  };
  return registry;
}

function primary(identity: Identity): string {
  assert.equal(identity.auth.type, "sas");
  return identity.auth.type === "sas" ? identity.auth.primaryKey : "";
}

Deno.test("createDerivedIdentities() derives a child edge device's module keys as the child does", () => {
  const child = sasDevice("child", "child-edge-device");
  const derived = createDerivedIdentities(() => registryOf([child]));
  const [candidate, ...rest] = derived.candidates({ deviceId: "child", moduleId: "sensor" });
  assert.equal(rest.length, 0);
  // The child's upstream link computes the same key from its own key.
  const childSide = derivedSasKey({ deviceId: "child", moduleId: "sensor" }, {
    ownDeviceId: "child",
    deviceKeyBase64: primary(child),
  });
  assert.equal(candidate!.keys[0], childSide);
  assert.equal(candidate!.identity.moduleId, "sensor");
  assert.equal(candidate!.identity.kind, "module");
  assert.equal(candidate!.via, "child");
});

Deno.test("createDerivedIdentities() derives devices below a child, and their modules", () => {
  const child = sasDevice("child", "child-edge-device");
  const derived = createDerivedIdentities(() => registryOf([child]));
  for (const moduleId of [undefined, "filter"]) {
    const claimed = moduleId === undefined
      ? { deviceId: "grandchild" }
      : { deviceId: "grandchild", moduleId };
    const [candidate] = derived.candidates(claimed);
    const childSide = derivedSasKey(claimed, {
      ownDeviceId: "child",
      deviceKeyBase64: primary(child),
    });
    assert.equal(candidate!.keys[0], childSide);
    assert.equal(
      candidate!.keys[1],
      (() => {
        const secondary = child.auth.type === "sas" ? child.auth.secondaryKey : "";
        const device = deriveKey(secondary, "devices/grandchild");
        return moduleId === undefined ? device : deriveKey(device, moduleId);
      })(),
    );
  }
});

Deno.test("createDerivedIdentities() derives nothing from leaf devices or for registered devices' modules", () => {
  const leaf = sasDevice("leaf", "leaf-device");
  const derived = createDerivedIdentities(() => registryOf([leaf]));
  assert.deepEqual(derived.candidates({ deviceId: "leaf", moduleId: "m" }), []);
  assert.deepEqual(derived.candidates({ deviceId: "stranger" }), []);
});

Deno.test("createDerivedIdentities() tries one candidate per child, the one that matched first next time", () => {
  const children = ["a", "b", "c"].map((id) => sasDevice(id, "child-edge-device"));
  const registry = registryOf(children);
  const derived = createDerivedIdentities(() => registry);
  const first = derived.candidates({ deviceId: "deep" });
  assert.deepEqual(first.map((candidate) => candidate.via), ["a", "b", "c"]);
  derived.matched(first[2]!);
  const again = derived.candidates({ deviceId: "DEEP" });
  assert.equal(again[0]!.via, "c");
  // Cached: the registry's list was read once for all lookups.
  derived.candidates({ deviceId: "other" });
  assert.equal(registry.lists, 1);
});

Deno.test("createDerivedIdentities() bounds its cache and forgets everything on invalidate", () => {
  const child = sasDevice("child", "child-edge-device");
  const identities = [child];
  const derived = createDerivedIdentities(() => registryOf(identities), { maxCached: 3 });
  for (let i = 0; i < 10; i++) derived.candidates({ deviceId: `d${i}` });
  assert.equal(derived.size(), 3);
  identities.pop(); // the child is removed from the registry
  derived.invalidate();
  assert.equal(derived.size(), 0);
  assert.deepEqual(derived.candidates({ deviceId: "d9" }), []);
});

Deno.test("createDerivedIdentities() drops a cached derivation whose child is gone or re-created, before any invalidate", () => {
  const child = sasDevice("child", "child-edge-device");
  const identities = [child];
  const derived = createDerivedIdentities(() => registryOf(identities));
  assert.equal(derived.candidates({ deviceId: "leaf" }).length, 1);
  assert.equal(derived.candidates({ deviceId: "leaf" }).length, 1);
  identities.splice(0, 1, { ...child, generationId: "gen-new" });
  assert.deepEqual(derived.candidates({ deviceId: "leaf" }), [], "the old generation's keys");
  identities.splice(0, 1);
  assert.deepEqual(derived.candidates({ deviceId: "child", moduleId: "m" }), []);
  assert.deepEqual(derived.candidates({ deviceId: "leaf" }), []);
});

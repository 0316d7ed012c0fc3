import assert from "node:assert/strict";
import { openIdentityRegistry } from "./identity_registry.ts";

Deno.test("openIdentityRegistry(): a burst of adds is all on disk when each add resolves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledge-registry-" });
  try {
    const path = `${dir}/identities.json`;
    const registry = await openIdentityRegistry(path);
    const identity = (i: number) => ({
      deviceId: `d${i}`,
      kind: "leaf-device" as const,
      generationId: String(i),
      auth: { type: "none" as const },
      createdAt: new Date(0).toISOString(),
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => registry.add(identity(i))));
    const reopened = await openIdentityRegistry(path);
    assert.equal(reopened.list().length, 200);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

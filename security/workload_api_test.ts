import assert from "node:assert/strict";
import type { Identity } from "./identity.ts";
import { MAX_CONCURRENT_REQUESTS, type WorkloadBackend, workloadHandler } from "./workload_api.ts";

function backend(moduleId: string, issued: Promise<void>): WorkloadBackend {
  return {
    moduleId,
    identity: () => ({ moduleId, generationId: "g1" }) as unknown as Identity,
    trustBundlePem: () => "",
    now: () => new Date(),
    issueIdentityCertificate: async () => {
      await issued;
      return { certificatePem: "c", privateKeyPem: "k", notAfter: new Date(0) };
    },
    issueServerCertificate: () => Promise.reject(new Error("not used")),
  };
}

const identityRequest = (moduleId: string) =>
  new Request(
    `http://workload/modules/${moduleId}/certificate/identity?api-version=2019-01-30`,
    { method: "POST", body: "{}", headers: { "content-type": "application/json" } },
  );

Deno.test("each module's socket has its own bound on requests at once, over the one shared app", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const a = workloadHandler(backend("ma", held));
  const b = workloadHandler(backend("mb", Promise.resolve()));
  const pending = Array.from({ length: MAX_CONCURRENT_REQUESTS }, () => a(identityRequest("ma")));
  // The admission counts a request synchronously, as the handler is called.
  const refused = await a(identityRequest("ma"));
  assert.equal(refused.status, 429);
  const other = await b(identityRequest("mb"));
  assert.equal(other.status, 201, await other.clone().text());
  const wrongSocket = await b(identityRequest("ma"));
  assert.equal(wrongSocket.status, 403);
  release();
  for (const response of await Promise.all(pending)) assert.equal(response.status, 201);
});

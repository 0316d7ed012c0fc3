/**
 * Each engine found serves the Docker Engine API v1.41 ledge drives: create, start, inspect,
 * stop and remove a container from a local busybox image, straight over the unix socket.
 */
import assert from "node:assert/strict";
import { ENGINES, testImage } from "./_engines.ts";
import { serviceTest } from "./_services.ts";

for (const engine of ENGINES) {
  serviceTest(
    `${engine.name} creates, starts, inspects and removes a busybox container over its API`,
    [
      engine.requirement,
    ],
    async () => {
      const image = await testImage(engine, { name: "smoke" });
      const client = Deno.createHttpClient({
        proxy: { transport: "unix", path: engine.socketPath },
      });
      const api = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`http://engine/v1.41${path}`, {
          method,
          client,
          ...(body === undefined
            ? {}
            : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
        });
        const text = await response.text();
        return { status: response.status, json: text ? JSON.parse(text) : undefined };
      };
      const name = `ledge-smoke-${crypto.randomUUID().slice(0, 8)}`;
      try {
        const created = await api("POST", `/containers/create?name=${name}`, {
          Image: image,
          Cmd: ["sh", "-c", "echo ready; sleep 30"],
          Labels: { "dev.ledge.test": "smoke" },
          HostConfig: { NetworkMode: "none" },
        });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        const id: string = created.json.Id;
        assert.equal((await api("POST", `/containers/${id}/start`)).status, 204);
        const inspected = await api("GET", `/containers/${id}/json`);
        assert.equal(inspected.status, 200);
        assert.equal(inspected.json.State.Running, true);
        assert.equal(inspected.json.Config.Labels["dev.ledge.test"], "smoke");
        assert.equal((await api("POST", `/containers/${id}/stop?t=1`)).status, 204);
        const stopped = await api("GET", `/containers/${id}/json`);
        assert.equal(stopped.json.State.Running, false);
        assert.equal((await api("DELETE", `/containers/${id}?force=true`)).status, 204);
        assert.equal((await api("GET", `/containers/${id}/json`)).status, 404);
      } finally {
        await api("DELETE", `/containers/${name}?force=true`).catch(() => {});
        client.close();
      }
    },
  );
}

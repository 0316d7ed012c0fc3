import assert from "node:assert/strict";
import { answersHealth } from "./health_probe.ts";

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ledge-health-probe-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function withServer(
  path: string,
  answer: (request: Request) => Response,
  run: () => Promise<void>,
): Promise<string[]> {
  const seen: string[] = [];
  const server = Deno.serve({ path, onListen: () => {} }, (request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return answer(request);
  });
  try {
    await run();
  } finally {
    await server.shutdown();
  }
  return seen;
}

Deno.test("answersHealth: true for a 200 to GET /v1/health, false for a 503", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/mgmt.sock`;
    const seen = await withServer(path, () => new Response("ok"), async () => {
      assert.equal(await answersHealth(path), true);
    });
    assert.deepEqual(seen, ["GET /v1/health"]);
    await Deno.remove(path).catch(() => {});
    await withServer(path, () => new Response("starting", { status: 503 }), async () => {
      assert.equal(await answersHealth(path), false);
    });
  });
});

Deno.test("answersHealth: false without a socket, or with one nobody listens on", async () => {
  await withDir(async (dir) => {
    assert.equal(await answersHealth(`${dir}/absent.sock`), false);
    const path = `${dir}/stale.sock`;
    Deno.listen({ transport: "unix", path }).close();
    assert.equal(await answersHealth(path), false);
  });
});

function rawServer(path: string, serve: (conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    const conn = await listener.accept();
    await serve(conn).finally(() => conn.close());
  })();
  return {
    async close() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

Deno.test("answersHealth: reads a status line that arrives in pieces", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/mgmt.sock`;
    const server = rawServer(path, async (conn) => {
      await conn.read(new Uint8Array(1024));
      const encoder = new TextEncoder();
      for (const piece of ["HTT", "P/1.1 2", "04 No Content\r\n\r\n"]) {
        await conn.write(encoder.encode(piece));
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    });
    try {
      assert.equal(await answersHealth(path), true);
    } finally {
      await server.close();
    }
  });
});

Deno.test("answersHealth: false when the server never answers (after its timeout)", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/mgmt.sock`;
    const { promise: probed, resolve } = Promise.withResolvers<void>();
    const server = rawServer(path, async (conn) => {
      await conn.read(new Uint8Array(1024));
      await probed;
    });
    try {
      assert.equal(await answersHealth(path, 50), false);
    } finally {
      resolve();
      await server.close();
    }
  });
});

Deno.test("answersHealth: false when the server closes without an answer", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/mgmt.sock`;
    const server = rawServer(path, async (conn) => {
      await conn.read(new Uint8Array(1024));
      await conn.write(new TextEncoder().encode("HTTP/1.1"));
    });
    try {
      assert.equal(await answersHealth(path), false);
    } finally {
      await server.close();
    }
  });
});

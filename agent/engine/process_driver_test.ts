import assert from "node:assert/strict";
import type { DesiredModule } from "../deployment.ts";
import type { CreateRequest, EngineEvent } from "./driver.ts";
import { createProcessDriver } from "./process_driver.ts";

function request(name: string, script: string, env: Record<string, string> = {}): CreateRequest {
  const module: DesiredModule = {
    name,
    type: "process",
    version: "1",
    status: "running",
    restartPolicy: "never",
    imagePullPolicy: "never",
    startupOrder: 0,
    env: {},
    image: "",
    createOptions: {},
    process: { command: "/bin/sh", args: ["-c", script], workdir: "" },
    configHash: "h1",
  };
  return { module, env, socketDir: "/nonexistent", network: "", hubHostname: "" };
}

async function waitExit(driver: ReturnType<typeof createProcessDriver>, name: string) {
  for (let i = 0; i < 200; i++) {
    const instance = await driver.inspect(name);
    if (instance?.state === "exited") return instance;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${name} did not exit`);
}

Deno.test("process driver runs a module with its env, captures logs and the exit code", async () => {
  const logDir = await Deno.makeTempDir();
  const driver = createProcessDriver({ logDir });
  try {
    await driver.create(
      request("job", 'echo "hello $GREETING"; echo "to stderr" >&2; exit 3', { GREETING: "edge" }),
    );
    assert.equal((await driver.inspect("job"))?.state, "created");
    await driver.start("job");
    const exited = await waitExit(driver, "job");
    assert.equal(exited.exitCode, 3);
    assert.ok(exited.startedAt! <= exited.finishedAt!);
    const text = await new Response(await driver.logs("job")).text();
    assert.deepEqual(text.split("\n").filter(Boolean).sort(), ["hello edge", "to stderr"]);
    assert.equal(
      await new Response(await driver.logs("job", { tail: 1 })).text().then((t) =>
        t.split("\n").filter(Boolean).length
      ),
      1,
    );
    const file = await Deno.readTextFile(`${logDir}/job.log`);
    assert.match(file, /^\d{4}-\d\d-\d\dT.* hello edge$/m);
  } finally {
    await driver.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("process driver does not leak ledge's own environment into modules", async () => {
  const logDir = await Deno.makeTempDir();
  const driver = createProcessDriver({ logDir });
  Deno.env.set("LEDGE_SECRET_FOR_TEST", "x");
  try {
    await driver.create(
      request("env", 'echo "secret=${LEDGE_SECRET_FOR_TEST:-none} path=${PATH:+set}"'),
    );
    await driver.start("env");
    await waitExit(driver, "env");
    assert.equal(await new Response(await driver.logs("env")).text(), "secret=none path=set\n");
  } finally {
    Deno.env.delete("LEDGE_SECRET_FOR_TEST");
    await driver.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("process driver stops, follows logs, removes, and emits events", async () => {
  const logDir = await Deno.makeTempDir();
  const driver = createProcessDriver({ logDir });
  const watching = new AbortController();
  const events: string[] = [];
  const watcher = (async () => {
    for await (const event of driver.events(watching.signal) as AsyncIterable<EngineEvent>) {
      events.push(`${event.name}:${event.action}`);
    }
  })();
  try {
    await driver.create(
      request("svc", 'trap "echo bye; exit 0" TERM; echo up; while :; do sleep 1 & wait $!; done'),
    );
    await driver.start("svc");
    const follow = await driver.logs("svc", { follow: true });
    const reader = follow.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("up\n")) seen += (await reader.read()).value ?? "";
    await driver.stop("svc", { timeoutSeconds: 5 });
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    // The shell may also announce the job it lost ("Terminated"); the module's own lines frame it.
    assert.ok(seen.startsWith("up\n") && seen.endsWith("bye\n"), JSON.stringify(seen));
    const stopped = await driver.inspect("svc");
    assert.equal(stopped?.state, "exited");
    assert.equal(stopped?.exitCode, 0);
    await driver.remove("svc");
    assert.equal(await driver.inspect("svc"), undefined);
    await assert.rejects(driver.start("svc"), /no module "svc"/);
  } finally {
    watching.abort();
    await watcher;
    await driver.close();
    await Deno.remove(logDir, { recursive: true });
  }
  assert.deepEqual(events, ["svc:create", "svc:start", "svc:die", "svc:stop", "svc:destroy"]);
});

Deno.test("process driver reports a command that does not exist as a start error", async () => {
  const logDir = await Deno.makeTempDir();
  const driver = createProcessDriver({ logDir });
  try {
    const bad = request("bad", "");
    bad.module.process = { command: "/nonexistent/program", args: [], workdir: "" };
    await driver.create(bad);
    await assert.rejects(driver.start("bad"), /Cannot start bad: \/nonexistent\/program/);
    assert.equal((await driver.inspect("bad"))?.state, "created");
  } finally {
    await driver.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("process driver kills a module that ignores SIGTERM after the timeout", async () => {
  const logDir = await Deno.makeTempDir();
  const driver = createProcessDriver({ logDir });
  try {
    await driver.create(
      request("stubborn", 'trap "" TERM; echo up; while :; do sleep 1 & wait $!; done'),
    );
    await driver.start("stubborn");
    const reader = (await driver.logs("stubborn", { follow: true })).pipeThrough(
      new TextDecoderStream(),
    ).getReader();
    while (!((await reader.read()).value ?? "").includes("up")) { /* wait for the trap */ }
    await reader.cancel();
    await driver.stop("stubborn", { timeoutSeconds: 0.2 });
    assert.equal((await driver.inspect("stubborn"))?.exitCode, 137);
  } finally {
    await driver.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

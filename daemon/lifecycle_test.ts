import assert from "node:assert/strict";
import type { Component } from "../core/component.ts";
import { startComponents, stopComponents } from "./lifecycle.ts";
import { silentLogger } from "../core/log.ts";

function recorder(
  events: string[],
  name: string,
  behaviour: { failStart?: boolean; stopWhen?: Promise<void> } = {},
): Component {
  return {
    name,
    start() {
      events.push(`start ${name}`);
      return behaviour.failStart ? Promise.reject(new Error(`${name} broke`)) : Promise.resolve();
    },
    async stop() {
      await behaviour.stopWhen;
      events.push(`stop ${name}`);
    },
  };
}

Deno.test("startComponents() starts in order and stopComponents() stops in reverse", async () => {
  const events: string[] = [];
  const started = await startComponents(
    ["security", "hub", "agent"].map((name) => recorder(events, name)),
    { logger: silentLogger, signal: new AbortController().signal },
  );
  assert.equal(await stopComponents(started, { logger: silentLogger, timeoutMs: 1000 }), true);
  assert.deepEqual(events, [
    "start security",
    "start hub",
    "start agent",
    "stop agent",
    "stop hub",
    "stop security",
  ]);
});

Deno.test("startComponents() stops what started when a later component fails", async () => {
  const events: string[] = [];
  await assert.rejects(
    startComponents(
      [
        recorder(events, "security"),
        recorder(events, "hub", { failStart: true }),
        recorder(events, "agent"),
      ],
      { logger: silentLogger, signal: new AbortController().signal },
    ),
    /hub broke/,
  );
  assert.deepEqual(events, ["start security", "start hub", "stop security"]);
});

Deno.test("stopComponents() resolves false when the deadline passes first", async () => {
  const events: string[] = [];
  const release = Promise.withResolvers<void>();
  const stuck = recorder(events, "agent", { stopWhen: release.promise });
  assert.equal(await stopComponents([stuck], { logger: silentLogger, timeoutMs: 20 }), false);
  assert.deepEqual(events, [], "the stop had not finished at the deadline");
  release.resolve();
  await stuck.stop();
  assert.deepEqual(events, ["stop agent", "stop agent"], "the first stop went on after it");
});

Deno.test("startComponents() does not start anything once aborted", async () => {
  const events: string[] = [];
  const controller = new AbortController();
  controller.abort(new Error("stopping"));
  await assert.rejects(
    startComponents([recorder(events, "security")], {
      logger: silentLogger,
      signal: controller.signal,
    }),
    /stopping/,
  );
  assert.deepEqual(events, []);
});

import assert from "node:assert/strict";
import type { Component } from "../core/component.ts";
import { startComponents, stopComponents } from "./lifecycle.ts";
import { silentLogger } from "../core/log.ts";

function recorder(
  events: string[],
  name: string,
  behaviour: { failStart?: boolean; slowStopMs?: number } = {},
): Component {
  return {
    name,
    start() {
      events.push(`start ${name}`);
      return behaviour.failStart ? Promise.reject(new Error(`${name} broke`)) : Promise.resolve();
    },
    async stop() {
      if (behaviour.slowStopMs) {
        await new Promise((resolve) => setTimeout(resolve, behaviour.slowStopMs));
      }
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
  const slow = recorder(events, "agent", { slowStopMs: 200 });
  assert.equal(await stopComponents([slow], { logger: silentLogger, timeoutMs: 20 }), false);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.deepEqual(events, ["stop agent"]);
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

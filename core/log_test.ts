import assert from "node:assert/strict";
import { createLogger } from "./log.ts";

const now = () => new Date("2026-01-02T03:04:05.000Z");

Deno.test("createLogger() writes one JSON record per line, tagged by component", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", write: (l) => lines.push(l), now }).child("hub");
  log.info("listening", { port: 8883, error: new Error("boom") });
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "2026-01-02T03:04:05.000Z",
    level: "info",
    component: "ledge.hub",
    message: "listening",
    port: 8883,
    error: "boom",
  });
});

Deno.test("createLogger() drops records below its level", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (l) => lines.push(l), now });
  log.debug("a");
  log.info("b");
  log.warn("c");
  log.error("d");
  assert.equal(lines.length, 2);
});

Deno.test("createLogger() pretty lines quote values with spaces and have no colour off a terminal", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "pretty", write: (l) => lines.push(l), now, color: false });
  log.warn("slow start", { module: "filter", reason: "image pull" });
  assert.equal(
    lines[0],
    '2026-01-02T03:04:05.000Z WARN  [ledge] slow start module=filter reason="image pull"',
  );
});

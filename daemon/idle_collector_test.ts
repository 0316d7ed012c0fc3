import assert from "node:assert/strict";
import { createLogger } from "../core/log.ts";
import { IDLE_POLICY, IdleCollector, type IdleSample, shouldCollect } from "./idle_collector.ts";

const MB = 1 << 20;

Deno.test("shouldCollect: only a quiet period after the heap grew", () => {
  const quiet = IDLE_POLICY.periodMs * 1000 * IDLE_POLICY.quietCpuShare;
  assert.equal(shouldCollect(IDLE_POLICY, quiet, 12 * MB, 10 * MB), true);
  assert.equal(shouldCollect(IDLE_POLICY, quiet + 1, 12 * MB, 10 * MB), false, "busy period");
  assert.equal(shouldCollect(IDLE_POLICY, 0, 12 * MB - 1, 10 * MB), false, "too little growth");
  assert.equal(shouldCollect(IDLE_POLICY, 0, 12 * MB, 10 * MB), true);
  assert.equal(shouldCollect(IDLE_POLICY, 0, 8 * MB, 10 * MB), false, "the heap shrank");
});

/** A collector over scripted samples: CPU µs and heap bytes per look; `collect` halves the heap. */
function scripted(steps: { cpuMicros: number; heapUsedBytes: number }[], minIntervalMs = 0) {
  const lines: string[] = [];
  let current: IdleSample = steps[0]!;
  let collections = 0;
  const collector = new IdleCollector(
    () => {
      collections++;
      current = { cpuMicros: current.cpuMicros + 20_000, heapUsedBytes: current.heapUsedBytes / 2 };
    },
    createLogger({ level: "debug", format: "json", write: (line) => lines.push(line) }),
    { sample: () => current, policy: { ...IDLE_POLICY, minIntervalMs } },
  );
  return {
    collector,
    lines,
    collections: () => collections,
    next(step: IdleSample) {
      current = step;
      collector.look();
    },
  };
}

Deno.test("IdleCollector: collects after start-up, not while busy, again after a burst", () => {
  const run = scripted([{ cpuMicros: 1_000_000, heapUsedBytes: 16 * MB }]);
  run.collector.start();
  try {
    // A busy first period (50 % of a core): nothing.
    run.next({ cpuMicros: 3_500_000, heapUsedBytes: 16 * MB });
    assert.equal(run.collections(), 0);
    // Quiet: collects, and the heap left is the new baseline.
    run.next({ cpuMicros: 3_510_000, heapUsedBytes: 16 * MB });
    assert.equal(run.collections(), 1);
    const logged = JSON.parse(run.lines.at(-1)!);
    assert.equal(logged.message, "collected the heap at idle");
    assert.equal(logged.heapBeforeMb, 16);
    assert.equal(logged.heapAfterMb, 8);
    // Quiet, the collection's own CPU does not count, and the heap did not grow: nothing.
    run.next({ cpuMicros: 3_540_000, heapUsedBytes: 8.5 * MB });
    assert.equal(run.collections(), 1);
    // A burst, then quiet with the heap grown: collects once more.
    run.next({ cpuMicros: 6_000_000, heapUsedBytes: 30 * MB });
    assert.equal(run.collections(), 1);
    run.next({ cpuMicros: 6_010_000, heapUsedBytes: 30 * MB });
    assert.equal(run.collections(), 2);
  } finally {
    run.collector.stop();
  }
});

Deno.test("IdleCollector: at most one collection per minIntervalMs", () => {
  const run = scripted([{ cpuMicros: 0, heapUsedBytes: 16 * MB }], 60_000);
  run.collector.start();
  try {
    run.next({ cpuMicros: 0, heapUsedBytes: 16 * MB });
    assert.equal(run.collections(), 1, "the first quiet look after start-up collects");
    run.next({ cpuMicros: 20_000, heapUsedBytes: 30 * MB });
    assert.equal(run.collections(), 1, "quiet and grown, but within the interval");
  } finally {
    run.collector.stop();
  }
});

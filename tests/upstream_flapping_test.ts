/**
 * A flapping link: the parent (a real mosquitto) is stopped and started 20 times while the child
 * keeps queueing. Each cut comes after a seeded amount of observed progress (the parent's PUBACKs
 * of this up phase, or none: cut while connecting), and each restart after the child saw the link
 * drop (and, on seeded turns, a failed reconnect), so every run flaps the same way whatever the
 * machine's speed. Nothing is lost, and the connector's state stays bounded.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { UPSTREAM_ENDPOINT } from "../upstream/mod.ts";
import { commandAvailable, serviceTest } from "./_services.ts";
import { parentReader, parentSite, upstreamChild } from "./_upstream_parent.ts";
import { waitFor } from "./_wait.ts";

const needs = [await commandAvailable("mosquitto"), await commandAvailable("openssl")];
const encoder = new TextEncoder();
const SEED = 20261202;
const FLAPS = 20;
/** Messages enqueued before each restart: more than an up phase waits for, so it never starves. */
const BATCH = 1000;
const MAX_PROGRESS = 600;

type Child = ReturnType<typeof upstreamChild>;

function enqueuer(child: Child): { sent: () => number; batch: (size: number) => Promise<void> } {
  let sent = 0;
  return {
    sent: () => sent,
    async batch(size) {
      await Promise.all(Array.from({ length: size }, () => {
        const id = `f${sent++}`;
        return child.store.enqueue({
          body: encoder.encode(id),
          appProperties: {},
          systemProperties: {
            messageId: id,
            connectionDeviceId: "child",
            ...(sent % 2 ? { connectionModuleId: "sensor" } : {}),
          },
        }, [{ endpoint: UPSTREAM_ENDPOINT, priority: sent % 3, ttlSeconds: -1 }]);
      }));
    },
  };
}

/** Waits, with the parent up, until it acknowledged `count` more messages (0: cut at once). */
async function awaitProgress(child: Child, count: number): Promise<void> {
  const upstream = child.component.upstream;
  const target = upstream.state().forwarding.forwarded + count;
  await waitFor(
    `${count} more messages acknowledged by the parent`,
    () => upstream.state().forwarding.forwarded >= target,
    {
      describe: () => upstream.state(),
    },
  );
}

/** Waits, with the parent down, until every connection saw it go (and one retry failed if asked). */
async function awaitDrop(child: Child, failedRetry: boolean): Promise<void> {
  const upstream = child.component.upstream;
  await waitFor("the child to see the parent gone", () => {
    const state = upstream.state();
    if (state.connections.some((c) => c.connected)) return false;
    return !failedRetry || (state.device?.attempts ?? 0) > 0;
  }, { describe: () => upstream.state() });
}

/** This test's own live memory (its worker's V8 heap and buffers), after a forced GC. */
function ownBytes(): number {
  // `deno task test` passes --expose-gc, so only what is live counts.
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
}

serviceTest(
  "a link flapping 20 times after seeded amounts of progress loses nothing and keeps its memory bounded",
  needs,
  async () => {
    await using site = await parentSite();
    const { dir, pki, parent } = site;
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(btoa("flapping-child-key")),
    });
    const messages = enqueuer(child);
    await messages.batch(5000);
    await child.start();
    const random = seededRandom(SEED);
    let ownBefore = Infinity;
    let maxLeased = 0;
    let maxConnections = 0;
    for (let flap = 1; flap <= FLAPS; flap++) {
      if (parent.running) {
        const progress = random() < 0.2 ? 0 : 1 + Math.floor(random() * MAX_PROGRESS);
        await awaitProgress(child, progress);
        await parent.stop();
      } else {
        await awaitDrop(child, random() < 0.5);
        await messages.batch(BATCH);
        await parent.start();
      }
      // A warm-up of three flaps before the memory baseline.
      if (flap === 3) ownBefore = ownBytes();
      const state = child.component.upstream.state();
      maxLeased = Math.max(maxLeased, state.forwarding.leased);
      maxConnections = Math.max(maxConnections, state.connections.length);
    }
    await parent.start();
    const sent = messages.sent();
    await reader.waitForIds(sent, 120_000);
    await waitFor(
      "the queue to empty",
      () => (child.store.stats().find((q) => q.endpoint === UPSTREAM_ENDPOINT)?.count ?? 1) === 0,
    );
    for (let i = 0; i < sent; i++) assert.ok(reader.ids.has(`f${i}`), `f${i} missing`);
    const state = child.component.upstream.state();
    assert.ok(maxLeased <= 100, `leased ${maxLeased} exceeds the window`);
    assert.ok(maxConnections <= 4, `${maxConnections} connections for 4 identities`);
    assert.ok(state.forwarding.suspects <= 100, `${state.forwarding.suspects} suspects kept`);
    assert.equal(state.forwarding.deadLettered.rejected, 0);
    const growthMb = (ownBytes() - ownBefore) / 1e6;
    assert.ok(growthMb < 50, `heap and buffers grew ${growthMb.toFixed(1)} MB`);
    console.log(
      `flapping (seed ${SEED}): ${sent} messages, ${FLAPS} flaps, ` +
        `${reader.messages.length - sent} duplicates, heap and buffers +${growthMb.toFixed(1)} MB`,
    );
  },
);

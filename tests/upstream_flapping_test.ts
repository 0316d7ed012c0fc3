/**
 * A flapping link: the parent (a real mosquitto) is stopped and started every ~1 s for ~15 s
 * while the child keeps queueing. Nothing is lost, and the connector's state stays bounded.
 */
import assert from "node:assert/strict";
import { UPSTREAM_ENDPOINT } from "../upstream/mod.ts";
import { commandAvailable, serviceTest } from "./_services.ts";
import { parentReader, parentSite, upstreamChild } from "./_upstream_parent.ts";
import { waitFor } from "./_wait.ts";

const needs = [await commandAvailable("mosquitto"), await commandAvailable("openssl")];
const encoder = new TextEncoder();

serviceTest(
  "a link flapping every second for 15 s loses nothing and keeps its memory bounded",
  needs,
  async () => {
    await using site = await parentSite();
    const { dir, pki, parent } = site;
    await parent.start();
    await using reader = await parentReader(parent, pki.caFile);
    await using child = upstreamChild(dir, {
      upstreamToml: site.linkToml(btoa("flapping-child-key")),
    });
    let sent = 0;
    function enqueueBatch(size: number): Promise<void[]> {
      return Promise.all(Array.from({ length: size }, () => {
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
    }
    await enqueueBatch(5000);
    await child.start();
    // This test's own memory (its worker's V8 heap and buffers; the process's RSS also holds the
    // test files running beside it), after a warm-up of three flaps.
    // With the test task's --expose-gc, garbage is collected first, so only what is live counts.
    const ownBytes = () => {
      (globalThis as { gc?: () => void }).gc?.();
      return Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
    };
    let ownBefore = Infinity;
    let maxLeased = 0;
    let maxConnections = 0;
    let flaps = 0;
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      await enqueueBatch(1000);
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700));
      if (parent.running) await parent.stop();
      else await parent.start();
      flaps++;
      if (flaps === 3) ownBefore = ownBytes();
      const state = child.component.upstream.state();
      maxLeased = Math.max(maxLeased, state.forwarding.leased);
      maxConnections = Math.max(maxConnections, state.connections.length);
    }
    await parent.start();
    await reader.waitForIds(sent, 120_000);
    await waitFor(
      "the queue to empty",
      () => (child.store.stats().find((q) => q.endpoint === UPSTREAM_ENDPOINT)?.count ?? 1) === 0,
    );
    for (let i = 0; i < sent; i++) assert.ok(reader.ids.has(`f${i}`), `f${i} missing`);
    const state = child.component.upstream.state();
    assert.ok(flaps >= 10, `only ${flaps} flaps`);
    assert.ok(maxLeased <= 100, `leased ${maxLeased} exceeds the window`);
    assert.ok(maxConnections <= 4, `${maxConnections} connections for 4 identities`);
    assert.ok(state.forwarding.suspects <= 100, `${state.forwarding.suspects} suspects kept`);
    assert.equal(state.forwarding.deadLettered.rejected, 0);
    const growthMb = (ownBytes() - ownBefore) / 1e6;
    assert.ok(growthMb < 50, `heap and buffers grew ${growthMb.toFixed(1)} MB`);
    console.log(
      `flapping: ${sent} messages, ${flaps} flaps, ${reader.messages.length - sent} duplicates, ` +
        `heap and buffers +${growthMb.toFixed(1)} MB`,
    );
  },
);

/**
 * Prometheus metrics: components describe metric families that read their current values at
 * scrape time (no per-message work on the hot path), and this component serves them as
 * Prometheus text at `http://<metrics.listen>/metrics`.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Component, RuntimeContext } from "../core/component.ts";
import type { MetricFamily } from "../core/metric_family.ts";
import { splitListen } from "../core/listen_address.ts";

export type { MetricFamily, MetricSample } from "../core/metric_family.ts";

/** A registry of metric families rendered as Prometheus text. */
export interface Metrics {
  add(...families: MetricFamily[]): void;
  /** The exposition text of every family. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** Creates an empty metrics registry. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    contentType: registry.contentType,
    add(...families) {
      for (const family of families) {
        const labelNames = [...(family.labelNames ?? [])];
        const config = { name: family.name, help: family.help, labelNames, registers: [registry] };
        if (family.type === "counter") {
          new Counter({
            ...config,
            collect() {
              // Totals are read as absolute values; reset-then-set keeps them monotonic.
              this.reset();
              for (const sample of family.read()) this.inc(sample.labels ?? {}, sample.value);
            },
          });
        } else {
          new Gauge({
            ...config,
            collect() {
              this.reset();
              for (const sample of family.read()) this.set(sample.labels ?? {}, sample.value);
            },
          });
        }
      }
    },
    text: () => registry.metrics(),
  };
}

/** Measures how late timers fire: the event loop's lag. */
function lagMeter(intervalMs = 500): { start(): void; stop(): void; lagSeconds(): number } {
  let timer: ReturnType<typeof setInterval> | undefined;
  let expected = 0;
  let lag = 0;
  return {
    start() {
      expected = performance.now() + intervalMs;
      timer = setInterval(() => {
        const now = performance.now();
        lag = Math.max(0, now - expected) / 1000;
        expected = now + intervalMs;
      }, intervalMs);
      Deno.unrefTimer(timer as unknown as number);
    },
    stop() {
      clearInterval(timer);
    },
    lagSeconds: () => lag,
  };
}

/** Families of the ledge process itself: memory, CPU, event-loop lag, uptime. */
export function processFamilies(lag: () => number, startedAtMs: number): MetricFamily[] {
  return [
    {
      name: "ledge_process_resident_memory_bytes",
      help: "Resident set size of the ledge process.",
      type: "gauge",
      read: () => [{ value: Deno.memoryUsage().rss }],
    },
    {
      name: "ledge_process_heap_used_bytes",
      help: "JavaScript heap in use.",
      type: "gauge",
      read: () => [{ value: Deno.memoryUsage().heapUsed }],
    },
    {
      name: "ledge_process_cpu_seconds_total",
      help: "CPU time used by the ledge process (user and system).",
      type: "counter",
      labelNames: ["mode"],
      read: () => {
        const usage = process.cpuUsage();
        return [
          { labels: { mode: "user" }, value: usage.user / 1e6 },
          { labels: { mode: "system" }, value: usage.system / 1e6 },
        ];
      },
    },
    {
      name: "ledge_event_loop_lag_seconds",
      help: "How late the last 500 ms timer fired: the event loop's lag.",
      type: "gauge",
      read: () => [{ value: lag() }],
    },
    {
      name: "ledge_uptime_seconds",
      help: "Seconds since the daemon started.",
      type: "gauge",
      read: () => [{ value: (Date.now() - startedAtMs) / 1000 }],
    },
  ];
}

/** The metrics component: serves `metrics` on the configured listener. */
export interface MetricsComponent extends Component {
  readonly metrics: Metrics;
  /** `{metrics: port}` as bound, once started. */
  listeners(): Readonly<Record<string, number>>;
}

/** Creates the metrics component (a no-op listener when `metrics.enabled` is false). */
export function createMetricsComponent(context: RuntimeContext): MetricsComponent {
  const metrics = createMetrics();
  const lag = lagMeter();
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  metrics.add(...processFamilies(() => lag.lagSeconds(), Date.now()));
  return {
    name: "metrics",
    metrics,
    listeners: (): Record<string, number> => server ? { metrics: server.addr.port } : {},
    start() {
      lag.start();
      if (!context.config.metrics.enabled) return Promise.resolve();
      const { hostname, port } = splitListen(context.config.metrics.listen);
      try {
        server = Deno.serve({ hostname, port, onListen: () => {} }, async (request) => {
          if (new URL(request.url).pathname !== "/metrics") {
            return new Response("not found: metrics are at /metrics\n", { status: 404 });
          }
          return new Response(await metrics.text(), {
            headers: { "content-type": metrics.contentType },
          });
        });
      } catch (error) {
        lag.stop();
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`Cannot serve metrics on ${context.config.metrics.listen}: ${reason}`, {
          cause: error,
        });
      }
      const bound = hostname.includes(":") ? `[${hostname}]` : hostname;
      context.logger.info("metrics listening", {
        url: `http://${bound}:${server.addr.port}/metrics`,
      });
      return Promise.resolve();
    },
    async stop() {
      lag.stop();
      await server?.shutdown();
    },
  };
}

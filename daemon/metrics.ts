/**
 * Prometheus metrics: components describe metric families that read their current values at
 * scrape time (no per-message work on the hot path), and this component serves them as
 * Prometheus text at `http://<metrics.listen>/metrics`.
 */
import type { Component, RuntimeContext } from "../core/component.ts";
import type { MetricFamily } from "../core/metric_family.ts";
import { checkFamily, PROMETHEUS_CONTENT_TYPE, prometheusText } from "./prometheus_text.ts";
import { splitListen } from "../core/listen_address.ts";

export type { MetricFamily, MetricSample } from "../core/metric_family.ts";

/** A registry of metric families rendered as Prometheus text. */
export interface Metrics {
  add(...families: MetricFamily[]): void;
  /** The exposition text of every family. */
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * Creates an empty metrics registry; `onError` hears of a family whose read throws (it is left
 * out of that scrape).
 */
export function createMetrics(
  onError: (family: MetricFamily, error: unknown) => void = () => {},
): Metrics {
  const families = new Map<string, MetricFamily>();
  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    add(...added) {
      for (const family of added) {
        checkFamily(family);
        if (families.has(family.name)) {
          throw new TypeError(`Cannot add metric "${family.name}": it is registered already`);
        }
        families.set(family.name, family);
      }
    },
    text: () => Promise.resolve(prometheusText(families.values(), onError)),
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
  const metrics = createMetrics((family, error) =>
    context.logger.warn("a metric family failed to read", { metric: family.name, error })
  );
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

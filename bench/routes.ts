/**
 * Route benchmark: compiled evaluation of a 10-route table whose conditions query a 200-byte
 * JSON body, against the reference interpreter walking the same trees; and the time to compile
 * a 100-route table. Run alone with `deno run bench/routes.ts [--quick]`.
 *
 * @module
 */
import type { BenchOptions, Figure } from "./_figure.ts";
import { figureRecord, tableRows, textTable } from "./report.ts";
import { compileRoutes, type Message, messageSource, type RouteTable } from "../routing/mod.ts";
import { MessageContext } from "../routing/message_context.ts";
import { interpretRoute } from "../routing/route_interpreter.ts";

const ROUTES_PER_TABLE = 10;
const GROUP = "routes";

// Ten conditions over the body, mixing comparisons, logic, functions and system properties.
const CONDITIONS = [
  "$body.machine.temperature > {t} AND $body.machine.status = 'running'",
  "$body.ambient.humidity < {h} OR $body.machine.pressure >= 1.5",
  "NOT ($body.machine.status = 'stopped') AND $body.seq % 2 = 0",
  "$body.machine.temperature - $body.ambient.temperature > {t}",
  "starts_with($body.deviceId, 'sensor') AND $body.ambient.temperature <= {t}",
  "$body.machine.temperature > {t} AND $connectionModuleId = 'sensor'",
  "is_defined($body.alarm) OR $body.machine.pressure > 2",
  "$body.ambient.humidity >= 30 AND $body.ambient.humidity <= {h}",
  "lower($body.machine.status) <> 'idle' AND $body.seq > {t}",
  "($body.machine.temperature ?? 0) * 1.8 + 32 > {f}",
];

function routeTable(count: number): Record<string, string> {
  const routes: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const condition = (CONDITIONS[i % CONDITIONS.length] as string)
      .replaceAll("{t}", String(20 + i))
      .replaceAll("{h}", String(40 + i))
      .replaceAll("{f}", String(80 + i));
    routes[`route${i}`] = `FROM /messages/modules/sensor/outputs/* WHERE ${condition} ` +
      `INTO BrokeredEndpoint("/modules/consumer${i % 4}/inputs/in${i}")`;
  }
  return routes;
}

function messages(): Message[] {
  const encoder = new TextEncoder();
  return Array.from({ length: 16 }, (_, i) => {
    const body = {
      machine: {
        temperature: 20 + i * 1.7,
        pressure: 1 + i / 10,
        status: i % 5 ? "running" : "stopped",
      },
      ambient: { temperature: 21.5, humidity: 25 + i },
      timeCreated: "2024-05-01T10:00:00.0000000Z",
      deviceId: "sensor-0001",
      seq: 100000 + i,
      tags: ["line-a", "hall-3"],
    };
    const text = JSON.stringify(body);
    return {
      body: encoder.encode(text.padEnd(200, " ")),
      appProperties: { site: "plant-7" },
      systemProperties: {
        connectionDeviceId: "edge-1",
        connectionModuleId: "sensor",
        outputName: "temperature",
        contentType: "application/json",
        contentEncoding: "utf-8",
      },
    };
  });
}

type Matcher = (message: Message) => number;

// The same work as RouteTable.match (source test, one parse per message, dedupe by
// endpoint), with conditions walked by the reference interpreter.
function referenceMatcher(table: RouteTable): Matcher {
  return (message) => {
    const source = messageSource(message);
    const context = new MessageContext(message);
    const endpoints = new Set<string>();
    for (const route of table.routes) {
      if (route.matchesSource(source) && interpretRoute(route.checked, message, context)) {
        endpoints.add(route.endpointKey);
      }
    }
    return endpoints.size;
  };
}

function evaluationsPerSecond(
  match: Matcher,
  pool: readonly Message[],
  iterations: number,
): number {
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) sink += match(pool[i & 15] as Message);
  const seconds = (performance.now() - started) / 1000;
  if (sink < 0) throw new Error("unreachable");
  return (iterations * ROUTES_PER_TABLE) / seconds;
}

/**
 * Measures compiled route evaluation (against the reference interpreter) and table compile
 * time. At least three runs each; `quick` keeps the whole bench well under a second.
 */
export function benchRoutes(options: BenchOptions): Promise<Figure[]> {
  const runs = options.quick ? 3 : 5;
  const iterations = options.quick ? 4_000 : 100_000;
  const pool = messages();
  const table = compileRoutes(routeTable(ROUTES_PER_TABLE));
  const compiled: Matcher = (message) => table.match(message).length;
  const reference = referenceMatcher(table);
  for (const message of pool) {
    if (compiled(message) !== reference(message)) {
      throw new Error("Cannot benchmark routes: compiled and reference tables disagree");
    }
  }
  evaluationsPerSecond(compiled, pool, iterations / 4);
  evaluationsPerSecond(reference, pool, iterations / 4);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let run = 0; run < runs; run++) {
    ours.push(evaluationsPerSecond(compiled, pool, iterations));
    theirs.push(evaluationsPerSecond(reference, pool, iterations));
  }

  const hundred = routeTable(100);
  compileRoutes(hundred);
  const compileMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    compileRoutes(hundred);
    compileMs.push(performance.now() - started);
  }

  return Promise.resolve([
    {
      group: GROUP,
      name: "route evaluations, 10-route table, 200 B JSON body (1 match = 10 evaluations)",
      unit: "evals/s",
      values: ours,
      higherIsBetter: true,
      reference: { name: "reference interpreter", values: theirs },
    },
    {
      group: GROUP,
      name: "compile a 100-route table",
      unit: "ms",
      values: compileMs,
      higherIsBetter: false,
    },
  ]);
}

if (import.meta.main) {
  const figures = await benchRoutes({ quick: Deno.args.includes("--quick") });
  console.log(textTable(tableRows(figures)));
  for (const figure of figures) console.log(`BENCH ${JSON.stringify(figureRecord(figure))}`);
}

/** The benchmarks `deno task bench` runs, in order. Each is one module of bench/. */
import type { BenchOptions, Figure } from "./_figure.ts";
import { benchAgent } from "./agent.ts";
import { benchBroker } from "./broker.ts";
import { benchBundleMemory } from "./_broker_memory.ts";
import { benchConsole } from "./console.ts";
import { benchFleet } from "./fleet.ts";
import { benchFootprint } from "./footprint.ts";
import { benchLeak } from "./leak.ts";
import { benchRoutes } from "./routes.ts";
import { benchStore } from "./store.ts";
import { benchUpstream } from "./upstream.ts";

/** One benchmark group. */
export interface Bench {
  group: string;
  run(options: BenchOptions): Promise<Figure[]>;
}

/** Every benchmark; a new one is a file in bench/ and one line here. */
export const BENCHES: readonly Bench[] = [
  { group: "routes", run: benchRoutes },
  { group: "store", run: benchStore },
  { group: "upstream", run: benchUpstream },
  { group: "broker", run: benchBroker },
  { group: "agent", run: benchAgent },
  { group: "fleet", run: benchFleet },
  { group: "footprint", run: benchFootprint },
  { group: "bundle-memory", run: benchBundleMemory },
  { group: "console", run: benchConsole },
  { group: "leak", run: benchLeak },
];

import assert from "node:assert/strict";
import { rawMessage } from "./_test_messages.ts";
import { compileRoutes, MessageContext, type RouteMatch, type RoutesConfig } from "./mod.ts";
import { normalizeSource } from "./route_source.ts";
import { MAX_CACHED_CONDITIONS, type TableRoute } from "./route_table.ts";

// The answer by definition: every route in declaration order, each endpoint once with the
// priority of its best route (the first declared on a tie).
function expected(routes: readonly TableRoute[], message: ReturnType<typeof rawMessage>) {
  const source = normalizeSource(
    `/messages/modules/${message.systemProperties.connectionModuleId}`,
  );
  const results: RouteMatch[] = [];
  for (const route of routes) {
    if (!source.startsWith(route.source.prefix)) continue;
    if (!route.condition(message, new MessageContext(message))) continue;
    const j = results.findIndex((m) => m.endpointKey === route.endpointKey);
    const match = { ...route, routeName: route.name };
    if (j === -1) results.push(match);
    else if (route.priority < results[j]!.priority) results[j] = match;
  }
  return results.map((m) => [m.endpointKey, m.priority, m.routeName]);
}

// Routes on flags a..h (conditional) and unconditional ones, some sharing endpoints.
function table(conditions: number): { routes: RoutesConfig; flags: string[] } {
  const flags = "abcdefgh".slice(0, conditions).split("");
  const routes: RoutesConfig = {
    all: "FROM /messages/* INTO $upstream",
    other: 'FROM /messages/modules/other/* INTO BrokeredEndpoint("/modules/x/inputs/in")',
  };
  flags.forEach((flag, i) => {
    const target = `BrokeredEndpoint("/modules/m${i % 3}/inputs/in")`;
    routes[`when_${flag}`] = {
      route: `FROM /messages/modules/sensor/* WHERE ${flag} = 'yes' INTO ${target}`,
      priority: (i * 7) % 10,
    };
    if (i % 2 === 0) {
      routes[`up_${flag}`] = {
        route: `FROM /messages/* WHERE ${flag} = 'yes' INTO $upstream`,
        priority: i % 10,
      };
    }
  });
  return { routes, flags };
}

Deno.test("match() with WHERE routes gives the answer of every route evaluated in turn, kept or not", () => {
  for (const conditions of [1, 2, 4, MAX_CACHED_CONDITIONS - 1, MAX_CACHED_CONDITIONS + 1]) {
    const { routes, flags } = table(conditions);
    const compiled = compileRoutes(routes);
    const conditionsPerSource = Math.ceil(conditions / 2) + conditions;
    for (const module of ["sensor", "other", "sensor"]) {
      for (let outcome = 0; outcome < 1 << flags.length; outcome++) {
        const app: Record<string, string> = {};
        flags.forEach((flag, bit) => app[flag] = outcome & (1 << bit) ? "yes" : "no");
        const message = rawMessage("", { connectionModuleId: module, outputName: "o" }, app);
        const first = compiled.match(message);
        const second = compiled.match(message);
        const want = expected(compiled.routes, message);
        const summary = (ms: readonly RouteMatch[]) =>
          ms.map((m) => [m.endpointKey, m.priority, m.routeName]);
        assert.deepEqual(
          summary(first),
          want,
          `${conditions} conditions, ${module}, outcome ${outcome}`,
        );
        assert.deepEqual(summary(second), want);
        // Kept answers are shared and read-only; beyond the limit each call builds its own.
        const kept = module === "other" || conditionsPerSource <= MAX_CACHED_CONDITIONS;
        assert.equal(first === second, kept);
        assert.equal(Object.isFrozen(first), kept);
      }
    }
  }
});

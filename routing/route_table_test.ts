import assert from "node:assert/strict";
import { deviceMessage, jsonMessage } from "./_test_messages.ts";
import {
  compileRoutes,
  DEFAULT_ROUTE_PRIORITY,
  endpointKey,
  type RouteMatch,
  RouteSyntaxError,
  TWIN_CHANGE_NOTIFICATIONS_SOURCE,
} from "./mod.ts";

const FILTER = 'BrokeredEndpoint("/modules/filter/inputs/in1")';
const hot = jsonMessage({ machine: { temperature: 30 } });
const cold = jsonMessage({ machine: { temperature: 10 } });

function summary(matches: readonly RouteMatch[]): [string, number, number, string][] {
  return matches.map((m) => [m.endpointKey, m.priority, m.timeToLiveSecs, m.routeName]);
}

Deno.test("match() lists each endpoint once when several routes lead to it", () => {
  const table = compileRoutes({
    all: "FROM /messages/* INTO $upstream",
    sensor: "FROM /messages/modules/sensor/* INTO $upstream",
    filter: `FROM /messages/* INTO ${FILTER}`,
    alsoFilter: `FROM /messages/* WHERE $body.machine.temperature > 20 INTO ${FILTER}`,
  });
  assert.deepEqual(summary(table.match(hot)), [
    ["$upstream", DEFAULT_ROUTE_PRIORITY, 0, "all"],
    ["/modules/filter/inputs/in1", DEFAULT_ROUTE_PRIORITY, 0, "filter"],
  ]);
});

Deno.test("match() gives an endpoint the priority and TTL of its best matching route", async (t) => {
  const table = compileRoutes({
    bulk: { route: "FROM /messages/* INTO $upstream", priority: 5, timeToLiveSecs: 60 },
    alarms: {
      route: "FROM /messages/* WHERE $body.machine.temperature > 20 INTO $upstream",
      priority: 0,
      timeToLiveSecs: 86400,
    },
    unprioritised: "FROM /messages/* INTO $upstream",
    tie: { route: "FROM /messages/* INTO $upstream", priority: 0, timeToLiveSecs: 1 },
  });
  await t.step("the highest priority (lowest number) wins, with its own TTL", () => {
    assert.deepEqual(summary(table.match(hot)), [["$upstream", 0, 86400, "alarms"]]);
  });
  await t.step("when the best route does not match, the next best one wins", () => {
    assert.deepEqual(summary(table.match(cold)), [["$upstream", 0, 1, "tie"]]);
  });
  await t.step("on equal priority the first declared route wins", () => {
    const tied = compileRoutes({
      first: { route: "FROM /messages/* INTO $upstream", priority: 3, timeToLiveSecs: 10 },
      second: { route: "FROM /messages/* INTO $upstream", priority: 3, timeToLiveSecs: 20 },
    });
    assert.deepEqual(summary(tied.match(hot)), [["$upstream", 3, 10, "first"]]);
  });
});

Deno.test("match() returns endpoints in the order their first matching route is declared", () => {
  const table = compileRoutes({
    toFilter: `FROM /messages/* INTO ${FILTER}`,
    toCloud: { route: "FROM /messages/* INTO $upstream", priority: 0 },
    toOther: 'FROM /messages/* INTO BrokeredEndpoint("/modules/other/inputs/x")',
  });
  assert.deepEqual(table.match(hot).map((m) => m.endpointKey), [
    "/modules/filter/inputs/in1",
    "$upstream",
    "/modules/other/inputs/x",
  ]);
});

Deno.test("match() derives the source from the message unless the hub passes one", async (t) => {
  const table = compileRoutes({
    modules: "FROM /messages/modules/* INTO $upstream",
    devices: `FROM /messages/events INTO ${FILTER}`,
    twins: 'FROM /twinChangeNotifications INTO BrokeredEndpoint("/modules/twins/inputs/in")',
  });
  await t.step("a module output message", () => {
    assert.deepEqual(table.match(hot).map((m) => m.routeName), ["modules"]);
  });
  await t.step("a leaf device message", () => {
    assert.deepEqual(table.match(deviceMessage({})).map((m) => m.routeName), ["devices"]);
  });
  await t.step("a twin change notification", () => {
    const matches = table.match(deviceMessage({}), TWIN_CHANGE_NOTIFICATIONS_SOURCE);
    assert.deepEqual(matches.map((m) => m.routeName), ["twins"]);
  });
});

Deno.test("match() returns nothing for an empty table or when no route fires", () => {
  assert.deepEqual(compileRoutes({}).match(hot), []);
  const table = compileRoutes({
    hot: "FROM /messages/* WHERE $body.machine.temperature > 20 INTO $upstream",
  });
  assert.deepEqual(table.match(cold), []);
});

Deno.test("a table is an immutable value, so swapping tables is an atomic reference swap", async (t) => {
  let current = compileRoutes({ cloud: "FROM /messages/* INTO $upstream" });
  const before = current;
  await t.step("a table and its routes cannot be changed", () => {
    assert.ok(Object.isFrozen(current));
    assert.ok(Object.isFrozen(current.routes));
    assert.ok(current.routes.every((route) => Object.isFrozen(route)));
    assert.throws(() => {
      (current as { match: unknown }).match = () => [];
    }, TypeError);
  });
  await t.step("a matched endpoint cannot be changed by its receiver", () => {
    const [match] = current.match(hot);
    assert.ok(match !== undefined && Object.isFrozen(match) && Object.isFrozen(match.endpoint));
  });
  await t.step("a new table leaves the old one working as it was", () => {
    current = compileRoutes({ filter: `FROM /messages/* INTO ${FILTER}` });
    assert.deepEqual(before.match(hot).map((m) => m.endpointKey), ["$upstream"]);
    assert.deepEqual(current.match(hot).map((m) => m.endpointKey), ["/modules/filter/inputs/in1"]);
  });
  await t.step("a failed compile leaves the current table in place", () => {
    assert.throws(() => {
      current = compileRoutes({
        ok: "FROM /messages/* INTO $upstream",
        bad: "FROM /messages/* INTO $nowhere",
      });
    }, RouteSyntaxError);
    assert.deepEqual(current.match(hot).map((m) => m.routeName), ["filter"]);
  });
});

Deno.test("compileRoutes() names the route that fails, with its line and column", () => {
  const routes = {
    good: "FROM /messages/* INTO $upstream",
    sensorToFilter:
      "FROM /messages/modules/sensor/*\nWHERE $body.temperature > 25 AND\nINTO $upstream",
  };
  try {
    compileRoutes(routes);
    assert.fail("compiled");
  } catch (error) {
    assert.ok(error instanceof RouteSyntaxError);
    assert.equal(error.routeName, "sensorToFilter");
    assert.deepEqual([error.line, error.column], [3, 1]);
    assert.equal(
      error.message,
      'routes.sensorToFilter: Cannot parse route: expected an expression at line 3, column 1, found "INTO"',
    );
    assert.ok(error.cause instanceof RouteSyntaxError);
  }
});

Deno.test("compileRoutes() validates priorities, TTLs and the schema version", async (t) => {
  const route = "FROM /messages/* INTO $upstream";
  await t.step("priorities 0 to 9 and the default are accepted", () => {
    for (const priority of [0, 9, DEFAULT_ROUTE_PRIORITY]) {
      compileRoutes({ r: { route, priority } });
    }
  });
  await t.step("other priorities are a RangeError naming the route", () => {
    for (const priority of [-1, 10, 1.5]) {
      assert.throws(
        () => compileRoutes({ r: { route, priority } }),
        /routes\.r\.priority must be an integer from 0 to 9/,
      );
    }
  });
  await t.step("negative or fractional TTLs are a RangeError naming the route", () => {
    for (const timeToLiveSecs of [-1, 0.5]) {
      assert.throws(
        () => compileRoutes({ r: { route, timeToLiveSecs } }),
        /routes\.r\.timeToLiveSecs must be/,
      );
    }
  });
  await t.step("schemaVersion 1.0 accepts only route strings", () => {
    compileRoutes({ r: route }, { schemaVersion: "1.0" });
    assert.throws(
      () => compileRoutes({ r: { route } }, { schemaVersion: "1.0" }),
      /schemaVersion 1\.0 allows only/,
    );
    compileRoutes({ r: { route, priority: 1 } }, { schemaVersion: "1.1" });
  });
  await t.step("a value that is not a route is a TypeError naming the route", () => {
    assert.throws(() => compileRoutes({ r: 42 as unknown as string }), TypeError);
    assert.throws(
      () => compileRoutes({ r: { priority: 1 } as unknown as string }),
      /routes\.r must be a route string/,
    );
  });
});

Deno.test("endpointKey() is stable and distinguishes module inputs", () => {
  const table = compileRoutes({
    a: 'FROM /messages/* INTO BrokeredEndpoint("/modules/m/inputs/i")',
    b: "FROM /messages/* INTO BrokeredEndpoint('/MODULES/m/Inputs/i')",
    c: 'FROM /messages/* INTO BrokeredEndpoint("/modules/M/inputs/i")',
    d: "FROM /messages/* INTO $upstream",
  });
  assert.deepEqual(table.routes.map((route) => route.endpointKey), [
    "/modules/m/inputs/i",
    "/modules/m/inputs/i",
    "/modules/M/inputs/i",
    "$upstream",
  ]);
  assert.equal(endpointKey({ kind: "upstream" }), "$upstream");
  assert.deepEqual(table.routes[0]?.endpoint, { kind: "module", moduleId: "m", input: "i" });
});

Deno.test("a table parses a message body once for all of its routes", () => {
  const routes: Record<string, string> = {};
  for (let i = 0; i < 10; i++) {
    routes[`r${i}`] = `FROM /messages/* WHERE $body.machine.temperature > ${i} INTO $upstream`;
  }
  const table = compileRoutes(routes);
  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
    parses++;
    return parse(...args);
  };
  try {
    table.match(hot);
    assert.equal(parses, 1);
    table.match(jsonMessage({}, { system: { contentType: "text/plain" } }));
    assert.equal(parses, 1, "a body that is not declared JSON is never parsed");
  } finally {
    JSON.parse = parse;
  }
});

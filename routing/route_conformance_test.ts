import assert from "node:assert/strict";
import type { ConformanceCase } from "./_conformance_table.ts";
import { EXPRESSION_CASES } from "./_conformance_expressions.ts";
import { ROUTE_CASES } from "./_conformance_routes.ts";
import { messageSource } from "../iothub/mod.ts";
import { MessageContext } from "./message_context.ts";
import { compileRoutes, RouteSyntaxError } from "./mod.ts";
import { interpretRoute } from "./route_interpreter.ts";

const CONFORMANCE_CASES: readonly ConformanceCase[] = [...ROUTE_CASES, ...EXPRESSION_CASES];
const CONDITION_PREFIX = "FROM /messages/* WHERE ";

function routeText(testCase: ConformanceCase): string {
  return /^\s*(select|from)\b/i.test(testCase.route)
    ? testCase.route
    : `${CONDITION_PREFIX}${testCase.route} INTO $upstream`;
}

function title(testCase: ConformanceCase): string {
  const route = JSON.stringify(testCase.route);
  if (testCase.error !== undefined) {
    return `${route} is rejected at line ${testCase.error.line}, column ${testCase.error.column}`;
  }
  return `${route} ${testCase.fires ? "fires" : "does not fire"}`;
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectRejected(testCase: ConformanceCase, error: { line: number; column: number }): void {
  const text = routeText(testCase);
  const thrown = thrownBy(() => compileRoutes({ r: text }));
  assert.ok(thrown instanceof RouteSyntaxError, `expected a RouteSyntaxError, got ${thrown}`);
  const wrapped = text !== testCase.route && error.line === 1;
  const column = error.column + (wrapped ? CONDITION_PREFIX.length : 0);
  assert.deepEqual(
    { line: thrown.line, column: thrown.column },
    { line: error.line, column },
    thrown.message,
  );
  assert.match(thrown.message, /^routes\.r: Cannot parse route: /);
}

function expectFiring(testCase: ConformanceCase): void {
  const table = compileRoutes({ r: routeText(testCase) });
  const matched = table.match(testCase.message, testCase.source).length === 1;
  assert.equal(matched, testCase.fires, "compiled route table");
  const route = table.routes[0];
  assert.ok(route !== undefined);
  const source = testCase.source ?? messageSource(testCase.message);
  const context = new MessageContext(testCase.message);
  const reference = route.matchesSource(source) &&
    interpretRoute(route.checked, testCase.message, context);
  assert.equal(reference, testCase.fires, "reference interpreter");
}

Deno.test("the conformance table has at least 150 cases", () => {
  assert.ok(CONFORMANCE_CASES.length >= 150, `only ${CONFORMANCE_CASES.length} cases`);
});

const themes = [...new Set(CONFORMANCE_CASES.map((testCase) => testCase.theme))];
for (const theme of themes) {
  Deno.test(`routes behave as on IoT Edge: ${theme}`, async (t) => {
    for (const testCase of CONFORMANCE_CASES.filter((c) => c.theme === theme)) {
      await t.step(title(testCase), () => {
        if (testCase.error !== undefined) expectRejected(testCase, testCase.error);
        else expectFiring(testCase);
      });
    }
  });
}

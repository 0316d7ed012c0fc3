import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded_random.ts";
import { MessageContext } from "./message_context.ts";
import { jsonMessage, rawMessage, SAMPLE } from "./_test_messages.ts";
import type { Message } from "../iothub/mod.ts";
import { checkRoute } from "./route_checker.ts";
import { compileConditionValue } from "./route_compiler.ts";
import { interpretCondition } from "./route_interpreter.ts";
import { parseRoute } from "./route_parser.ts";
import { RouteSyntaxError } from "./route_syntax_error.ts";

const EXPRESSIONS = 2000;
const MAX_ATTEMPTS = 200_000;

const CONSTANTS = [
  "0",
  "1",
  "2",
  "-3",
  "-4",
  "20",
  "30",
  "2.5",
  "-0.5",
  "0x10",
  "1e2",
  "'a'",
  "'hot'",
  "''",
  "'5'",
  '"Sensor-01"',
  "'running'",
  "'sensor'",
  "true",
  "false",
  "null",
  "undefined",
];
const PROPERTIES = [
  "processingPath",
  "severity",
  "missing",
  "$connectionModuleId",
  "$messageId",
  "{$outputName}",
  "$unknown",
];
const BODY = [
  "$body.machine.temperature",
  "$body.machine.status",
  "$body.name",
  "$body.flag",
  "$body.off",
  "$body.nothing",
  "$body.missing",
  "$body.list[1]",
  "$body.list[2].x",
  "$body.text5",
  "$body.zero",
  "$body.neg",
  "$body.empty",
  "$body.nested.a.b.c",
  "$body.machine",
];
const LOGICAL = [
  "true",
  "false",
  "null",
  "$body.flag",
  "$body.off",
  "$body.nothing",
  "$body.missing",
];
const LEAVES = [...CONSTANTS, ...PROPERTIES, ...BODY];
const COMPARISONS = ["<", "<=", ">", ">=", "=", "!=", "<>"];
const BINARY = [...COMPARISONS, "+", "-", "*", "/", "%", "||", "AND", "OR", "??"];
const FUNCTIONS: [string, number, number][] = [
  ["abs", 1, 1],
  ["exp", 1, 1],
  ["power", 2, 2],
  ["square", 1, 1],
  ["ceiling", 1, 1],
  ["floor", 1, 1],
  ["sign", 1, 1],
  ["sqrt", 1, 1],
  ["as_number", 1, 1],
  ["is_bool", 1, 1],
  ["is_defined", 1, 1],
  ["is_null", 1, 1],
  ["is_number", 1, 1],
  ["is_string", 1, 1],
  ["concat", 2, 4],
  ["length", 1, 1],
  ["lower", 1, 1],
  ["upper", 1, 1],
  ["substring", 2, 3],
  ["index_of", 2, 2],
  ["starts_with", 2, 2],
  ["ends_with", 2, 2],
  ["contains", 2, 2],
];

// Weighted toward what the compiler specialises: body values against constants (which the
// messages below often equal), and logic over values that may be false, null or Undefined.
function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const parenthesize = (text: string) => random() < 0.6 ? `(${text})` : text;
  const expression = (depth: number): string => {
    const roll = random();
    if (depth <= 0 || roll < 0.15) return pick(LEAVES);
    if (roll < 0.25) return `${pick(["- ", "NOT "])}(${expression(depth - 1)})`;
    if (roll < 0.4) {
      const [name, min, max] = pick(FUNCTIONS);
      const count = min + Math.floor(random() * (max - min + 1));
      return `${name}(${Array.from({ length: count }, () => expression(depth - 1)).join(", ")})`;
    }
    if (roll < 0.6) {
      const [left, right] = random() < 0.5
        ? [pick(BODY), pick(CONSTANTS)]
        : [pick(CONSTANTS), pick(BODY)];
      return parenthesize(`${left} ${pick(COMPARISONS)} ${right}`);
    }
    if (roll < 0.8) {
      const operand = () => random() < 0.5 ? pick(LOGICAL) : expression(depth - 1);
      return parenthesize(`${operand()} ${pick(["AND", "OR", "??"])} ${operand()}`);
    }
    return parenthesize(`${expression(depth - 1)} ${pick(BINARY)} ${expression(depth - 1)}`);
  };
  return expression;
}

const MESSAGES: readonly Message[] = [
  SAMPLE,
  jsonMessage({
    machine: { temperature: -2.5, status: "stopped" },
    name: "",
    flag: false,
    nothing: 3,
    list: [],
  }, {
    app: { processingPath: "cold", severity: "x", "$connectionModuleId": "spoof" },
  }),
  rawMessage("not json", { connectionModuleId: "m", outputName: "o", contentType: "text/plain" }, {
    missing: "here",
  }),
];

Deno.test("compiled conditions agree with the reference interpreter on random expressions", () => {
  const expression = generator(seededRandom(0x5eed));
  let accepted = 0;
  let attempts = 0;
  while (accepted < EXPRESSIONS && attempts < MAX_ATTEMPTS) {
    attempts++;
    const condition = expression(4);
    let checked;
    try {
      checked = checkRoute(parseRoute(`FROM /messages/* WHERE ${condition} INTO $upstream`), {
        requireBoolean: false,
      });
    } catch (error) {
      if (error instanceof RouteSyntaxError) continue;
      throw error;
    }
    accepted++;
    const compiled = compileConditionValue(checked);
    for (const message of MESSAGES) {
      const expected = interpretCondition(checked, new MessageContext(message));
      const actual = compiled(new MessageContext(message));
      assert.ok(
        Object.is(actual, expected),
        `${condition}: compiled ${actual}, interpreted ${expected}`,
      );
    }
  }
  assert.equal(
    accepted,
    EXPRESSIONS,
    `only ${accepted} of ${attempts} random expressions type-checked`,
  );
});

Deno.test("random expressions that fail to compile fail with a position inside the route", () => {
  const expression = generator(seededRandom(0xbad));
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const route = `FROM /messages/* WHERE ${expression(3)} INTO $upstream`;
    try {
      checkRoute(parseRoute(route));
    } catch (error) {
      assert.ok(error instanceof RouteSyntaxError, String(error));
      assert.equal(error.line, 1);
      assert.ok(
        error.column >= 24 && error.column <= route.length + 1,
        `${route}: column ${error.column}`,
      );
      rejected++;
    }
  }
  assert.ok(rejected > 0);
});

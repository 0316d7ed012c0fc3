import assert from "node:assert/strict";
import { compileRoute, RouteSyntaxError } from "./mod.ts";
import { parseRoute } from "./route_parser.ts";

function errorOf(route: string): RouteSyntaxError {
  try {
    compileRoute(route);
  } catch (error) {
    if (error instanceof RouteSyntaxError) return error;
    throw error;
  }
  throw new Error(`route compiled: ${route}`);
}

// Each case: the route, then where the error must point and what it must mention.
const SYNTAX_ERRORS: [
  kind: string,
  route: string,
  line: number,
  column: number,
  mentions: string,
][] = [
  [
    "a route not starting with FROM",
    "TO /messages/* INTO $upstream",
    1,
    1,
    "expected SELECT * or FROM",
  ],
  ["an empty route", "", 1, 1, "found end of route"],
  ["SELECT without *", "SELECT FROM /messages/* INTO $upstream", 1, 8, "expected *"],
  ["a missing source", "FROM", 1, 5, "expected a source"],
  [
    "an unknown source",
    "FROM /messages/modulez/* INTO $upstream",
    1,
    6,
    'unknown source "/messages/modulez/*"',
  ],
  [
    "a wildcard inside a segment",
    "FROM /messages/modules/sens* INTO $upstream",
    1,
    6,
    "unknown source",
  ],
  ["neither WHERE nor INTO", "FROM /messages/* TO $upstream", 1, 18, "expected WHERE or INTO"],
  [
    "a misspelt INTO",
    "FROM /messages/* WHERE $body.a > 25 INT $upstream",
    1,
    37,
    'expected INTO at line 1, column 37, found "INT"',
  ],
  ["an empty condition", "FROM /messages/* WHERE INTO $upstream", 1, 24, "expected a condition"],
  [
    "a dangling operator",
    "FROM /messages/* WHERE 1 + INTO $upstream",
    1,
    28,
    "expected an expression",
  ],
  [
    "an unexpected character",
    "FROM /messages/* WHERE a = @b INTO $upstream",
    1,
    28,
    'unexpected character "@"',
  ],
  [
    "a semicolon",
    "FROM /messages/* WHERE a = 'b'; INTO $upstream",
    1,
    31,
    'unexpected character ";"',
  ],
  [
    "an unterminated string",
    "FROM /messages/* WHERE a = 'b INTO $upstream",
    1,
    28,
    "unterminated string",
  ],
  [
    "an invalid escape",
    "FROM /messages/* WHERE a = 'b\\n' INTO $upstream",
    1,
    30,
    "invalid escape sequence",
  ],
  [
    "an unterminated comment",
    "FROM /messages/* WHERE a = 'b' /* note INTO $upstream",
    1,
    32,
    "unterminated comment",
  ],
  [
    "a missing closing parenthesis",
    "FROM /messages/* WHERE (a = 'b' INTO $upstream",
    1,
    33,
    "expected )",
  ],
  [
    "an extra closing parenthesis",
    "FROM /messages/* WHERE a = 'b') INTO $upstream",
    1,
    31,
    "expected INTO",
  ],
  [
    "a function call without )",
    "FROM /messages/* WHERE lower(a = 'b' INTO $upstream",
    1,
    38,
    "expected )",
  ],
  [
    "== instead of =",
    "FROM /messages/* WHERE a == 'b' INTO $upstream",
    1,
    27,
    "expected an expression",
  ],
  [
    "&& instead of AND",
    "FROM /messages/* WHERE a = 'b' && c = 'd' INTO $upstream",
    1,
    32,
    "expected INTO",
  ],
  [
    "{ without a system property",
    "FROM /messages/* WHERE {a} = 'b' INTO $upstream",
    1,
    25,
    "expected a system property",
  ],
  ["{$x without }", "FROM /messages/* WHERE {$a = 'b' INTO $upstream", 1, 28, "expected }"],
  ["an unknown sink", "FROM /messages/* INTO $cloud", 1, 23, 'unknown sink "$cloud"'],
  [
    "a sink that is not an endpoint function",
    'FROM /messages/* INTO Endpoint("/modules/a/inputs/b")',
    1,
    23,
    "accepted sinks are",
  ],
  [
    "an address that is not a module input",
    'FROM /messages/* INTO BrokeredEndpoint("/modules/a/outputs/b")',
    1,
    40,
    "unknown BrokeredEndpoint address",
  ],
  [
    "an unquoted address",
    "FROM /messages/* INTO BrokeredEndpoint(modules)",
    1,
    40,
    "expected a quoted address",
  ],
  ["a missing sink", "FROM /messages/* INTO ", 1, 23, "found end of route"],
  [
    "text after the sink",
    "FROM /messages/* INTO $upstream WHERE a = 'b'",
    1,
    33,
    "expected end of route",
  ],
  [
    "an error on a later line",
    "FROM /messages/*\nWHERE a = 'b'\n  AND c = \n INTO $upstream",
    4,
    2,
    "line 4, column 2",
  ],
];

Deno.test("each syntax error kind reports its line and column", async (t) => {
  for (const [kind, route, line, column, mentions] of SYNTAX_ERRORS) {
    await t.step(`${kind} is reported at line ${line}, column ${column}`, () => {
      const error = errorOf(route);
      assert.deepEqual({ line: error.line, column: error.column }, { line, column }, error.message);
      assert.ok(error.message.includes(mentions), `${error.message} should mention ${mentions}`);
    });
  }
});

const COMPILE_ERRORS: [kind: string, condition: string, column: number, mentions: string][] = [
  ["an unknown function", "is_array($body.a)", 1, 'unknown function "is_array"'],
  ["too few arguments", "power(2) = 4", 1, "function power takes 2 arguments, not 1"],
  ["too many arguments", "lower('a', 'b') = 'a'", 1, "function lower takes 1 argument, not 2"],
  ["a variadic function with one argument", "concat('a') = 'a'", 1, "takes at least 2 arguments"],
  [
    "an argument of the wrong type",
    "upper(1) = 'A'",
    7,
    "function upper takes a string as argument 1, not a number",
  ],
  [
    "a property compared with a number",
    "temperature > 25",
    13,
    "properties are strings: convert them with as_number",
  ],
  [
    "a minus joined to a body query (one property name, as in IoT Edge)",
    "-$body.n = -15",
    10,
    'to negate, write "- $body.n" or "-($body.n)"',
  ],
  ["arithmetic on a string", "'a' * 2 = 2", 5, "operator * cannot combine a string with a number"],
  ["NOT of a number", "NOT 1", 1, "operator NOT cannot take a number"],
  ["a condition that is a string", "processingPath", 1, "the condition is a string, not a boolean"],
  ["a condition that is a number", "1 + 1", 3, "the condition is a number"],
  ["an upper-case literal", "$body.flag = TRUE", 14, "literals are lower-case: write true"],
  ["!= glued to a name", "status!='on'", 1, "write status != with a space"],
  ["a twin query", "$twin.tags.site = 'a'", 1, "twin queries"],
  ["an index on a system property", "$messageId[0] = 'a'", 1, "only $body paths can be indexed"],
  ["a malformed body path", "$body.a[x] = 1", 1, "invalid body path"],
  [
    "twin_change_includes outside twin routes",
    "twin_change_includes(properties.desired.a)",
    1,
    "only available in routes FROM /twinChangeNotifications",
  ],
];

Deno.test("each compile error kind reports its column", async (t) => {
  for (const [kind, condition, column, mentions] of COMPILE_ERRORS) {
    await t.step(`${kind} is reported at column ${column} of the condition`, () => {
      const error = errorOf(`FROM /messages/* WHERE ${condition} INTO $upstream`);
      assert.deepEqual(
        { line: error.line, column: error.column },
        { line: 1, column: column + 23 },
        error.message,
      );
      assert.ok(error.message.includes(mentions), `${error.message} should mention ${mentions}`);
    });
  }
});

Deno.test("RouteSyntaxError carries the position, the found text and the expectation", () => {
  const error = errorOf("FROM /messages/* WHERE a = 'b' INT $upstream");
  assert.ok(error instanceof Error);
  assert.equal(error.name, "RouteSyntaxError");
  assert.equal(
    error.message,
    'Cannot parse route: expected INTO at line 1, column 32, found "INT"',
  );
  assert.equal(error.found, "INT");
  assert.equal(error.expected, "INTO");
  assert.equal(error.routeName, undefined);
});

Deno.test("parseRoute() keeps the source, the condition tree and the endpoint", () => {
  const ast = parseRoute(
    "SELECT * FROM /messages/modules/a/outputs/b WHERE NOT x = 'y' OR 1 + 2 * 3 > 4 INTO BrokeredEndpoint(\"/modules/c/inputs/d\")",
  );
  assert.equal(ast.source.text, "/messages/modules/a/outputs/b");
  assert.equal(ast.source.prefix, "/messages/modules/a/outputs/b/");
  assert.deepEqual(ast.endpoint, { kind: "module", moduleId: "c", input: "d" });
  const condition = ast.condition;
  assert.ok(condition?.kind === "binary" && condition.op === "OR");
  assert.ok(condition.left.kind === "binary" && condition.left.op === "=");
  assert.ok(condition.left.left.kind === "unary" && condition.left.left.op === "NOT");
  assert.ok(condition.right.kind === "binary" && condition.right.op === ">");
  assert.ok(condition.right.left.kind === "binary" && condition.right.left.op === "+");
  assert.ok(condition.right.left.right.kind === "binary" && condition.right.left.right.op === "*");
});

Deno.test("parseRoute() reads <> as != and a glued negative number as a subtraction", () => {
  const ast = parseRoute("FROM /messages/* WHERE 5 -3 <> 2 INTO $upstream");
  const condition = ast.condition;
  assert.ok(condition?.kind === "binary" && condition.op === "!=");
  assert.deepEqual(condition.left, {
    kind: "binary",
    op: "-",
    left: { kind: "literal", value: 5, at: 23 },
    right: { kind: "literal", value: 3, at: 26 },
    at: 25,
  });
});

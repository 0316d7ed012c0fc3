import assert from "node:assert/strict";
import { RouteLexer, type Token } from "./route_lexer.ts";

function tokens(text: string): [Token["kind"], string][] {
  const lexer = new RouteLexer(text);
  const result: [Token["kind"], string][] = [];
  for (let token = lexer.next(); token.kind !== "end"; token = lexer.next()) {
    result.push([token.kind, token.text]);
  }
  return result;
}

function values(text: string): unknown[] {
  const lexer = new RouteLexer(text);
  const result: unknown[] = [];
  for (let token = lexer.next(); token.kind !== "end"; token = lexer.next()) {
    result.push(token.value);
  }
  return result;
}

Deno.test("the lexer takes the longest token, as IoT Edge's ANTLR lexer does", async (t) => {
  const cases: [string, [Token["kind"], string][]][] = [
    ["a-b", [["identifier", "a-b"]]],
    ["a - b", [["identifier", "a"], ["punctuation", "-"], ["identifier", "b"]]],
    ["-5", [["number", "-5"]]],
    ["-x", [["identifier", "-x"]]],
    ["- x", [["punctuation", "-"], ["identifier", "x"]]],
    ["5abc", [["identifier", "5abc"]]],
    ["0x1F", [["number", "0x1F"]]],
    ["0x1G", [["identifier", "0x1G"]]],
    ["1.5", [["number", "1.5"]]],
    ["1.5.2", [["identifier", "1.5.2"]]],
    ["x*2", [["identifier", "x*2"]]],
    ["x * 2", [["identifier", "x"], ["punctuation", "*"], ["number", "2"]]],
    ["a!=b", [["identifier", "a!"], ["punctuation", "="], ["identifier", "b"]]],
    ["a != b", [["identifier", "a"], ["punctuation", "!="], ["identifier", "b"]]],
    ["a<>b", [["identifier", "a"], ["punctuation", "<>"], ["identifier", "b"]]],
    ["a<=b", [["identifier", "a"], ["punctuation", "<="], ["identifier", "b"]]],
    ["'a' || 'b'", [["string", "'a'"], ["punctuation", "||"], ["string", "'b'"]]],
    ["a ?? b", [["identifier", "a"], ["punctuation", "??"], ["identifier", "b"]]],
    ["true TRUE", [["literal", "true"], ["identifier", "TRUE"]]],
    ["AND and ANDroid", [["keyword", "AND"], ["keyword", "and"], ["identifier", "ANDroid"]]],
    ["NOT(x)", [["keyword", "NOT"], ["punctuation", "("], ["identifier", "x"], [
      "punctuation",
      ")",
    ]]],
    ["$body.a[0].b", [["systemProperty", "$body.a[0].b"]]],
    ["{$x}", [["punctuation", "{"], ["systemProperty", "$x"], ["punctuation", "}"]]],
    ["'hot'x", [["identifier", "'hot'x"]]],
    ['"hot"x', [["string", '"hot"'], ["identifier", "x"]]],
    ["a /* b */ c", [["identifier", "a"], ["identifier", "c"]]],
    ["a\t\r\n b", [["identifier", "a"], ["identifier", "b"]]],
  ];
  for (const [text, expected] of cases) {
    await t.step(
      `${JSON.stringify(text)} is ${
        expected.map(([kind, token]) => `${kind} ${token}`).join(", ")
      }`,
      () => assert.deepEqual(tokens(text), expected),
    );
  }
});

Deno.test("the lexer rejects [ outside a $ path, as IoT Edge's ID rule does", () => {
  assert.throws(() => tokens("a[0]"), /unexpected character "\[" at line 1, column 2/);
});

Deno.test("the lexer decodes literal values", () => {
  assert.deepEqual(values("1 -2 0x10 1.5e2 .5 -.25 007"), [1, -2, 16, 150, 0.5, -0.25, 7]);
  assert.deepEqual(values(`'a\\'b' "c\\"d" '\\\\' '\\u0041' "it's"`), [
    "a'b",
    'c"d',
    "\\",
    "A",
    "it's",
  ]);
  assert.deepEqual(values("true false null undefined"), [true, false, null, undefined]);
  assert.deepEqual(values("0x7FFFFFFFFFFFFFFF 0x8000000000000000"), [
    9223372036854775807,
    undefined,
  ]);
});

Deno.test("the lexer reads a FROM path up to white space, comment markers included", () => {
  const lexer = new RouteLexer("  /* INTO $upstream");
  const path = lexer.sourcePath();
  assert.deepEqual([path.kind, path.text, path.start], ["path", "/*", 2]);
  assert.equal(lexer.next().kind, "keyword");
});

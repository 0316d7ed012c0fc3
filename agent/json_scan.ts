/**
 * A strict JSON reader (RFC 8259) that keeps what `JSON.parse` throws away: every member of an
 * object, in order, duplicates included. A container engine decodes createOptions with Go's
 * encoding/json, where the last of two equal keys wins; the policy must see both to refuse the
 * ambiguity instead of judging one value while the engine applies another.
 */

/** A JSON object as written: its members in order, repeated keys kept. */
export class JsonObject {
  constructor(readonly members: readonly (readonly [string, JsonValue])[]) {}
}

/** A JSON value with objects as {@linkcode JsonObject}s. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** Text that is not JSON; `offset` is where reading stopped. */
export class JsonSyntaxError extends SyntaxError {
  override name = "JsonSyntaxError";
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at position ${offset}`);
    this.offset = offset;
  }
}

/** Nesting deeper than this is refused (no real ContainerCreate body comes close). */
const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class Scanner {
  at = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(message, this.at);
  }

  space(): void {
    while (/[ \t\n\r]/.test(this.text[this.at] ?? "")) this.at++;
  }

  expect(char: string): void {
    this.space();
    if (this.text[this.at] !== char) this.fail(`expected '${char}'`);
    this.at++;
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH}`);
    this.space();
    const char = this.text[this.at];
    if (char === "{") return this.object(depth);
    if (char === "[") return this.array(depth);
    if (char === '"') return this.string();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.at;
    const number = NUMBER.exec(this.text);
    if (!number) this.fail("expected a JSON value");
    this.at += number[0].length;
    return Number(number[0]);
  }

  object(depth: number): JsonObject {
    this.at++;
    const members: [string, JsonValue][] = [];
    this.space();
    if (this.text[this.at] === "}") {
      this.at++;
      return new JsonObject(members);
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail("expected a member name");
      const key = this.string();
      this.expect(":");
      members.push([key, this.value(depth + 1)]);
      this.space();
      const next = this.text[this.at++];
      if (next === "}") return new JsonObject(members);
      if (next !== ",") this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): JsonValue[] {
    this.at++;
    const items: JsonValue[] = [];
    this.space();
    if (this.text[this.at] === "]") {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.space();
      const next = this.text[this.at++];
      if (next === "]") return items;
      if (next !== ",") this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    this.at++;
    let out = "";
    for (;;) {
      const char = this.text[this.at];
      if (char === undefined) this.fail("unterminated string");
      this.at++;
      if (char === '"') break;
      if (char < " ") this.fail("control character in a string");
      if (char !== "\\") {
        out += char;
        continue;
      }
      const escape = this.text[this.at++] ?? "";
      if (escape === "u") {
        const hex = this.text.slice(this.at, this.at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("expected four hex digits after \\u");
        out += String.fromCharCode(parseInt(hex, 16));
        this.at += 4;
      } else if (escape in ESCAPES) out += ESCAPES[escape];
      else this.fail(`unknown escape \\${escape}`);
    }
    if (!out.isWellFormed()) this.fail("a string holds an unpaired surrogate");
    return out;
  }
}

/**
 * Reads JSON text, keeping every object member.
 *
 * @throws {JsonSyntaxError} on anything `JSON.parse` would refuse, on nesting deeper than 64 and
 * on a string that is not well-formed Unicode (an engine would read another path than ledge).
 * @example
 * ```ts
 * scanJson('{"a":1,"A":2}'); // JsonObject { members: [["a", 1], ["A", 2]] }
 * ```
 */
export function scanJson(text: string): JsonValue {
  const scanner = new Scanner(text);
  const value = scanner.value(0);
  scanner.space();
  if (scanner.at !== text.length) scanner.fail("unexpected text after the JSON value");
  return value;
}

/**
 * Converts an already parsed value (createOptions given as an object) to a {@linkcode JsonValue}.
 *
 * @throws {TypeError} on what JSON cannot hold (functions, non-finite numbers, unpaired surrogates).
 */
export function fromParsed(value: unknown, depth = 0): JsonValue {
  if (depth > MAX_DEPTH) {
    throw new TypeError(`Cannot read createOptions: nested deeper than ${MAX_DEPTH}`);
  }
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    if (!value.isWellFormed()) {
      throw new TypeError("Cannot read createOptions: an unpaired surrogate");
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => fromParsed(item, depth + 1));
  if (typeof value === "object") {
    return new JsonObject(
      Object.entries(value).map((
        [key, item],
      ) => [fromParsed(key) as string, fromParsed(item, depth + 1)]),
    );
  }
  throw new TypeError(`Cannot read createOptions: ${typeof value} is not JSON`);
}

/** The plain value `JSON.parse` would have made of it (of repeated keys, the last wins). */
export function toPlain(value: JsonValue): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof JsonObject) {
    return Object.fromEntries(value.members.map(([key, item]) => [key, toPlain(item)]));
  }
  return value;
}

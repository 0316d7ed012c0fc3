/**
 * Hand-written parser for IoT Edge route strings: recursive descent for the route, Pratt
 * (precedence climbing) for conditions.
 *
 * Precedence, high to low: unary `-` and `NOT`; `* / %`; `+ - ||`; `< <= > >=`;
 * `= != <>`; `AND`; `OR`; `??`. Binary operators associate left.
 *
 * @module
 */
import type { PathSegment } from "./message_body.ts";
import type { BinaryOperator, Expr, RouteAst } from "./route_ast.ts";
import {
  ACCEPTED_SINKS,
  type Endpoint,
  moduleEndpoint,
  upstreamEndpoint,
} from "./route_endpoint.ts";
import { RouteLexer, type Token } from "./route_lexer.ts";
import { ACCEPTED_SOURCES, parseRouteSource, type RouteSource } from "./route_source.ts";
import { type ErrorAt, routeErrorAt } from "./route_syntax_error.ts";

const BINDING_POWER: ReadonlyMap<string, number> = new Map([
  ["??", 1],
  ["OR", 2],
  ["AND", 3],
  ["=", 4],
  ["!=", 4],
  ["<>", 4],
  ["<", 5],
  ["<=", 5],
  [">", 5],
  [">=", 5],
  ["+", 6],
  ["-", 6],
  ["||", 6],
  ["*", 7],
  ["/", 7],
  ["%", 7],
]);
const PREFIX_BINDING_POWER = 8;
const SUBTRACTION_BINDING_POWER = 6;

/**
 * Parses a route string into its syntax tree. Checks syntax, the source and the sink; names
 * of functions and operand types are checked later by `checkRoute`.
 *
 * @throws {RouteSyntaxError} with the line and column of the first error.
 */
export function parseRoute(text: string): RouteAst {
  return new RouteParser(text).route();
}

/** Splits a `$body` path such as `a.b[0].c` into segments; undefined when malformed. */
export function parseBodyPath(text: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  for (const part of text.split(".")) {
    const match = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (match === null) return undefined;
    segments.push(match[1] ?? "");
    for (const index of (match[2] ?? "").matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

class RouteParser {
  readonly #text: string;
  readonly #lexer: RouteLexer;
  #lookahead: Token | undefined;

  constructor(text: string) {
    this.#text = text;
    this.#lexer = new RouteLexer(text);
  }

  route(): RouteAst {
    if (this.#acceptKeyword("SELECT")) {
      this.#expectPunctuation("*");
      this.#expectKeyword("FROM", "FROM");
    } else {
      this.#expectKeyword("FROM", "SELECT * or FROM");
    }
    const source = this.#source();
    let condition: Expr | undefined;
    if (this.#acceptKeyword("WHERE")) {
      if (this.#isKeyword(this.#peek(), "INTO")) this.#fail(this.#peek(), "a condition");
      condition = this.#expression(0);
      this.#expectKeyword("INTO", "INTO");
    } else {
      this.#expectKeyword("INTO", "WHERE or INTO");
    }
    const endpoint = this.#sink();
    const end = this.#peek();
    if (end.kind !== "end") this.#fail(end, "end of route");
    return { text: this.#text, source, condition, endpoint };
  }

  #source(): RouteSource {
    const token = this.#lexer.sourcePath();
    if (token.kind === "end") this.#fail(token, `a source (${ACCEPTED_SOURCES})`);
    const source = parseRouteSource(token.text);
    if (source === undefined) {
      this.#fail(
        token,
        ACCEPTED_SOURCES,
        `unknown source ${JSON.stringify(token.text)}`,
        `accepted sources are ${ACCEPTED_SOURCES}`,
      );
    }
    return source;
  }

  #sink(): Endpoint {
    const token = this.#next();
    const unknownSink = (at: Token) =>
      this.#fail(
        at,
        ACCEPTED_SINKS,
        `unknown sink ${JSON.stringify(at.text)}`,
        `accepted sinks are ${ACCEPTED_SINKS}`,
      );
    if (token.kind === "systemProperty") {
      if (token.text.toLowerCase() !== "$upstream") unknownSink(token);
      return upstreamEndpoint();
    }
    if (token.kind !== "identifier" || token.text.toLowerCase() !== "brokeredendpoint") {
      if (token.kind === "end") this.#fail(token, ACCEPTED_SINKS);
      unknownSink(token);
    }
    this.#expectPunctuation("(");
    const address = this.#next();
    if (address.kind !== "string") {
      this.#fail(address, 'a quoted address such as "/modules/<moduleId>/inputs/<input>"');
    }
    const endpoint = moduleEndpoint(String(address.value));
    if (endpoint === undefined) {
      this.#fail(
        address,
        '"/modules/<moduleId>/inputs/<input>"',
        `unknown BrokeredEndpoint address ${address.text}`,
        `accepted sinks are ${ACCEPTED_SINKS}`,
      );
    }
    this.#expectPunctuation(")");
    return endpoint;
  }

  #expression(minBindingPower: number): Expr {
    let left = this.#prefix();
    for (;;) {
      const token = this.#peek();
      if (token.kind === "number" && token.text.startsWith("-")) {
        // IoT Edge lexes `a -1` as `a` followed by the literal `-1` and rejects it; reading
        // it as a subtraction only accepts more routes, never changes an accepted one.
        if (SUBTRACTION_BINDING_POWER <= minBindingPower) return left;
        this.#lookahead = {
          ...token,
          start: token.start + 1,
          text: token.text.slice(1),
          value: -Number(token.value),
        };
        const right = this.#expression(SUBTRACTION_BINDING_POWER);
        left = { kind: "binary", op: "-", left, right, at: token.start };
        continue;
      }
      const op = binaryOperator(token);
      const power = op === undefined ? undefined : BINDING_POWER.get(op);
      if (op === undefined || power === undefined || power <= minBindingPower) return left;
      this.#next();
      const right = this.#expression(power);
      left = {
        kind: "binary",
        op: op === "<>" ? "!=" : op as BinaryOperator,
        left,
        right,
        at: token.start,
      };
    }
  }

  #prefix(): Expr {
    const token = this.#next();
    switch (token.kind) {
      case "literal":
      case "number":
      case "string":
        return { kind: "literal", value: token.value, at: token.start };
      case "systemProperty":
        return this.#systemProperty(token, true);
      case "identifier":
        return this.#identifier(token);
      case "keyword":
        if (token.value === "NOT") {
          return {
            kind: "unary",
            op: "NOT",
            operand: this.#expression(PREFIX_BINDING_POWER),
            at: token.start,
          };
        }
        break;
      case "punctuation":
        if (token.value === "-") {
          return {
            kind: "unary",
            op: "-",
            operand: this.#expression(PREFIX_BINDING_POWER),
            at: token.start,
          };
        }
        if (token.value === "(") {
          const inner = this.#expression(0);
          this.#expectPunctuation(")");
          return inner;
        }
        if (token.value === "{") {
          const property = this.#next();
          if (property.kind !== "systemProperty") {
            this.#fail(property, "a system property such as $connectionModuleId");
          }
          this.#expectPunctuation("}");
          return this.#systemProperty(property, false);
        }
        break;
    }
    return this.#fail(token, "an expression");
  }

  #identifier(token: Token): Expr {
    if (this.#isPunctuation(this.#peek(), "(")) return this.#call(token);
    if (/^(true|false|null|undefined)$/i.test(token.text)) {
      // IoT Edge's literals are lower-case only; `TRUE` would silently be a property name.
      const literal = token.text.toLowerCase();
      this.#fail(
        token,
        literal,
        `${token.text} is not a literal`,
        `literals are lower-case: write ${literal} (IoT Edge would read ${token.text} as a property name)`,
      );
    }
    this.#rejectGluedNotEquals(token);
    return { kind: "appProperty", name: token.text, at: token.start };
  }

  #systemProperty(token: Token, appOverride: boolean): Expr {
    this.#rejectGluedNotEquals(token);
    const name = token.text.slice(1);
    if (name.slice(0, 5).toLowerCase() === "body.") {
      const path = parseBodyPath(name.slice(5));
      if (path === undefined) {
        this.#fail(
          token,
          "a body path such as $body.a.b[0]",
          `invalid body path ${JSON.stringify(token.text)}`,
        );
      }
      return {
        kind: "bodyQuery",
        path,
        appOverride: appOverride ? token.text : undefined,
        at: token.start,
      };
    }
    if (name.slice(0, 5).toLowerCase() === "twin.") {
      this.#fail(
        token,
        "a system property or $body path",
        `twin queries such as ${JSON.stringify(token.text)} are not available on IoT Edge`,
        "IoT Edge routes read only message properties and the body",
      );
    }
    if (name.includes("[") || name.includes("]")) {
      this.#fail(
        token,
        "a system property name",
        `only $body paths can be indexed, not ${JSON.stringify(token.text)}`,
      );
    }
    return { kind: "systemProperty", name, appOverride, at: token.start };
  }

  #call(nameToken: Token): Expr {
    this.#expectPunctuation("(");
    const name = nameToken.text.toLowerCase();
    if (name === "twin_change_includes") {
      const argument = this.#next();
      const path = argument.kind === "identifier" ? parseBodyPath(argument.text) : undefined;
      if (path === undefined) {
        this.#fail(argument, "a twin path such as properties.desired.telemetryConfig");
      }
      this.#expectPunctuation(")");
      return { kind: "twinChangeIncludes", path, pathText: argument.text, at: nameToken.start };
    }
    const args: Expr[] = [];
    if (!this.#isPunctuation(this.#peek(), ")")) {
      do args.push(this.#expression(0)); while (this.#acceptPunctuation(","));
    }
    this.#expectPunctuation(")");
    return { kind: "call", name, args, at: nameToken.start };
  }

  // IoT Edge reads `a!='x'` as property `a!` equal to 'x', a route that never fires.
  #rejectGluedNotEquals(token: Token): void {
    if (token.text.endsWith("!") && this.#text[token.end] === "=") {
      const name = token.text.slice(0, -1);
      this.#fail(
        token,
        `${name} !=`,
        `IoT Edge reads ${JSON.stringify(token.text)} as a property name`,
        `write ${name} != with a space`,
      );
    }
  }

  #peek(): Token {
    this.#lookahead ??= this.#lexer.next();
    return this.#lookahead;
  }

  #next(): Token {
    const token = this.#peek();
    this.#lookahead = undefined;
    return token;
  }

  #isKeyword(token: Token, keyword: string): boolean {
    return token.kind === "keyword" && token.value === keyword;
  }

  #isPunctuation(token: Token, punctuation: string): boolean {
    return token.kind === "punctuation" && token.value === punctuation;
  }

  #acceptKeyword(keyword: string): boolean {
    if (!this.#isKeyword(this.#peek(), keyword)) return false;
    this.#next();
    return true;
  }

  #acceptPunctuation(punctuation: string): boolean {
    if (!this.#isPunctuation(this.#peek(), punctuation)) return false;
    this.#next();
    return true;
  }

  #expectKeyword(keyword: string, expected: string): void {
    const token = this.#next();
    if (!this.#isKeyword(token, keyword)) this.#fail(token, expected);
  }

  #expectPunctuation(punctuation: string): void {
    const token = this.#next();
    if (!this.#isPunctuation(token, punctuation)) this.#fail(token, punctuation);
  }

  #fail(token: Token, expected: string, reason?: string, hint?: string): never {
    const details: ErrorAt = { found: token.text, expected };
    if (reason !== undefined) details.reason = reason;
    if (hint !== undefined) details.hint = hint;
    throw routeErrorAt(this.#text, token.start, details);
  }
}

function binaryOperator(token: Token): string | undefined {
  if (token.kind === "punctuation" || token.kind === "keyword") {
    const op = String(token.value);
    return BINDING_POWER.has(op) ? op : undefined;
  }
  return undefined;
}

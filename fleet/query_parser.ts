/**
 * Parser of IoT Hub's twin query language: recursive descent for the clauses, precedence
 * climbing for conditions. Tokens come from the route lexer (routing/), so literals, strings,
 * numbers and names follow the same rules as route conditions.
 *
 * ```
 * SELECT [TOP n] * | <projection> [AS alias], ... FROM devices | devices.modules
 *   [WHERE <condition>] [GROUP BY <path>, ...]
 * ```
 *
 * Precedence, high to low: unary `-`; `* / %`; `+ -`; `< <= > >=`; `= != <> IN NIN`; `NOT`;
 * `AND`; `OR` (NOT binds looser than comparisons, as in SQL: `NOT a = 1` is `NOT (a = 1)`).
 *
 * @module
 */
import { RouteLexer, type Token } from "../routing/mod.ts";
import type {
  AggregateName,
  PathExpr,
  Projection,
  QueryAst,
  QueryBinaryOperator,
  QueryCollection,
  QueryExpr,
  QueryValue,
} from "./query_ast.ts";
import { queryErrorAt } from "./query_syntax_error.ts";
import { canonicalSegments, splitPath } from "./query_paths.ts";
import { TokenCursor } from "./query_tokens.ts";
import { checkProjections } from "./query_checks.ts";
import { functionKey, FUNCTIONS } from "./query_functions.ts";

/** IoT Hub's limit on the length of a query. */
export const MAX_QUERY_LENGTH = 8192;

const KEYWORDS: ReadonlySet<string> = new Set([
  "SELECT",
  "TOP",
  "FROM",
  "WHERE",
  "GROUP",
  "BY",
  "AS",
  "AND",
  "OR",
  "NOT",
  "IN",
  "NIN",
]);

const BINDING_POWER: ReadonlyMap<string, number> = new Map([
  ["OR", 1],
  ["AND", 2],
  ["=", 4],
  ["!=", 4],
  ["<>", 4],
  ["IN", 4],
  ["NIN", 4],
  ["<", 5],
  ["<=", 5],
  [">", 5],
  [">=", 5],
  ["+", 6],
  ["-", 6],
  ["*", 7],
  ["/", 7],
  ["%", 7],
]);
/** NOT's operand takes comparisons and stops at AND/OR. */
const NOT_OPERAND_POWER = 3;
const UNARY_MINUS_POWER = 8;
const AGGREGATES: ReadonlySet<string> = new Set(["COUNT", "AVG", "SUM", "MIN", "MAX"]);

/** Options of {@linkcode parseQuery} and {@linkcode parseCondition}. */
export interface ParseOptions {
  /** What the text is, for error messages: `query` (default), `target condition`, `metric x`. */
  subject?: string;
}

/**
 * Parses and checks a query.
 *
 * @throws {QuerySyntaxError} with the line and column of the first error.
 * @example
 * ```ts
 * const ast = parseQuery("SELECT COUNT() AS n FROM devices WHERE capabilities.iotEdge = true");
 * ```
 */
export function parseQuery(text: string, options: ParseOptions = {}): QueryAst {
  return new QueryParser(text, options.subject ?? "query").query();
}

/**
 * Parses a bare condition over `collection` (default `devices`), as a deployment's target
 * condition is written: `tags.env = 'prod' AND deviceId IN ['a', 'b']`.
 *
 * @throws {QuerySyntaxError} with the line and column of the first error.
 */
export function parseCondition(
  text: string,
  options: ParseOptions & { collection?: QueryCollection } = {},
): QueryExpr {
  return new QueryParser(text, options.subject ?? "condition").condition(
    options.collection ?? "devices",
  );
}

class QueryParser extends TokenCursor {
  #collection: QueryCollection = "devices";

  constructor(text: string, subject: string) {
    super(
      text,
      subject,
      new RouteLexer(text, {
        keywords: KEYWORDS,
        extraPunctuation: "[]",
        bracketedNames: true,
        endText: `end of ${subject}`,
        errorAt: (source, offset, details) => queryErrorAt(subject, source, offset, details),
      }),
    );
    if (text.length > MAX_QUERY_LENGTH) {
      throw queryErrorAt(subject, text, MAX_QUERY_LENGTH, {
        found: text.slice(MAX_QUERY_LENGTH, MAX_QUERY_LENGTH + 10),
        expected: `at most ${MAX_QUERY_LENGTH} characters`,
        reason: `the ${subject} is ${text.length} characters long, over the limit`,
      });
    }
  }

  query(): QueryAst {
    this.expectKeyword("SELECT", "SELECT");
    const top = this.#top();
    const pending = this.accept("*") ? "*" : this.#selectList();
    const from = this.#from();
    // The FROM clause decides which fields exist: the SELECT list's paths are checked now.
    const select = pending === "*" ? "*" : pending.map((item) => item());
    const where = this.acceptKeyword("WHERE") ? this.#expression(0) : undefined;
    const groupBy: PathExpr[] = [];
    if (this.acceptKeyword("GROUP")) {
      this.expectKeyword("BY", "BY");
      do groupBy.push(this.#pathOnly("a twin path to group by")); while (this.accept(","));
    }
    const end = this.next();
    if (end.kind !== "end") this.fail(end, "WHERE, GROUP BY or the end of the query");
    const ast: QueryAst = { text: this.text, top, select, from, where, groupBy };
    checkProjections(ast, (at, details) => this.failAt(at, details));
    return ast;
  }

  condition(collection: QueryCollection): QueryExpr {
    this.#collection = collection;
    const expr = this.#expression(0);
    const end = this.next();
    if (end.kind !== "end") this.fail(end, "an operator (AND, OR, =, IN, \u2026) or the end");
    return expr;
  }

  #top(): number | undefined {
    if (!this.acceptKeyword("TOP")) return undefined;
    const token = this.next();
    if (token.kind !== "number" || !Number.isInteger(token.value) || Number(token.value) < 1) {
      this.fail(token, "a whole number of rows after TOP");
    }
    return Number(token.value);
  }

  /** The SELECT list, each projection built once FROM is known. */
  #selectList(): (() => Projection)[] {
    const items: (() => Projection)[] = [];
    let unnamed = 0;
    do {
      const token = this.next();
      const upper = token.text.toUpperCase();
      let build: (name: string | undefined) => Projection;
      if (token.kind === "identifier" && AGGREGATES.has(upper) && this.peekIs("(")) {
        this.expect("(");
        const fn = upper as AggregateName;
        const argument = fn === "COUNT" ? undefined : this.#identifierToken(`a twin path to ${fn}`);
        this.expect(")");
        build = (name) => ({
          kind: "aggregate",
          fn,
          path: argument === undefined ? undefined : this.#path(argument),
          name: name ?? `$${++unnamed}`,
          at: token.start,
        });
      } else {
        if (token.kind !== "identifier") this.fail(token, "a twin path, COUNT() or *");
        build = (name) => {
          const path = this.#path(token);
          return { kind: "path", path, name: name ?? path.segments.at(-1)!, at: token.start };
        };
      }
      const alias = this.#alias();
      items.push(() => build(alias));
    } while (this.accept(","));
    return items;
  }

  #alias(): string | undefined {
    if (!this.acceptKeyword("AS")) return undefined;
    const alias = this.next();
    if (alias.kind !== "identifier" || /[.[\]]/.test(alias.text)) {
      this.fail(alias, "an alias (a name without dots or brackets)");
    }
    return alias.text;
  }

  #from(): QueryCollection {
    this.expectKeyword("FROM", "FROM");
    const token = this.next();
    const name = token.kind === "identifier" ? token.text.toLowerCase() : "";
    if (name === "devices" || name === "devices.modules") {
      this.#collection = name;
      return name;
    }
    if (name === "devices.jobs") {
      this.fail(token, "devices or devices.modules", "devices.jobs is not available in ledge");
    }
    return this.fail(token, "devices or devices.modules");
  }

  #expression(minPower: number): QueryExpr {
    let left = this.#prefix();
    for (;;) {
      const token = this.peek();
      let op = operatorOf(token);
      if (token.kind === "number" && token.text.startsWith("-") && minPower < 6) {
        // `a -1` lexes as `a` and the literal `-1`: read it as a subtraction.
        this.lookahead = { ...token, start: token.start + 1, text: token.text.slice(1) };
        this.lookahead.value = -Number(token.value);
        left = { kind: "binary", op: "-", left, right: this.#expression(6), at: token.start };
        continue;
      }
      const power = op === undefined ? undefined : BINDING_POWER.get(op);
      if (op === undefined || power === undefined || power <= minPower) return left;
      this.next();
      if (op === "IN" || op === "NIN") {
        const items = this.#arrayItems();
        left = { kind: "in", negated: op === "NIN", operand: left, items, at: token.start };
        continue;
      }
      if (op === "<>") op = "!=";
      const right = this.#expression(power);
      left = { kind: "binary", op: op as QueryBinaryOperator, left, right, at: token.start };
    }
  }

  #prefix(): QueryExpr {
    const token = this.next();
    switch (token.kind) {
      case "literal":
      case "number":
      case "string":
        return { kind: "literal", value: token.value as QueryValue, at: token.start };
      case "identifier":
        return this.peekIs("(") ? this.#call(token) : this.#path(token);
      case "keyword":
        if (token.value === "NOT") {
          const operand = this.#expression(NOT_OPERAND_POWER);
          return { kind: "unary", op: "NOT", operand, at: token.start };
        }
        break;
      case "punctuation":
        if (token.value === "-") {
          const operand = this.#expression(UNARY_MINUS_POWER);
          return { kind: "unary", op: "-", operand, at: token.start };
        }
        if (token.value === "(") {
          const inner = this.#expression(0);
          this.expect(")");
          return inner;
        }
        if (token.value === "[") {
          this.lookahead = token;
          return { kind: "array", items: this.#arrayItems(), at: token.start };
        }
        break;
      case "systemProperty":
        return this.fail(
          token,
          "a twin path such as tags.site or properties.reported.x",
          `${token.text} is a route's system property, not a twin field`,
        );
    }
    return this.fail(token, "an expression");
  }

  /** `[c1, c2, ...]` of constants. */
  #arrayItems(): QueryValue[] {
    this.expect("[");
    const items: QueryValue[] = [];
    if (this.accept("]")) return items;
    do {
      const token = this.next();
      const negative = token.kind === "punctuation" && token.value === "-";
      const constant = negative ? this.next() : token;
      if (!["literal", "number", "string"].includes(constant.kind)) {
        this.fail(constant, "a constant (string, number, true, false or null)");
      }
      if (negative && constant.kind !== "number") this.fail(constant, "a number after -");
      items.push(negative ? -Number(constant.value) : constant.value as QueryValue);
    } while (this.accept(","));
    this.expect("]");
    return items;
  }

  #call(nameToken: Token): QueryExpr {
    const key = functionKey(nameToken.text);
    const spec = FUNCTIONS.get(key);
    if (spec === undefined) {
      this.fail(
        nameToken,
        "a function",
        `unknown function ${nameToken.text}`,
        `the functions are ${[...FUNCTIONS.values()].map((fn) => fn.name).join(", ")}`,
      );
    }
    this.expect("(");
    const args: QueryExpr[] = [];
    if (!this.peekIs(")")) {
      do args.push(this.#expression(0)); while (this.accept(","));
    }
    const close = this.peek();
    this.expect(")");
    if (args.length !== spec.arity) {
      this.fail(
        close,
        `${spec.arity} argument${spec.arity === 1 ? "" : "s"}`,
        `${nameToken.text} takes ${spec.arity} argument${
          spec.arity === 1 ? "" : "s"
        }, not ${args.length}`,
      );
    }
    return { kind: "call", name: spec.name, args, at: nameToken.start };
  }

  #pathOnly(expected: string): PathExpr {
    return this.#path(this.#identifierToken(expected));
  }

  #identifierToken(expected: string): Token {
    const token = this.next();
    if (token.kind !== "identifier") this.fail(token, expected);
    return token;
  }

  #path(token: Token): PathExpr {
    if (/^(true|false|null|undefined)$/i.test(token.text)) {
      const literal = token.text.toLowerCase();
      this.fail(
        token,
        literal,
        `${token.text} is not a literal`,
        `literals are lower-case: ${literal}`,
      );
    }
    if (token.text.endsWith("!") && this.text[token.end] === "=") {
      const name = token.text.slice(0, -1);
      this.fail(
        token,
        `${name} !=`,
        `${JSON.stringify(token.text)} reads as a name`,
        `write ${name} != with a space`,
      );
    }
    const split = splitPath(token.text);
    if (split === undefined) this.fail(token, "a twin path such as tags.location.region");
    const segments = canonicalSegments(split, this.#collection);
    if (!Array.isArray(segments)) {
      return this.failAt(token.start, { found: token.text, ...segments });
    }
    return { kind: "path", segments, text: token.text, at: token.start };
  }
}

function operatorOf(token: Token): string | undefined {
  if (token.kind !== "punctuation" && token.kind !== "keyword") return undefined;
  const op = String(token.value);
  return BINDING_POWER.has(op) ? op : undefined;
}

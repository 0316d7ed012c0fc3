/**
 * Tokenizer for route strings, reproducing the token rules of IoT Edge's ANTLR lexer
 * (`GrammarLexer.g4`): longest match wins, and on a tie the more specific token wins over an
 * identifier. That is why `a-b` is one property name while `a - b` is a subtraction, and why
 * `TRUE` is an application property while `true` is the literal.
 *
 * IoT Hub's twin query language shares these token rules; {@linkcode LexerOptions} give it its
 * own keywords, the brackets of array constants and `[[escaped]]` names, and its own errors.
 *
 * @module
 */
import { END_OF_ROUTE, routeErrorAt } from "./route_syntax_error.ts";
import type { ErrorAt } from "./syntax_error.ts";
import type { Value } from "./route_value.ts";

/** Kinds of token a route string is made of. */
export type TokenKind =
  | "keyword"
  | "literal"
  | "string"
  | "number"
  | "systemProperty"
  | "identifier"
  | "punctuation"
  | "path"
  | "end";

/** One token and where it starts. */
export interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** Offset of the first character in the route string. */
  start: number;
  /** Offset just past the last character. */
  end: number;
  /** Literal value (strings, numbers, true/false/null/undefined) or upper-cased keyword. */
  value: Value;
}

const ROUTE_KEYWORDS: ReadonlySet<string> = new Set([
  "SELECT",
  "FROM",
  "WHERE",
  "INTO",
  "AND",
  "OR",
  "NOT",
]);
const LITERALS: ReadonlyMap<string, Value> = new Map<string, Value>([
  ["true", true],
  ["false", false],
  ["null", null],
  ["undefined", undefined],
]);
const TWO_CHAR_PUNCTUATION = new Set(["!=", "<>", "<=", ">=", "||", "??"]);
const ONE_CHAR_PUNCTUATION = new Set("(),+-*/%=<>{}");

// Characters IoT Edge's ID rule excludes; every other character (any non-ASCII included)
// may appear in an identifier. System property paths additionally allow `[` and `]`.
const NOT_IN_IDENTIFIER = '()<>@,;:\\"/[]?={} \t\n\r';
const IDENTIFIER_ASCII = new Uint8Array(128).fill(1);
for (const ch of NOT_IN_IDENTIFIER) IDENTIFIER_ASCII[ch.charCodeAt(0)] = 0;

function isIdentifierChar(code: number): boolean {
  return code >= 128 || IDENTIFIER_ASCII[code] === 1;
}

function isQueryPathChar(code: number): boolean {
  return code === 91 || code === 93 || isIdentifierChar(code);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** What makes a language of the route family differ from routes at the token level. */
export interface LexerOptions {
  /** Upper-case keywords, matched case-insensitively (default: the route keywords). */
  keywords?: ReadonlySet<string>;
  /** One-character punctuation besides the route's, e.g. `[`, `]`. */
  extraPunctuation?: string;
  /**
   * Whether `[[name]]` may appear inside an identifier (IoT Hub's escape for names such as
   * `group` or names with dots: `tags.[[group]].name`).
   */
  bracketedNames?: boolean;
  /** The text of the end token (default `end of route`). */
  endText?: string;
  /** Builds the error thrown at `offset` (default: a RouteSyntaxError). */
  errorAt?: (text: string, offset: number, details: ErrorAt) => Error;
}

/** Reads a route string token by token; the parser asks for the FROM path explicitly. */
export class RouteLexer {
  readonly text: string;
  #position = 0;
  readonly #keywords: ReadonlySet<string>;
  readonly #oneCharPunctuation: ReadonlySet<string>;
  readonly #bracketedNames: boolean;
  readonly #endText: string;
  readonly #errorAt: (text: string, offset: number, details: ErrorAt) => Error;

  constructor(text: string, options: LexerOptions = {}) {
    this.text = text;
    this.#keywords = options.keywords ?? ROUTE_KEYWORDS;
    this.#oneCharPunctuation = options.extraPunctuation === undefined
      ? ONE_CHAR_PUNCTUATION
      : new Set([...ONE_CHAR_PUNCTUATION, ...options.extraPunctuation]);
    this.#bracketedNames = options.bracketedNames ?? false;
    this.#endText = options.endText ?? END_OF_ROUTE;
    this.#errorAt = options.errorAt ?? routeErrorAt;
  }

  /** Where the next token would start (after trivia is skipped). */
  get position(): number {
    return this.#position;
  }

  /** The next token, after whitespace and comments. */
  next(): Token {
    this.#skipTrivia();
    const start = this.#position;
    const text = this.text;
    if (start >= text.length) return this.#token("end", start, start, undefined);

    const code = text.charCodeAt(start);
    const identifierEnd = this.#identifierEnd(start);
    let specific: Token | undefined;
    if (code === 34 || code === 39) specific = this.#string(start);
    else if (code === 36) specific = this.#systemProperty(start);
    else specific = this.#number(start) ?? this.#punctuation(start);

    if (specific === undefined || identifierEnd > specific.end) {
      if (identifierEnd === start) {
        throw this.#errorAt(text, start, {
          found: text[start] ?? "",
          expected: "an expression",
          reason: `unexpected character ${JSON.stringify(text[start])}`,
        });
      }
      return this.#word(start, identifierEnd);
    }
    this.#position = specific.end;
    return specific;
  }

  /**
   * The FROM path: everything up to the next whitespace. Comments are not skipped before it,
   * since `/*` is the most common source.
   */
  sourcePath(): Token {
    while (
      this.#position < this.text.length && isWhitespace(this.text.charCodeAt(this.#position))
    ) {
      this.#position++;
    }
    const start = this.#position;
    let end = start;
    while (end < this.text.length && !isWhitespace(this.text.charCodeAt(end))) end++;
    this.#position = end;
    if (end === start) return this.#token("end", start, start, undefined);
    return this.#token("path", start, end, undefined);
  }

  #token(kind: TokenKind, start: number, end: number, value: Value): Token {
    const text = kind === "end" ? this.#endText : this.text.slice(start, end);
    return { kind, text, start, end, value };
  }

  #skipTrivia(): void {
    const text = this.text;
    while (this.#position < text.length) {
      const code = text.charCodeAt(this.#position);
      if (isWhitespace(code)) {
        this.#position++;
      } else if (code === 47 && text.charCodeAt(this.#position + 1) === 42) {
        const close = text.indexOf("*/", this.#position + 2);
        if (close < 0) {
          throw this.#errorAt(text, this.#position, {
            found: "/*",
            expected: "*/",
            reason: "unterminated comment",
          });
        }
        this.#position = close + 2;
      } else {
        return;
      }
    }
  }

  /** The end of the identifier at `start`, `[[escaped]]` parts included when enabled. */
  #identifierEnd(start: number): number {
    let end = this.#runEnd(start, isIdentifierChar);
    if (!this.#bracketedNames) return end;
    while (this.text.startsWith("[[", end)) {
      const close = this.text.indexOf("]]", end + 2);
      if (close < 0) return end;
      end = this.#runEnd(close + 2, isIdentifierChar);
    }
    return end;
  }

  #runEnd(start: number, accepts: (code: number) => boolean): number {
    let end = start;
    while (end < this.text.length && accepts(this.text.charCodeAt(end))) end++;
    return end;
  }

  #word(start: number, end: number): Token {
    this.#position = end;
    const word = this.text.slice(start, end);
    const upper = word.toUpperCase();
    if (this.#keywords.has(upper)) return { kind: "keyword", text: word, start, end, value: upper };
    if (LITERALS.has(word)) {
      return { kind: "literal", text: word, start, end, value: LITERALS.get(word) };
    }
    return { kind: "identifier", text: word, start, end, value: undefined };
  }

  #systemProperty(start: number): Token | undefined {
    const end = this.#runEnd(start + 1, isQueryPathChar);
    if (end === start + 1) return undefined;
    return this.#token("systemProperty", start, end, undefined);
  }

  #punctuation(start: number): Token | undefined {
    const two = this.text.slice(start, start + 2);
    if (TWO_CHAR_PUNCTUATION.has(two)) return this.#token("punctuation", start, start + 2, two);
    const one = this.text[start] ?? "";
    if (this.#oneCharPunctuation.has(one)) return this.#token("punctuation", start, start + 1, one);
    return undefined;
  }

  #number(start: number): Token | undefined {
    const text = this.text;
    const at = (i: number) => text.charCodeAt(i);
    let best = -1;
    let hex = false;
    if (
      at(start) === 48 && (at(start + 1) === 120 || at(start + 1) === 88) &&
      isHexDigit(at(start + 2))
    ) {
      best = this.#runEnd(start + 2, isHexDigit);
      hex = true;
    }
    const digitsStart = at(start) === 45 ? start + 1 : start;
    const digitsEnd = this.#runEnd(digitsStart, isDigit);
    let end = -1;
    if (digitsEnd > digitsStart) end = digitsEnd;
    if (at(digitsEnd) === 46 && isDigit(at(digitsEnd + 1))) {
      end = this.#exponentEnd(this.#runEnd(digitsEnd + 1, isDigit));
    } else if (digitsEnd > digitsStart) {
      end = this.#exponentEnd(digitsEnd);
    }
    if (end > best) {
      best = end;
      hex = false;
    }
    if (best < 0) return undefined;
    const literal = text.slice(start, best);
    return this.#token("number", start, best, hex ? hexValue(literal) : Number(literal));
  }

  #exponentEnd(start: number): number {
    const code = this.text.charCodeAt(start);
    if (code !== 101 && code !== 69) return start;
    let digits = start + 1;
    const sign = this.text.charCodeAt(digits);
    if (sign === 43 || sign === 45) digits++;
    const end = this.#runEnd(digits, isDigit);
    return end > digits ? end : start;
  }

  #string(start: number): Token | undefined {
    const text = this.text;
    const quote = text.charCodeAt(start);
    let value = "";
    let i = start + 1;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === quote) {
        return { kind: "string", text: text.slice(start, i + 1), start, end: i + 1, value };
      }
      if (code !== 92) {
        value += text[i];
        i++;
        continue;
      }
      const escaped = text[i + 1];
      if (escaped === '"' || escaped === "'" || escaped === "\\") {
        value += escaped;
        i += 2;
      } else if (
        (escaped === "u" || escaped === "U") && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))
      ) {
        value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        throw this.#errorAt(text, i, {
          found: text.slice(i, i + 2),
          expected: "one of \\', \\\", \\\\ or \\uXXXX",
          reason: `invalid escape sequence ${JSON.stringify(text.slice(i, i + 2))} in a string`,
        });
      }
    }
    throw this.#errorAt(text, start, {
      found: text.slice(start, start + 10),
      expected: "a closing quote",
      reason: "unterminated string",
    });
  }
}

// IoT Edge parses hex literals as a signed 64-bit integer; one that does not fit is Undefined.
function hexValue(literal: string): number | undefined {
  const value = BigInt(literal);
  return value > 0x7fff_ffff_ffff_ffffn ? undefined : Number(value);
}

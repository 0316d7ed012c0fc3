/**
 * What the languages built on the route lexer share when they reject a text: a syntax error with
 * the 1-based line and column of the offending token, what was found there and what was
 * expected. Routes (`RouteSyntaxError`) and the fleet's twin queries and target conditions build
 * on it, so every caller reports positions the same way.
 *
 * @module
 */

/** Where and why a text was rejected. */
export interface SyntaxErrorDetails {
  /** 1-based line of the offending token. */
  line: number;
  /** 1-based column of the offending token. */
  column: number;
  /** The offending text, or the language's end marker (`end of route`, `end of query`). */
  found: string;
  /** What would have been accepted there. */
  expected: string;
  /** A sentence replacing `expected ..., found ...` when the text is well formed but wrong. */
  reason?: string | undefined;
  /** Advice appended after the position, e.g. the accepted forms. */
  hint?: string | undefined;
}

/** Details of an error at one offset of a text; line and column are computed. */
export interface ErrorAt {
  found: string;
  expected: string;
  reason?: string;
  hint?: string;
}

/**
 * A text in one of ledge's query languages that does not parse or check. Subclasses name the
 * language; callers that only need the position catch this class.
 */
export class LanguageSyntaxError extends Error {
  override name = "LanguageSyntaxError";
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 1-based column of the offending token. */
  readonly column: number;
  /** The offending text, or the language's end marker. */
  readonly found: string;
  /** What would have been accepted there. */
  readonly expected: string;
  /** The sentence that replaces `expected ..., found ...` in the message, if any. */
  readonly reason: string | undefined;
  /** Advice appended after the position, if any. */
  readonly hint: string | undefined;

  constructor(message: string, details: SyntaxErrorDetails, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.line = details.line;
    this.column = details.column;
    this.found = details.found;
    this.expected = details.expected;
    this.reason = details.reason;
    this.hint = details.hint;
  }
}

/** The 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The message of a syntax error: `Cannot parse <subject>: expected X at line L, column C, found
 * "Y"` (or the reason instead of `expected ... found ...`), then `; <hint>`. `found` is quoted
 * unless it is an end marker (`end of ...`).
 */
export function syntaxErrorMessage(subject: string, details: SyntaxErrorDetails): string {
  const where = `at line ${details.line}, column ${details.column}`;
  const found = details.found.startsWith("end of ") ? details.found : JSON.stringify(details.found);
  const detail = details.reason === undefined
    ? `expected ${details.expected} ${where}, found ${found}`
    : `${details.reason} ${where}`;
  const hint = details.hint === undefined ? "" : `; ${details.hint}`;
  return `Cannot parse ${subject}: ${detail}${hint}`;
}

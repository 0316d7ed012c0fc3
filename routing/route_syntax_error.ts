import {
  type ErrorAt,
  LanguageSyntaxError,
  lineColumn,
  syntaxErrorMessage,
} from "./syntax_error.ts";

export type { ErrorAt } from "./syntax_error.ts";

/** Where and why a route string was rejected. */
export interface RouteSyntaxErrorOptions {
  /** 1-based line of the offending token. */
  line: number;
  /** 1-based column of the offending token. */
  column: number;
  /** The offending text, or `end of route`. */
  found: string;
  /** What would have been accepted there. */
  expected: string;
  /** A sentence replacing `expected ..., found ...` when the text is well formed but wrong. */
  reason?: string;
  /** Advice appended after the position, e.g. the accepted forms. */
  hint?: string;
  /** The manifest route name, when the route came from a table. */
  routeName?: string;
  /** The error this one wraps. */
  cause?: unknown;
}

/** The same error, attributed to the manifest route `routeName`. */
export function inRoute(error: RouteSyntaxError, routeName: string): RouteSyntaxError {
  const options: RouteSyntaxErrorOptions = {
    line: error.line,
    column: error.column,
    found: error.found,
    expected: error.expected,
    routeName,
    cause: error,
  };
  if (error.reason !== undefined) options.reason = error.reason;
  if (error.hint !== undefined) options.hint = error.hint;
  return new RouteSyntaxError(options);
}

/** Text used for {@link RouteSyntaxError.found} when the route ends too early. */
export const END_OF_ROUTE = "end of route";

/**
 * A route string that does not compile: a syntax error, an unknown function, a wrong argument
 * count, operands IoT Edge would reject, or an unknown source or sink. Always carries the
 * 1-based line and column of the offending token.
 *
 * @example
 * ```ts
 * import { compileRoute, RouteSyntaxError } from "./mod.ts";
 *
 * try {
 *   compileRoute("FROM /messages/* WHERE a = 'b' INT $upstream");
 * } catch (error) {
 *   if (!(error instanceof RouteSyntaxError)) throw error;
 *   error.message; // Cannot parse route: expected INTO at line 1, column 32, found "INT"
 *   [error.line, error.column]; // [1, 32]
 * }
 * ```
 */
export class RouteSyntaxError extends LanguageSyntaxError {
  override name = "RouteSyntaxError";
  /** The manifest route name (`routes.<name>`), when known. */
  readonly routeName: string | undefined;

  constructor(options: RouteSyntaxErrorOptions) {
    const prefix = options.routeName === undefined ? "" : `routes.${options.routeName}: `;
    super(prefix + syntaxErrorMessage("route", options), options, { cause: options.cause });
    this.routeName = options.routeName;
  }
}

/** Builds a {@link RouteSyntaxError} for the token starting at `offset` of `text`. */
export function routeErrorAt(text: string, offset: number, details: ErrorAt): RouteSyntaxError {
  return new RouteSyntaxError({ ...details, ...lineColumn(text, offset) });
}

/**
 * A twin query, target condition or metric query that does not parse or check, with the line and
 * column of the offending token (the error type routes share: routing/syntax_error.ts).
 *
 * @module
 */
import {
  type ErrorAt,
  LanguageSyntaxError,
  lineColumn,
  type SyntaxErrorDetails,
  syntaxErrorMessage,
} from "../routing/mod.ts";

/**
 * A query that cannot run. `subject` names what was parsed: `query`, `target condition` or
 * `metric <name>`.
 *
 * @example
 * ```ts
 * try {
 *   parseQuery("SELECT * FROM devices WHERE tags.env = ");
 * } catch (error) {
 *   if (error instanceof QuerySyntaxError) console.log(error.line, error.column, error.message);
 * }
 * ```
 */
export class QuerySyntaxError extends LanguageSyntaxError {
  override name = "QuerySyntaxError";
  /** What was parsed: `query`, `target condition`, `metric <name>`. */
  readonly subject: string;

  constructor(subject: string, details: SyntaxErrorDetails, options: { cause?: unknown } = {}) {
    super(syntaxErrorMessage(subject, details), details, options);
    this.subject = subject;
  }
}

/** Builds a {@linkcode QuerySyntaxError} about `subject` for the token at `offset` of `text`. */
export function queryErrorAt(
  subject: string,
  text: string,
  offset: number,
  details: ErrorAt,
): QuerySyntaxError {
  return new QuerySyntaxError(subject, { ...details, ...lineColumn(text, offset) });
}

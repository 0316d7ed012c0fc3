/**
 * The token cursor of the query parser: one token of lookahead over the route lexer, and the
 * errors it throws, with the line and column of the token.
 *
 * @module
 */
import type { ErrorAt, RouteLexer, Token } from "../routing/mod.ts";
import { queryErrorAt } from "./query_syntax_error.ts";

/** Reads tokens from a lexer; subclasses parse. */
export class TokenCursor {
  protected readonly text: string;
  protected readonly subject: string;
  protected readonly lexer: RouteLexer;
  protected lookahead: Token | undefined;

  constructor(text: string, subject: string, lexer: RouteLexer) {
    this.text = text;
    this.subject = subject;
    this.lexer = lexer;
  }

  protected peek(): Token {
    this.lookahead ??= this.lexer.next();
    return this.lookahead;
  }

  protected next(): Token {
    const token = this.peek();
    this.lookahead = undefined;
    return token;
  }

  protected peekIs(punctuation: string): boolean {
    const token = this.peek();
    return token.kind === "punctuation" && token.value === punctuation;
  }

  protected isKeyword(token: Token, keyword: string): boolean {
    return token.kind === "keyword" && token.value === keyword;
  }

  protected accept(punctuation: string): boolean {
    if (!this.peekIs(punctuation)) return false;
    this.next();
    return true;
  }

  protected acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(this.peek(), keyword)) return false;
    this.next();
    return true;
  }

  protected expect(punctuation: string): void {
    const token = this.next();
    if (token.kind !== "punctuation" || token.value !== punctuation) this.fail(token, punctuation);
  }

  protected expectKeyword(keyword: string, expected: string): void {
    const token = this.next();
    if (!this.isKeyword(token, keyword)) this.fail(token, expected);
  }

  protected fail(token: Token, expected: string, reason?: string, hint?: string): never {
    const details: ErrorAt = { found: token.text, expected };
    if (reason !== undefined) details.reason = reason;
    if (hint !== undefined) details.hint = hint;
    return this.failAt(token.start, details);
  }

  protected failAt(offset: number, details: ErrorAt): never {
    throw queryErrorAt(this.subject, this.text, offset, details);
  }
}

/** An error's message, or the thrown value as text. Private to store/. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

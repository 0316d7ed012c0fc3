/** The version of ledge, kept in step with deno.json by the version test. */
export const VERSION = "0.1.0";

/** The Rust target triple of the running Deno, e.g. `x86_64-unknown-linux-gnu`. */
export function currentTarget(): string {
  return Deno.build.target;
}

/**
 * The version stamp: `ledge-version:` and the version, the one string of the bundle that starts
 * so. scripts/release.sh finds it there and rewrites it for `--set-version`: a minifier renames
 * variables and moves modules into chunks, but keeps a string literal as it is.
 */
const STAMP = "ledge-version:0.1.0";

/** The version of ledge, kept in step with deno.json by the version test. */
export const VERSION = STAMP.slice(STAMP.indexOf(":") + 1);

/** The Rust target triple of the running Deno, e.g. `x86_64-unknown-linux-gnu`. */
export function currentTarget(): string {
  return Deno.build.target;
}

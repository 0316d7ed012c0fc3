/**
 * ledge: an edge runtime in one binary. Entry point: parses the command line and hands off to
 * the verbs in cli/.
 *
 * @module
 */
import { main } from "./cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

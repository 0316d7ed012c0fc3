/** `ledge version`: the version of ledge, of Deno, and the target it runs on. */
import { Command } from "commander";
import { currentTarget, VERSION } from "../core/version.ts";
import { out, printJson } from "./_shared.ts";

/** Version facts, as `--json` prints them. */
export function versionInfo(): { ledge: string; deno: string; v8: string; target: string } {
  return {
    ledge: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    target: currentTarget(),
  };
}

/** Builds the `version` verb. */
export function versionCommand(): Command {
  return new Command("version")
    .description("print the version of ledge, of Deno, and the target")
    .option("--json", "print JSON")
    .action((options: { json?: boolean }) => {
      const info = versionInfo();
      if (options.json) return printJson(info);
      out(`ledge ${info.ledge} (deno ${info.deno}, ${info.target})`);
    });
}

/** `ledge check`: checks the device's setup, ok/warning/error with a fix each; exit 1 on any error. */
import { styleText } from "node:util";
import { Command } from "commander";
import { checkAll, type CheckStatus } from "../ops/checks/mod.ts";
import { ExitError, globalOptions, out, printJson } from "./_shared.ts";

const MARKS = {
  ok: { mark: "\u2714", color: "green" },
  warning: { mark: "\u26a0", color: "yellow" },
  error: { mark: "\u2718", color: "red" },
} as const satisfies Record<CheckStatus, { mark: string; color: string }>;

/** Builds the `check` verb. */
export function checkCommand(): Command {
  return new Command("check")
    .description("check the configuration, state, engine, certificates, ports and upstream")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const results = await checkAll({ configPath: globalOptions(command).config });
      if (options.json) printJson(results);
      else {
        for (const result of results) {
          const { mark, color } = MARKS[result.status];
          // Coloured only on a terminal and never under NO_COLOR (node:util decides).
          const head = styleText(color, mark);
          out(`${head} ${result.title}: ${result.message}`);
          if (result.fix) out(`    \u2192 ${result.fix}`);
        }
        const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
        out(`\n${count("ok")} ok, ${count("warning")} warnings, ${count("error")} errors`);
      }
      if (results.some((result) => result.status === "error")) throw new ExitError(1);
    });
}

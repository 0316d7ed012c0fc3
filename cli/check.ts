/** `ledge check`: checks the device's setup, ✔/⚠/✘ with a fix each; exit 1 on any ✘. */
import { Command } from "commander";
import { checkAll, type CheckStatus } from "../ops/checks/mod.ts";
import { ExitError, globalOptions, out, printJson } from "./_shared.ts";

const MARKS: Record<CheckStatus, { mark: string; color: string }> = {
  ok: { mark: "✔", color: "\x1b[32m" },
  warning: { mark: "⚠", color: "\x1b[33m" },
  error: { mark: "✘", color: "\x1b[31m" },
};

/** Builds the `check` verb. */
export function checkCommand(): Command {
  return new Command("check")
    .description("check the configuration, state, engine, certificates, ports and upstream")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const results = await checkAll({ configPath: globalOptions(command).config });
      if (options.json) printJson(results);
      else {
        const color = Deno.stdout.isTerminal();
        for (const result of results) {
          const { mark, color: tint } = MARKS[result.status];
          const head = color ? `${tint}${mark}\x1b[0m` : mark;
          out(`${head} ${result.title}: ${result.message}`);
          if (result.fix) out(`    → ${result.fix}`);
        }
        const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
        out(`\n${count("ok")} ok, ${count("warning")} warnings, ${count("error")} errors`);
      }
      if (results.some((result) => result.status === "error")) throw new ExitError(1);
    });
}

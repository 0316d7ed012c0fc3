/** `ledge stop <module>`: stops a module; it stays stopped until `ledge start`. */
import { Command } from "commander";
import { moduleAction } from "./start.ts";

/** Builds the `stop` verb. */
export function stopCommand(): Command {
  return new Command("stop")
    .description("stop a module (it stays stopped until `ledge start` or a new deployment)")
    .argument("<module>", "module name")
    .option("--json", "print JSON")
    .action((module: string, options: { json?: boolean }, command: Command) =>
      moduleAction(command, { module, action: "stop", json: options.json === true })
    );
}

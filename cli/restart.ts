/** `ledge restart <module>`: stops and starts a module now, clearing its back-off. */
import { Command } from "commander";
import { answer } from "./_client.ts";
import { out, withDaemon } from "./_shared.ts";

/** Builds the `restart` verb. */
export function restartCommand(): Command {
  return new Command("restart")
    .description("restart a module now (its restart count and back-off start over)")
    .argument("<module>", "module name")
    .action(async (module: string, _options: unknown, command: Command) => {
      await withDaemon(
        command,
        (client) =>
          answer(client.agent.v1.modules[":name"].restart.$post({
            param: { name: encodeURIComponent(module) },
          })),
      );
      out(`restarted ${module}`);
    });
}

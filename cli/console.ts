/**
 * `ledge console`: prints a one-time login link to the daemon's web console. The link comes
 * through the management socket, so only who can use the CLI can open a session.
 */
import { Command } from "commander";
import { answer } from "./_client.ts";
import { out, printJson, withDaemon } from "./_shared.ts";

/** Builds the `console` verb. */
export function consoleCommand(): Command {
  return new Command("console")
    .description("print a one-time login link to the local web console")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const login = await withDaemon(
        command,
        (client) => answer(client.console.v1.console.login.$post()),
      );
      if (options.json) {
        printJson(login);
        return;
      }
      out(login.url);
      const minutes = Math.max(1, Math.round((Date.parse(login.expiresAt) - Date.now()) / 60_000));
      console.error(`Open it in a browser within ${minutes} minutes; it works once.`);
    });
}

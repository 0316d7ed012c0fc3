/** `ledge start <module>`: starts a stopped module; it runs again until `ledge stop`. */
import { Command } from "commander";
import { answer } from "./_client.ts";
import { out, printJson, withDaemon } from "./_shared.ts";

/** What the daemon answers to `POST /v1/modules/:name/start|stop|restart`. */
export interface ModuleActionAnswer {
  name: string;
  action: string;
  ok: boolean;
}

/**
 * Asks the daemon to `action` the module `module`, then prints `<past tense> <module>` (or the
 * answer as JSON). An unknown module is the daemon's 404: one line, exit 1.
 */
export async function moduleAction(
  command: Command,
  options: { module: string; action: "start" | "stop"; json: boolean },
): Promise<void> {
  const result = await withDaemon(
    command,
    (client) =>
      answer(client.agent.v1.modules[":name"][options.action].$post({
        param: { name: encodeURIComponent(options.module) },
      })),
  );
  if (options.json) return printJson(result);
  out(`${options.action === "start" ? "started" : "stopped"} ${options.module}`);
}

/** Builds the `start` verb. */
export function startCommand(): Command {
  return new Command("start")
    .description("start a stopped module (it runs until `ledge stop` or a new deployment)")
    .argument("<module>", "module name")
    .option("--json", "print JSON")
    .action((module: string, options: { json?: boolean }, command: Command) =>
      moduleAction(command, { module, action: "start", json: options.json === true })
    );
}

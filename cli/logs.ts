/** `ledge logs <module> [--follow] [--tail N] [--since T]`: a module's output. */
import { Command } from "commander";
import { parseSince } from "../agent/mod.ts";
import { answerError } from "./_client.ts";
import { parseCount, UsageError, withDaemon } from "./_shared.ts";

interface LogsOptions {
  follow?: boolean;
  tail?: string;
  since?: string;
  timestamps?: boolean;
}

/** Builds the `logs` verb. */
export function logsCommand(): Command {
  return new Command("logs")
    .description("print a module's logs")
    .argument("<module>", "module name")
    .option("-f, --follow", "keep printing new lines")
    .option("--tail <n>", "only the last n lines")
    .option("--since <time>", "only lines since: Unix seconds, RFC 3339, or a duration like 10m")
    .option("-t, --timestamps", "prefix each line with its time")
    .action(async (module: string, options: LogsOptions, command: Command) => {
      const query = new URLSearchParams();
      if (options.tail !== undefined) query.set("tail", String(parseCount("--tail", options.tail)));
      if (options.since !== undefined) {
        try {
          query.set("since", String(parseSince(options.since)));
        } catch (error) {
          throw new UsageError(`--since: ${(error as Error).message}`);
        }
      }
      if (options.follow) query.set("follow", "true");
      if (options.timestamps) query.set("timestamps", "true");
      await withDaemon(command, async (client) => {
        const response = await client.agent.v1.modules[":name"].logs.$get({
          param: { name: encodeURIComponent(module) },
          query: Object.fromEntries(query),
        });
        if (!response.ok) throw await answerError(response);
        for await (const chunk of response.body ?? ReadableStream.from([])) {
          await Deno.stdout.write(chunk);
        }
      });
    });
}

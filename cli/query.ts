/**
 * `ledge query "<query>" [--json] [--page-size N] [--continuation TOKEN]`: runs an IoT Hub
 * query over the twins of this parent and the devices below it, e.g.
 * `SELECT * FROM devices WHERE tags.env = 'prod'` or
 * `SELECT properties.reported.lastDesiredStatus.code AS code, COUNT() AS n FROM devices.modules
 * WHERE moduleId = '$edgeAgent' GROUP BY properties.reported.lastDesiredStatus.code`. Without
 * paging flags it reads every page; with them it prints one page and the token of the next.
 */
import { Command } from "commander";
import { explainFleetError, printRows } from "./_fleet_output.ts";
import { out, parseCount, printJson, UsageError, withDaemon } from "./_shared.ts";
import { answer } from "./_client.ts";
import type { QueryPage } from "../fleet/mod.ts";

/** Builds the `query` verb. */
export function queryCommand(): Command {
  return new Command("query")
    .description("run an IoT Hub query over the fleet's device or module twins")
    .argument("<query>", "e.g. \"SELECT * FROM devices WHERE tags.env = 'prod'\"")
    .option("--json", "print JSON")
    .option("--page-size <n>", "rows per page (1-1000): print one page and the next token")
    .option("--continuation <token>", "continue from the token a previous page printed")
    .action(
      async (
        query: string,
        options: { json?: boolean; pageSize?: string; continuation?: string },
        command: Command,
      ) => {
        const pageSize = options.pageSize === undefined
          ? undefined
          : parseCount("--page-size", options.pageSize);
        if (pageSize !== undefined && (pageSize < 1 || pageSize > 1000)) {
          throw new UsageError(`--page-size: expected 1 to 1000, got ${pageSize}`);
        }
        const paged = pageSize !== undefined || options.continuation !== undefined;
        const pages = await withDaemon(command, async (client) => {
          const collected: QueryPage[] = [];
          let token = options.continuation;
          do {
            const page = await answer(client.fleet.v1.fleet.query.$post({
              json: {
                query,
                ...(pageSize === undefined ? {} : { pageSize }),
                ...(token === undefined ? {} : { continuationToken: token }),
              },
            })).catch((error) => explainFleetError(error, query)) as QueryPage;
            collected.push(page);
            token = page.continuationToken ?? undefined;
          } while (!paged && token !== undefined);
          return collected;
        });
        const items = pages.flatMap((page) => page.items);
        const next = pages.at(-1)?.continuationToken ?? null;
        if (options.json) {
          printJson(paged ? { items, continuationToken: next } : items);
          return;
        }
        printRows(items);
        if (paged && next !== null) out(`more: --continuation ${next}`);
      },
    );
}

/**
 * `ledge support-bundle [--since 1h] [-o file.tar.gz]`: one archive with logs, status, config
 * (secrets redacted), identities without keys, metrics and `ledge check`, for whoever helps.
 * Works without a running daemon too, saying what is missing.
 */
import { Command } from "commander";
import { parseSince } from "../agent/mod.ts";
import { loadConfig } from "../core/config_load.ts";
import { defaultBundleName, writeSupportBundle } from "../ops/support/mod.ts";
import { ExitError, globalOptions, out, printJson, UsageError } from "./_shared.ts";

interface SupportBundleOptions {
  since: string;
  output?: string;
  force?: boolean;
  json?: boolean;
}

function kibibytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Builds the `support-bundle` verb. */
export function supportBundleCommand(): Command {
  return new Command("support-bundle")
    .description("write a .tar.gz of logs, status, redacted config, metrics and check results")
    .option("--since <time>", "logs since: Unix seconds, RFC 3339, or a duration like 30m", "1h")
    .option("-o, --output <file>", "the archive to write (default ledge-support-<time>.tar.gz)")
    .option("--force", "replace the output file if it exists")
    .option("--json", "print what was collected as JSON")
    .action(async (options: SupportBundleOptions, command: Command) => {
      let sinceSeconds: number;
      try {
        sinceSeconds = parseSince(options.since);
      } catch (error) {
        throw new UsageError(`--since: ${(error as Error).message}`);
      }
      const configPath = globalOptions(command).config;
      const { config, path } = await loadConfig({ path: configPath });
      const file = options.output ?? defaultBundleName();
      let bundle;
      try {
        bundle = await writeSupportBundle(file, {
          config,
          configPath: path,
          sinceSeconds,
          overwrite: options.force === true,
        });
      } catch (error) {
        throw new ExitError(1, (error as Error).message);
      }
      if (options.json) return printJson(bundle);
      out(`wrote ${bundle.path} (${bundle.files.length} files, ${kibibytes(bundle.sizeBytes)})`);
      for (const gap of bundle.gaps) out(`  missing ${gap.item}: ${gap.reason}`);
    });
}

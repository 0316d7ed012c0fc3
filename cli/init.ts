/** `ledge init`: writes a commented config file with every key and its default. */
import { Command } from "commander";
import { currentDefaultsContext, defaultConfig } from "../core/config.ts";
import { defaultConfigPath, parseConfig } from "../core/config_load.ts";
import { renderConfigTemplate } from "../core/config_template.ts";
import { ExitError, globalOptions, out } from "./_shared.ts";

interface InitOptions {
  hostname?: string;
  deviceId?: string;
  stateDir?: string;
  force?: boolean;
  stdout?: boolean;
}

/** Builds the `init` verb. */
export function initCommand(): Command {
  return new Command("init")
    .description("write a commented config file (default: the path `ledge run` reads)")
    .option("--hostname <name>", "host name modules and leaf devices connect to")
    .option("--device-id <id>", "this device's id")
    .option("--state-dir <dir>", "state directory")
    .option("--force", "overwrite an existing file")
    .option("--stdout", "print the file instead of writing it")
    .action(async (options: InitOptions, command: Command) => {
      const context = currentDefaultsContext();
      const path = globalOptions(command).config ?? context.env.LEDGE_CONFIG ??
        defaultConfigPath(context);
      const base = defaultConfig(context);
      const device = {
        ...base.device,
        ...(options.hostname
          ? { hostname: options.hostname, iothub_hostname: options.hostname }
          : {}),
        ...(options.deviceId ? { id: options.deviceId } : {}),
      };
      const state = options.stateDir ? { dir: options.stateDir } : base.state;
      // Validate the overrides exactly as `ledge run` will read them back.
      const config = parseConfig({ device, state }, context, "from the command line");
      const text = renderConfigTemplate(config);
      if (options.stdout) return void Deno.stdout.writeSync(new TextEncoder().encode(text));
      const exists = await Deno.stat(path).then(() => true, () => false);
      if (exists && !options.force) {
        throw new ExitError(1, `Cannot write ${path}: it exists (use --force to overwrite)`);
      }
      const dir = path.slice(0, path.lastIndexOf("/"));
      if (dir) await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(path, text, { mode: 0o640 });
      out(`wrote ${path}`);
    });
}

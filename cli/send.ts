/** `ledge send <device> <message>`: queues a cloud-to-device message for a leaf device. */
import { Command } from "commander";
import { answer } from "./_client.ts";
import { out, UsageError, withDaemon } from "./_shared.ts";

/** Parses repeated `--property k=v` values. */
export function parseProperties(values: readonly string[]): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    if (equals <= 0) throw new UsageError(`--property: expected key=value, got "${value}"`);
    properties[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return properties;
}

/** Builds the `send` verb. */
export function sendCommand(): Command {
  return new Command("send")
    .description("queue a cloud-to-device message for a leaf device (delivered when it connects)")
    .argument("<device>", "leaf device id")
    .argument("<message>", "message text (UTF-8)")
    .option(
      "-p, --property <key=value>",
      "application property (repeatable)",
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .action(
      async (
        device: string,
        message: string,
        options: { property: string[] },
        command: Command,
      ) => {
        const properties = parseProperties(options.property);
        await withDaemon(
          command,
          (client) =>
            answer(client.hub.v1.c2d[":deviceId"].$post({
              param: { deviceId: encodeURIComponent(device) },
              json: { body: message, properties },
            })),
        );
        out(`queued for ${device}`);
      },
    );
}

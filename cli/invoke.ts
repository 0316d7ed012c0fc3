/** `ledge invoke <module> <method> [--payload JSON]`: calls a direct method on a module. */
import { Command } from "commander";
import { configFor, ExitError, printJson, UsageError, withDaemon } from "./_shared.ts";

interface InvokeOptions {
  payload?: string;
  timeout?: string;
  device?: boolean;
}

/** Parses a `--payload` value as JSON, or throws a usage error naming it. */
export function parsePayload(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--payload: expected JSON, got ${JSON.stringify(text)}`);
  }
}

/** Builds the `invoke` verb. */
export function invokeCommand(): Command {
  return new Command("invoke")
    .description("call a direct method on a connected module (or, with --device, a leaf device)")
    .argument("<target>", "module id (or device id with --device)")
    .argument("<method>", "method name")
    .option("--payload <json>", "method payload as JSON", undefined)
    .option("--timeout <seconds>", "seconds to wait for the answer", "30")
    .option("--device", "the target is a leaf device, not a module of this device")
    .action(async (target: string, method: string, options: InvokeOptions, command: Command) => {
      const payload = parsePayload(options.payload);
      const timeout = Number(options.timeout);
      if (!Number.isInteger(timeout) || timeout < 1 || timeout > 300) {
        throw new UsageError(`--timeout: expected 1–300 seconds, got "${options.timeout}"`);
      }
      const config = await configFor(command);
      const body = {
        deviceId: options.device ? target : config.device.id,
        ...(options.device ? {} : { moduleId: target }),
        methodName: method,
        payload,
        responseTimeoutInSeconds: timeout,
      };
      const result = await withDaemon(
        command,
        (client) =>
          client.request<{ status: number; payload: unknown }>("POST", "/v1/methods", body),
      );
      printJson(result);
      if (result.status >= 300) {
        throw new ExitError(1, `method ${method} on ${target} answered ${result.status}`);
      }
    });
}

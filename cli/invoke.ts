/** `ledge invoke <module> <method> [--payload JSON]`: calls a direct method on a module. */
import { Command } from "commander";
import { answer } from "./_client.ts";
import { configFor, ExitError, printJson, UsageError, withDaemon } from "./_shared.ts";

interface InvokeOptions {
  payload?: string;
  timeout?: string;
  device?: string;
}

/**
 * Who a call goes to: `<module> <method>` on this device; with `--device D`, `<method>` on
 * device D itself (a leaf or child device) or `<module> <method>` on a module of D (a child edge
 * device's module, reached through the chain).
 */
export function invokeTarget(
  args: { target: string; method: string | undefined },
  options: { ownDeviceId: string; device: string | undefined },
): { deviceId: string; moduleId?: string; methodName: string } {
  if (options.device !== undefined) {
    return args.method === undefined
      ? { deviceId: options.device, methodName: args.target }
      : { deviceId: options.device, moduleId: args.target, methodName: args.method };
  }
  if (args.method === undefined) {
    throw new UsageError("<method>: missing; usage: ledge invoke <module> <method>");
  }
  return { deviceId: options.ownDeviceId, moduleId: args.target, methodName: args.method };
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
    .description(
      "call a direct method on a module of this device; with --device <id>, on that device " +
        "(<method>) or on one of its modules (<module> <method>), e.g. a child edge device's",
    )
    .argument("<target>", "module id (or, with --device and no <method>, the method name)")
    .argument("[method]", "method name")
    .option("--payload <json>", "method payload as JSON", undefined)
    .option("--timeout <seconds>", "seconds to wait for the answer", "30")
    .option("--device <id>", "the device: a leaf device, or a child edge device (with <module>)")
    .action(
      async (
        target: string,
        method: string | undefined,
        options: InvokeOptions,
        command: Command,
      ) => {
        const payload = parsePayload(options.payload);
        const timeout = Number(options.timeout);
        if (!Number.isInteger(timeout) || timeout < 1 || timeout > 300) {
          throw new UsageError(`--timeout: expected 1\u2013300 seconds, got "${options.timeout}"`);
        }
        const config = await configFor(command);
        const call = invokeTarget({ target, method }, {
          ownDeviceId: config.device.id,
          device: options.device,
        });
        const body = { ...call, payload, responseTimeoutInSeconds: timeout };
        const result = await withDaemon(
          command,
          (client) => answer(client.hub.v1.methods.$post({ json: body })),
        );
        printJson(result);
        if (result.status >= 300) {
          const where = call.moduleId === undefined
            ? call.deviceId
            : `${call.deviceId}/${call.moduleId}`;
          throw new ExitError(1, `method ${call.methodName} on ${where} answered ${result.status}`);
        }
      },
    );
}

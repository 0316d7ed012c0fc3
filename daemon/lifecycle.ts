/**
 * Starting components in order and stopping them in reverse, with a deadline on stop.
 */
import type { Component } from "../core/component.ts";
import type { Logger } from "../core/log.ts";

/** The bound TCP ports of `components` by listener name (see `Component.listeners`). */
export function boundListeners(components: readonly Component[]): Record<string, number> {
  return Object.assign({}, ...components.map((component) => component.listeners?.() ?? {}));
}

/** Components that started, in start order; stop them with {@linkcode stopComponents}. */
export type Started = Component[];

/**
 * Starts `components` one after the other. If one fails, those already started are stopped in
 * reverse and the error is rethrown.
 */
export async function startComponents(
  components: readonly Component[],
  options: { logger: Logger; signal: AbortSignal },
): Promise<Started> {
  const started: Started = [];
  for (const component of components) {
    options.signal.throwIfAborted();
    const begun = performance.now();
    try {
      await component.start(options.signal);
    } catch (error) {
      options.logger.error(`${component.name} failed to start`, { error });
      await stopComponents(started, { logger: options.logger, timeoutMs: 10_000 });
      throw error;
    }
    started.push(component);
    // The process's RSS after each start shows what each component costs (bench/footprint.ts).
    options.logger.debug(`${component.name} started`, {
      ms: Math.round(performance.now() - begun),
      rssMb: Math.round(Deno.memoryUsage().rss / 104857.6) / 10,
    });
  }
  return started;
}

/**
 * Stops `started` in reverse order. Each stop error is logged, not thrown, so one failing
 * component never keeps the others running. Resolves false when `timeoutMs` ran out first.
 */
export async function stopComponents(
  started: Started,
  options: { logger: Logger; timeoutMs: number },
): Promise<boolean> {
  const stopAll = (async () => {
    for (const component of [...started].reverse()) {
      try {
        await component.stop();
        options.logger.debug(`${component.name} stopped`);
      } catch (error) {
        options.logger.error(`${component.name} failed to stop cleanly`, { error });
      }
    }
    return true;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), options.timeoutMs);
  });
  try {
    return await Promise.race([stopAll, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
